"""The OR-Tools model on small hand-made days, re-checked by routing.check."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import multiprocessing
from collections.abc import Sequence

import numpy as np
import pytest
from ortools.constraint_solver import pywrapcp

from geo.types import Location
from routing.check import check_plan
from routing.decompose import solve_decomposed
from routing.errors import InfeasibleTeamError
from routing.model import Break, Case, Dropped, Plan, Slot, SolverInfo, Team, TimeWindow
from routing.solver import (
    Candidate,
    SolveInput,
    _Model,
    _place_break,
    by_routing_index,
    copy_window,
    schedule_with_break,
    solve,
)

H = 3600
LEGAL = TimeWindow(8 * H, 22 * H)
# A 5 x 5 grid of points 1 km apart around a depot; driving at 10 m/s, so 100 s per km.
ORIGIN = Location(60.17, 24.94)
SPEED_M_S = 10.0


def grid_points(n: int) -> list[Location]:
    """Depot first, then n points on a grid with 1 km spacing (0.009 deg lat ~ 1 km)."""
    pts = [ORIGIN]
    for k in range(n):
        i, j = divmod(k, 5)
        pts.append(Location(ORIGIN.lat + 0.009 * (i + 1), ORIGIN.lon + 0.018 * (j - 2)))
    return pts


def manhattan_seconds(points: Sequence[Location]) -> np.ndarray:
    """Travel seconds on a Manhattan metric (a stand-in road network for solver-only tests)."""
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    dy = np.abs(lat[:, None] - lat[None, :]) * 111_000
    dx = np.abs(lon[:, None] - lon[None, :]) * 111_000 * np.cos(np.radians(ORIGIN.lat))
    return (dx + dy) / SPEED_M_S


DAY_SHIFT = TimeWindow(9 * H, 18 * H)


def make_team(team_id: str = "T1", shift: TimeWindow = DAY_SHIFT, **kw: object) -> Team:
    return Team(team_id, ("ann", "bo"), ORIGIN, ORIGIN, shift, **kw)  # type: ignore[arg-type]


def make_problem(
    n_cases: int,
    teams: Sequence[Team],
    slots_for: dict[int, list[Slot]] | None = None,
    skills: dict[int, frozenset[str]] | None = None,
    service_s: int = 20 * 60,
    service_for: dict[int, int] | None = None,
) -> tuple[SolveInput, list[Case], list[Location]]:
    points = grid_points(n_cases)
    travel = manhattan_seconds(points)
    cases, cands = [], []
    base_service_s = service_s
    for k in range(n_cases):
        service_s = (service_for or {}).get(k, base_service_s)
        case = Case(
            f"C{k}",
            f"P{k}",
            location=points[k + 1],
            service_s=service_s,
            skills=(skills or {}).get(k, frozenset()),
        )
        slots = (slots_for or {}).get(k) or [
            Slot("presence", w, p)
            for w, p in (
                (TimeWindow(10 * H, 11 * H), 0.3),
                (TimeWindow(14 * H, 15 * H), 0.5),
                (TimeWindow(17 * H, 18 * H), 0.7),
            )
        ]
        windows = [copy_window(s.window, LEGAL, service_s) for s in slots]
        slots = [dataclasses.replace(s, window=w) for s, w in zip(slots, windows, strict=True) if w is not None]
        allowed = tuple(i for i, t in enumerate(teams) if case.skills <= t.skills)
        cases.append(case)
        cands.append(
            Candidate(
                case.case_id,
                case.customer_id,
                k + 1,
                points[k + 1],
                None,
                service_s,
                50.0,
                tuple(slots),
                allowed,
            )
        )
    problem = SolveInput(
        teams=tuple(teams),
        team_start_index=tuple(0 for _ in teams),
        team_end_index=tuple(0 for _ in teams),
        candidates=tuple(cands),
        travel={"car": travel},
        legal=LEGAL,
        time_limit_s=2.0,
        seed=1,
    )
    return problem, cases, points


def leg_seconds_for(points: Sequence[Location]):  # type: ignore[no-untyped-def]
    travel = manhattan_seconds(points)
    index = {p: i for i, p in enumerate(points)}

    def legs(profile: str, seq: Sequence[Location]) -> list[float]:
        return [float(travel[index[a], index[b]]) for a, b in itertools.pairwise(seq)]

    return legs


def as_plan(problem: SolveInput, cases: list[Case]) -> tuple[Plan, list]:  # type: ignore[type-arg]
    from routing.model import Dropped

    out = solve(problem)
    dropped = tuple(Dropped(cid, "not_worth_detour", "-") for cid in out.unperformed)
    import datetime as dt

    plan = Plan(
        "p",
        dt.date(2026, 12, 1),
        "Europe/Helsinki",
        out.routes,
        dropped,
        (),
        SolverInfo("ortools", out.status, 0),
    )
    return plan, list(out.unperformed)


def test_small_day_visits_everyone_and_passes_the_checker() -> None:
    """Six cases in a 9-hour shift are all visited, in their best slot, with no rule broken."""
    problem, cases, points = make_problem(6, [make_team()])
    plan, unperformed = as_plan(problem, cases)
    assert unperformed == []
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []
    visits = plan.routes[0].visits
    # 6 visits of 20 min + at most ~2 km between neighbours fit in 17:00-18:00? No: only 3 fit, so slots spread.
    assert len(visits) == 6
    assert {v.slot.window.start // H for v in visits} <= {10, 14, 17}


def test_no_visit_outside_legal_hours_even_with_a_wider_shift() -> None:
    """A 06:00-23:30 shift and slots at 06:00 and 22:00 still only yield visits inside 08:00-22:00."""
    early_late = [
        Slot("presence", TimeWindow(6 * H, 8 * H + 10 * 60), 0.9),
        Slot("presence", TimeWindow(21 * H + 50 * 60, 23 * H), 0.9),
    ]
    team = make_team(shift=TimeWindow(6 * H, 23 * H + 30 * 60))
    problem, cases, points = make_problem(8, [team], slots_for={k: early_late for k in range(8)})
    plan, _ = as_plan(problem, cases)
    for v in plan.routes[0].visits:
        assert LEGAL.start <= v.service_start and v.departure <= LEGAL.end, v
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []
    # The 21:50-23:00 slot cut to the legal end leaves only 21:50-21:40, i.e. nothing: only 08:00-08:10 remains.
    assert all(v.service_start <= 8 * H + 10 * 60 for v in plan.routes[0].visits)


def test_lunch_break_is_placed_in_its_window_and_never_overlaps_a_visit() -> None:
    """A 30-minute break in 12:00-13:30 is scheduled there, between visits, on a busy day."""
    lunch = Break(TimeWindow(12 * H, 13 * H + 30 * 60), 30 * 60)
    team = make_team(lunch=lunch)
    midday = [Slot("presence", TimeWindow(11 * H, 15 * H), 0.6)]
    problem, cases, points = make_problem(10, [team], slots_for={k: midday for k in range(10)})
    plan, _ = as_plan(problem, cases)
    route = plan.routes[0]
    assert route.break_start is not None
    assert 12 * H <= route.break_start <= 13 * H
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


@pytest.mark.parametrize(
    ("departure", "leg", "next_start", "expected"),
    [
        # Leave 11:00, 15 min drive, visit at 12:40: break 12:00-12:30 then driving would be late (12:45), but
        # driving first and taking the break at the door, 12:00-12:30, fits.
        (11 * H, 15 * 60, 12 * H + 40 * 60, (12 * H, 0)),
        # Leave 12:10, 10 min drive, visit 13:00: break first, 12:10-12:40, then drive.
        (12 * H + 10 * 60, 10 * 60, 13 * H, (12 * H + 10 * 60, 0)),
    ],
)
def test_break_fits_before_driving_or_at_the_door(
    departure: int, leg: int, next_start: int, expected: tuple[int, int]
) -> None:
    """The break goes into the first gap where it fits, on either side of the drive."""
    lunch = Break(TimeWindow(12 * H, 13 * H + 30 * 60), 30 * 60)
    team = make_team(lunch=lunch)
    end = 17 * H
    placed = _place_break(team, [departure, next_start + 1200], [next_start, end], [leg, 600], departure, end)
    assert placed == expected


def test_visits_are_retimed_around_a_break_that_has_no_room() -> None:
    """Two visits whose times leave no room for the break are re-timed: the break goes where the team gets
    back first, and every visit stays in its window."""
    lunch = Break(TimeWindow(12 * H, 13 * H + 30 * 60), 30 * 60)
    team = make_team(lunch=lunch)
    legs, services = [600, 600, 600], [1200, 1200]
    windows = [TimeWindow(11 * H, 15 * H), TimeWindow(12 * H + 30 * 60, 13 * H)]
    starts, break_at, gap, back = schedule_with_break(team, 11 * H, legs, services, windows) or ([], 0, 0, 0)
    # Visit 1 at 11:10-11:30, break from 12:00 at the second door, visit 2 at 12:30-12:50, back at 13:00.
    assert (starts, break_at, gap, back) == ([11 * H + 600, 12 * H + 30 * 60], 12 * H, 1, 13 * H)
    # With the second window closing at 12:20 the break cannot fit anywhere before 13:00: no schedule.
    windows[1] = TimeWindow(11 * H + 40 * 60, 12 * H + 20 * 60)
    tight = Break(TimeWindow(12 * H, 12 * H + 40 * 60), 30 * 60)
    assert schedule_with_break(make_team(lunch=tight), 11 * H + 30 * 60, legs, services, windows) is None


def test_visit_lengths_reach_the_break_constraint_by_routing_index() -> None:
    """Two teams with their own depots (nodes 0-3) and three visits (nodes 4-6) of 5, 60 and 15 minutes:
    OR-Tools reads visit lengths by routing index, where the start depots come first and the ends last."""
    manager = pywrapcp.RoutingIndexManager(7, 2, [0, 1], [2, 3])
    per_node = [0, 0, 0, 0, 300, 3600, 900]
    by_index = by_routing_index(manager, per_node)
    assert len(by_index) == manager.GetNumberOfIndices()
    for index, seconds in enumerate(by_index):
        assert seconds == per_node[manager.IndexToNode(index)]
    assert by_index == [0, 0, 300, 3600, 900, 0, 0]  # read by node, the 5-minute visit would get 0


def test_unused_team_with_a_break_does_not_break_the_model() -> None:
    """A team that may visit nobody (skills) but has a lunch break still gets a valid empty route."""
    lunch = Break(TimeWindow(12 * H, 14 * H), 45 * 60)
    teams = [make_team("T1"), make_team("T2", lunch=lunch, skills=frozenset())]
    skills = {k: frozenset({"legal"}) for k in range(4)}
    teams[0] = make_team("T1", skills=frozenset({"legal"}))
    problem, cases, points = make_problem(4, teams, skills=skills)
    plan, unperformed = as_plan(problem, cases)
    assert unperformed == []
    assert plan.routes[1].visits == ()
    assert all(v.case_id for v in plan.routes[0].visits)
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


def test_max_visits_caps_a_team() -> None:
    """With max_visits=2 a team makes at most two visits; the rest are left unvisited."""
    problem, cases, points = make_problem(6, [make_team(max_visits=2)])
    plan, unperformed = as_plan(problem, cases)
    assert len(plan.routes[0].visits) == 2
    assert len(unperformed) == 4
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


def test_team_starts_as_late_as_its_route_allows() -> None:
    """A team with one 17:00 visit leaves just in time for it rather than at 09:00 (no waiting at the door)."""
    late = [Slot("presence", TimeWindow(17 * H, 18 * H), 0.8)]
    problem, cases, _points = make_problem(1, [make_team()], slots_for={0: late})
    plan, _ = as_plan(problem, cases)
    route = plan.routes[0]
    visit = route.visits[0]
    assert visit.wait_s == 0
    assert route.start_time == visit.service_start - visit.travel_s_from_previous


def test_checker_names_a_visit_moved_outside_legal_hours() -> None:
    """Tampering with a solved plan (a visit at 22:30) is caught as legal_hours and slot_window."""
    problem, cases, points = make_problem(3, [make_team(shift=TimeWindow(9 * H, 23 * H + 30 * 60))])
    plan, _ = as_plan(problem, cases)
    route = plan.routes[0]
    last = route.visits[-1]
    moved = dataclasses.replace(
        last, arrival=22 * H + 30 * 60, service_start=22 * H + 30 * 60, departure=22 * H + 50 * 60
    )
    bad_route = dataclasses.replace(route, visits=(*route.visits[:-1], moved), end_time=23 * H + 30 * 60)
    bad = dataclasses.replace(plan, routes=(bad_route,))
    codes = {v.code for v in check_plan(bad, cases, problem.teams, leg_seconds_for(points), LEGAL)}
    assert {"legal_hours", "slot_window"} <= codes


def test_checker_catches_impossible_travel_and_missing_cases() -> None:
    """Two stops 4 km apart scheduled 1 minute apart, and a case missing from the plan, are both named."""
    problem, cases, points = make_problem(4, [make_team()])
    plan, _ = as_plan(problem, cases)
    route = plan.routes[0]
    first, second = route.visits[0], route.visits[1]
    squeezed = dataclasses.replace(
        second,
        arrival=first.departure + 60,
        wait_s=0,
        service_start=first.departure + 60,
        departure=first.departure + 60 + 1200,
        slot=dataclasses.replace(second.slot, window=TimeWindow(0, 24 * H)),
    )
    bad_route = dataclasses.replace(route, visits=(first, squeezed, *route.visits[2:]))
    extra_case = Case("C99", "P99", location=points[1])
    bad = dataclasses.replace(plan, routes=(bad_route,))
    codes = [v.code for v in check_plan(bad, [*cases, extra_case], problem.teams, leg_seconds_for(points), LEGAL)]
    assert "coverage" in codes
    # Consecutive grid points are >= 1 km apart (>= 100 s), so 60 s is impossible unless they coincide.
    if points[problem.candidates[0].location_index] != points[2]:
        assert "travel_time" in codes


@pytest.mark.parametrize(
    "members",
    [
        (),  # nobody
        ("ann",),  # a lone officer: compliance needs two
    ],
)
def test_team_with_fewer_than_two_members_is_rejected_by_name(members: tuple[str, ...]) -> None:
    """A team of fewer than two officers cannot be built, and the error names the team."""
    with pytest.raises(InfeasibleTeamError, match="team SOLO"):
        Team("SOLO", members, ORIGIN, ORIGIN, TimeWindow(9 * H, 17 * H))


def test_decomposed_day_keeps_every_case_once_and_passes_the_checker() -> None:
    """Split into parts of at most ~30 copies, 25 cases and 4 teams give a plan with no rule broken."""
    from routing.decompose import partition, solve_decomposed

    teams = [make_team(f"T{k}", lunch=Break(TimeWindow(12 * H, 14 * H), 30 * 60)) for k in range(4)]
    problem, cases, points = make_problem(25, teams)
    problem = dataclasses.replace(problem, seed=None, time_limit_s=3.0)
    parts = partition(problem, max_part_copies=30)
    # 25 cases x 3 slots = 75 copies -> ceil(75 / 30) = 3 parts asked; teams go in groups of ceil(4 / 3) = 2,
    # so two parts of two teams; each case in exactly one part.
    assert len(parts) == 2
    placed = sorted(i for _, cands in parts for i in cands)
    assert placed == list(range(25))
    assert sorted(v for team_ids, _ in parts for v in team_ids) == [0, 1, 2, 3]
    out = solve_decomposed(problem, max_part_copies=30)
    assert out.time_s <= 3.0 + 1.5
    visited = [v.case_id for r in out.routes for v in r.visits]
    assert len(visited) == len(set(visited))
    assert sorted([*visited, *out.unperformed]) == sorted(c.case_id for c in cases)
    import datetime as dt

    from routing.model import Dropped

    plan = Plan(
        "p",
        dt.date(2026, 12, 1),
        "Europe/Helsinki",
        out.routes,
        tuple(Dropped(cid, "not_worth_detour", "-") for cid in out.unperformed),
        (),
        SolverInfo("ortools", out.status, out.time_s),
    )
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []
    assert len(visited) >= 12  # four 9-hour shifts easily hold half of 25 twenty-minute visits


def test_partition_respects_allowed_teams() -> None:
    """A case only one team may visit (skills) lands in that team's part."""
    from routing.decompose import partition

    teams = [make_team(f"T{k}") for k in range(3)]
    teams[2] = make_team("T2", skills=frozenset({"legal"}))
    skills = {k: frozenset({"legal"}) for k in range(0, 30, 3)}
    problem, _cases, _points = make_problem(30, teams, skills=skills)
    for team_ids, cands in partition(problem, max_part_copies=20):
        for i in cands:
            assert set(problem.candidates[i].allowed_teams) & set(team_ids)


