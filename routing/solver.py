"""The OR-Tools model of a planning day (DESIGN.md §4).

One routing node per (case, slot) copy; all copies of a case form one disjunction, so at most one is visited and
skipping the case costs ``v_i * max_k p_ik``. Choosing copy k costs ``v_i * (max_k p_ik - p_ik)``, summed by a
"regret" dimension whose span is costed; together the solver maximises ``sum v_i p_ik`` minus a travel-cost term.
The time dimension carries the slot windows (already cut to the legal hours), shifts and the lunch break. The
search starts from our own construction (``routing.construct``) or from given routes (warm start), then runs
guided local search to the budget; a plan always comes back.

Only ``routing.solver*`` modules import OR-Tools.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from geo.types import Location
from routing.construct import construction_input, greedy_routes
from routing.errors import InvalidInputError, SolverError
from routing.model import Slot, Team, TeamDay, TimeWindow, Visit

# Travel cost in value points per hour of driving: a tie-breaker between plans that meet as many customers,
# not a reason to skip a visit (a visit is worth tens of points).
TRAVEL_VALUE_PER_HOUR = 6.0
# One cost unit is one second of driving, so one value point (a priority point times a probability) is worth
# VALUE_SCALE units: fine enough that rounding never flips a decision, far below 2**62 in total.
VALUE_SCALE = round(3600 / TRAVEL_VALUE_PER_HOUR)
# Skipping a required visit costs this many units: above any day's travel and value (a value point is
# VALUE_SCALE units, a case at most 100 points), far below 2**62 even with thousands of required visits.
REQUIRED_PENALTY = 10**10


@dataclass(frozen=True, slots=True)
class Candidate:
    """A located, plannable case with its candidate slots.

    Parameters
    ----------
    case_id, customer_id
        Identify the case.
    location_index
        Row of the case's point in the travel matrices.
    location, address
        Where the visit happens (for the output).
    service_s
        Time on site.
    value
        The value of meeting the customer (priority points).
    slots
        Candidate slots, each already cut to the legal hours; at least one.
    allowed_teams
        Indices of the teams that may visit (branch, skills, pin); at least one.
    address_kind
        Which of the customer's addresses ``location`` is (``home``, ``work``, ``registered``).
    alternatives
        Other addresses of the same case, each with its own slots and presence: all copies of all addresses form
        one disjunction, so at most one visit is made, at whichever address and hour is worth most.
    """

    case_id: str
    customer_id: str
    location_index: int
    location: Location
    address: str | None
    service_s: int
    value: float
    slots: tuple[Slot, ...]
    allowed_teams: tuple[int, ...]
    address_kind: str = "home"
    alternatives: tuple[Alternative, ...] = ()
    required: bool = False
    """A supervisor's edit demands the visit (a pin, a move or an add): skipping it costs ``REQUIRED_PENALTY``,
    so the search drops it only when no allowed team can make it at all."""

    def places(self) -> tuple[Candidate | Alternative, ...]:
        """The case's own address first, then its alternatives."""
        return (self, *self.alternatives)


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another address of a case (work, registered residence) with its own slots and P(home) there."""

    location_index: int
    location: Location
    address: str | None
    address_kind: str
    slots: tuple[Slot, ...]


FIRST_SOLUTION_STRATEGIES = {
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "parallel_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "all_unperformed": routing_enums_pb2.FirstSolutionStrategy.ALL_UNPERFORMED,
}
# Our own construction (routing.construct), handed to OR-Tools as the starting assignment.
GREEDY = "greedy"
METAHEURISTICS = {
    "guided_local_search": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    "simulated_annealing": routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING,
    "tabu_search": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
    "greedy_descent": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
}


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """How the search runs; ``"auto"`` picks by problem size from the measurements in BENCHMARKS.md.

    Parameters
    ----------
    first_solution
        ``auto`` or a key of ``FIRST_SOLUTION_STRATEGIES``.
    metaheuristic
        A key of ``METAHEURISTICS``.
    insertion_neighbors_ratio
        For the cheapest-insertion constructions: the share of nearest neighbours considered (1 = all).
    ls_neighbors_ratio
        The share of nearest neighbours local search operators look at (1 = all); ``None`` = auto.
    """

    first_solution: str = "auto"
    metaheuristic: str = "guided_local_search"
    insertion_neighbors_ratio: float | None = None
    ls_neighbors_ratio: float | None = None

    def __post_init__(self) -> None:
        if self.first_solution not in ("auto", GREEDY, *FIRST_SOLUTION_STRATEGIES):
            msg = f"unknown first solution strategy {self.first_solution!r}"
            raise InvalidInputError(msg)
        if self.metaheuristic not in METAHEURISTICS:
            msg = f"unknown metaheuristic {self.metaheuristic!r}"
            raise InvalidInputError(msg)
        for ratio in (self.insertion_neighbors_ratio, self.ls_neighbors_ratio):
            if ratio is not None and not (0.0 < ratio <= 1.0):
                msg = f"neighbour ratios must be in (0, 1], got {ratio}"
                raise InvalidInputError(msg)


@dataclass(frozen=True, slots=True)
class SolveInput:
    """Everything the solver needs, already validated and pre-filtered."""

    teams: tuple[Team, ...]
    team_start_index: tuple[int, ...]
    team_end_index: tuple[int, ...]
    candidates: tuple[Candidate, ...]
    travel: Mapping[str, np.ndarray]
    legal: TimeWindow
    time_limit_s: float = 10.0
    seed: int | None = None
    #: Per travel profile, 24 hourly travel-time factors (>= 1, see ``geo.traffic``): a trip to a visit is
    #: multiplied by the factor of its slot's starting hour, the trip home by the day's peak factor.
    hourly_factors: Mapping[str, Sequence[float]] | None = None
    search: SearchSettings = SearchSettings()
    customer_caps: Mapping[str, int] = field(default_factory=dict)
    """Visits still allowed today per customer, where fewer than the customer's candidate cases (caps)."""
    workload_balance: int = 0
    """Optional balance term: cost per second of service time of the busiest team (0 = off). One unit weighs as
    one second of driving, so 1 makes an extra second at the door for the busiest team as costly as a second of
    driving; the term only moves visits between teams, it never drops a visit worth tens of points."""
    initial: tuple[tuple[tuple[str, int], ...], ...] | None = None
    """Warm start: per team, (case_id, planned service start) in order, e.g. the previous plan's routes."""


