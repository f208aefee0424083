"""``api.service.replan_team_day`` on a real day: Copenhagen roads, planned in-process, then re-planned mid-way."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

from api.service import Region, plan_day, replan_team_day
from api.settings import DaySettings
from api.synthetic import synthetic_case_rows
from routing.check import check_plan
from routing.model import Break, Case, Team, TimeWindow

H = 3600


def test_replan_keeps_done_visits_and_rechecks_clean(osm_dir: Path, cache_dir: Path) -> None:
    """Half of a team's day done at 14:xx: kept as it was, the rest re-planned after now, checker finds nothing."""
    region = Region.load(osm_dir / "copenhagen_kbh.osm.pbf", cache_dir=cache_dir)
    records = region.geocoder.records
    rows = synthetic_case_rows(records, 60, seed=5)
    by_label = {r.label: r for r in records}
    cases = [
        Case(r["case_id"], r["customer_id"], address=r["address"], location=by_label[r["address"]].location,
             segment=r["segment"], service_s=int(r["service_min"]) * 60)
        for r in rows
    ]  # fmt: skip
    depot = records[len(records) // 2].location
    lunch = Break(TimeWindow(12 * H, 14 * H), 30 * 60)
    teams = [Team("T1", ("a", "b"), depot, depot, TimeWindow(9 * H, 18 * H), lunch=lunch)]
    settings = DaySettings("Europe/Copenhagen", "DK", TimeWindow(8 * H, 22 * H))
    run = plan_day(cases, teams, region, dt.date(2026, 12, 1), settings, time_limit_s=3.0)
    assert run.violations == []
    route = run.plan.routes[0]
    assert len(route.visits) >= 8
    half = len(route.visits) // 2
    done = [v.case_id for v in route.visits[:half]]
    last = route.visits[half - 1]
    now = last.departure

    started = time.perf_counter()
    day = replan_team_day(run, region, "T1", now, last.location, done, settings, time_limit_s=1.5)
    assert time.perf_counter() - started <= 2.0 + 1.0  # matrix + solve; slack for a shared 2-core machine
    assert day.visits[:half] == route.visits[:half]
    assert all(v.service_start >= now for v in day.visits[half:])
    assert day.revision == 2
    assert len(day.path) > 1
    # Cases the plan left unresolved (no usable road point) stay there; the rest are stops or dropped.
    visited = {v.case_id for v in day.visits} | {u.case_id for u in run.plan.unresolved}
    from routing.model import Dropped

    plan = dataclasses.replace(
        run.plan,
        routes=(day,),
        dropped=tuple(Dropped(c.case_id, "not_worth_detour", "-") for c in cases if c.case_id not in visited),
    )
    assert check_plan(plan, cases, teams, region.leg_seconds, settings.legal) == []
