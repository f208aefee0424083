"""Re-planning a team's day mid-way: visits done are kept, the rest is re-optimised from where the team stands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

from routing.check import check_plan
from routing.model import Dropped, Plan, Slot, SolverInfo, TimeWindow
from routing.replan import replan_team
from routing.solver import solve
from tests.routing.test_solver import LEGAL, H, leg_seconds_for, make_problem, make_team


def test_replan_of_a_25_stop_day_keeps_done_visits_and_is_fast() -> None:
    """A 25+ stop day re-planned after its 10th visit: 10 kept as they were, the rest after now, in <= 2 s."""
    whole_day = [Slot("presence", TimeWindow(8 * H, 21 * H), 0.5)]
    team = make_team(shift=TimeWindow(8 * H, 22 * H))
    problem, cases, points = make_problem(40, [team], slots_for={k: whole_day for k in range(40)}, service_s=15 * 60)
    problem = dataclasses.replace(problem, seed=None, time_limit_s=3.0)
    first = solve(problem)
    route = first.routes[0]
    assert len(route.visits) >= 25
    tenth = route.visits[9]
    now = tenth.departure
    done = {v.case_id for v in route.visits[:10]}
    row = next(c.location_index for c in problem.candidates if c.case_id == tenth.case_id)

    started = time.perf_counter()
    day, out = replan_team(problem, 0, route, done, now, row, time_limit_s=1.5)
    elapsed = time.perf_counter() - started
    assert elapsed <= 2.0 + 0.5  # the target is 2 s; 0.5 s slack for a loaded 2-core machine

    assert day.visits[:10] == route.visits[:10]
    assert all(v.service_start >= now for v in day.visits[10:])
    assert [v.seq for v in day.visits] == list(range(1, len(day.visits) + 1))
    assert day.revision == route.revision + 1
    # Every remaining stop of the old plan is still visited or explicitly left out.
    assert {v.case_id for v in day.visits[10:]} | set(out.unperformed) >= {v.case_id for v in route.visits[10:]}
    visited = {v.case_id for v in day.visits}
    plan = Plan(
        "p",
        dt.date(2026, 12, 1),
        "Europe/Helsinki",
        (day,),
        tuple(Dropped(c.case_id, "not_worth_detour", "-") for c in cases if c.case_id not in visited),
        (),
        SolverInfo("ortools", out.status, out.time_s),
    )
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


def test_replan_keeps_the_break_still_to_take() -> None:
    """Re-planned at 11:00 with the 12:00-14:00 break not yet taken: the new day still has a break in it."""
    from routing.model import Break

    team = make_team(lunch=Break(TimeWindow(12 * H, 14 * H), 30 * 60))
    whole_day = [Slot("presence", TimeWindow(9 * H, 17 * H), 0.5)]
    problem, cases, points = make_problem(20, [team], slots_for={k: whole_day for k in range(20)})
    problem = dataclasses.replace(problem, seed=None, time_limit_s=2.0)
    route = solve(problem).routes[0]
    done_visits = [v for v in route.visits if v.departure <= 11 * H]
    assert route.break_start is not None and route.break_start >= 11 * H
    last = done_visits[-1]
    row = next(c.location_index for c in problem.candidates if c.case_id == last.case_id)
    day, _ = replan_team(problem, 0, route, {v.case_id for v in done_visits}, 11 * H, row, time_limit_s=1.0)
    assert day.break_start is not None and 12 * H <= day.break_start <= 13 * H + 30 * 60
    visited = {v.case_id for v in day.visits}
    plan = Plan(
        "p",
        dt.date(2026, 12, 1),
        "Europe/Helsinki",
        (day,),
        tuple(Dropped(c.case_id, "not_worth_detour", "-") for c in cases if c.case_id not in visited),
        (),
        SolverInfo("ortools", "x", 0),
    )
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []
