"""A supervisor's edits of a draft plan (``PATCH /v1/plans/{plan_id}``): pin, move, add, remove, then the day
re-optimised around them from the current routes (warm start), re-checked, and stored with the plan.

Edits stay in force: a pinned case stays pinned to its team and a removed case stays out in every later edit,
until another edit says otherwise (``add`` brings a removed case back; ``remove`` ends a pin).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from api import service
from api.db import CaseRow, Database, PlanJob, TeamRow, utcnow
from api.errors import BadRequestError, ConflictError, InputFileError
from api.files import parse_cases, parse_teams
from api.jobs import PlanningEnv, case_records, held_reason, render_pages
from api.plan_json import clock_seconds, plan_to_dict
from api.schemas import AddEdit, MoveEdit, PinEdit, PlanEdits, RemoveEdit
from api.store import done_plan, mark_planned
from routing.errors import RoutingError
from routing.model import Dropped

__all__ = ["EDIT_TIME_LIMIT_S", "EditState", "edit_plan"]

# The search's share of the ≤ 3 s an edit may take (BENCHMARKS.md "Plan edits"): the rest is loading the
# cases, travel times, road geometry, the checker and the pages.
EDIT_TIME_LIMIT_S = 1.0

Route = list[tuple[str, int]]


@dataclass
class EditState:
    """The edits in force: pins (case -> team), cases added to the plan, cases removed from it."""

    pins: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def required(self) -> set[str]:
        """Cases the plan must visit: every pinned (or moved) case and every added one."""
        return set(self.pins) | set(self.added)

    def to_dict(self) -> dict[str, Any]:
        return {"pins": dict(sorted(self.pins.items())), "added": sorted(self.added), "removed": sorted(self.removed)}

    @classmethod
    def from_log(cls, log: list[dict[str, Any]] | None) -> EditState:
        """The state after the last stored request (each log entry carries the state it left)."""
        if not log:
            return cls()
        last = log[-1]["state"]
        return cls(dict(last["pins"]), list(last["added"]), list(last["removed"]))


@dataclass
class _Draft:
    """The plan as the edits of one request reshape it, before the re-optimisation."""

    state: EditState
    routes: dict[str, Route]
    unresolved: dict[str, str]
    dropped: dict[str, str]
    in_plan: set[str]
    problems: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[str, int] = field(default_factory=dict)

    def team_of(self, case_id: str) -> str | None:
        return next((t for t, route in self.routes.items() if any(c == case_id for c, _ in route)), None)

    def take(self, case_id: str) -> tuple[str, int] | None:
        """Take a case out of its route: (team, planned start), or ``None`` when it is not a stop."""
        for team, route in self.routes.items():
            for k, (c, t) in enumerate(route):
                if c == case_id:
                    del route[k]
                    return team, t
        return None

    def problem(self, index: int, name: str, error: str) -> None:
        self.problems.append({"index": index, "field": f"body.edits[{index}].{name}", "error": error})


def _insert_by_time(route: Route, case_id: str, planned: int) -> None:
    """Put a case in a route where its planned start falls among the others'."""
    at = next((k for k, (_, t) in enumerate(route) if t > planned), len(route))
    route.insert(at, (case_id, planned))


def _insert_at(route: Route, case_id: str, position: int, fallback: int) -> None:
    """Put a case at ``position`` (1-based) of a route, planned just after the stop before it."""
    k = position - 1
    planned = route[k - 1][1] + 1 if k > 0 else (route[0][1] if route else fallback)
    route.insert(k, (case_id, planned))


