"""A fast first plan of our own: parallel greedy route building, vectorised over the (case, slot) copies.

OR-Tools' constructions either take most of a 30 s budget at 1,000 cases (cheapest insertion) or fail under a
short budget, and a time-limited construction returns no plan at all (DESIGN.md §4). This one takes well under
a second at that size and always returns routes that respect windows, shifts, lunch breaks, skills and
visit caps; OR-Tools then improves them with guided local search (``routing.solver``).

The rule: the team that is earliest in its day picks next; it picks the copy with the most expected value per
second of its time (drive, wait and service), among the copies it can still reach in their window and from
which it can still take its break and get back to its end point within its shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from routing.model import Slot
    from routing.solver import Alternative, Candidate, SolveInput

__all__ = ["ConstructionInput", "construction_input", "greedy_routes"]


@dataclass(frozen=True, slots=True, eq=False)
class ConstructionInput:
    """Arrays over the copies (one per candidate slot) and the teams.

    Parameters
    ----------
    copy_row, copy_start, copy_end, copy_service, copy_value, copy_group
        Per copy: matrix row of its place, earliest and latest service start, service seconds, expected value
        (value times P(home)), and the case it belongs to (at most one copy per case is used).
    allowed
        Boolean ``(teams, copies)``: which team may make which visit.
    travel
        Per team, the ``(rows, rows)`` travel seconds of its profile (integers, as the solver uses).
    start_row, end_row, shift_start, shift_end
        Per team.
    lunch
        Per team, ``None`` or (window start, window end, duration).
    max_visits
        Per team, ``None`` for no cap.
    copy_customer, customer_cap
        Optional: the customer of each copy, and the visits each customer may still get today.
    """

    copy_row: np.ndarray
    copy_start: np.ndarray
    copy_end: np.ndarray
    copy_service: np.ndarray
    copy_value: np.ndarray
    copy_group: np.ndarray
    allowed: np.ndarray
    travel: Sequence[np.ndarray]
    start_row: Sequence[int]
    end_row: Sequence[int]
    shift_start: Sequence[int]
    shift_end: Sequence[int]
    lunch: Sequence[tuple[int, int, int] | None]
    max_visits: Sequence[int | None]
    copy_customer: np.ndarray | None = None
    customer_cap: np.ndarray | None = None


def greedy_routes(data: ConstructionInput) -> list[list[int]]:
    """Copy indices visited by each team, in order."""
    return greedy_plan(data)[0]


def greedy_plan(data: ConstructionInput) -> tuple[list[list[int]], list[tuple[int, int] | None]]:
    """Copy indices visited by each team, in order, and each team's break as (start, visits before it)."""
    n_teams = len(data.start_row)
    n_groups = int(data.copy_group.max()) + 1 if len(data.copy_group) else 0
    group_open = np.ones(n_groups, dtype=bool)
    routes: list[list[int]] = [[] for _ in range(n_teams)]
    breaks: list[tuple[int, int] | None] = [None] * n_teams
    now = np.array(data.shift_start, dtype=np.int64)
    row = np.array(data.start_row, dtype=np.int64)
    break_taken = np.array([lunch is None for lunch in data.lunch])
    active = np.ones(n_teams, dtype=bool)
    value = np.maximum(data.copy_value, 1e-9)
    customer = data.copy_customer if data.copy_customer is not None else np.zeros(len(data.copy_row), dtype=np.int64)
    budget = (
        data.customer_cap.copy()
        if data.customer_cap is not None
        else np.full(int(customer.max(initial=0)) + 1, len(data.copy_row), dtype=np.int64)
    )
    while active.any():
        v = int(np.flatnonzero(active)[np.argmin(now[active])])
        cap = data.max_visits[v]
        if cap is not None and len(routes[v]) >= cap:
            active[v] = False
            continue
        travel = data.travel[v]
        usable = data.allowed[v] & group_open[data.copy_group] & (budget[customer] > 0)
        if not usable.any():
            active[v] = False
            continue
        idx = np.flatnonzero(usable)
        to_copy = travel[row[v], data.copy_row[idx]]
        home = travel[data.copy_row[idx], data.end_row[v]]
        service = data.copy_service[idx]
        start, end = data.copy_start[idx], data.copy_end[idx]
        shift_end = data.shift_end[v]
        lunch = data.lunch[v]
        # Option A: the visit before the break (or no break to take).
        begin_a = np.maximum(now[v] + to_copy, start)
        leave_a = begin_a + service
        ok_a = (begin_a <= end) & (leave_a + home <= shift_end)
        if not break_taken[v]:
            assert lunch is not None
            w_start, w_end, duration = lunch
            # The break must still fit after this visit, with the drive home after it.
            break_at = np.maximum(leave_a, w_start)
            ok_a &= (break_at + duration <= w_end) & (break_at + duration + home <= shift_end)
            # Option B: the break first, where the team stands, then the visit.
            b_at = max(int(now[v]), w_start)
            begin_b = np.maximum(b_at + duration + to_copy, start)
            ok_b = (b_at + duration <= w_end) & (begin_b <= end) & (begin_b + service + home <= shift_end)
        else:
            begin_b = begin_a
            ok_b = np.zeros_like(ok_a)
        use_b = ~ok_a & ok_b
        feasible = ok_a | ok_b
        if not feasible.any():
            active[v] = False
            continue
        begin = np.where(use_b, begin_b, begin_a)
        spent = begin + service - now[v]
        rate = np.where(feasible, value[idx] / np.maximum(spent, 1), -np.inf)
        best = int(np.argmax(rate))
        chosen = int(idx[best])
        routes[v].append(chosen)
        group_open[data.copy_group[chosen]] = False
        budget[customer[chosen]] -= 1
        if use_b[best]:
            break_taken[v] = True
            assert lunch is not None
            breaks[v] = (max(int(now[v]), lunch[0]), len(routes[v]) - 1)
        now[v] = int(begin[best] + service[best])
        row[v] = int(data.copy_row[chosen])
    for v, lunch in enumerate(data.lunch):
        if lunch is not None and not break_taken[v]:
            # Every choice kept room for the break after the last visit (or before leaving, on an empty day).
            breaks[v] = (max(int(now[v]), lunch[0]), len(routes[v]))
    return routes, breaks


