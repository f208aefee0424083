"""The P(home) heat strip in a stop's popup: one row per day type over the legal hours, coloured by P(home)."""

from __future__ import annotations

import re

import pytest

from maps import render_team_map
from maps.presence_strip import presence_strip_html
from routing.model import Plan

PROFILES = {
    "workday": [0.1] * 8 + [0.05] * 10 + [0.9] * 6,  # away by day, home from 18:00
    "rest_day": [0.8] * 24,
    "public_holiday": [0.8] * 24,
}


@pytest.mark.parametrize(("lang", "label"), [("en", "Workday"), ("zh-CN", "工作日")])
def test_strip_has_a_row_per_day_type_and_a_cell_per_legal_hour(lang: str, label: str) -> None:
    """Three rows of 14 cells (08:00-21:00), labelled in the page's language."""
    html = presence_strip_html(PROFILES, lang)
    assert html.count('class="ds-heat-row"') == 3
    assert html.count('class="ds-heat-cell"') == 3 * 14
    assert label in html


def test_cells_carry_the_hour_and_probability() -> None:
    """Each cell's title says its hour and P(home); evening cells of this workday read 90 %, morning ones 5 %."""
    row = presence_strip_html({"workday": PROFILES["workday"]}, "en")
    titles = re.findall(r'title="(\d\d):00 (\d+)%"', row)
    assert titles[0] == ("08", "5") and titles[-1] == ("21", "90")
    colours = re.findall(r"background:(rgb\([^)]*\))", row)
    # Home hours are drawn greener than away hours.
    green = [int(c.split(",")[1]) - int(c.split("(")[1].split(",")[0]) for c in colours]
    assert green[-1] > green[0]


def test_team_map_popups_show_the_strip_of_their_customer(plan: Plan) -> None:
    """Given presence profiles, every stop of that customer gets the strip; without them, none does."""
    route = next(r for r in plan.routes if r.visits)
    customer = route.visits[0].customer_id
    with_strip = render_team_map(plan, route, tiles="none", presence={customer: PROFILES})
    without = render_team_map(plan, route, tiles="none")
    assert "At home by hour" in with_strip and "At home by hour" not in without
