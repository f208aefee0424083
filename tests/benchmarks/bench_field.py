"""Field benchmark: Copenhagen, real addresses, mixed shifts; Doorstep vs presence-agnostic OR-Tools vs PyVRP.

Run from the repository root with the venv active (PyVRP from the ``bench`` extra):

    python tests/benchmarks/bench_field.py --cases 1000 --teams 20 --time-limit 30 \\
        --out tests/benchmarks/results/field_1000x20_30s.json

In one run and at the same budget, on the same instance (``field_day.build_field_day``):
- ``doorstep``: ``routing.decompose.solve_decomposed`` with presence slot copies (the production path);
- ``agnostic``: the same engine with one copy per case spanning the whole reachable day and a flat P(home), as a
  planner that ignores presence would do;
- ``pyvrp``: PyVRP prize-collecting, one optional client per (case, slot) copy, the copies of a case in one
  mutually exclusive client group, prize = value x P(home) on Doorstep's cost scale. PyVRP has no lunch breaks,
  so the instance is solved twice: with breaks (Doorstep, agnostic) and without (all three). Say which is which.
Every plan is scored by one evaluator: the expected priority-weighted contacts Σ value·P(home | hour of the
service start), the number of visits and expected contacts, total travel, and violations (window, legal hours,
shift, travel time, duplicate cases) re-timed from the sequence with the same travel matrix; Doorstep and the
agnostic plan are also re-checked by ``routing.check`` on the real road network (breaks included).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import time
from pathlib import Path

import numpy as np
import pyvrp
from field_day import DATE, LEGAL, PRESENCE_SOURCES, FieldDay, build_field_day
from pyvrp.stop import MaxRuntime

from routing.check import check_plan
from routing.decompose import solve_decomposed
from routing.model import Dropped, Plan, Slot, SolverInfo, TimeWindow
from routing.solver import VALUE_SCALE, SolveInput, SolveOutput

ROOT = Path(__file__).resolve().parents[2]
Sequenced = list[list[tuple[int, int]]]  # per team: (candidate index, service start)


def evaluate(day: FieldDay, routes: Sequenced) -> dict[str, float]:
    """The one evaluator: expected weighted contacts by the hour actually served, travel, violations."""
    problem = day.problem
    travel = np.ceil(np.asarray(problem.travel["car"])).astype(np.int64)
    weighted = contacts = 0.0
    travel_s = visits = violations = 0
    seen: set[int] = set()
    for v, route in enumerate(routes):
        team = problem.teams[v]
        row, free = problem.team_start_index[v], team.shift.start
        for ci, start in route:
            cand = problem.candidates[ci]
            leg = int(travel[row, cand.location_index])
            travel_s += leg
            visits += 1
            if ci in seen:
                violations += 1
            seen.add(ci)
            late = start + cand.service_s > LEGAL.end or start < LEGAL.start
            if start < free + leg - 2 or late:
                violations += 1
            p = float(day.true_p_home[cand.case_id][min(23, start // 3600)])
            weighted += cand.value * p
            contacts += p
            free, row = start + cand.service_s, cand.location_index
        back = int(travel[row, problem.team_end_index[v]])
        travel_s += back
        if free + back > team.shift.end + 2:
            violations += 1
    return {
        "weighted_contacts": round(weighted, 2),
        "expected_contacts": round(contacts, 2),
        "visits": visits,
        "travel_h": round(travel_s / 3600, 2),
        "violations": violations,
    }


def sequenced(day: FieldDay, out: SolveOutput) -> Sequenced:
    index = {c.case_id: i for i, c in enumerate(day.problem.candidates)}
    return [[(index[v.case_id], v.service_start) for v in r.visits] for r in out.routes]


def checker_violations(day: FieldDay, out: SolveOutput) -> int:
    plan = Plan(
        "bench",
        DATE,
        "Europe/Copenhagen",
        out.routes,
        tuple(Dropped(cid, "not_worth_detour", "-") for cid in out.unperformed) + tuple(day.dropped),
        (),
        SolverInfo("ortools", out.status, out.time_s),
    )

    def legs(profile: str, points: list) -> list[float]:  # type: ignore[type-arg]
        return [leg.seconds for leg in day.network.legs(points)]

    return len(check_plan(plan, day.cases, day.teams, legs, LEGAL))


def agnostic(problem: SolveInput) -> SolveInput:
    """One copy per case over the whole reachable day, P(home) flat: presence plays no part in the plan."""
    cands = []
    for cand in problem.candidates:
        shifts = [problem.teams[v].shift for v in cand.allowed_teams]
        start = max(LEGAL.start, min(s.start for s in shifts))
        end = min(LEGAL.end, max(s.end for s in shifts)) - cand.service_s
        if end < start:
            continue
        cands.append(dataclasses.replace(cand, slots=(Slot("presence", TimeWindow(start, end), 0.5),)))
    return dataclasses.replace(problem, candidates=tuple(cands))


def run_pyvrp(day: FieldDay, problem: SolveInput, time_limit_s: float) -> tuple[Sequenced, float]:
    """PyVRP prize-collecting on the slot copies (no breaks: PyVRP has none)."""
    started = time.perf_counter()
    travel = np.ceil(np.asarray(problem.travel["car"])).astype(np.int64)
    n_rows = travel.shape[0]
    depot_rows = sorted(set(problem.team_start_index) | set(problem.team_end_index))
    depot_of = {r: k for k, r in enumerate(depot_rows)}
    # Locations: the depots first (PyVRP wants them first), then every matrix row that is not a depot.
    order = depot_rows + [r for r in range(n_rows) if r not in depot_of]
    loc_of = {r: k for k, r in enumerate(order)}
    perm = np.array(order)
    matrix = travel[perm[:, None], perm[None, :]]
    locations = [pyvrp.Location(0.0, 0.0) for _ in order]
    depots = [pyvrp.Depot(k, tw_early=0, tw_late=24 * 3600) for k in range(len(depot_rows))]
    clients, groups, owner = [], [], []
    for ci, cand in enumerate(problem.candidates):
        members = []
        for slot in cand.slots:
            prize = max(1, round(VALUE_SCALE * cand.value * slot.p_home))
            members.append(len(clients))
            owner.append((ci, slot))
            clients.append(
                pyvrp.Client(
                    loc_of[cand.location_index],
                    service_duration=cand.service_s,
                    tw_early=slot.window.start,
                    tw_late=slot.window.end,
                    prize=prize,
                    required=False,
                    group=len(groups) if len(cand.slots) > 1 else None,
                )
            )
        if len(cand.slots) > 1:
            groups.append(pyvrp.ClientGroup(members, required=False))
    vehicle_types = [
        pyvrp.VehicleType(
            1,
            start_depot=depot_of[problem.team_start_index[v]],
            end_depot=depot_of[problem.team_end_index[v]],
            tw_early=team.shift.start,
            tw_late=team.shift.end,
            unit_distance_cost=1,
            name=team.team_id,
        )
        for v, team in enumerate(problem.teams)
    ]
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, [matrix], [matrix], groups)
    remaining = max(0.5, time_limit_s - (time.perf_counter() - started))
    result = pyvrp.solve(data, stop=MaxRuntime(remaining), seed=1, display=False)
    routes: Sequenced = [[] for _ in problem.teams]
    for route in result.best.routes():
        v = route.vehicle_type()
        for activity in route:
            if activity.is_client():
                ci, _slot = owner[int(activity.idx)]
                routes[v].append((ci, int(activity.start_time)))
    return routes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "field.json")
    parser.add_argument(
        "--presence",
        choices=PRESENCE_SOURCES,
        default="prior",
        help="prior: segment priors, also the truth; learnt: a model taught by a visit history, scored against the "
        "hidden truth that history was drawn from (field_day.py)",
    )
    args = parser.parse_args()
    rows = []
    for lunch in (True, False):
        day = build_field_day(args.cases, args.teams, lunch=lunch, presence=args.presence)
        problem = dataclasses.replace(day.problem, time_limit_s=args.time_limit)
        runs: list[tuple[str, Sequenced, float, float | None, int | None]] = []
        out = solve_decomposed(problem)
        runs.append(("doorstep", sequenced(day, out), out.time_s, out.first_solution_s, checker_violations(day, out)))
        out = solve_decomposed(agnostic(problem))
        runs.append(("agnostic", sequenced(day, out), out.time_s, out.first_solution_s, checker_violations(day, out)))
        if not lunch:
            routes, spent = run_pyvrp(day, problem, args.time_limit)
            runs.append(("pyvrp", routes, spent, None, None))
        for name, routes, spent, first, checked in runs:
            row = {
                "instance": f"{args.cases}x{args.teams}" + (" lunch" if lunch else " no breaks"),
                "presence": args.presence,
                "solver": name,
                "time_s": round(spent, 2),
                "first_solution_s": None if first is None else round(first, 2),
                "checker_violations": checked,
                **evaluate(day, routes),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"time_limit_s": args.time_limit, "presence": args.presence, "rows": rows}
    args.out.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    for instance in sorted({r["instance"] for r in rows}):
        base = {r["solver"]: r["weighted_contacts"] for r in rows if r["instance"] == instance}
        for peer in ("agnostic", "pyvrp"):
            if peer in base and base[peer] > 0:
                ratio = base["doorstep"] / base[peer]
                print(f"{instance}: doorstep / {peer} = {ratio:.3f}" if math.isfinite(ratio) else "")
    _ = dt


if __name__ == "__main__":
    main()
