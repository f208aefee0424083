"""Re-plan the rest of one team's day from where it is now, keeping the visits already done."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api import service
from api.db import CaseRow, OutcomeRow, PlanJob, TeamRow
from api.errors import BadRequestError, ConflictError, InputFileError, NotFoundError
from api.files import parse_cases, parse_teams
from api.jobs import PlanningEnv, case_records, render_team_pages
from api.plan_json import plan_to_dict, visit_from_dict
from api.schemas import ReplanRequest
from api.store import plan_team
from geo.types import Location
from routing.model import Break, TimeWindow

REPLAN_TIME_LIMIT_S = 2.0


def replan_team(db: Any, env: PlanningEnv, plan_id: str, team_id: str, request: ReplanRequest) -> dict[str, Any]:
    """The team's entry with the rest of the day planned again from ``request`` (position and time).

    Stops with an outcome on the plan date stay as they were, in front; the others are planned again from the
    team's position at ``now`` to the end of its shift; ``revision`` goes up by one. Stops that no longer fit
    join the plan's ``dropped`` with the planner's reason. The answer adds ``path``: ``[lat, lon]`` points of
    the road path from the position through the re-planned stops to the end (not stored in plan.json).
    """
    result, entry = plan_team(db, plan_id, team_id)
    with db.read() as s:
        team_row = s.get(TeamRow, team_id)
        if team_row is None:
            msg = f"team {team_id} is no longer stored"
            raise NotFoundError(msg)
        zone = ZoneInfo(result["timezone"])
        date = dt.date.fromisoformat(result["date"])
        stop_ids = [stop["case_id"] for stop in entry["stops"]]
        day_start = dt.datetime.combine(date, dt.time(0), zone).astimezone(dt.UTC)
        visited = set(
            s.scalars(
                select(OutcomeRow.case_id).where(
                    OutcomeRow.case_id.in_(stop_ids),
                    OutcomeRow.visited_at >= day_start,
                    OutcomeRow.visited_at < day_start + dt.timedelta(days=1),
                )
            )
        )
        rows = {r.case_id: r for r in s.scalars(select(CaseRow).where(CaseRow.case_id.in_(stop_ids)))}
        team_record = dict(team_row.record)
    local_now = request.now.astimezone(zone)
    if local_now.date() != date:
        msg = f"now is {local_now.date()} in {zone.key}; this plan is for {date}"
        raise ConflictError(msg, {"field": "body.now"}, code="wrong_day")
    now_s = local_now.hour * 3600 + local_now.minute * 60 + local_now.second
    # Visits done keep their order in the day but are numbered 1..k: officers do not always follow the plan, and
    # the re-planned rest is numbered from k + 1.
    kept = [
        {**stop, "seq": k} for k, stop in enumerate((s for s in entry["stops"] if s["case_id"] in visited), start=1)
    ]
    # A stop not yet visited whose case was closed (paid) or otherwise held back since the plan is left out.
    records, held = case_records([rows[c] for c in stop_ids if c not in visited and c in rows], date)
    cases, problems = parse_cases(records)
    if problems:
        raise InputFileError(Path("stored cases"), problems)
    specs, team_problems = parse_teams([team_record])
    if team_problems:
        raise InputFileError(Path("stored team"), team_problems)
    spec = specs[0]
    if now_s >= spec.shift.end:
        msg = f"team {team_id}'s shift ended at {spec.shift}; nothing left to plan"
        raise ConflictError(msg, code="shift_over")
    here = Location(request.lat, request.lon)
    lunch = spec.lunch
    if lunch is not None:
        window = TimeWindow(max(lunch.window.start, now_s), lunch.window.end)
        lunch = Break(window, lunch.duration_s) if window.duration >= lunch.duration_s else None
    spec = dataclasses.replace(
        spec,
        start=here,
        start_address=None,
        shift=TimeWindow(max(now_s, spec.shift.start), spec.shift.end),
        lunch=lunch,
    )
    if spec.end is None and spec.end_address is None:
        # The day still ends at the depot, not at the place of the re-plan.
        spec = dataclasses.replace(spec, end=Location(entry["end"]["lat"], entry["end"]["lon"]))
    region = env.region_for([spec.profile])
    try:
        teams = service.build_teams([spec], region, Path("replan"))
    except InputFileError as err:
        # What the network refused is the position sent (far from any road), not a file: a 422, not a 500.
        msg = f"the position {request.lat:.6f}, {request.lon:.6f} is not on this region's road network"
        raise BadRequestError(msg, {"field": "body.lat", "problem": str(err)}, code="position_off_network") from err
    presence = env.presence.snapshot() if env.presence is not None else None
    run = service.plan_day(cases, teams, region, date, env.settings, REPLAN_TIME_LIMIT_S, presence=presence)
    plan = dataclasses.replace(run.plan, plan_id=plan_id)
    new = plan_to_dict(plan)
    fresh = new["teams"][0]
    stops = kept + [{**stop, "seq": len(kept) + i} for i, stop in enumerate(fresh["stops"], start=1)]
    updated = {
        **fresh,
        "revision": int(entry.get("revision", 1)) + 1,
        "stops": stops,
        "expected_contacts": round(sum(stop["p_home"] for stop in stops), 2),
    }
    if updated["break"] is not None and updated["break"].get("after_seq") is not None:
        updated["break"]["after_seq"] += len(kept)
    # The page shows the whole day again: the visits done (back from plan.json), then the re-planned rest.
    done = tuple(
        visit_from_dict(stop, date, zone, str(rows[stop["case_id"]].record.get("customer_id") or stop["case_id"]),
                        rows[stop["case_id"]].record.get("address"))
        for stop in kept
        if stop["case_id"] in rows
    )  # fmt: skip
    rest = plan.routes[0]
    page_route = dataclasses.replace(
        rest,
        visits=done + tuple(dataclasses.replace(v, seq=v.seq + len(kept)) for v in rest.visits),
        break_after_seq=None if rest.break_after_seq is None else rest.break_after_seq + len(kept),
        revision=updated["revision"],
    )
    phones = {case_id: row.record.get("phone") for case_id, row in rows.items()}
    pages = render_team_pages(plan, page_route, env, phones, region)
    with db.write() as s:
        job = s.get(PlanJob, plan_id, with_for_update=True)
        assert job is not None and job.result is not None
        result = dict(job.result)
        result["teams"] = [updated if t["team_id"] == team_id else t for t in result["teams"]]
        known = {d["case_id"] for d in result["dropped"]}
        held_out = [{"case_id": d.case_id, "code": d.code, "message": d.message} for d in held]
        result["dropped"] = result["dropped"] + [d for d in new["dropped"] + held_out if d["case_id"] not in known]
        result["unresolved"] = result["unresolved"] + new["unresolved"]
        result["summary"] = {**result["summary"], "planned": sum(len(t["stops"]) for t in result["teams"])}
        job.result = result
        for page in pages:
            s.merge(page)
    # The answer also carries the road path of the rest of the day (from the position to the end), so an
    # officer's page can redraw the route without reloading; plan.json itself keeps no geometry.
    path = [[round(p.lat, 6), round(p.lon, 6)] for p in plan.routes[0].path]
    return {**updated, "path": path}