def test_greedy_start_respects_windows_breaks_and_caps() -> None:
    """The construction alone (no local search) already gives a plan the checker accepts."""
    lunch = Break(TimeWindow(12 * H, 13 * H + 30 * 60), 30 * 60)
    teams = [make_team("T1", lunch=lunch, max_visits=4), make_team("T2", shift=TimeWindow(12 * H, 21 * H))]
    problem, cases, points = make_problem(12, teams)
    from routing.solver import SearchSettings

    problem = dataclasses.replace(problem, seed=None, time_limit_s=0.05, search=SearchSettings(first_solution="greedy"))
    plan, unperformed = as_plan(problem, cases)
    assert len(plan.routes[0].visits) <= 4
    assert len(unperformed) < 12
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


def test_workload_balance_spreads_visits_between_teams() -> None:
    """Two teams at one depot, six cases in a row: without the term one team takes all; with it, 3 and 3."""
    teams = [make_team("T1"), make_team("T2")]
    whole_day = [Slot("presence", TimeWindow(9 * H, 17 * H), 0.5)]
    problem, _cases, _points = make_problem(5, teams, slots_for={k: whole_day for k in range(5)})
    # Five grid points in one row 1 km apart: one team chaining them drives less than two teams splitting them.
    free = solve(problem)
    loads = sorted(len(r.visits) for r in free.routes)
    assert loads == [0, 5]
    balanced = solve(dataclasses.replace(problem, workload_balance=5))
    loads = sorted(len(r.visits) for r in balanced.routes)
    assert loads == [2, 3]


