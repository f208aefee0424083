"""Visit caps per customer (day, rolling week) and the cool-down after a refusal: pre-solve, solver, checker."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from routing.check import check_plan
from routing.history import CustomerHistory, VisitRules, allowances, summarize
from routing.model import Case, Dropped, Outcome, Plan, SolverInfo
from tests.routing.test_solver import LEGAL, leg_seconds_for, make_problem, make_team

DATE = dt.date(2026, 12, 10)
TZ = "Europe/Copenhagen"
UTC1 = dt.timezone(dt.timedelta(hours=1))


def outcome(case_id: str, day: dt.date, result: str = "not_home", hour: int = 18) -> Outcome:
    return Outcome(
        f"u-{case_id}-{day}-{hour}",
        case_id,
        "T1",
        "o1",
        dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC1),
        result,
    )


CASES = [Case("A1", "PA", location=None, address="x"), Case("A2", "PA", address="y"), Case("B1", "PB", address="z")]


def test_summarize_counts_today_the_rolling_week_and_the_last_refusal() -> None:
    """Dec 4..10 is the week of Dec 10: visits on Dec 3 and Dec 11 do not count; both A cases count for PA."""
    history = [
        outcome("A1", dt.date(2026, 12, 3)),  # 7 days before: outside the week
        outcome("A1", dt.date(2026, 12, 4), "refused"),  # first day of the week, a refusal
        outcome("A2", DATE),  # today, the other case of the same customer
        outcome("B1", dt.date(2026, 12, 11)),  # after the plan date: ignored
        outcome("ZZ", DATE),  # unknown case: ignored
    ]
    seen = summarize(history, CASES, DATE, TZ)
    assert seen["PA"] == CustomerHistory(visits_today=1, visits_week=2, last_refusal=dt.date(2026, 12, 4))
    assert "PB" not in seen


@pytest.mark.parametrize(
    ("seen", "rules", "expect_caps", "expect_codes"),
    [
        # No history: PA has 2 cases and 1 visit a day -> a cap of 1 inside the solver.
        ({}, VisitRules(max_per_day=1), {"PA": 1}, set()),
        # One visit already today with a cap of 1/day: both PA cases dropped for the cap.
        ({"PA": CustomerHistory(1, 1, None)}, VisitRules(max_per_day=1), {}, {"visit_cap"}),
        # Week cap 3 reached (3 visits this week), day cap 2 not: still dropped.
        ({"PA": CustomerHistory(0, 3, None)}, VisitRules(max_per_day=2, max_per_week=3), {}, {"visit_cap"}),
        # Refused 13 days ago, cool-down 14: dropped for cool-down.
        (
            {"PA": CustomerHistory(0, 0, DATE - dt.timedelta(days=13))},
            VisitRules(cooldown_days=14),
            {"PA": 1},
            {"cooldown"},
        ),
        # Refused 14 days ago, cool-down 14: visits allowed again (cap 1 for two cases).
        ({"PA": CustomerHistory(0, 0, DATE - dt.timedelta(days=14))}, VisitRules(cooldown_days=14), {"PA": 1}, set()),
        # Day cap 2, one visit today: one left for two cases -> cap 1.
        ({"PA": CustomerHistory(1, 1, None)}, VisitRules(max_per_day=2), {"PA": 1}, set()),
    ],
)
def test_allowances(
    seen: dict[str, CustomerHistory], rules: VisitRules, expect_caps: dict[str, int], expect_codes: set[str]
) -> None:
    """Each customer is dropped with the right code, or gets the visits it has left when fewer than its cases."""
    caps, dropped = allowances(CASES, seen, DATE, rules)
    codes = {d.code for d in dropped}
    assert codes == expect_codes
    if expect_codes:
        assert {d.case_id for d in dropped} == {"A1", "A2"}
        assert caps == {}
    else:
        assert caps == expect_caps


def _same_customer_problem(n: int = 6, shared: int = 3):  # type: ignore[no-untyped-def]
    """n cases on the test grid; the first ``shared`` belong to one customer P0."""
    problem, cases, points = make_problem(n, [make_team()])
    cases = [dataclasses.replace(c, customer_id="P0") if k < shared else c for k, c in enumerate(cases)]
    cands = tuple(
        dataclasses.replace(c, customer_id="P0") if k < shared else c for k, c in enumerate(problem.candidates)
    )
    return dataclasses.replace(problem, candidates=cands), cases, points


def _plan(problem, cases):  # type: ignore[no-untyped-def]
    from routing.solver import solve

    out = solve(problem)
    return Plan(
        "p",
        DATE,
        TZ,
        out.routes,
        tuple(Dropped(cid, "not_worth_detour", "-") for cid in out.unperformed),
        (),
        SolverInfo("ortools", out.status, 0),
    )


def test_solver_keeps_a_customer_cap_that_would_otherwise_be_broken() -> None:
    """Three cases of one customer: all three visited without a cap, exactly one with a cap of 1; checker agrees."""
    problem, cases, points = _same_customer_problem()
    free = _plan(problem, cases)
    assert sum(v.customer_id == "P0" for r in free.routes for v in r.visits) == 3  # the cap would bind
    capped = _plan(dataclasses.replace(problem, customer_caps={"P0": 1}), cases)
    assert sum(v.customer_id == "P0" for r in capped.routes for v in r.visits) == 1
    legs = leg_seconds_for(points)
    rules = VisitRules(max_per_day=1)
    assert check_plan(capped, cases, problem.teams, legs, LEGAL, history={}, rules=rules) == []
    # The uncapped plan breaks the rule, and the checker names it.
    codes = {v.code for v in check_plan(free, cases, problem.teams, legs, LEGAL, history={}, rules=rules)}
    assert codes == {"visit_cap"}


def test_checker_names_a_visit_in_a_cool_down_and_over_the_week_cap() -> None:
    """A visit to a customer who refused 3 days ago and was visited 3 times this week breaks both rules."""
    problem, cases, points = _same_customer_problem(shared=1)
    plan = _plan(dataclasses.replace(problem, customer_caps={"P0": 1}), cases)
    assert any(v.customer_id == "P0" for r in plan.routes for v in r.visits)
    history = {"P0": CustomerHistory(0, 3, DATE - dt.timedelta(days=3))}
    found = check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL, history=history, rules=VisitRules())
    assert {v.code for v in found} == {"cooldown", "visit_cap"}
