"""plan.json (CONTRACTS.md) from a ``Plan`` and back: wall-clock seconds become ISO 8601 times with the zone's
offset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from geo.types import Location
from routing.model import Dropped, Plan, Slot, SolverInfo, Team, TeamDay, TimeWindow, Unresolved, Visit


def iso_time(date: dt.date, seconds: int, zone: ZoneInfo) -> str:
    """ISO 8601 with offset for ``seconds`` since midnight on ``date`` in ``zone``."""
    # Wall-clock arithmetic: add to the naive clock, then attach the zone (DST days keep their wall times).
    wall = dt.datetime.combine(date, dt.time(0, 0)) + dt.timedelta(seconds=seconds)
    return wall.replace(tzinfo=zone).isoformat()


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as the JSON object of CONTRACTS.md."""
    zone = ZoneInfo(plan.timezone)

    def t(seconds: int) -> str:
        return iso_time(plan.date, seconds, zone)

    return {
        "plan_id": plan.plan_id,
        "date": plan.date.isoformat(),
        "timezone": plan.timezone,
        "teams": [_team(route, t) for route in plan.routes],
        "dropped": [{"case_id": d.case_id, "code": d.code, "message": d.message} for d in plan.dropped],
        "unresolved": [
            {"case_id": u.case_id, "address": u.address, "code": u.code, "message": u.message} for u in plan.unresolved
        ],
        "summary": {
            "cases": plan.cases,
            "planned": plan.planned,
            "expected_contacts": round(plan.expected_contacts, 2),
            "expected_value": round(plan.expected_value, 1),
            "travel_s": plan.travel_s,
            "solver": {
                "engine": plan.solver.engine,
                "status": plan.solver.status,
                "time_s": round(plan.solver.time_s, 2),
            },
        },
    }


def _team(route: TeamDay, t: Any) -> dict[str, Any]:
    team = route.team
    lunch = team.lunch
    brk = None
    if lunch is not None and route.break_start is not None:
        brk = {
            "start": t(route.break_start),
            "end": t(route.break_start + lunch.duration_s),
            "after_seq": route.break_after_seq,
        }
    return {
        "team_id": team.team_id,
        "members": list(team.members),
        "profile": team.profile,
        "revision": route.revision,
        "start": {"lat": team.start.lat, "lon": team.start.lon, "time": t(route.start_time)},
        "end": {"lat": team.end.lat, "lon": team.end.lon, "time": t(route.end_time)},
        "stops": [_stop(v, t) for v in route.visits],
        "break": brk,
        "travel_s": route.travel_s,
        "distance_m": round(route.distance_m),
        "expected_contacts": round(route.expected_contacts, 2),
    }


def _stop(v: Visit, t: Any) -> dict[str, Any]:
    return {
        "seq": v.seq,
        "case_id": v.case_id,
        "address_kind": v.address_kind,
        "lat": v.location.lat,
        "lon": v.location.lon,
        "arrival": t(v.arrival),
        "wait_s": v.wait_s,
        "service_start": t(v.service_start),
        "departure": t(v.departure),
        "slot": _slot(v.slot, t),
        "p_home": round(v.slot.p_home, 3),
        "value": round(v.value, 1),
        "travel_s_from_previous": v.travel_s_from_previous,
    }


def _slot(slot: Slot, t: Any) -> dict[str, Any]:
    return {"kind": slot.kind, "start": t(slot.window.start), "end": t(slot.window.end)}


def clock_seconds(iso: str, date: dt.date, zone: ZoneInfo) -> int:
    """Wall-clock seconds since midnight of ``date`` in ``zone`` for an ISO 8601 time (the inverse of
    `iso_time`)."""
    t = dt.datetime.fromisoformat(iso).astimezone(zone)
    return (t.date() - date).days * 86_400 + t.hour * 3600 + t.minute * 60 + t.second


def visit_from_dict(
    stop: dict[str, Any], date: dt.date, zone: ZoneInfo, customer_id: str, address: str | None
) -> Visit:
    """A plan.json stop back as a `Visit` (plan.json leaves out the customer id and the address)."""

    def t(iso: str) -> int:
        return clock_seconds(iso, date, zone)

    slot = stop["slot"]
    return Visit(
        seq=int(stop["seq"]),
        case_id=str(stop["case_id"]),
        customer_id=customer_id,
        address_kind=str(stop["address_kind"]),
        location=Location(float(stop["lat"]), float(stop["lon"])),
        arrival=t(stop["arrival"]),
        wait_s=t(stop["service_start"]) - t(stop["arrival"]),
        service_start=t(stop["service_start"]),
        departure=t(stop["departure"]),
        slot=Slot(str(slot["kind"]), TimeWindow(t(slot["start"]), t(slot["end"])), float(stop["p_home"])),
        value=float(stop["value"]),
        travel_s_from_previous=int(stop["travel_s_from_previous"]),
        address=address,
    )


def plan_from_dict(data: dict[str, Any], teams: Mapping[str, Team], customers: Mapping[str, str]) -> Plan:
    """A ``Plan`` from its plan.json form (``plan_to_dict``'s inverse), e.g. to re-check a stored plan.

    ``teams`` gives each route's team (plan.json does not carry shifts and breaks); ``customers`` maps case ids
    to customer ids (the case id stands in where it is missing).
    """
    zone = ZoneInfo(data["timezone"])
    date = dt.date.fromisoformat(data["date"])

    def t(iso: str) -> int:
        return clock_seconds(iso, date, zone)

    routes = []
    for entry in data["teams"]:
        visits = tuple(
            visit_from_dict(s, date, zone, customers.get(s["case_id"], s["case_id"]), None) for s in entry["stops"]
        )
        brk = entry.get("break")
        routes.append(
            TeamDay(
                team=teams[entry["team_id"]],
                start_time=t(entry["start"]["time"]),
                end_time=t(entry["end"]["time"]),
                visits=visits,
                travel_s=int(entry["travel_s"]),
                distance_m=float(entry["distance_m"]),
                break_start=t(brk["start"]) if brk else None,
                break_after_seq=brk.get("after_seq") if brk else None,
                revision=int(entry.get("revision", 1)),
            )
        )
    summary = data["summary"]
    solver = summary["solver"]
    return Plan(
        plan_id=data["plan_id"],
        date=date,
        timezone=data["timezone"],
        routes=tuple(routes),
        dropped=tuple(Dropped(d["case_id"], d["code"], d["message"]) for d in data["dropped"]),
        unresolved=tuple(Unresolved(u["case_id"], u["address"], u["code"], u["message"]) for u in data["unresolved"]),
        solver=SolverInfo(solver["engine"], solver["status"], float(solver["time_s"])),
        cases=int(summary["cases"]),
        expected_value=float(summary["expected_value"]),
    )
