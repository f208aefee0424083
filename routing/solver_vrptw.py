"""The project's OR-Tools engine on classic VRPTW instances (``doorstep bench solomon``).

A fast construction, then guided local search for ``GLS_SHARE`` of the budget and ruin and recreate around
OR-Tools' local search for the rest (``routing.solver_ils``), on a model cut down to the construction's vehicles
plus ``FLEET_MARGIN`` (empty vehicles only add moves to try). Both choices are measured in BENCHMARKS.md
(issue 6). Distances and times are scaled to integers once (``SCALE`` units per instance unit); travel times are
rounded up so that a route feasible for the solver is feasible with the exact times, costs are rounded to nearest.
Every customer sits in its own disjunction with a penalty far above any route's cost, so a plan always comes back:
a customer left out means the engine found no complete solution, and the caller sees it.

Only ``routing.solver*`` modules import OR-Tools.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.errors import InvalidInputError
from routing.solver_ils import ruin_and_recreate, vehicle_routes
from routing.vrptw import Instance

__all__ = ["FIRST_SOLUTION_STRATEGIES", "METAHEURISTICS", "VrptwResult", "solve_vrptw"]

SCALE = 1000
OBJECTIVES = ("distance", "hierarchical")
FIRST_SOLUTION_STRATEGIES = {
    "parallel_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "christofides": routing_enums_pb2.FirstSolutionStrategy.CHRISTOFIDES,
    "automatic": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
}
METAHEURISTICS = {
    "guided_local_search": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    "simulated_annealing": routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING,
    "tabu_search": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
    "greedy_descent": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
}
# Measured on 12 Solomon instances at 10 s (BENCHMARKS.md, issue 6).
FLEET_MARGIN: int | None = 3
# Share of the search time given to guided local search before ruin and recreate takes over (measured as above).
GLS_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class VrptwResult:
    """Routes found (customer numbers, depot excluded), customers left out, the time spent, and the
    ruin-and-recreate rounds run and those that improved the best plan."""

    routes: list[list[int]]
    unserved: list[int]
    time_s: float
    first_solution_s: float | None
    rounds: int = 0
    improving_rounds: int = 0


def solve_vrptw(
    instance: Instance,
    time_limit_s: float = 10.0,
    objective: str = "distance",
    first_solution: str = "path_cheapest_arc",
    metaheuristic: str = "guided_local_search",
    solution_limit: int | None = None,
    fleet_margin: int | None = FLEET_MARGIN,
    gls_share: float | None = GLS_SHARE,
    seed: int = 1,
) -> VrptwResult:
    """Solve one instance within ``time_limit_s`` (model building included).

    Parameters
    ----------
    instance
        The instance.
    time_limit_s
        Wall-clock budget for model and search.
    objective
        ``distance`` (total distance only, as the CVRPLIB best-knowns) or ``hierarchical`` (vehicles first:
        a fixed cost per used vehicle above any possible distance).
    first_solution, metaheuristic
        Keys of ``FIRST_SOLUTION_STRATEGIES`` and ``METAHEURISTICS``; the defaults are the measured best
        (BENCHMARKS.md).
    solution_limit
        Stop after this many solutions instead of on time (reproducible runs); ruin and recreate then runs
        as many rounds.
    fleet_margin
        When set, a first solution is built with the whole fleet, and the search then runs on a model with the
        vehicles that solution used plus this many: every empty vehicle adds moves the search has to try
        (BENCHMARKS.md, issue 6). ``None`` searches with the whole fleet.
    gls_share
        Share of the remaining budget for ``metaheuristic`` before ruin and recreate; ``None`` gives it all to
        ``metaheuristic``.
    seed
        Seed of the ruin-and-recreate draws.
    """
    if gls_share is not None and not 0.0 < gls_share <= 1.0:
        msg = f"gls_share must be in (0, 1], got {gls_share!r}"
        raise InvalidInputError(msg)
    if objective not in OBJECTIVES:
        msg = f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}"
        raise InvalidInputError(msg)
    started = time.perf_counter()
    scaled = _Scaled.of(instance)
    vehicles = instance.vehicles
    probe: VrptwResult | None = None
    if fleet_margin is not None and vehicles > 1:
        probe = _search(
            instance, scaled, vehicles, objective, first_solution, None, 1, started, time_limit_s, None, seed
        )
        # Without a complete first solution the full fleet keeps every option open.
        if not probe.unserved:
            vehicles = min(vehicles, len(probe.routes) + fleet_margin)
    result = _search(
        instance, scaled, vehicles, objective, first_solution, metaheuristic, solution_limit, started, time_limit_s,
        gls_share, seed,
    )  # fmt: skip
    if probe is None:
        return result
    return dataclasses.replace(result, first_solution_s=probe.first_solution_s)


@dataclass(frozen=True, slots=True)
class _Scaled:
    """An instance's integer matrices and windows (``SCALE`` units), built once for both models of a solve."""

    cost: list[list[int]]  # rounded to nearest
    transit: list[list[int]]  # travel rounded up, plus the service at the origin
    ready: np.ndarray
    due: np.ndarray
    horizon: int
    longest_arc: int
    nearest: np.ndarray  # per node, all nodes by increasing distance

    @classmethod
    def of(cls, instance: Instance) -> _Scaled:
        dist = instance.distances()
        cost = np.rint(dist * SCALE).astype(np.int64)
        travel = np.ceil(dist * SCALE - 1e-9).astype(np.int64)
        service = np.rint(instance.service * SCALE).astype(np.int64)
        transit = travel + service[:, None]
        np.fill_diagonal(transit, 0)
        return cls(
            cost=cost.tolist(),
            transit=transit.tolist(),
            ready=np.ceil(instance.ready * SCALE - 1e-9).astype(np.int64),
            due=np.floor(instance.due * SCALE + 1e-9).astype(np.int64),
            horizon=int(np.ceil(instance.due[0] * SCALE)),
            longest_arc=int(cost.max()),
            nearest=np.argsort(dist, axis=1, kind="stable"),
        )