@dataclass(frozen=True, slots=True)
class SolveOutput:
    routes: tuple[TeamDay, ...]
    unperformed: tuple[str, ...]
    status: str
    time_s: float
    objective_value: float
    first_solution_s: float | None = None
    first_objective: float | None = None


_STATUS_NAMES = {
    0: "not_solved",
    1: "success",
    2: "partial_success_time_limit",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}


def solve(problem: SolveInput) -> SolveOutput:
    """Plan every team's route for the day.

    Parameters
    ----------
    problem
        Teams, candidates with their slot copies, per-profile travel matrices and the legal window.

    Returns
    -------
    SolveOutput
        One ``TeamDay`` per team (an empty route for an unused team) and the cases left unvisited. Road
        geometry and distances are not known here; the caller adds them.
    """
    started = time.perf_counter()
    model = _Model(problem)
    params = model.search_parameters(time.perf_counter() - started)
    first: list[tuple[float, float]] = []

    def on_solution() -> None:
        if not first:
            first.append((time.perf_counter() - started, model.routing.CostVar().Max() / VALUE_SCALE))

    model.routing.AddAtSolutionCallback(on_solution)
    start = model.warm_start() if problem.initial is not None else None
    if start is None and model.first_solution_name() == GREEDY:
        start = model.greedy_start()
    if start is None and model.first_solution_name() == GREEDY:
        params.first_solution_strategy = FIRST_SOLUTION_STRATEGIES["local_cheapest_insertion"]
    if start is not None:
        first.append((time.perf_counter() - started, start.ObjectiveValue() / VALUE_SCALE))
        # Read the construction out now: a later solve on the same model may reuse the assignment's storage.
        best_cost, best = start.ObjectiveValue(), model.extract(start)
        solution = model.routing.SolveFromAssignmentWithParameters(start, params)
        left_ms = int(1000 * (problem.time_limit_s - (time.perf_counter() - started)))
        if solution is None and left_ms > 200 and problem.seed is None:
            # OR-Tools 9.15 sometimes rejects a start it accepted when read (seen with lunch breaks; BENCHMARKS.md).
            # Then its own construction and local search get the rest of the budget, and the better plan wins.
            params.first_solution_strategy = FIRST_SOLUTION_STRATEGIES["local_cheapest_insertion"]
            params.time_limit.FromMilliseconds(left_ms)
            solution = model.routing.SolveWithParameters(params)
        if solution is not None and solution.ObjectiveValue() <= best_cost:
            best_cost, best = solution.ObjectiveValue(), model.extract(solution)
        # Otherwise the construction stands: a valid plan, and search found nothing better in the budget.
    else:
        solution = model.routing.SolveWithParameters(params)
        if solution is None:
            # All-unperformed is always feasible, so no solution means the model itself is wrong.
            msg = f"OR-Tools found no plan (status {model.status_name()})"
            raise SolverError(msg)
        best_cost, best = solution.ObjectiveValue(), model.extract(solution)
    routes, visited = best
    unperformed = tuple(c.case_id for c in problem.candidates if c.case_id not in visited)
    return SolveOutput(
        routes=routes,
        unperformed=unperformed,
        status=model.status_name(),
        time_s=time.perf_counter() - started,
        objective_value=best_cost / VALUE_SCALE,
        first_solution_s=first[0][0] if first else None,
        first_objective=first[0][1] if first else None,
    )


