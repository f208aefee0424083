"""Ruin and recreate around OR-Tools' local search: the second phase of ``routing.solver_vrptw``'s search.

Guided local search stalls on tightly windowed instances: its penalties keep it near the first solution's
structure. This loop ruins a spatial neighbourhood of the current plan (a random customer and its nearest ones are
taken out), lets OR-Tools put them back and descend from there (GREEDY_DESCENT: its insertion and improvement
operators), and keeps the result when it is better than the current plan or within ``ACCEPT_ABOVE_BEST`` of the
best (record-to-record acceptance, so the walk can cross small ridges). Measured on Solomon in BENCHMARKS.md
(issue 6). Deterministic for a seed, given the same starting plan and the same number of rounds.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

__all__ = ["RuinRecreateStats", "ruin_and_recreate", "vehicle_routes"]

# Customers taken out per round, drawn uniformly (SISR-like sizes for 100-customer instances).
REMOVED_MIN = 6
REMOVED_MAX = 18
# A round's plan replaces the current one when it costs at most this much above the best found.
ACCEPT_ABOVE_BEST = 0.01
# One round's descent never runs longer than this (it usually ends in 0.1-0.4 s at 100 customers).
ROUND_LIMIT_S = 1.0


@dataclass(frozen=True, slots=True)
class RuinRecreateStats:
    """Rounds run, rounds whose plan was accepted, and rounds that improved the best plan."""

    rounds: int
    accepted: int
    improved: int


def ruin_and_recreate(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    start: pywrapcp.Assignment,
    nearest: np.ndarray,
    deadline: float,
    seed: int = 1,
    max_rounds: int | None = None,
) -> tuple[pywrapcp.Assignment, RuinRecreateStats]:
    """Improve ``start`` until ``deadline`` (a ``time.perf_counter()`` value) or ``max_rounds``.

    Parameters
    ----------
    routing, manager
        A solved model (its search already ran once).
    start
        The plan to improve; returned unchanged when no round finds better.
    nearest
        Per node, all nodes by increasing distance (``np.argsort`` of the distance matrix rows); node 0 is
        the depot and is never removed.
    deadline
        Wall-clock end of the search.
    seed
        Seed of the removal draws.
    max_rounds
        Stop after this many rounds instead (reproducible runs: each round then descends to its local optimum
        whatever the time, within ``deadline``).
    """
    rng = random.Random(seed)
    customers = nearest.shape[0]
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    # The model reuses its solution objects between searches: keep copies.
    best = current = routing.solver().Assignment(start)
    best_cost = current_cost = start.ObjectiveValue()
    current_routes = vehicle_routes(routing, manager, current)
    rounds = accepted = improved = 0
    while time.perf_counter() < deadline and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        seed_node = rng.randrange(1, customers)
        size = rng.randint(REMOVED_MIN, REMOVED_MAX)
        removed = {int(node) for node in nearest[seed_node, : size + 1] if node != 0}
        partial = [[manager.NodeToIndex(n) for n in route if n not in removed] for route in current_routes]
        ruined = routing.solver().Assignment(current)
        # RoutesToAssignment only fills values; ReadAssignmentFromRoutes would run a search under the last
        # search's (spent) time limit and fail.
        if not routing.RoutesToAssignment(partial, True, True, ruined):
            continue
        remaining = deadline - time.perf_counter()
        # A reproducible run (max_rounds) must not let the machine's speed cut a round short.
        limit = remaining if max_rounds is not None else min(ROUND_LIMIT_S, remaining)
        params.time_limit.FromMilliseconds(max(10, int(1000 * limit)))
        found = routing.SolveFromAssignmentWithParameters(ruined, params)
        if found is None:
            continue
        cost = found.ObjectiveValue()
        if cost < current_cost or cost <= best_cost * (1 + ACCEPT_ABOVE_BEST):
            accepted += 1
            current, current_cost = routing.solver().Assignment(found), cost
            current_routes = vehicle_routes(routing, manager, current)
            if cost < best_cost:
                improved += 1
                best, best_cost = current, cost
    return best, RuinRecreateStats(rounds, accepted, improved)


def vehicle_routes(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, plan: pywrapcp.Assignment
) -> list[list[int]]:
    """Each vehicle's nodes in visiting order (depots excluded), one list per vehicle, empty ones included."""
    routes: list[list[int]] = []
    for v in range(routing.vehicles()):
        index = plan.Value(routing.NextVar(routing.Start(v)))
        route: list[int] = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = plan.Value(routing.NextVar(index))
        routes.append(route)
    return routes
