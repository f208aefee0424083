"""Large days split by territory into parts that are solved in parallel (DESIGN.md §4).

A 1,000-case day with lunch breaks is too big for one OR-Tools model within a field budget: the node matrix alone
takes seconds to hand over, and restoring any assignment with breaks takes longer than the budget
(BENCHMARKS.md). So teams are grouped around their start points, each case goes to the group that can reach it
soonest (within a fair share of the cases per team), and every part is solved on its own, in a process pool.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from routing.first_plan import first_plan
from routing.solver import TRAVEL_VALUE_PER_HOUR, SolveInput, SolveOutput, solve

__all__ = ["partition", "solve_decomposed"]

# A part of at most about this many (case, slot) copies keeps model building and break handling fast.
MAX_PART_COPIES = 1200


def partition(
    problem: SolveInput, max_part_copies: int = MAX_PART_COPIES, fixed: Mapping[int, int] | None = None
) -> list[tuple[list[int], list[int]]]:
    """Split the day into parts: (team indices, candidate indices) each; one part when the day is small.

    Every candidate lands in a part that holds at least one team allowed to visit it; a candidate in ``fixed``
    (candidate index -> team index, e.g. from the first plan) lands in its team's part.
    """
    fixed = fixed or {}
    n_teams = len(problem.teams)
    n_copies = sum(len(c.slots) + sum(len(a.slots) for a in c.alternatives) for c in problem.candidates)
    n_parts = min(n_teams, math.ceil(n_copies / max_part_copies))
    if n_parts <= 1:
        return [(list(range(n_teams)), list(range(len(problem.candidates))))]
    teams_of = _group_teams(problem, n_parts)
    n_parts = len(teams_of)
    part_of_team = np.empty(n_teams, dtype=np.int64)
    for p, members in enumerate(teams_of):
        part_of_team[members] = p

    # Seconds from each team's start to each case, per the team's own profile; inf where not allowed.
    rows = np.array([c.location_index for c in problem.candidates], dtype=np.int64)
    reach = np.full((n_teams, len(rows)), np.inf)
    for v, team in enumerate(problem.teams):
        reach[v] = np.asarray(problem.travel[team.profile])[problem.team_start_index[v], rows]
    allowed = np.zeros((n_teams, len(rows)), dtype=bool)
    for i, cand in enumerate(problem.candidates):
        allowed[list(cand.allowed_teams), i] = True
    reach[~allowed] = np.inf
    part_reach = np.stack([reach[members].min(axis=0) for members in teams_of])  # (parts, cases)

    share = np.array([len(m) for m in teams_of], dtype=np.float64) / n_teams
    capacity = np.ceil(share * len(rows) * 1.05).astype(np.int64)
    load = np.zeros(n_parts, dtype=np.int64)
    chosen = np.full(len(rows), -1, dtype=np.int64)
    for i, v in fixed.items():
        chosen[i] = part_of_team[v]
        load[chosen[i]] += 1
    # Cases with the clearest preference choose first.
    ranked = np.sort(part_reach, axis=0)
    regret = ranked[1] - ranked[0] if n_parts > 1 else ranked[0]
    regret = np.where(np.isfinite(regret), regret, np.inf)
    for i in np.argsort(-regret, kind="stable"):
        if chosen[i] >= 0:
            continue
        order = np.argsort(part_reach[:, i], kind="stable")
        open_parts = [p for p in order if np.isfinite(part_reach[p, i]) and load[p] < capacity[p]]
        p = open_parts[0] if open_parts else int(order[0])
        chosen[i] = p
        load[p] += 1
    # A customer's daily cap is one constraint, so all of a capped customer's cases share a part (the first's).
    home_part: dict[str, int] = {
        problem.candidates[i].customer_id: int(chosen[i])
        for i in fixed
        if problem.candidates[i].customer_id in problem.customer_caps
    }
    for i, cand in enumerate(problem.candidates):
        if cand.customer_id in problem.customer_caps:
            part = home_part.setdefault(cand.customer_id, int(chosen[i]))
            if np.isfinite(part_reach[part, i]):
                chosen[i] = part
    return [(teams_of[p], np.flatnonzero(chosen == p).tolist()) for p in range(n_parts)]


def _group_teams(problem: SolveInput, n_parts: int) -> list[list[int]]:
    """Teams in ``n_parts`` balanced groups of nearby start points (farthest-first seeds, then nearest seed)."""
    starts = np.array(problem.team_start_index, dtype=np.int64)
    travel = np.asarray(problem.travel[problem.teams[0].profile])
    between = travel[starts[:, None], starts[None, :]]
    between = np.minimum(between, between.T)
    seeds = [0]
    for _ in range(1, n_parts):
        spread = between[:, seeds].min(axis=1).astype(np.float64)
        spread[seeds] = -np.inf  # distinct seeds even when teams share a start point
        seeds.append(int(np.argmax(spread)))
    size = math.ceil(len(starts) / n_parts)
    groups: list[list[int]] = [[] for _ in seeds]
    to_seed = between[:, seeds]
    for v in np.argsort(to_seed.min(axis=1) - to_seed.max(axis=1), kind="stable"):
        for g in np.argsort(to_seed[v], kind="stable"):
            if len(groups[g]) < size:
                groups[g].append(int(v))
                break
    return [sorted(g) for g in groups if g]


def subproblem(
    problem: SolveInput,
    teams: Sequence[int],
    cands: Sequence[int],
    time_limit_s: float,
    initial: Sequence[tuple[tuple[str, int], ...]] | None = None,
) -> SolveInput:
    """The part of ``problem`` with only these teams and candidates, its matrices cut to the rows it uses."""
    local_team = {v: k for k, v in enumerate(teams)}
    rows = sorted(
        {problem.team_start_index[v] for v in teams}
        | {problem.team_end_index[v] for v in teams}
        | {problem.candidates[i].location_index for i in cands}
        | {alt.location_index for i in cands for alt in problem.candidates[i].alternatives}
    )
    row_of = {r: k for k, r in enumerate(rows)}
    index = np.array(rows, dtype=np.int64)
    profiles = {problem.teams[v].profile for v in teams}
    travel = {p: np.asarray(problem.travel[p])[index[:, None], index[None, :]] for p in profiles}
    candidates = tuple(
        dataclasses.replace(
            problem.candidates[i],
            location_index=row_of[problem.candidates[i].location_index],
            alternatives=tuple(
                dataclasses.replace(alt, location_index=row_of[alt.location_index])
                for alt in problem.candidates[i].alternatives
            ),
            allowed_teams=tuple(local_team[v] for v in problem.candidates[i].allowed_teams if v in local_team),
        )
        for i in cands
    )
    return dataclasses.replace(
        problem,
        teams=tuple(problem.teams[v] for v in teams),
        team_start_index=tuple(row_of[problem.team_start_index[v]] for v in teams),
        team_end_index=tuple(row_of[problem.team_end_index[v]] for v in teams),
        candidates=tuple(c for c in candidates if c.allowed_teams),
        travel=travel,
        time_limit_s=time_limit_s,
        initial=None if initial is None else tuple(initial[v] for v in teams),
    )


def solve_decomposed(
    problem: SolveInput, max_part_copies: int = MAX_PART_COPIES, workers: int | None = None
) -> SolveOutput:
    """Solve the day: a first plan of the whole day at once, then search in parts, in parallel, from it.

    The first plan (``routing.first_plan``, well under a second) fixes which team visits which case; the parts
    are the territories around the teams' start points, each warm-started from its share of the first plan.
    The better of the first plan and the searched one is returned, so search never makes the day worse. The
    budget covers everything.

    With ``problem.initial`` (the current plan's routes, e.g. when a supervisor edits a plan) the search
    starts from those routes instead of a first plan, and they fix the parts.
    """
    started = time.perf_counter()
    index = {c.case_id: i for i, c in enumerate(problem.candidates)}
    first: SolveOutput | None = None
    if problem.initial is None:
        first = first_plan(problem)
        initial = tuple(tuple((v.case_id, v.service_start) for v in route.visits) for route in first.routes)
    else:
        initial = problem.initial
    first_s = time.perf_counter() - started
    fixed = {
        index[cid]: t
        for t, route in enumerate(initial)
        for cid, _ in route
        if cid in index and t in problem.candidates[index[cid]].allowed_teams
    }
    parts = partition(problem, max_part_copies, fixed)
    if len(parts) == 1:
        left = max(0.1, problem.time_limit_s - (time.perf_counter() - started))
        searched = solve(dataclasses.replace(problem, initial=initial, time_limit_s=left))
        return _better(first, searched, first_s, time.perf_counter() - started)
    # Inside a daemonic worker (a branch planned on a pool or a Dask worker) no child processes may start:
    # the branches are the parallel level there, and the parts are searched one after another.
    nested = multiprocessing.current_process().daemon
    workers = 1 if nested else max(1, min(len(parts), workers or len(os.sched_getaffinity(0))))
    waves = math.ceil(len(parts) / workers)
    # Worker start-up and the hand-back of routes come off the budget before it is shared between waves.
    overhead_s = 1.0
    per_part = max(0.2, (problem.time_limit_s - (time.perf_counter() - started) - overhead_s) / waves)
    subs = [subproblem(problem, teams, cands, per_part, initial) for teams, cands in parts]
    if workers == 1:
        outputs = [solve(sub) for sub in subs]
    else:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            outputs = list(pool.map(solve, subs))
    by_team = {route.team.team_id: route for out in outputs for route in out.routes}
    solved_ids = {c.case_id for sub in subs for c in sub.candidates}
    # A candidate dropped from every part (no allowed team there) stays unvisited.
    orphans = tuple(c.case_id for c in problem.candidates if c.case_id not in solved_ids)
    searched = SolveOutput(
        routes=tuple(by_team[t.team_id] for t in problem.teams),
        unperformed=tuple(cid for out in outputs for cid in out.unperformed) + orphans,
        status="+".join(sorted({o.status for o in outputs})),
        time_s=time.perf_counter() - started,
        objective_value=sum(o.objective_value for o in outputs),
    )
    return _better(first, searched, first_s, time.perf_counter() - started)


def plan_score(out: SolveOutput) -> float:
    """The planner's objective in value points: Σ value · P(home) of the visits minus the travel cost."""
    value = sum(v.value * v.slot.p_home for r in out.routes for v in r.visits)
    return value - TRAVEL_VALUE_PER_HOUR * sum(r.travel_s for r in out.routes) / 3600.0


def _better(first: SolveOutput | None, searched: SolveOutput, first_s: float, total_s: float) -> SolveOutput:
    if first is None:
        return dataclasses.replace(searched, time_s=total_s)
    best = searched if plan_score(searched) >= plan_score(first) else first
    status = best.status if best is searched else f"construction (search: {searched.status})"
    return dataclasses.replace(best, status=status, time_s=total_s, first_solution_s=first_s)