@dataclass(frozen=True, slots=True)
class _Copy:
    candidate: int
    slot: Slot
    window: TimeWindow
    location_index: int
    location: Location
    address: str | None
    address_kind: str


class _Model:
    """Builds the OR-Tools routing model for one ``SolveInput`` and reads solutions back."""

    def __init__(self, problem: SolveInput) -> None:
        self.problem = problem
        teams = problem.teams
        n_teams = len(teams)
        self.copies = [
            _Copy(ci, slot, slot.window, place.location_index, place.location, place.address, place.address_kind)
            for ci, cand in enumerate(problem.candidates)
            for place in cand.places()
            for slot in place.slots
        ]
        # Node layout: one start and one end node per team, then one node per copy.
        self.first_copy_node = 2 * n_teams
        n_nodes = self.first_copy_node + len(self.copies)
        starts = list(range(n_teams))
        ends = list(range(n_teams, 2 * n_teams))
        self.manager = pywrapcp.RoutingIndexManager(n_nodes, n_teams, starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)

        cands = problem.candidates
        node_location = np.array(
            list(problem.team_start_index) + list(problem.team_end_index) + [c.location_index for c in self.copies],
            dtype=np.int64,
        )
        self.node_location = node_location
        service = np.zeros(n_nodes, dtype=np.int64)
        service[self.first_copy_node :] = [cands[c.candidate].service_s for c in self.copies]
        self.service = service

        best_p = np.array([max(s.p_home for p in cand.places() for s in p.slots) for cand in cands])
        value = np.array([cand.value for cand in cands])
        copy_cand = np.array([c.candidate for c in self.copies], dtype=np.int64)
        copy_p = np.array([c.slot.p_home for c in self.copies])
        regret = np.zeros(n_nodes, dtype=np.int64)
        regret[self.first_copy_node :] = np.rint(VALUE_SCALE * value[copy_cand] * (best_p[copy_cand] - copy_p))

        # One matrix per profile serves as the time transit and as the arc cost (a cost unit is one second;
        # VALUE_SCALE puts value points on that scale): registering and converting a second node matrix cost
        # as much again as the whole model at 1,000 cases (BENCHMARKS.md).
        transit_index: dict[str, int] = {}
        # The hours each copy's window covers: one for an hourly slot, many for an "anytime" copy, which then
        # takes the highest factor among them (its hour is only known after solving; never plan it too fast).
        covered = np.zeros((n_nodes, 24), dtype=bool)
        for k, c in enumerate(self.copies):
            first, last = c.slot.window.start // 3600, max(c.slot.window.start, c.slot.window.end - 1) // 3600
            covered[self.first_copy_node + k, np.arange(first, last + 1) % 24] = True
        #: Per profile, the travel-time factor of a trip *into* each node (see ``SolveInput.hourly_factors``).
        self.node_factor: dict[str, np.ndarray] = {}
        for profile in sorted({t.profile for t in teams}):
            hourly = np.asarray((problem.hourly_factors or {}).get(profile, [1.0] * 24), dtype=np.float64)
            factor = np.where(covered, hourly[None, :], 0.0).max(axis=1)
            factor[:n_teams] = 1.0
            factor[n_teams : 2 * n_teams] = hourly.max()
            self.node_factor[profile] = factor
            base = np.asarray(problem.travel[profile], dtype=np.float64)
            leg = np.ceil(base[node_location[:, None], node_location[None, :]] * factor[None, :]).astype(np.int64)
            transit = leg + service[:, None]
            transit_index[profile] = self.routing.RegisterTransitMatrix(transit.tolist())
            for v, team in enumerate(teams):
                if team.profile == profile:
                    self.routing.SetArcCostEvaluatorOfVehicle(transit_index[profile], v)
        # The slot regret of the chosen copy, summed along each route by a dimension whose span is costed.
        regret_index = self.routing.RegisterUnaryTransitVector(regret.tolist())
        self.routing.AddDimension(regret_index, 0, int(regret.sum()) + 1, True, "regret")
        self.routing.GetDimensionOrDie("regret").SetSpanCostCoefficientForAllVehicles(1)
        self.penalty = np.rint(VALUE_SCALE * value * best_p).astype(np.int64)

        horizon = 24 * 3600
        self.routing.AddDimensionWithVehicleTransits(
            [transit_index[t.profile] for t in teams], horizon, horizon, False, "time"
        )
        self.time = self.routing.GetDimensionOrDie("time")
        self._add_windows_and_shifts()
        self._add_breaks()
        self._add_max_visits()
        self._add_customer_caps()
        if problem.workload_balance > 0:
            # The global span of a dimension that starts at 0 and adds each visit's service time is the busiest
            # team's time at the door: costing it spreads the work.
            work_index = self.routing.RegisterUnaryTransitVector(self.service.tolist())
            self.routing.AddDimension(work_index, 0, int(self.service.sum()) + 1, True, "workload")
            self.routing.GetDimensionOrDie("workload").SetGlobalSpanCostCoefficient(problem.workload_balance)

        for ci, cand in enumerate(cands):
            indices = [
                self.manager.NodeToIndex(self.first_copy_node + k)
                for k, c in enumerate(self.copies)
                if c.candidate == ci
            ]
            # The arc cost charges a visit its service seconds; the penalty carries them too, so only travel
            # and the slot regret weigh against the value of the visit.
            penalty = REQUIRED_PENALTY if cand.required else max(1, int(self.penalty[ci]) + cand.service_s)
            self.routing.AddDisjunction(indices, penalty, 1)
            if len(cand.allowed_teams) < n_teams:
                for index in indices:
                    # -1 keeps the node droppable; the rest are the teams allowed to visit.
                    self.routing.VehicleVar(index).SetValues([-1, *cand.allowed_teams])

    def _add_windows_and_shifts(self) -> None:
        for k, copy in enumerate(self.copies):
            index = self.manager.NodeToIndex(self.first_copy_node + k)
            # The cumul at a visit node is the service start.
            self.time.CumulVar(index).SetRange(copy.window.start, copy.window.end)
        for v, team in enumerate(self.problem.teams):
            start, end = self.routing.Start(v), self.routing.End(v)
            self.time.CumulVar(start).SetRange(team.shift.start, team.shift.end)
            self.time.CumulVar(end).SetRange(team.shift.start, team.shift.end)
            # Teams leave as late as the route allows and come back as early as it allows.
            self.routing.AddVariableMaximizedByFinalizer(self.time.CumulVar(start))
            self.routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(end))

    def _add_breaks(self) -> None:
        solver = self.routing.solver()
        self.break_intervals: dict[int, pywrapcp.IntervalVar] = {}
        node_visit_transits = by_routing_index(self.manager, self.service)
        for v, team in enumerate(self.problem.teams):
            if team.lunch is None:
                continue
            lunch = team.lunch
            interval = solver.FixedDurationIntervalVar(
                lunch.window.start, lunch.window.end - lunch.duration_s, lunch.duration_s, False, f"lunch {v}"
            )
            self.time.SetBreakIntervalsOfVehicle([interval], v, node_visit_transits)
            self.break_intervals[v] = interval

    def _add_customer_caps(self) -> None:
        """At most ``cap`` visits to a customer today, over all of the customer's cases and their copies."""
        caps = self.problem.customer_caps
        if not caps:
            return
        solver = self.routing.solver()
        by_customer: dict[str, list[int]] = {}
        for k, copy in enumerate(self.copies):
            customer = self.problem.candidates[copy.candidate].customer_id
            if customer in caps:
                by_customer.setdefault(customer, []).append(self.manager.NodeToIndex(self.first_copy_node + k))
        for customer, indices in by_customer.items():
            solver.Add(solver.Sum([self.routing.ActiveVar(i) for i in indices]) <= caps[customer])

    def _add_max_visits(self) -> None:
        teams = self.problem.teams
        if all(t.max_visits is None for t in teams):
            return
        is_visit = [0] * self.first_copy_node + [1] * len(self.copies)
        counter = self.routing.RegisterUnaryTransitVector(is_visit)
        big = len(self.copies) + 1
        caps = [big if t.max_visits is None else t.max_visits for t in teams]
        self.routing.AddDimensionWithVehicleCapacity(counter, 0, caps, True, "visits")

    def search_parameters(self, spent_s: float = 0.0) -> pywrapcp.RoutingSearchParameters:
        """Search parameters for this model; ``spent_s`` (model building) comes off the time budget."""
        search = self.problem.search
        params = pywrapcp.DefaultRoutingSearchParameters()
        name = self.first_solution_name()
        if name != GREEDY:
            params.first_solution_strategy = FIRST_SOLUTION_STRATEGIES[name]
        params.local_search_metaheuristic = METAHEURISTICS[search.metaheuristic]
        if search.insertion_neighbors_ratio is not None:
            insertion = params.global_cheapest_insertion_first_solution_parameters
            insertion.neighbors_ratio = search.insertion_neighbors_ratio
            insertion.min_neighbors = 10
        if search.ls_neighbors_ratio is not None:
            params.ls_operator_neighbors_ratio = search.ls_neighbors_ratio
            params.ls_operator_min_neighbors = 10
        budget_ms = max(50, int(1000 * (self.problem.time_limit_s - spent_s)))
        params.time_limit.FromMilliseconds(budget_ms)
        if self.problem.seed is not None:
            # A time-limited search is not reproducible; a solution count is. The time limit stays as a guard
            # for tiny days, where guided local search runs out of new solutions long before the count.
            params.solution_limit = 50 + 5 * len(self.problem.candidates)
        return params

    def first_solution_name(self) -> str:
        """The construction to use: the setting, or for ``auto`` the measured best for this size."""
        chosen = self.problem.search.first_solution
        if chosen != "auto":
            return chosen
        # Measured (BENCHMARKS.md): our greedy start beats OR-Tools' constructions in value at the budget and
        # comes back in well under a second, where theirs can use the whole budget and return nothing.
        return GREEDY

    def warm_start(self) -> pywrapcp.Assignment | None:
        """The ``initial`` routes as an assignment: each case on the copy whose window holds its planned start.

        Cases no longer plannable are skipped; ``None`` when OR-Tools rejects what is left.
        When OR-Tools rejects the routes as given (a supervisor moved a stop where it cannot be on time), each
        route keeps, in order, the visits that still fit its team's day, and the search places the others.
        A case whose planned start falls in none of its copies (an edit moved it) takes the nearest copy.
        """
        initial = self.problem.initial
        assert initial is not None
        copies_of: dict[str, list[int]] = {}
        for k, copy in enumerate(self.copies):
            copies_of.setdefault(self.problem.candidates[copy.candidate].case_id, []).append(k)
        routes: list[list[int]] = []
        used: set[str] = set()
        for v in range(len(self.problem.teams)):
            route: list[int] = []
            for case_id, planned in initial[v] if v < len(initial) else ():
                options = [
                    k
                    for k in copies_of.get(case_id, [])
                    if v in self.problem.candidates[self.copies[k].candidate].allowed_teams
                ]
                if case_id in used or not options:
                    continue
                inside = [k for k in options if self.copies[k].window.contains(planned)]
                if inside:
                    route.append(max(inside, key=lambda k: self.copies[k].slot.p_home))
                else:
                    route.append(
                        min(
                            options,
                            key=lambda k: (_distance(self.copies[k].window, planned), -self.copies[k].slot.p_home),
                        )
                    )
                used.add(case_id)
            routes.append(route)
        self._place_required(routes, used)
        start = self.assignment_from_copies(routes)
        if start is None:
            start = self.assignment_from_copies([self._fitting(v, route) for v, route in enumerate(routes)])
        return start

    def _place_required(self, routes: list[list[int]], used: set[str]) -> None:
        """Put each required case the routes lack where it costs least: the cheapest insertion that keeps the
        day on time, else in place of one optional stop of one of the nearest allowed teams, else of two.

        Local search alone rarely finds room for a must-visit in a full day within an edit's budget.
        """
        problem = self.problem
        copies_of: dict[int, list[int]] = {}
        for k, copy in enumerate(self.copies):
            copies_of.setdefault(copy.candidate, []).append(k)
        for ci, cand in enumerate(problem.candidates):
            if not cand.required or cand.case_id in used:
                continue
            options = copies_of.get(ci, [])
            best: tuple[float, int, list[int]] | None = None
            for v in cand.allowed_teams:
                for trial in self._insertions(routes[v], options):
                    if self._route_fits(v, trial):
                        cost = float(self._travel(v, trial) - self._travel(v, routes[v]))
                        if best is None or cost < best[0]:
                            best = (cost, v, trial)
            # No room: make some by leaving out one optional stop (of the three nearest allowed teams), else
            # two (of the nearest one); the search may put them back elsewhere.
            for size, teams in ((1, 3), (2, 1)):
                if best is not None:
                    break
                for v in self._nearest_teams(cand, routes, teams):
                    optional = [
                        i for i, k in enumerate(routes[v]) if not problem.candidates[self.copies[k].candidate].required
                    ]
                    for drop in itertools.combinations(optional, size):
                        rest = [k for i, k in enumerate(routes[v]) if i not in drop]
                        lost = sum(
                            VALUE_SCALE
                            * problem.candidates[self.copies[routes[v][i]].candidate].value
                            * self.copies[routes[v][i]].slot.p_home
                            for i in drop
                        )
                        for trial in self._insertions(rest, options):
                            if self._route_fits(v, trial):
                                cost = lost + float(self._travel(v, trial) - self._travel(v, routes[v]))
                                if best is None or cost < best[0]:
                                    best = (cost, v, trial)
            if best is not None:
                routes[best[1]] = best[2]
                used.add(cand.case_id)

    @staticmethod
    def _insertions(route: Sequence[int], options: Sequence[int]) -> list[list[int]]:
        return [[*route[:pos], k, *route[pos:]] for k in options for pos in range(len(route) + 1)]

    def _travel(self, v: int, route: Sequence[int]) -> int:
        travel = np.asarray(self.problem.travel[self.problem.teams[v].profile])
        rows = [self.problem.team_start_index[v], *(self.copies[k].location_index for k in route)]
        rows.append(self.problem.team_end_index[v])
        return int(sum(travel[a, b] for a, b in itertools.pairwise(rows)))

    def _nearest_teams(self, cand: Candidate, routes: Sequence[Sequence[int]], n: int) -> list[int]:
        """The ``n`` allowed teams whose depot or stops come nearest the case."""
        row = cand.location_index

        def reach(v: int) -> float:
            travel = np.asarray(self.problem.travel[self.problem.teams[v].profile])
            rows = [self.problem.team_start_index[v], *(self.copies[k].location_index for k in routes[v])]
            return float(travel[rows, row].min())

        return sorted(cand.allowed_teams, key=reach)[:n]

    def _fitting(self, v: int, route: Sequence[int]) -> list[int]:
        """The copies of ``route`` that team ``v`` can still make in order: required visits first, then each
        optional one kept (in its place in the order) while the day stays on time."""
        cands = self.problem.candidates
        kept: list[int] = []
        for k in route:
            if cands[self.copies[k].candidate].required and self._route_fits(v, [*kept, k]):
                kept.append(k)
        place = {k: i for i, k in enumerate(route)}
        for k in route:
            if cands[self.copies[k].candidate].required:
                continue
            at = sum(1 for j in kept if place[j] < place[k])
            trial = [*kept[:at], k, *kept[at:]]
            if self._route_fits(v, trial):
                kept = trial
        return kept

    def _route_fits(self, v: int, route: Sequence[int]) -> bool:
        """Whether team ``v`` can visit these copies in this order within their windows, its shift and break."""
        team = self.problem.teams[v]
        if team.max_visits is not None and len(route) > team.max_visits:
            return False
        travel = np.asarray(self.problem.travel[team.profile])
        factor = self.node_factor[team.profile]
        nodes = [self.first_copy_node + k for k in route] + [len(self.problem.teams) + v]
        rows = [self.problem.team_start_index[v], *(self.copies[k].location_index for k in route)]
        rows.append(self.problem.team_end_index[v])
        legs = [
            math.ceil(float(travel[a, b]) * float(factor[n]))
            for (a, b), n in zip(itertools.pairwise(rows), nodes, strict=True)
        ]
        services = [int(self.service[self.first_copy_node + k]) for k in route]
        windows = [self.copies[k].window for k in route]
        if team.lunch is not None:
            return schedule_with_break(team, team.shift.start, legs, services, windows) is not None
        clock = team.shift.start
        for leg, service, window in zip(legs, services, windows, strict=False):
            start = max(clock + leg, window.start)
            if start > window.end:
                return False
            clock = start + service
        return clock + legs[-1] <= team.shift.end

    def greedy_start(self) -> pywrapcp.Assignment | None:
        """Routes from ``routing.construct`` as an OR-Tools assignment (``None`` if OR-Tools rejects them)."""
        data, copies = construction_input(self.problem)
        assert len(copies) == len(self.copies)
        return self.assignment_from_copies(greedy_routes(data))

    def assignment_from_copies(self, routes: Sequence[Sequence[int]]) -> pywrapcp.Assignment | None:
        """An assignment visiting the given copy indices per team, or ``None`` when it breaks a constraint."""
        indices = [[self.manager.NodeToIndex(self.first_copy_node + k) for k in route] for route in routes]
        return self.routing.ReadAssignmentFromRoutes(indices, True)

    def status_name(self) -> str:
        return _STATUS_NAMES.get(int(self.routing.status()), str(self.routing.status()))

    def extract(self, solution: pywrapcp.Assignment) -> tuple[tuple[TeamDay, ...], set[str]]:
        """Turn an OR-Tools assignment into ``TeamDay`` records with wall-clock times."""
        problem = self.problem
        solver_breaks = self._break_starts(solution)
        routes: list[TeamDay] = []
        visited: set[str] = set()
        for v, team in enumerate(problem.teams):
            travel = np.asarray(problem.travel[team.profile])
            index = self.routing.Start(v)
            start_time = solution.Value(self.time.CumulVar(index))
            stops: list[tuple[_Copy, int]] = []
            nodes = [v]
            index = solution.Value(self.routing.NextVar(index))
            while not self.routing.IsEnd(index):
                nodes.append(self.manager.IndexToNode(index))
                copy = self.copies[nodes[-1] - self.first_copy_node]
                stops.append((copy, solution.Value(self.time.CumulVar(index))))
                index = solution.Value(self.routing.NextVar(index))
            end_time = solution.Value(self.time.CumulVar(index))

            rows = [problem.team_start_index[v]]
            rows += [c.location_index for c, _ in stops]
            rows.append(problem.team_end_index[v])
            nodes.append(len(problem.teams) + v)
            factor = self.node_factor[team.profile]
            legs = [
                math.ceil(float(travel[a, b]) * float(factor[node]))
                for (a, b), node in zip(itertools.pairwise(rows), nodes[1:], strict=True)
            ]
            departures = [start_time] + [t + problem.candidates[c.candidate].service_s for c, t in stops]
            next_starts = [t for _, t in stops] + [end_time]
            placed = _place_break(team, departures, next_starts, legs, start_time, end_time)
            if placed is None and team.lunch is not None and stops:
                # The solver's times leave no room for the break (its cumul values are not always the ones
                # its break interval was placed against): re-time the same visit order around the break.
                services = [problem.candidates[c.candidate].service_s for c, _ in stops]
                windows = [c.window for c, _ in stops]
                retimed = schedule_with_break(team, start_time, legs, services, windows)
                if retimed is not None:
                    starts, break_at, gap, end_time = retimed
                    stops = [(c, t) for (c, _), t in zip(stops, starts, strict=True)]
                    departures = [start_time] + [t + sv for t, sv in zip(starts, services, strict=True)]
                    placed = (break_at, gap)
            if placed is None and v in solver_breaks:
                placed = (solver_breaks[v], len(stops))
            break_start, break_gap = placed if placed is not None else (None, None)

            visits: list[Visit] = []
            for k, (copy, service_start) in enumerate(stops):
                cand = problem.candidates[copy.candidate]
                ready = departures[k] + legs[k]
                if break_start is not None and break_gap == k and break_start < ready:
                    # A break taken on the way delays arrival; one taken while waiting at the door does not.
                    assert team.lunch is not None
                    ready += team.lunch.duration_s
                arrival = min(service_start, ready)
                visits.append(
                    Visit(
                        seq=k + 1,
                        case_id=cand.case_id,
                        customer_id=cand.customer_id,
                        address_kind=copy.address_kind,
                        location=copy.location,
                        arrival=arrival,
                        wait_s=service_start - arrival,
                        service_start=service_start,
                        departure=departures[k + 1],
                        slot=copy.slot,
                        value=cand.value,
                        travel_s_from_previous=legs[k],
                        address=copy.address,
                    )
                )
                visited.add(cand.case_id)
            routes.append(
                TeamDay(
                    team=team,
                    start_time=start_time,
                    end_time=end_time,
                    visits=tuple(visits),
                    travel_s=sum(legs),
                    distance_m=0.0,
                    break_start=break_start,
                    break_after_seq=break_gap,
                )
            )
        return tuple(routes), visited

    def _break_starts(self, solution: pywrapcp.Assignment) -> dict[int, int]:
        container = solution.IntervalVarContainer()
        starts: dict[int, int] = {}
        for i in range(container.Size()):
            element = container.Element(i)
            name = element.Var().Name()
            if name.startswith("lunch ") and element.PerformedValue():
                starts[int(name.split()[1])] = element.StartValue()
        return starts