def test_alternative_addresses_share_one_disjunction_and_the_better_one_wins() -> None:
    """Home (P 0.2 at 17-18) or work (P 0.8 at 10-11) for 3 cases: one visit each, at work; checker agrees.

    Three 20-minute visits with 1-2 km between them start by 10:45, inside the 10-11 window (a fourth would not).
    """
    from routing.solver import Alternative

    home_slot = [Slot("presence", TimeWindow(17 * H, 18 * H), 0.2)]
    problem, cases, points = make_problem(8, [make_team()], slots_for={k: home_slot for k in range(8)})
    # Cases 0-2 also have a work address: the grid point of case k + 4 (a real point of the matrix).
    cands = list(problem.candidates)
    new_cases = list(cases)
    for k in range(3):
        work_row = cands[k + 4].location_index
        work = Alternative(
            work_row, points[work_row], "work address", "work", (Slot("presence", TimeWindow(10 * H, 11 * H), 0.8),)
        )
        cands[k] = dataclasses.replace(cands[k], alternatives=(work,))
        new_cases[k] = dataclasses.replace(cases[k], work_location=points[work_row], work_address="work address")
    problem = dataclasses.replace(problem, candidates=tuple(cands[:3]))
    new_cases = new_cases[:3]
    plan, unperformed = as_plan(problem, new_cases)
    visits = plan.routes[0].visits
    assert unperformed == []
    assert sorted(v.case_id for v in visits) == ["C0", "C1", "C2"]  # one visit per case, not two
    assert {v.address_kind for v in visits} == {"work"}
    assert all(10 * H <= v.service_start <= 11 * H for v in visits)
    assert check_plan(plan, new_cases, problem.teams, leg_seconds_for(points), LEGAL) == []
    # The checker rejects a work visit for a case without a work address.
    bare = [dataclasses.replace(c, work_location=None) for c in new_cases]
    codes = {v.code for v in check_plan(plan, bare, problem.teams, leg_seconds_for(points), LEGAL)}
    assert codes == {"location"}