def _apply(
    draft: _Draft,
    edits: PlanEdits,
    rows: dict[str, CaseRow],
    teams: list[str],
    date: dt.date,
    shift_start: dict[str, int],
) -> None:
    """Check each edit against the plan as the edits before it left it, and apply the good ones."""
    state = draft.state
    for i, edit in enumerate(edits.edits):
        case_id = edit.case_id
        row = rows.get(case_id)
        if row is None:
            draft.problem(i, "case_id", f"unknown case {case_id!r}")
            continue
        team = getattr(edit, "team_id", None)
        if team is not None and team not in teams:
            draft.problem(i, "team_id", f"team {team!r} is not in this plan (its teams: {', '.join(teams)})")
            continue
        held = held_reason(row, date)
        if held is not None and not isinstance(edit, RemoveEdit):
            draft.problem(i, "case_id", f"case {case_id} cannot be planned: {held.message} ({held.code})")
            continue
        if case_id in draft.unresolved and not isinstance(edit, RemoveEdit):
            code = draft.unresolved[case_id]
            draft.problem(i, "case_id", f"case {case_id} has no usable point on the road network ({code})")
            continue
        current = draft.team_of(case_id)
        if isinstance(edit, PinEdit):
            if case_id in state.removed:
                draft.problem(i, "case_id", f"case {case_id} was removed from this plan; add it again first")
                continue
            if case_id not in draft.in_plan:
                draft.problem(i, "case_id", f"case {case_id} is not in this plan; use an add edit (it takes a team)")
                continue
            if current is not None and current != edit.team_id:
                taken = draft.take(case_id)
                assert taken is not None
                _insert_by_time(draft.routes[edit.team_id], case_id, taken[1])
            state.pins[case_id] = edit.team_id
        elif isinstance(edit, MoveEdit):
            if current is None:
                why = f" (dropped: {draft.dropped[case_id]})" if case_id in draft.dropped else ""
                draft.problem(i, "case_id", f"case {case_id} is not a planned stop{why}; use pin to require it")
                continue
            target = draft.routes[edit.team_id]
            size = len(target) + (0 if current == edit.team_id else 1)
            if edit.position is not None and edit.position > size:
                draft.problem(i, "position", f"team {edit.team_id} would have {size} stops; position must be 1-{size}")
                continue
            taken = draft.take(case_id)
            assert taken is not None
            if edit.position is None:
                _insert_by_time(target, case_id, taken[1])
            else:
                _insert_at(target, case_id, edit.position, shift_start[edit.team_id])
            state.pins[case_id] = edit.team_id
        elif isinstance(edit, AddEdit):
            if current is not None:
                draft.problem(i, "case_id", f"case {case_id} is already planned for team {current}")
                continue
            if case_id not in state.added:
                state.added.append(case_id)
            if case_id in state.removed:
                state.removed.remove(case_id)
            draft.in_plan.add(case_id)
            if edit.team_id is not None:
                state.pins[case_id] = edit.team_id
        else:
            if current is None:
                why = f" (dropped: {draft.dropped[case_id]})" if case_id in draft.dropped else ""
                why = why or (" (not in this plan)" if case_id not in draft.in_plan else "")
                draft.problem(i, "case_id", f"case {case_id} is not a planned stop{why}; only stops can be removed")
                continue
            draft.take(case_id)
            state.pins.pop(case_id, None)
            if case_id in state.added:
                state.added.remove(case_id)
            if case_id not in state.removed:
                state.removed.append(case_id)
        draft.touched[case_id] = i