def _search(
    instance: Instance,
    scaled: _Scaled,
    vehicles: int,
    objective: str,
    first_solution: str,
    metaheuristic: str | None,
    solution_limit: int | None,
    started: float,
    time_limit_s: float,
    gls_share: float | None,
    seed: int,
) -> VrptwResult:
    """Build the model with ``vehicles`` vehicles and search until ``started + time_limit_s``.

    ``metaheuristic=None`` stops at the first local optimum (plain descent); ``gls_share`` as in ``solve_vrptw``.
    """
    n = len(instance.xy)
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_index = routing.RegisterTransitMatrix(scaled.cost)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_index)
    time_index = routing.RegisterTransitMatrix(scaled.transit)
    routing.AddDimension(time_index, scaled.horizon, scaled.horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    ready, due = scaled.ready, scaled.due
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(ready[node]), int(due[node]))
    for v in range(vehicles):
        time_dim.CumulVar(routing.Start(v)).SetRange(int(ready[0]), int(due[0]))
        time_dim.CumulVar(routing.End(v)).SetRange(int(ready[0]), int(due[0]))
    demand_index = routing.RegisterUnaryTransitVector(instance.demand.astype(int).tolist())
    routing.AddDimensionWithVehicleCapacity(demand_index, 0, [instance.capacity] * vehicles, True, "load")

    longest_route = scaled.longest_arc * (n + 1)
    if objective == "hierarchical":
        routing.SetFixedCostOfAllVehicles(longest_route)
    # Far above any complete solution's cost, so a customer is only left out when no insertion is feasible.
    penalty = longest_route * (instance.vehicles + 2)
    for node in range(1, n):
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = FIRST_SOLUTION_STRATEGIES[first_solution]
    if metaheuristic is None:
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    else:
        params.local_search_metaheuristic = METAHEURISTICS[metaheuristic]
    remaining = max(0.05, time_limit_s - (time.perf_counter() - started))
    share = 1.0 if gls_share is None or metaheuristic is None else gls_share
    params.time_limit.FromMilliseconds(int(1000 * remaining * share))
    if solution_limit is not None:
        params.solution_limit = solution_limit

    first_at: list[float] = []

    def on_solution() -> None:
        if not first_at:
            first_at.append(time.perf_counter() - started)

    routing.AddAtSolutionCallback(on_solution)
    solution = routing.SolveWithParameters(params)
    stats = None
    if solution is not None and share < 1.0:
        solution, stats = ruin_and_recreate(
            routing, manager, solution, scaled.nearest, started + time_limit_s, seed=seed, max_rounds=solution_limit
        )
    routes = [] if solution is None else [r for r in vehicle_routes(routing, manager, solution) if r]
    served = {c for route in routes for c in route}
    unserved = [c for c in range(1, n) if c not in served]
    return VrptwResult(
        routes=routes,
        unserved=unserved,
        time_s=time.perf_counter() - started,
        first_solution_s=first_at[0] if first_at else None,
        rounds=0 if stats is None else stats.rounds,
        improving_rounds=0 if stats is None else stats.improved,
    )