def test_first_plan_without_ortools_passes_the_checker() -> None:
    """The greedy construction timed out as a plan (breaks, two shifts, a visit cap) breaks no rule."""
    import datetime as dt

    from routing.first_plan import first_plan
    from routing.model import Dropped

    lunch = Break(TimeWindow(12 * H, 13 * H + 30 * 60), 30 * 60)
    late_lunch = Break(TimeWindow(16 * H, 18 * H), 30 * 60)
    teams = [
        make_team("T1", lunch=lunch, max_visits=6),
        make_team("T2", shift=TimeWindow(12 * H, 21 * H), lunch=late_lunch),
    ]
    problem, cases, points = make_problem(25, teams)
    out = first_plan(problem)
    plan = Plan(
        "p",
        dt.date(2026, 12, 1),
        "Europe/Helsinki",
        out.routes,
        tuple(Dropped(c, "not_worth_detour", "-") for c in out.unperformed),
        (),
        SolverInfo("construction", out.status, out.time_s),
    )
    assert sum(len(r.visits) for r in out.routes) >= 10
    assert len(out.routes[0].visits) <= 6
    assert all(r.break_start is not None for r in out.routes)
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []
    assert out.time_s < 1.0


def test_warm_start_from_a_previous_plan_is_used_and_never_made_worse() -> None:
    """Re-solving with the previous routes as `initial` starts from exactly their cost and ends no worse."""
    lunch = Break(TimeWindow(12 * H, 13 * H + 30 * 60), 30 * 60)
    teams = [make_team("T1", lunch=lunch), make_team("T2", shift=TimeWindow(12 * H, 21 * H))]
    problem, _cases, _points = make_problem(20, teams)
    problem = dataclasses.replace(problem, seed=None, time_limit_s=2.0)
    previous = solve(problem)
    initial = tuple(tuple((v.case_id, v.service_start) for v in r.visits) for r in previous.routes)
    again = solve(dataclasses.replace(problem, initial=initial, time_limit_s=0.5))
    assert again.first_objective is not None
    assert again.first_objective == pytest.approx(previous.objective_value)
    assert again.objective_value <= previous.objective_value + 1e-6


