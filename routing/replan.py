"""Re-planning a team's day from where it stands (CONTRACTS.md: ``replan``).

Visits already made stay as they were; the rest of the day is re-optimised from the team's position and the
current time, warm-started from the previous order, over the team's remaining stops plus any other cases it may
still take. The caller (``api.service``) supplies the matrices with the team's current position as a row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from routing.model import Break, Slot, TeamDay, TimeWindow
from routing.solver import Candidate, SolveInput, SolveOutput, copy_window, solve

__all__ = ["replan_team"]


def replan_team(
    problem: SolveInput,
    team_index: int,
    previous: TeamDay,
    done: Collection[str],
    now: int,
    position_row: int,
    extra: Sequence[Candidate] = (),
    time_limit_s: float = 2.0,
) -> tuple[TeamDay, SolveOutput]:
    """The team's day with the visits in ``done`` kept and the rest re-planned from ``now`` at ``position_row``.

    Parameters
    ----------
    problem
        The day's solver input (teams, candidates, matrices, legal window); ``position_row`` must be a row of
        its matrices.
    team_index
        Which team.
    previous
        The team's current route.
    done
        Case ids already visited today by this team (kept, in their order, with their times).
    now
        Seconds since midnight.
    position_row
        Matrix row of the team's position now.
    extra
        Other cases the team may take on (e.g. not planned for anyone), besides its remaining stops.
    time_limit_s
        Budget of the re-plan.

    Returns
    -------
    tuple
        The new ``TeamDay`` (``revision`` + 1) and the solver's output for the remaining part.
    """
    team = problem.teams[team_index]
    kept = tuple(v for v in previous.visits if v.case_id in done)
    remaining_ids = [v.case_id for v in previous.visits if v.case_id not in done]
    by_id = {c.case_id: c for c in problem.candidates}
    pool = [by_id[cid] for cid in remaining_ids if cid in by_id]
    pool += [c for c in extra if c.case_id not in done and c.case_id not in remaining_ids]

    shift = TimeWindow(min(max(now, team.shift.start), team.shift.end), team.shift.end)
    lunch = _remaining_break(team.lunch, previous, now)
    rest_team = dataclasses.replace(team, shift=shift, lunch=lunch, max_visits=_left(team.max_visits, len(kept)))
    candidates = []
    for cand in pool:
        slots = []
        for slot in cand.slots:
            window = copy_window(slot.window, TimeWindow(max(now, problem.legal.start), problem.legal.end), 0)
            if window is not None:
                slots.append(Slot(slot.kind, window, slot.p_home))
        if slots:
            candidates.append(dataclasses.replace(cand, slots=tuple(slots), allowed_teams=(0,)))
    previous_rest = tuple((v.case_id, v.service_start) for v in previous.visits if v.case_id not in done)
    sub = dataclasses.replace(
        problem,
        teams=(rest_team,),
        team_start_index=(position_row,),
        team_end_index=(problem.team_end_index[team_index],),
        candidates=tuple(candidates),
        time_limit_s=time_limit_s,
        initial=(previous_rest,),
        customer_caps={},
    )
    out = solve(sub)
    new = out.routes[0]
    shift_seq = len(kept)
    visits = kept + tuple(dataclasses.replace(v, seq=v.seq + shift_seq) for v in new.visits)
    break_start: int | None = previous.break_start
    break_after: int | None = previous.break_after_seq
    if new.break_start is not None:
        break_start, break_after = new.break_start, (new.break_after_seq or 0) + shift_seq
    day = TeamDay(
        team=team,
        start_time=previous.start_time,
        end_time=new.end_time,
        visits=visits,
        travel_s=sum(v.travel_s_from_previous for v in kept) + new.travel_s,
        distance_m=0.0,
        break_start=break_start,
        break_after_seq=break_after,
        revision=previous.revision + 1,
    )
    return day, out


def _remaining_break(lunch: Break | None, previous: TeamDay, now: int) -> Break | None:
    """The break still to take after ``now``: none if taken already (or no longer possible), else what is left."""
    if lunch is None:
        return None
    if previous.break_start is not None and previous.break_start < now:
        return None
    start = max(lunch.window.start, now)
    if start + lunch.duration_s > lunch.window.end:
        return None
    return Break(TimeWindow(start, lunch.window.end), lunch.duration_s)


def _left(cap: int | None, used: int) -> int | None:
    return None if cap is None else max(0, cap - used)
