"""The field parts of the pages: the day's timeline, locate-me, shift use, officer links with QR codes, and
page sizes for the largest days."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from api.errors import ConfigurationError
from api.settings import resolve_public_url
from maps import render_overview, render_team_map
from maps.overview import shift_use
from maps.timeline import day_segments, timeline_html
from routing.model import Plan

LINKS = {"T1": "maps/T1.html", "T2": "maps/T2.html"}


def hm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def test_day_segments_tile_the_day_with_the_break_cut_out(plan: Plan) -> None:
    """Driving, waiting, visits and the break follow each other from leaving the depot to coming back."""
    got = [(s.kind, hm(s.start), hm(s.end), s.label) for s in day_segments(plan.routes[0])]
    assert got == [
        ("travel", "17:38", "17:45", ""),
        ("wait", "17:45", "18:00", ""),
        ("visit", "18:00", "18:20", "1"),
        ("travel", "18:20", "18:30", ""),
        ("visit", "18:30", "18:50", "2"),
        ("travel", "18:50", "19:05", ""),
        ("break", "19:05", "19:35", ""),
        ("travel", "19:35", "19:40", ""),
        ("visit", "19:40", "20:00", "3"),
        ("travel", "20:00", "20:15", ""),
    ]


def test_timeline_places_segments_in_percent_of_the_shift(plan: Plan) -> None:
    """On T1's 17:30-21:30 shift, the first visit (18:00-18:20) starts at 12.5% and is 8.33% wide."""
    html = timeline_html(plan.routes[0], "en")
    first_visit = re.search(r'<span class="ds-seg ds-seg-visit ds-p-high" style="([^"]+)"[^>]*>1</span>', html)
    assert first_visit is not None and first_visit.group(1) == "left:12.50%;width:8.33%"
    assert re.findall(r'class="ds-tick"[^>]*>(\d\d)<', html) == ["18", "19", "20", "21"]
    assert html.count("ds-seg-break") == 1
    assert "Driving 17:38-17:45" in html


def test_timeline_speaks_chinese(plan: Plan) -> None:
    html = timeline_html(plan.routes[0], "zh-CN")
    assert "休息 19:05-19:35" in html and "行驶" in html


def test_team_map_has_timeline_locate_me_and_ready_mark(plan: Plan) -> None:
    """The team map carries the day's timeline, the locate-me control and, last of all, the ready mark."""
    page = render_team_map(plan, plan.routes[0], tiles="none")
    assert 'class="ds-timeline"' in page
    assert '<script src="../static/doorstep/map.js"></script>' in page
    locate = page.index("Doorstep.addLocateControl(")
    ready = page.index("Doorstep.markReady();")
    assert locate < ready
    assert page.rindex("L.marker(") < ready  # every marker exists when the page says it is ready


def test_overview_reports_day_length_and_shift_use(plan: Plan) -> None:
    """T1 works 17:38-20:15 of a 4 h shift (65%); T2 17:10-18:40 (38%)."""
    assert shift_use(plan.routes[0]) == pytest.approx(157 / 240)
    page = render_overview(plan, LINKS, tiles="none")
    t1_row = re.search(r'<tr data-team="T1">(.*?)</tr>', page)
    assert t1_row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", t1_row.group(1))
    assert cells[5] == "2.6" and cells[7] == "65%"


def test_overview_prints_qr_codes_only_for_absolute_links(plan: Plan) -> None:
    """Relative links make no cards (a QR code of them would not open); a public base makes one per team."""
    assert "ds-link-card" not in render_overview(plan, LINKS, tiles="none")
    page = render_overview(plan, LINKS, tiles="none", public_base="https://doorstep.example/plans/p1/")
    cards = re.findall(r'<div class="ds-link-card" data-team="(T\d)"><h3>T\d</h3><svg[^>]*>.*?</svg>', page)
    assert cards == ["T1", "T2"]
    assert 'href="https://doorstep.example/plans/p1/maps/T2.html"' in page


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://doorstep.example/plans/p1", "https://doorstep.example/plans/p1/"),
        ("http://10.0.0.5:8000/", "http://10.0.0.5:8000/"),
        (None, None),
    ],
)
def test_public_url_setting(given: str | None, expected: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOORSTEP_PUBLIC_URL", raising=False)
    assert resolve_public_url(given) == expected


def test_public_url_from_environment_and_rejected_when_not_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_PUBLIC_URL", "https://maps.bank.example")
    assert resolve_public_url() == "https://maps.bank.example/"
    with pytest.raises(ConfigurationError, match="https://"):
        resolve_public_url("ftp://maps.bank.example/")


def test_largest_pages_stay_small(make_big_plan: Callable[..., Plan]) -> None:
    """A 25-stop team map is at most 250 KB; the overview of 20 teams x 25 stops at most 2 MB."""
    big = make_big_plan(teams=20, stops=25)
    team_page = render_team_map(big, big.routes[0], tiles="none").encode("utf-8")
    links = {r.team.team_id: f"maps/{r.team.team_id}.html" for r in big.routes}
    overview = render_overview(big, links, tiles="none", public_base="https://doorstep.example/p/").encode("utf-8")
    assert len(big.routes[0].path) > 1500 and len(big.routes[0].visits) == 25
    assert len(team_page) <= 250_000, len(team_page)
    assert len(overview) <= 2_000_000, len(overview)
