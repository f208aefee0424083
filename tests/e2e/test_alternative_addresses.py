"""Cases with a work or registered address: every address joins one disjunction and the plan picks the best."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from api.files import read_cases
from api.service import PlanRun, Region, locate_cases, plan_day
from api.settings import LEGAL_WINDOW, DaySettings
from geo.geocoder import OfflineGeocoder
from tests.e2e.office_team import office_team

WORKDAY = dt.date(2026, 12, 1)  # a Tuesday


@pytest.fixture(scope="module")
def alternatives_day(
    osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[PlanRun, Region]:
    """Copenhagen: three cases with a home and a work address, one team working 09:00-16:00.

    A01 is employed (more likely at work than at home in office hours), A02 retired (almost never at work),
    A03's work address does not exist (it is visited at home, and nothing fails).
    """
    work = tmp_path_factory.mktemp("alternatives-day")
    osm = osm_dir / "copenhagen_kbh.osm.pbf"
    geocoder = OfflineGeocoder.from_osm(osm, cache_dir=cache_dir)
    records = [r for r in geocoder.records if r.housenumber and r.street and r.postcode]
    homes, jobs = records[100:103], records[len(records) // 2 : len(records) // 2 + 3]
    text = lambda r: f"{r.street} {r.housenumber}, {r.postcode} København"  # noqa: E731
    (work / "cases.csv").write_text(
        "case_id,customer_id,address,work_address,segment,priority\n"
        f'A01,P01,"{text(homes[0])}","{text(jobs[0])}",employed,80\n'
        f'A02,P02,"{text(homes[1])}","{text(jobs[1])}",retired,80\n'
        f'A03,P03,"{text(homes[2])}","Nowhere Street 999, 9999 Atlantis",employed,80\n',
        encoding="utf-8",
    )
    depot = homes[0].location
    region = Region.load(osm, cache_dir=cache_dir)
    teams = office_team(work, depot, region)
    settings = DaySettings(timezone="Europe/Copenhagen", country="DK", legal=LEGAL_WINDOW)
    cases = read_cases(work / "cases.csv")
    assert cases[0].work_address == text(jobs[0])
    return plan_day(cases, teams, region, WORKDAY, settings, time_limit_s=3, seed=1), region


def test_each_case_is_visited_once_at_its_best_address(alternatives_day: tuple[PlanRun, Region]) -> None:
    """Employed in office hours: at work; retired: at home; an unplaceable work address: at home, no failure."""
    run, region = alternatives_day
    assert run.violations == []
    visits = {v.case_id: v for r in run.plan.routes for v in r.visits}
    assert sorted(visits) == ["A01", "A02", "A03"]
    assert visits["A01"].address_kind == "work"
    assert visits["A02"].address_kind == "home"
    assert visits["A03"].address_kind == "home"
    located, _ = locate_cases(run.cases, region)
    by_id = {c.case_id: c for c in located}
    # Each stop stands where its address kind says (the home point as geocoded; the work point away from it).
    assert visits["A02"].location == by_id["A02"].location
    assert visits["A01"].location != by_id["A01"].location
    # The plan's P(found) for the work visit is the workplace table's, higher than any home hour in the shift.
    assert visits["A01"].slot.p_home > 0.45
