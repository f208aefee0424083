"""A complete first plan in a fraction of a second, without OR-Tools: the greedy construction, timed out.

``routing.construct`` decides who visits whom and when each team takes its break; this module turns that into
``TeamDay`` records with arrival, wait, service start and departure, exactly as the solver's output would be.
It is the plan a supervisor sees first (and the fallback if search is cut short); ``routing.check`` accepts it.
"""

from __future__ import annotations

import math
import time

import numpy as np

from routing.construct import construction_input, greedy_plan
from routing.model import TeamDay, Visit
from routing.solver import SolveInput, SolveOutput

__all__ = ["first_plan"]


def first_plan(problem: SolveInput) -> SolveOutput:
    """The greedy construction of the whole day as a plan (status ``construction``)."""
    started = time.perf_counter()
    data, copies = construction_input(problem)
    routes, breaks = greedy_plan(data)
    out_routes: list[TeamDay] = []
    visited: set[str] = set()
    for v, team in enumerate(problem.teams):
        travel = data.travel[v]
        lunch = team.lunch
        brk = breaks[v]
        row = problem.team_start_index[v]
        free = team.shift.start
        timeline: list[tuple[int, int, int, int]] = []  # (copy, leg, arrival, service start)
        for gap, k in enumerate(routes[v]):
            ci, place, slot = copies[k]
            leg = math.ceil(float(travel[row, place.location_index]))
            ready = free + leg
            if brk is not None and brk[1] == gap and lunch is not None:
                ready = max(free, brk[0]) + lunch.duration_s + leg
            begin = max(ready, slot.window.start)
            timeline.append((k, leg, ready, begin))
            free, row = begin + problem.candidates[ci].service_s, place.location_index
        home = math.ceil(float(travel[row, problem.team_end_index[v]]))
        end = free + home
        if brk is not None and brk[1] == len(routes[v]) and lunch is not None:
            end = max(free, brk[0]) + lunch.duration_s + home
        start_time = team.shift.start
        if timeline and (brk is None or brk[1] > 0):
            # Leave as late as the first visit allows: no waiting at the first door.
            start_time = max(team.shift.start, timeline[0][3] - timeline[0][1])
        visits = []
        for seq, (k, leg, ready, begin) in enumerate(timeline, start=1):
            ci, place, slot = copies[k]
            cand = problem.candidates[ci]
            if seq == 1:
                ready = max(ready, start_time + leg) if brk is None or brk[1] > 0 else ready
            arrival = min(ready, begin)
            visits.append(
                Visit(
                    seq=seq,
                    case_id=cand.case_id,
                    customer_id=cand.customer_id,
                    address_kind=place.address_kind,
                    location=place.location,
                    arrival=arrival,
                    wait_s=begin - arrival,
                    service_start=begin,
                    departure=begin + cand.service_s,
                    slot=slot,
                    value=cand.value,
                    travel_s_from_previous=leg,
                    address=place.address,
                )
            )
            visited.add(cand.case_id)
        out_routes.append(
            TeamDay(
                team=team,
                start_time=start_time,
                end_time=max(end, start_time),
                visits=tuple(visits),
                travel_s=sum(t[1] for t in timeline) + home if timeline else int(home),
                distance_m=0.0,
                break_start=brk[0] if brk is not None else None,
                break_after_seq=brk[1] if brk is not None else None,
            )
        )
    value = float(np.sum([v.value * v.slot.p_home for r in out_routes for v in r.visits]))
    return SolveOutput(
        routes=tuple(out_routes),
        unperformed=tuple(c.case_id for c in problem.candidates if c.case_id not in visited),
        status="construction",
        time_s=time.perf_counter() - started,
        objective_value=-value,
        first_solution_s=time.perf_counter() - started,
    )
