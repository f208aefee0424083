"""A day with a car, an e-bike and a walking team: each is planned on its own profile's road network."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from api.files import read_cases, read_teams
from api.service import PlanRun, Region, build_teams, plan_day
from api.settings import LEGAL_WINDOW, DaySettings
from api.synthetic import CASE_COLUMNS, synthetic_case_rows, write_rows
from geo.geocoder import OfflineGeocoder
from geo.traffic import TimeOfDayFactors

RUSH = {"car": TimeOfDayFactors.parse("14-17=1.5")}


@pytest.fixture(scope="module")
def mixed_day(osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanRun, Region]:
    """60 Copenhagen cases; teams T1 (car), T2 (ebike), T3 (walk) from one depot, 09:00-17:00."""
    work = tmp_path_factory.mktemp("profiles-day")
    osm = osm_dir / "copenhagen_kbh.osm.pbf"
    geocoder = OfflineGeocoder.from_osm(osm, cache_dir=cache_dir)
    write_rows(work / "cases.csv", synthetic_case_rows(geocoder.records, 60, seed=4), CASE_COLUMNS)
    depot = geocoder.records[len(geocoder.records) // 2].location
    (work / "teams.csv").write_text(
        "team_id,members,start_lat,start_lon,shift_start,shift_end,profile\n"
        + "".join(
            f"{t},a{t};b{t},{depot.lat},{depot.lon},09:00,17:00,{p}\n"
            for t, p in (("T1", "car"), ("T2", "ebike"), ("T3", "walk"))
        ),
        encoding="utf-8",
    )
    specs = read_teams(work / "teams.csv")
    region = Region.load(osm, profiles=[s.profile for s in specs], cache_dir=cache_dir)
    teams = build_teams(specs, region, work / "teams.csv")
    # Car trips in the 14:00-17:00 slots take half as long again (rush hours from the settings).
    settings = DaySettings(timezone="Europe/Copenhagen", country="DK", legal=LEGAL_WINDOW, rush=RUSH)
    cases = read_cases(work / "cases.csv")
    return plan_day(cases, teams, region, dt.date(2026, 12, 1), settings, time_limit_s=5, seed=1), region


def test_each_team_travels_on_its_own_network(mixed_day: tuple[PlanRun, Region]) -> None:
    """Every leg's travel time is its team's profile's, and the plan passes the independent checker."""
    run, region = mixed_day
    assert sorted(region.networks) == ["car", "ebike", "walk"]
    assert run.violations == []
    by_profile = {r.team.profile: r for r in run.plan.routes}
    assert all(len(by_profile[p].visits) >= 2 for p in ("car", "ebike", "walk"))
    for profile, route in by_profile.items():
        stops = [route.team.start, *(v.location for v in route.visits)]
        own = np.asarray(region.leg_seconds(profile, stops))
        planned = np.asarray([v.travel_s_from_previous for v in route.visits])
        # The network's seconds, times at least the rush-hour factor of the slot served, rounded up by the solver;
        # at most the day's peak factor (a visit the planner could place at any hour is timed at the worst one).
        rush = RUSH.get(profile, TimeOfDayFactors.flat())
        factor = rush.at([v.slot.window.start for v in route.visits])
        peak = max(rush.at([h * 3600 for h in range(24)]))
        assert np.all(planned >= np.floor(own * factor)) and np.all(planned <= np.ceil(own * peak) + 1)
        if profile == "car":
            assert (factor > 1).any()  # some car visits fall in the rush
        else:
            # The same stops by car: walkers and e-bikes are slower over the day.
            assert own.sum() > np.asarray(region.leg_seconds("car", stops)).sum()


def test_walking_team_covers_less_ground(mixed_day: tuple[PlanRun, Region]) -> None:
    """At 4.5 km/h the walking team's day stays closer to the depot than the car's."""
    run, _ = mixed_day
    by_profile = {r.team.profile: r for r in run.plan.routes}
    assert by_profile["walk"].distance_m < by_profile["car"].distance_m
