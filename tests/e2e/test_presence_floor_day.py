"""A deployment's presence floor (``DOORSTEP_MIN_P_HOME``) on a real Copenhagen day: unlikely visits are not planned
and say why, a supervisor's required case is planned all the same."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from api.errors import ConfigurationError
from api.files import read_cases
from api.service import Region, plan_day
from api.settings import LEGAL_WINDOW, DaySettings, presence_floor
from geo.geocoder import OfflineGeocoder
from routing.model import Case, Team
from tests.e2e.office_team import office_team

WORKDAY = dt.date(2026, 12, 1)  # a Tuesday


@pytest.fixture(scope="module")
def office_hours_day(
    osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Case], list[Team], Region]:
    """Two employed customers (P(home) 0.40-0.45 in 09-16 by the segment prior) and two retired ones (0.76-0.82),
    one team working 09:00-16:00."""
    work = tmp_path_factory.mktemp("floor-day")
    osm = osm_dir / "copenhagen_kbh.osm.pbf"
    geocoder = OfflineGeocoder.from_osm(osm, cache_dir=cache_dir)
    homes = [r for r in geocoder.records if r.housenumber and r.street and r.postcode][200:204]
    rows = [
        f'{cid},P{cid},"{r.street} {r.housenumber}, {r.postcode} København",{segment},70'
        for cid, r, segment in zip(
            ("E1", "E2", "R1", "R2"), homes, ("employed", "employed", "retired", "retired"), strict=True
        )
    ]
    (work / "cases.csv").write_text(
        "case_id,customer_id,address,segment,priority\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    depot = homes[0].location
    region = Region.load(osm, cache_dir=cache_dir)
    teams = office_team(work, depot, region)
    return read_cases(work / "cases.csv"), teams, region


SETTINGS = DaySettings(timezone="Europe/Copenhagen", country="DK", legal=LEGAL_WINDOW)


def _visited(run) -> set[str]:  # type: ignore[no-untyped-def]
    return {v.case_id for r in run.plan.routes for v in r.visits}


def test_without_a_floor_everyone_is_visited(office_hours_day: tuple[list[Case], list[Team], Region]) -> None:
    cases, teams, region = office_hours_day
    run = plan_day(cases, teams, region, WORKDAY, SETTINGS, time_limit_s=2, seed=1)
    assert _visited(run) == {"E1", "E2", "R1", "R2"}


def test_a_floor_drops_the_unlikely_and_a_required_case_overrides_it(
    office_hours_day: tuple[list[Case], list[Team], Region],
) -> None:
    cases, teams, region = office_hours_day
    floor = dataclasses.replace(SETTINGS, min_p_home=0.5)
    run = plan_day(cases, teams, region, WORKDAY, floor, time_limit_s=2, seed=1)
    assert run.violations == []
    assert _visited(run) == {"R1", "R2"}
    dropped = {d.case_id: d for d in run.plan.dropped}
    assert {c: d.code for c, d in dropped.items()} == {"E1": "unlikely_home", "E2": "unlikely_home"}
    assert "below 0.50" in dropped["E1"].message
    assert all(v.slot.p_home >= 0.5 for r in run.plan.routes for v in r.visits)
    # A supervisor who adds E2 to the plan (PATCH /v1/plans: add or pin) outranks the floor.
    run = plan_day(cases, teams, region, WORKDAY, floor, time_limit_s=2, seed=1, required={"E2"})
    assert _visited(run) == {"E2", "R1", "R2"}
    assert [d.case_id for d in run.plan.dropped] == ["E1"]


@pytest.mark.parametrize("text", ["1", "-0.1", "half"])
def test_a_bad_floor_setting_is_refused_with_its_name(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_MIN_P_HOME", text)
    with pytest.raises(ConfigurationError, match="DOORSTEP_MIN_P_HOME"):
        presence_floor()


def test_the_floor_setting_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_MIN_P_HOME", "0.35")
    assert presence_floor() == pytest.approx(0.35)
    monkeypatch.delenv("DOORSTEP_MIN_P_HOME")
    assert presence_floor() == 0.0