def test_decomposed_day_solves_inside_a_daemonic_worker() -> None:
    """A day split into parts is also solved in a daemonic worker (a branch on a pool or a Dask worker), where
    no child process may start: the parts are then searched one after another."""
    teams = [make_team(f"T{k}") for k in range(3)]
    problem, cases, points = make_problem(15, teams)
    problem = dataclasses.replace(problem, seed=None, time_limit_s=3.0)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:  # multiprocessing.Pool workers are daemonic
        output = pool.apply(solve_decomposed, (problem, 10))
    plan = Plan("p", dt.date(2026, 12, 1), "UTC", output.routes, (), (), SolverInfo("ortools", "ok", 0.0), 15)
    assert sum(len(r.visits) for r in output.routes) >= 5
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


def test_a_required_case_takes_the_place_of_an_optional_one_in_a_full_day() -> None:
    """With 25 one-hour visits and room for a handful, a case the first plan left out becomes required: the
    warm start puts it in (in place of an optional stop) and the plan visits it, with no rule broken."""
    problem, cases, points = make_problem(25, [make_team()], service_s=H)
    problem = dataclasses.replace(problem, seed=None, time_limit_s=1.0)
    first = solve(problem)
    assert first.unperformed
    wanted = first.unperformed[-1]
    initial = tuple(tuple((v.case_id, v.service_start) for v in r.visits) for r in first.routes)
    required = tuple(dataclasses.replace(c, required=c.case_id == wanted) for c in problem.candidates)
    edited = dataclasses.replace(problem, candidates=required, initial=initial, time_limit_s=0.3)
    model = _Model(edited)
    start = model.warm_start()
    assert start is not None and wanted in model.extract(start)[1]  # in the start itself, not left to search
    again = solve(edited)
    assert wanted in {v.case_id for v in again.routes[0].visits}
    assert len(again.routes[0].visits) == len(first.routes[0].visits)
    dropped = tuple(Dropped(cid, "not_worth_detour", "-") for cid in again.unperformed)
    plan = Plan("p", dt.date(2026, 12, 1), "UTC", again.routes, dropped, (), SolverInfo("ortools", "ok", 0.0), 25)
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []


