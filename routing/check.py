"""An independent re-check of a plan against the rules of the day.

It shares no code with the solver: travel times come back through ``leg_seconds`` (the caller asks the road
network afresh), and every rule is re-stated here. Each broken rule is a named ``Violation``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from geo.types import Location
from routing.history import CustomerHistory, VisitRules
from routing.model import Case, Plan, Team, TeamDay, TimeWindow, format_clock

LegSeconds = Callable[[str, Sequence[Location]], Sequence[float]]
"""``leg_seconds(profile, points)`` gives the travel time of each consecutive leg of ``points``."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: ``code`` names the rule, ``message`` says where and by how much."""

    code: str
    message: str
    team_id: str | None = None
    case_id: str | None = None


def check_plan(
    plan: Plan,
    cases: Sequence[Case],
    teams: Sequence[Team],
    leg_seconds: LegSeconds,
    legal: TimeWindow,
    tolerance_s: int = 2,
    history: Mapping[str, CustomerHistory] | None = None,
    rules: VisitRules | None = None,
) -> list[Violation]:
    """Every rule the plan breaks; an empty list for a valid plan.

    Parameters
    ----------
    plan
        The plan to check.
    cases, teams
        The input it was made from.
    leg_seconds
        Travel time per consecutive leg for a profile, from the road network.
    legal
        The legal visiting window.
    tolerance_s
        Rounding slack allowed on travel times.
    history, rules
        Per customer, the visits already made and the last refusal (``routing.history.summarize``), and the
        caps and cool-down to hold them to; without ``rules`` caps are not checked.
    """
    violations = _coverage(plan, cases)
    case_by_id = {c.case_id: c for c in cases}
    team_ids = {t.team_id for t in teams}
    for route in plan.routes:
        if route.team.team_id not in team_ids:
            violations.append(Violation("unknown_team", "route for a team not in the input", route.team.team_id))
        violations.extend(_route(route, case_by_id, leg_seconds, legal, tolerance_s))
    if rules is not None:
        violations.extend(_caps(plan, case_by_id, history or {}, rules))
    return violations


def _caps(
    plan: Plan, case_by_id: dict[str, Case], history: Mapping[str, CustomerHistory], rules: VisitRules
) -> list[Violation]:
    """Visits per customer today and this rolling week, and visits inside a refusal's cool-down."""
    found: list[Violation] = []
    planned: Counter[str] = Counter()
    first_visit: dict[str, tuple[str, str]] = {}
    for route in plan.routes:
        for visit in route.visits:
            case = case_by_id.get(visit.case_id)
            customer = case.customer_id if case is not None else visit.customer_id
            planned[customer] += 1
            first_visit.setdefault(customer, (route.team.team_id, visit.case_id))
    for customer, n in planned.items():
        seen = history.get(customer, CustomerHistory())
        team_id, case_id = first_visit[customer]
        if seen.visits_today + n > rules.max_per_day:
            msg = f"customer {customer}: {seen.visits_today} + {n} visits today, cap {rules.max_per_day}"
            found.append(Violation("visit_cap", msg, team_id, case_id))
        if seen.visits_week + n > rules.max_per_week:
            msg = f"customer {customer}: {seen.visits_week} + {n} visits this week, cap {rules.max_per_week}"
            found.append(Violation("visit_cap", msg, team_id, case_id))
        if seen.last_refusal is not None and plan.date < seen.last_refusal + dt.timedelta(days=rules.cooldown_days):
            days = rules.cooldown_days
            msg = f"customer {customer} refused on {seen.last_refusal}; visited within the {days}-day cool-down"
            found.append(Violation("cooldown", msg, team_id, case_id))
    return found


def _coverage(plan: Plan, cases: Sequence[Case]) -> list[Violation]:
    seen = Counter(
        [v.case_id for r in plan.routes for v in r.visits]
        + [d.case_id for d in plan.dropped]
        + [u.case_id for u in plan.unresolved]
    )
    found: list[Violation] = []
    for case in cases:
        n = seen.pop(case.case_id, 0)
        if n != 1:
            msg = f"case {case.case_id} appears {n} times in the plan (stops, dropped, unresolved); must be once"
            found.append(Violation("coverage", msg, case_id=case.case_id))
    for case_id in seen:
        found.append(Violation("coverage", f"case {case_id} is in the plan but not in the input", case_id=case_id))
    return found