def edit_plan(db: Database, env: PlanningEnv, plan_id: str, body: PlanEdits, actor: str) -> dict[str, Any]:
    """Apply a supervisor's edits to a draft plan and store the re-optimised, re-checked plan (revision + 1).

    Returns
    -------
    dict
        The new plan.json, with ``revision`` and the ``edits`` in force.

    Raises
    ------
    NotFoundError
        Unknown plan.
    ConflictError
        The plan is not done, not a draft, or at another revision than ``expected_revision``; or the edits ask
        for a visit no allowed team can make (``edit_infeasible``, the plan is left as it was).
    BadRequestError
        An edit names an unknown case or team, or does not fit the plan (which edit, which field, why).
    """
    job = done_plan(db, plan_id)
    with db.read() as s:
        if job.approval != "draft":
            msg = f"plan {plan_id} is {job.approval}; only draft plans can be edited (plan the day again to change it)"
            raise ConflictError(msg, {"approval": job.approval}, code="plan_not_draft")
        assert job.result is not None  # done_plan checked it
        result: dict[str, Any] = job.result
        log = list(job.edits or [])
        revision = int(result.get("revision", 1))
        if body.expected_revision is not None and body.expected_revision != revision:
            msg = f"plan {plan_id} is at revision {revision}, not {body.expected_revision}: reload it and edit again"
            raise ConflictError(msg, {"revision": revision}, code="revision_conflict")
        teams = [t["team_id"] for t in result["teams"]]
        plan_cases = [s["case_id"] for t in result["teams"] for s in t["stops"]]
        plan_cases += [d["case_id"] for d in result["dropped"]] + [u["case_id"] for u in result["unresolved"]]
        state = EditState.from_log(log)
        wanted = set(plan_cases) | set(state.added) | {e.case_id for e in body.edits}
        rows = _case_rows(s, wanted)
        team_rows = {r.team_id: dict(r.record) for r in s.scalars(select(TeamRow).where(TeamRow.team_id.in_(teams)))}
    zone = ZoneInfo(result["timezone"])
    date = dt.date.fromisoformat(result["date"])
    draft = _Draft(
        state=state,
        routes={
            t["team_id"]: [(stop["case_id"], clock_seconds(stop["service_start"], date, zone)) for stop in t["stops"]]
            for t in result["teams"]
        },
        unresolved={u["case_id"]: u["code"] for u in result["unresolved"]},
        dropped={d["case_id"]: d["code"] for d in result["dropped"]},
        in_plan=(set(plan_cases) | set(state.added)) - set(state.removed),
    )
    shift_start = {t["team_id"]: clock_seconds(t["start"]["time"], date, zone) for t in result["teams"]}
    _apply(draft, body, rows, teams, date, shift_start)
    if draft.problems:
        msg = "; ".join(f"{p['field']}: {p['error']}" for p in draft.problems[:10])
        raise BadRequestError(msg, draft.problems, code="invalid_edit")
    missing_teams = [t for t in teams if t not in team_rows]
    if missing_teams:
        msg = f"team(s) {', '.join(missing_teams)} of this plan are no longer stored; plan the day again"
        raise ConflictError(msg, code="team_gone")

    removed = set(state.removed)
    plan_rows = [rows[c] for c in sorted(draft.in_plan - removed) if c in rows]
    records, held = case_records(plan_rows, date)
    cases, problems = parse_cases(records)
    if problems:
        raise InputFileError(Path("stored cases"), problems)
    specs, team_problems = parse_teams([team_rows[t] for t in teams])
    if team_problems:
        raise InputFileError(Path("stored teams"), team_problems)
    region = env.region_for([spec.profile for spec in specs])
    built = service.build_teams(specs, region, Path("stored teams"))
    held_ids = {d.case_id for d in held}
    # The same presence model as the plan job: what the stored outcomes taught.
    presence = env.presence.snapshot() if env.presence is not None else None
    run = service.plan_day(
        cases,
        built,
        region,
        date,
        env.settings,
        EDIT_TIME_LIMIT_S,
        presence=presence,
        initial=draft.routes,
        pins={c: t for c, t in state.pins.items() if c not in held_ids},
        required=state.required - held_ids,
    )
    if run.violations:
        names = "; ".join(f"{v.code}: {v.message}" for v in run.violations[:20])
        msg = f"the edited plan breaks {len(run.violations)} rule(s): {names}"
        raise RoutingError(msg)
    _check_required(run, state, draft, held_ids)

    order = {c: i for i, c in enumerate(plan_cases)}
    out = [Dropped(c, "removed", "removed from the plan by a supervisor") for c in sorted(removed) if c in rows]
    dropped = sorted([*run.plan.dropped, *held, *out], key=lambda d: (order.get(d.case_id, len(order)), d.case_id))
    # A team whose day came back the same keeps its revision (and its pages); the others go up by one.
    old_teams = {t["team_id"]: t for t in result["teams"]}
    fresh = {t["team_id"]: t for t in plan_to_dict(run.plan)["teams"]}
    changed = {t for t in fresh if _day_of(fresh[t]) != _day_of(old_teams[t])}
    plan = dataclasses.replace(
        run.plan,
        plan_id=plan_id,
        routes=tuple(
            dataclasses.replace(r, revision=int(old_teams[r.team.team_id].get("revision", 1)) + 1)
            for r in run.plan.routes
        ),
        dropped=tuple(dropped),
        cases=run.plan.cases + len(held) + len(out),
    )
    new = {**plan_to_dict(plan), "revision": revision + 1, "edits": state.to_dict()}
    new["teams"] = [t if t["team_id"] in changed else old_teams[t["team_id"]] for t in new["teams"]]
    phones = {c.case_id: c.phone for c in cases}
    pages = render_pages(plan, env, phones, region, teams=changed, revision=revision + 1)
    entry = {
        "revision": revision + 1,
        "at": utcnow().isoformat(),
        "by": actor,
        "edits": [e.model_dump(exclude_none=True) for e in body.edits],
        "state": state.to_dict(),
    }
    _store(db, plan_id, revision, new, [*log, entry], pages, removed)
    return new