def construction_input(
    problem: SolveInput,
) -> tuple[ConstructionInput, list[tuple[int, Candidate | Alternative, Slot]]]:
    """The arrays for ``greedy_routes`` and the copies they index: (candidate index, place, slot), in the
    solver's node order (each candidate's own address, then its alternatives, slot by slot)."""
    cands = problem.candidates
    copies = [(ci, place, slot) for ci, cand in enumerate(cands) for place in cand.places() for slot in place.slots]
    teams = problem.teams
    allowed = np.zeros((len(teams), len(copies)), dtype=bool)
    for k, (ci, _place, _slot) in enumerate(copies):
        allowed[list(cands[ci].allowed_teams), k] = True
    int_travel = {
        p: np.ceil(np.asarray(m, dtype=np.float64)).astype(np.int64)
        for p, m in problem.travel.items()
        if any(t.profile == p for t in teams)
    }
    customer_index: dict[str, int] = {}
    for cand in cands:
        customer_index.setdefault(cand.customer_id, len(customer_index))
    data = ConstructionInput(
        copy_row=np.array([place.location_index for _ci, place, _slot in copies], dtype=np.int64),
        copy_start=np.array([slot.window.start for _ci, _place, slot in copies], dtype=np.int64),
        copy_end=np.array([slot.window.end for _ci, _place, slot in copies], dtype=np.int64),
        copy_service=np.array([cands[ci].service_s for ci, _place, _slot in copies], dtype=np.int64),
        copy_value=np.array([cands[ci].value * slot.p_home for ci, _place, slot in copies]),
        copy_group=np.array([ci for ci, _place, _slot in copies], dtype=np.int64),
        allowed=allowed,
        travel=[int_travel[t.profile] for t in teams],
        start_row=problem.team_start_index,
        end_row=problem.team_end_index,
        shift_start=[t.shift.start for t in teams],
        shift_end=[t.shift.end for t in teams],
        lunch=[
            None if t.lunch is None else (t.lunch.window.start, t.lunch.window.end, t.lunch.duration_s) for t in teams
        ],
        max_visits=[t.max_visits for t in teams],
        copy_customer=np.array([customer_index[cands[ci].customer_id] for ci, _place, _slot in copies], dtype=np.int64),
        customer_cap=np.array(
            [problem.customer_caps.get(cid, len(customer_index) + len(copies)) for cid in customer_index],
            dtype=np.int64,
        ),
    )
    return data, copies