def test_a_warm_start_that_cannot_be_on_time_keeps_what_fits() -> None:
    """Initial routes asking for every one of 25 one-hour visits (a supervisor's impossible order) are cut to
    the visits that fit, in order, instead of being thrown away: the search starts from them."""
    problem, cases, points = make_problem(25, [make_team()], service_s=H)
    problem = dataclasses.replace(problem, seed=None, time_limit_s=0.3)
    everyone = (tuple((c.case_id, c.slots[0].window.start) for c in problem.candidates),)
    model = _Model(dataclasses.replace(problem, initial=everyone))
    start = model.warm_start()
    assert start is not None
    kept = [v.case_id for v in model.extract(start)[0][0].visits]
    order = [cid for cid, _ in everyone[0]]
    assert 0 < len(kept) < 25 and kept == sorted(kept, key=order.index)
    out = solve(dataclasses.replace(problem, initial=everyone))
    assert len(out.routes[0].visits) >= len(kept)
    dropped = tuple(Dropped(cid, "not_worth_detour", "-") for cid in out.unperformed)
    plan = Plan("p", dt.date(2026, 12, 1), "UTC", out.routes, dropped, (), SolverInfo("ortools", "ok", 0.0), 25)
    assert check_plan(plan, cases, problem.teams, leg_seconds_for(points), LEGAL) == []