def _place_break(
    team: Team,
    departures: Sequence[int],
    next_starts: Sequence[int],
    legs: Sequence[int],
    start_time: int,
    end_time: int,
) -> tuple[int, int] | None:
    """The earliest place for the team's break in its fixed timeline, as (start, number of visits before it).

    Gap k runs from departure k (the depot for k = 0) to the next service start (the return for the last gap);
    the break fits where it and the leg's travel both fit: taken before driving, or after driving while the
    team waits at the door for the slot to open. A break before leaving or after returning is also a valid
    day. The solver's own interval values are not used for this: they are not always final.
    """
    lunch = team.lunch
    if lunch is None:
        return None
    latest = lunch.window.end - lunch.duration_s
    for k, (dep, nxt, leg) in enumerate(zip(departures, next_starts, legs, strict=True)):
        before_driving = max(lunch.window.start, dep)
        if before_driving <= latest and before_driving + lunch.duration_s + leg <= nxt:
            return before_driving, k
        at_the_door = max(lunch.window.start, dep + leg)
        if at_the_door <= latest and at_the_door + lunch.duration_s <= nxt:
            return at_the_door, k
    if lunch.window.start + lunch.duration_s <= start_time:
        return lunch.window.start, 0
    if end_time <= latest:
        return max(end_time, lunch.window.start), len(departures) - 1
    return None