def _day_of(team: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a team's day is, for telling a changed day from an unchanged one."""
    brk = team.get("break") or {}
    return [(s["case_id"], s["address_kind"], s["service_start"], s["slot"]["start"]) for s in team["stops"]] + [
        (team["start"]["time"], team["end"]["time"], brk.get("start"))
    ]


def _case_rows(s: Any, ids: set[str]) -> dict[str, CaseRow]:
    wanted = sorted(ids)
    found: dict[str, CaseRow] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update({r.case_id: r for r in s.scalars(select(CaseRow).where(CaseRow.case_id.in_(chunk)))})
    return found


def _check_required(run: service.PlanRun, state: EditState, draft: _Draft, held: set[str]) -> None:
    """409 when a visit an edit requires is not in the re-optimised plan: the edit cannot be honoured."""
    served = {v.case_id: r.team.team_id for r in run.plan.routes for v in r.visits}
    reasons = {d.case_id: d for d in run.plan.dropped} | {u.case_id: u for u in run.plan.unresolved}
    failed: list[dict[str, Any]] = []
    for case_id in sorted(state.required - held):
        team = state.pins.get(case_id)
        if case_id in served and (team is None or served[case_id] == team):
            continue
        why = reasons.get(case_id)
        where = f"team {team}'s day" if team else "any team's day"
        if why is None or why.code == "not_worth_detour":
            # The search had to leave it out: the day is full of visits that this and earlier edits require.
            reason = ": no room left beside the visits the edits require there (remove or move some first)"
        else:
            reason = f": {why.message} ({why.code})"
        error = f"case {case_id} does not fit in {where}{reason}"
        failed.append({"index": draft.touched.get(case_id), "case_id": case_id, "team_id": team, "error": error})
    if failed:
        msg = "the edits cannot be honoured, the plan is unchanged: " + "; ".join(str(f["error"]) for f in failed[:5])
        raise ConflictError(msg, failed, code="edit_infeasible")


def _store(
    db: Database,
    plan_id: str,
    revision: int,
    result: dict[str, Any],
    log: list[dict[str, Any]],
    pages: list[Any],
    removed: set[str],
) -> None:
    """Write the edited plan, its edit log and pages, unless someone else edited or approved it meanwhile."""
    with db.write() as s:
        job = s.get(PlanJob, plan_id, with_for_update=True)
        assert job is not None and job.result is not None
        now_revision = int(job.result.get("revision", 1))
        if job.approval != "draft" or now_revision != revision:
            msg = f"plan {plan_id} changed while it was being edited (now {job.approval}, revision {now_revision})"
            raise ConflictError(msg, {"revision": now_revision}, code="revision_conflict")
        job.result, job.edits = result, log
        for page in pages:
            s.merge(page)
        stops = [stop["case_id"] for team in result["teams"] for stop in team["stops"]]
        mark_planned(s, stops)
        gone = sorted(removed)
        for chunk in range(0, len(gone), 500):
            s.execute(
                update(CaseRow)
                .where(CaseRow.case_id.in_(gone[chunk : chunk + 500]), CaseRow.state == "planned")
                .values(state="open")
            )