def _route(
    route: TeamDay,
    case_by_id: dict[str, Case],
    leg_seconds: LegSeconds,
    legal: TimeWindow,
    tol: int,
) -> list[Violation]:
    team = route.team
    tid = team.team_id
    found: list[Violation] = []

    def add(code: str, msg: str, case_id: str | None = None) -> None:
        found.append(Violation(code, f"team {tid}: {msg}", tid, case_id))

    if len(team.members) < 2:
        add("team_size", f"{len(team.members)} member(s); a visit needs at least two officers")
    if route.start_time < team.shift.start:
        add("shift", f"leaves at {format_clock(route.start_time)}, before its shift {team.shift}")
    if route.end_time > team.shift.end:
        add("shift", f"returns at {format_clock(route.end_time)}, after its shift {team.shift}")
    if team.max_visits is not None and len(route.visits) > team.max_visits:
        add("max_visits", f"{len(route.visits)} visits, more than its maximum {team.max_visits}")

    for i, visit in enumerate(route.visits, start=1):
        cid = visit.case_id
        case = case_by_id.get(cid)
        if visit.seq != i:
            add("sequence", f"stop {cid} has seq {visit.seq}, expected {i}", cid)
        if case is None:
            continue
        if case.state == "closed":
            add("closed_case", f"visits closed case {cid}", cid)
        if not legal.contains(visit.service_start) or visit.departure > legal.end:
            window = f"{format_clock(visit.service_start)}-{format_clock(visit.departure)}"
            add("legal_hours", f"visit {cid} at {window} is outside the legal window {legal}", cid)
        if not visit.slot.window.contains(visit.service_start):
            add("slot_window", f"visit {cid} starts outside its slot {visit.slot.window}", cid)
        if visit.departure != visit.service_start + case.service_s:
            add(
                "service_time",
                f"visit {cid} lasts {visit.departure - visit.service_start} s, not {case.service_s}",
                cid,
            )
        if visit.wait_s < 0 or visit.arrival + visit.wait_s != visit.service_start:
            add("wait", f"visit {cid}: arrival, wait and service start disagree", cid)
        if case.appointment is not None and (
            visit.slot.kind != "appointment" or not case.appointment.contains(visit.service_start)
        ):
            add("appointment", f"visit {cid} misses its appointment {case.appointment}", cid)
        if not case.skills <= team.skills:
            add("skills", f"visit {cid} needs skills the team lacks: {sorted(case.skills - team.skills)}", cid)
        if case.branch != team.branch:
            add("branch", f"visit {cid} belongs to branch {case.branch!r}, team to {team.branch!r}", cid)
        if case.pin_team is not None and case.pin_team != tid:
            add("pin_team", f"visit {cid} is pinned to team {case.pin_team}", cid)
        if visit.address_kind not in ("home", "work", "registered"):
            add("location", f"visit {cid} has an unknown address kind {visit.address_kind!r}", cid)
        else:
            expected = case.location_of(visit.address_kind)
            if (case.location is not None or visit.address_kind != "home") and visit.location != expected:
                add("location", f"visit {cid} is not at the case's {visit.address_kind} address", cid)

    found.extend(_timeline(route, leg_seconds, tol))
    return found


def _timeline(route: TeamDay, leg_seconds: LegSeconds, tol: int) -> list[Violation]:
    """Travel times, the break and the order of events along the day."""
    team = route.team
    tid = team.team_id
    found: list[Violation] = []
    points = [team.start, *(v.location for v in route.visits), team.end]
    legs = list(leg_seconds(team.profile, points))
    lunch = team.lunch
    if lunch is not None:
        if route.break_start is None:
            found.append(Violation("break", f"team {tid}: no break planned in {lunch.window}", tid))
        elif not (lunch.window.start <= route.break_start <= lunch.window.end - lunch.duration_s):
            found.append(
                Violation(
                    "break",
                    f"team {tid}: break at {format_clock(route.break_start)} does not fit its window {lunch.window}",
                    tid,
                )
            )
    break_start = route.break_start if lunch is not None else None
    break_end = break_start + lunch.duration_s if lunch is not None and break_start is not None else None

    departure = route.start_time
    for i, visit in enumerate(route.visits):
        need = departure + legs[i]
        if break_start is not None and break_end is not None and departure <= break_start < visit.service_start:
            need += break_end - break_start
        if visit.service_start + tol < need:
            msg = (
                f"team {tid}: cannot reach {visit.case_id} by {format_clock(visit.service_start)}; "
                f"needs {legs[i]:.0f} s of travel after {format_clock(departure)}"
            )
            found.append(Violation("travel_time", msg, tid, visit.case_id))
        if (
            break_start is not None
            and break_end is not None
            and visit.service_start < break_end
            and break_start < visit.departure
        ):
            msg = f"team {tid}: break overlaps the visit to {visit.case_id}"
            found.append(Violation("break", msg, tid, visit.case_id))
        departure = visit.departure
    need_end = departure + legs[-1]
    if (
        break_start is not None
        and break_end is not None
        and departure <= break_start
        and break_end <= route.end_time
        and break_start >= route.start_time
    ):
        need_end += break_end - break_start
    if route.end_time + tol < need_end:
        back, needed = format_clock(route.end_time), format_clock(round(need_end))
        msg = f"team {tid}: back at the depot at {back}, needs until {needed}"
        found.append(Violation("travel_time", msg, tid))
    return found