def by_routing_index(manager: pywrapcp.RoutingIndexManager, per_node: Sequence[int] | np.ndarray) -> list[int]:
    """A per-node vector re-indexed by routing index, the way OR-Tools callbacks and vectors read it.

    Nodes and indices differ as soon as teams have their own start and end nodes (every model here): start
    depots come first, then the visits, then the end depots.
    """
    n_indices = manager.GetNumberOfIndices()
    return [int(per_node[manager.IndexToNode(i)]) for i in range(n_indices)]


def schedule_with_break(
    team: Team, start_time: int, legs: Sequence[int], services: Sequence[int], windows: Sequence[TimeWindow]
) -> tuple[list[int], int, int, int] | None:
    """Earliest times for a fixed visit order with the team's break in the gap that brings the team back first.

    ``legs`` has one more entry than ``services`` and ``windows`` (the drive back). A break in gap k starts at
    the window's opening or at departure k, whichever is later; taken on the way it delays the arrival by its
    length, taken at the door it delays only the service start.

    Returns
    -------
    tuple or None
        (service starts, break start, gap, return time), or None when no gap works.
    """
    lunch = team.lunch
    if lunch is None:
        return None
    latest = lunch.window.end - lunch.duration_s
    best: tuple[list[int], int, int, int] | None = None
    for gap in range(len(services) + 1):
        clock = start_time
        starts: list[int] = []
        break_at = max(lunch.window.start, start_time)
        for k, leg in enumerate(legs):
            ready = clock + leg
            if k == gap:
                break_at = max(lunch.window.start, clock)
                if break_at > latest:
                    break
                ready = max(ready, break_at) + lunch.duration_s
            if k == len(services):
                if ready <= team.shift.end and (best is None or ready < best[3]):
                    best = (starts, break_at, gap, ready)
                break
            start = max(ready, windows[k].start)
            if start > windows[k].end:
                break
            starts.append(start)
            clock = start + services[k]
    return best


def _distance(window: TimeWindow, t: int) -> int:
    """Seconds from ``t`` to the nearest moment of ``window`` (0 inside it)."""
    return max(0, window.start - t, t - window.end)


def copy_window(slot_window: TimeWindow, legal: TimeWindow, service_s: int) -> TimeWindow | None:
    """The window of service starts for a copy: inside the slot and the legal hours, finishing by legal end."""
    latest = min(slot_window.end, legal.end - service_s)
    earliest = max(slot_window.start, legal.start)
    return TimeWindow(earliest, latest) if earliest <= latest else None


def team_location_indices(teams: Sequence[Team], index_of: Mapping[Location, int]) -> tuple[list[int], list[int]]:
    """Matrix rows of each team's start and end point."""
    return [index_of[t.start] for t in teams], [index_of[t.end] for t in teams]
