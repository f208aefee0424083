"""Infeasible input gives a plan that says, per dropped case, why — never a solver failure with no plan."""

from __future__ import annotations

import dataclasses

from routing.candidates import SlotPolicy, build_candidates
from routing.model import Case, Team, TimeWindow
from routing.presence import PresencePrior
from routing.solver import SolveInput, solve
from tests.routing.test_solver import LEGAL, ORIGIN, H, grid_points, manhattan_seconds


def test_each_infeasible_case_is_dropped_with_its_reason_and_the_rest_is_planned() -> None:
    """Short shift, appointment outside legal hours, missing skill: each named; the feasible case is visited."""
    points = grid_points(4)
    travel = {"car": manhattan_seconds(points)}
    teams = [
        Team("T1", ("a", "b"), ORIGIN, ORIGIN, TimeWindow(9 * H, 18 * H)),
        # 10 minutes of shift: shorter than any visit (20 min) plus the drive.
        Team("SHORT", ("c", "d"), ORIGIN, ORIGIN, TimeWindow(9 * H, 9 * H + 600)),
    ]
    cases = [
        Case("OK", "P1", location=points[1]),
        Case("LATE", "P2", location=points[2], appointment=TimeWindow(22 * H + 1800, 23 * H)),  # after 22:00
        Case("SKILL", "P3", location=points[3], skills=frozenset({"legal"})),  # no team has it
        Case("PIN", "P4", location=points[4], pin_team="SHORT"),  # only the 10-minute team may go
    ]
    rows = {c.case_id: k + 1 for k, c in enumerate(cases)}
    cands, dropped = build_candidates(
        cases, rows, teams, [0, 0], [0, 0], travel, PresencePrior.load_default(), "workday", SlotPolicy(LEGAL)
    )
    reasons = {d.case_id: d.code for d in dropped}
    assert reasons == {"LATE": "appointment_unreachable", "SKILL": "skill_missing", "PIN": "no_feasible_slot"}
    assert all(d.message for d in dropped)
    assert [c.case_id for c in cands] == ["OK"]
    out = solve(SolveInput(tuple(teams), (0, 0), (0, 0), tuple(cands), travel, LEGAL, time_limit_s=1.0, seed=1))
    assert [v.case_id for r in out.routes for v in r.visits] == ["OK"]


def test_a_team_that_can_do_nothing_still_gets_a_plan() -> None:
    """Every candidate unreachable in time for the only team: still a plan, with all cases unvisited."""
    points = grid_points(2)
    travel = {"car": manhattan_seconds(points)}
    team = Team("T1", ("a", "b"), ORIGIN, ORIGIN, TimeWindow(9 * H, 18 * H))
    cands, _ = build_candidates(
        [Case("A", "P1", location=points[1]), Case("B", "P2", location=points[2])],
        {"A": 1, "B": 2},
        [team],
        [0],
        [0],
        travel,
        PresencePrior.load_default(),
        "workday",
        SlotPolicy(LEGAL),
    )
    # Tighten every slot to a window no drive from the depot can reach (09:00:00-09:00:01, 1 km away = 100 s).
    cands = [
        dataclasses.replace(
            c, slots=tuple(dataclasses.replace(s, window=TimeWindow(9 * H, 9 * H + 1)) for s in c.slots)
        )
        for c in cands
    ]
    out = solve(SolveInput((team,), (0,), (0,), tuple(cands), travel, LEGAL, time_limit_s=1.0))
    assert out.routes[0].visits == ()
    assert sorted(out.unperformed) == ["A", "B"]
