"""What the API keeps: cases, teams, plans, links, outcomes, keys, idempotent answers and the audit log.

Each public function is one use case over one ``Database`` and one transaction; the HTTP routes and the CLI
call the same functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import queue
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.db import (
    ApiKey,
    AuditEntry,
    CaseRow,
    Database,
    IdempotencyRecord,
    OfficerLink,
    OutcomeRow,
    PlanJob,
    TeamRow,
    utcnow,
)
from api.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError, RowProblem
from api.files import parse_cases, parse_teams
from api.security import ROLES, OfficerClaims, Signer, hash_key, key_id_of, key_matches, link_expiry, make_api_key
from geo.types import Location
from routing.errors import RoutingError
from routing.model import Team
from routing.presence import day_type

log = logging.getLogger("doorstep.store")
T = TypeVar("T")

# Results that prove someone was at home, and the one that proves nobody was (DESIGN.md §4 "Presence").
AT_HOME = frozenset({"met", "refused", "promise_to_pay", "appointment_made"})
NOT_HOME = frozenset({"not_home"})
PLANNABLE_STATES = ("open", "planned")
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


def body_hash(payload: Any) -> str:
    """SHA-256 of a canonical JSON form: the same content in another key order is the same body."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- API keys -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key (``role`` system/supervisor) or an officer link."""

    actor: str
    role: str
    claims: OfficerClaims | None = None


def create_key(db: Database, role: str, label: str | None = None) -> str:
    """Make and store a key of ``role``; returns the key itself, which is not kept anywhere."""
    if role not in ROLES:
        msg = f"role must be one of {', '.join(ROLES)}, got {role!r}"
        raise BadRequestError(msg, [{"field": "role", "error": msg}])
    new = make_api_key()
    with db.write() as s:
        s.add(ApiKey(key_id=new.key_id, key_hash=new.key_hash, role=role, label=label))
    return new.secret


def authenticate_key(db: Database, secret: str) -> Principal | None:
    """The principal of a presented key, or ``None`` (unknown, revoked or wrong)."""
    key_id = key_id_of(secret)
    if key_id is None:
        # Still spend a hash, so a malformed key takes as long as a wrong one.
        key_matches(secret, hash_key(""))
        return None
    with db.read() as s:
        row = s.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            key_matches(secret, hash_key(""))
            return None
        if not key_matches(secret, row.key_hash):
            return None
        return Principal(actor=f"key:{key_id}", role=row.role)


# --- cases and teams ------------------------------------------------------------------------------------------


_TEXT_IDS = ("case_id", "customer_id", "pin_team", "branch")


def import_cases(db: Database, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Upsert cases; every bad row is reported (row, field, error) and the good rows are stored."""
    # Ids are text, whatever the sender's JSON made of them (17 and "17" are the same case).
    clean = [
        {
            k: (str(v) if k in _TEXT_IDS and isinstance(v, int | float) else v)
            for k, v in r.items()
            if v not in (None, "")
        }
        for r in records
    ]
    shape_problems = [
        RowProblem(i, k, f"must be a text or a number, got {type(v).__name__}")
        for i, r in enumerate(clean, start=1)
        for k, v in r.items()
        if not _scalar(v) and not (isinstance(v, list) and all(_scalar(x) for x in v))
    ]
    for i, r in enumerate(clean, start=1):
        for k, v in r.items():
            text = str(v)
            limit = 200 if k in ("case_id", "customer_id", "pin_team", "branch") else 4000
            if len(text) > limit:
                shape_problems.append(RowProblem(i, k, f"at most {limit} characters, got {len(text)}"))
            elif "\x00" in text:
                shape_problems.append(RowProblem(i, k, "must not contain NUL characters"))
    shaped = {p.row for p in shape_problems}
    # A badly shaped row is checked no further; the others keep their row numbers.
    cases, problems = parse_cases([{} if i in shaped else r for i, r in enumerate(clean, start=1)])
    problems = sorted(
        [*shape_problems, *(p for p in problems if p.row not in shaped)], key=lambda p: (p.row, p.field or "")
    )
    bad_rows = {p.row for p in problems}
    good = [(i, r) for i, r in enumerate(clean, start=1) if i not in bad_rows]
    # Duplicates within one request: the last one wins, as with repeated upserts.
    latest = {r["case_id"]: r for _, r in good if "case_id" in r}
    with db.write() as s:
        existing = {row.case_id: row for row in s.scalars(select(CaseRow).where(CaseRow.case_id.in_(list(latest))))}
        now = utcnow()
        for case_id, record in latest.items():
            record = {k: v for k, v in record.items()}
            row = existing.get(case_id)
            new_state = "closed" if record.get("state") == "closed" else None
            if row is None:
                s.add(
                    CaseRow(
                        case_id=case_id,
                        customer_id=str(record["customer_id"]),
                        record=record,
                        state=new_state or "open",
                        created_at=now,
                        updated_at=now,
                    )
                )
                continue
            moved = any(record.get(k) != row.record.get(k) for k in ("address", "lat", "lon"))
            row.record = record
            row.customer_id = str(record["customer_id"])
            row.version += 1
            row.updated_at = now
            if moved:
                # A new address from the loan system replaces any officer fix and any "wrong address" flag.
                row.fix_lat = row.fix_lon = None
                if row.state == "needs_address":
                    row.state, row.state_until = "open", None
            if new_state:
                row.state, row.state_until = new_state, None
            elif row.state == "closed":
                row.state = "open"  # the loan system re-opened it
    del cases
    return {
        "accepted": len(good),
        "rejected": [{"row": p.row, "field": p.field, "error": p.error} for p in problems],
    }


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def get_case(db: Database, case_id: str) -> dict[str, Any]:
    with db.read() as s:
        row = s.get(CaseRow, case_id)
        if row is None:
            msg = f"unknown case {case_id!r}"
            raise NotFoundError(msg)
        visits = s.scalars(select(OutcomeRow).where(OutcomeRow.case_id == case_id).order_by(OutcomeRow.visited_at))
        geocode = None
        if row.fix_lat is not None and row.fix_lon is not None:
            geocode = {"lat": row.fix_lat, "lon": row.fix_lon, "source": "officer_gps"}
        elif "lat" in row.record and "lon" in row.record:
            geocode = {"lat": row.record["lat"], "lon": row.record["lon"], "source": "input"}
        return {
            "case_id": row.case_id,
            "customer_id": row.customer_id,
            "state": row.state,
            "state_until": row.state_until,
            "record": row.record,
            "geocode": geocode,
            "visits": [
                {
                    "client_id": v.client_id,
                    "result": v.result,
                    "visited_at": _aware(v.visited_at).isoformat(),
                    "team_id": v.team_id,
                }
                for v in visits
            ],
        }


def put_team(db: Database, team_id: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or replace a team; returns the stored team and whether it is new."""
    record = {k: v for k, v in record.items() if v is not None and v != ""}
    record["team_id"] = team_id
    specs, problems = parse_teams([record])
    for spec in specs:
        try:
            # The domain type's own rules (a break inside the shift, ...), checked now rather than at planning.
            where = spec.start or Location(0.0, 0.0)
            Team(spec.team_id, spec.members, where, spec.end or where, spec.shift, spec.lunch, spec.profile)
        except RoutingError as err:
            problems.append(RowProblem(1, "break_start" if "break" in str(err) else None, str(err)))
    if problems:
        details = [{"field": p.field, "error": p.error} for p in problems]
        msg = "; ".join(f"{p.field}: {p.error}" for p in problems)
        raise BadRequestError(msg, details)
    with db.write() as s:
        row = s.get(TeamRow, team_id)
        created = row is None
        if row is None:
            row = TeamRow(team_id=team_id, record=record, updated_at=utcnow())
            s.add(row)
        else:
            row.record, row.updated_at = record, utcnow()
    return {"team_id": team_id, "record": record, "updated_at": row.updated_at}, created


def list_teams(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return [
            {"team_id": r.team_id, "record": r.record, "updated_at": r.updated_at}
            for r in s.scalars(select(TeamRow).order_by(TeamRow.team_id))
        ]


# --- plans and links ------------------------------------------------------------------------------------------


def get_plan(db: Database, plan_id: str) -> PlanJob:
    with db.read() as s:
        job = s.get(PlanJob, plan_id)
        if job is None:
            msg = f"unknown plan {plan_id!r}"
            raise NotFoundError(msg)
        return job


def done_plan(db: Database, plan_id: str) -> PlanJob:
    """A plan whose job has finished with a result; 409 while it is still queued or running, or failed."""
    job = get_plan(db, plan_id)
    if job.status != "done" or job.result is None:
        msg = f"plan {plan_id} is {job.status}, not done"
        raise ConflictError(msg, {"status": job.status}, code="plan_not_done")
    return job


def take_batch(source: queue.Queue[T | None], limit: int) -> tuple[list[T], bool]:
    """Wait for one item, then take what else is already queued, up to ``limit`` items: a writer thread's next
    batch (one transaction for all). ``None`` in the queue asks the writer to stop: the second value says so."""
    first = source.get()
    if first is None:
        return [], True
    batch = [first]
    while len(batch) < limit:
        try:
            more = source.get_nowait()
        except queue.Empty:
            break
        if more is None:
            return batch, True
        batch.append(more)
    return batch, False


def mark_planned(session: Session, case_ids: Sequence[str]) -> None:
    """Open cases among ``case_ids`` become ``planned`` (in chunks that keep inside the drivers' parameter limits)."""
    for chunk in range(0, len(case_ids), 500):
        session.execute(
            update(CaseRow)
            .where(CaseRow.case_id.in_(case_ids[chunk : chunk + 500]), CaseRow.state == "open")
            .values(state="planned")
        )


def plan_team(db: Database, plan_id: str, team_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A finished plan's plan.json and one team's entry in it; 404 when the plan has no such team."""
    job = done_plan(db, plan_id)
    assert job.result is not None  # done_plan checked it
    team = next((t for t in job.result["teams"] if t["team_id"] == team_id), None)
    if team is None:
        msg = f"plan {plan_id} has no team {team_id!r}"
        raise NotFoundError(msg)
    return job.result, team


def approve_plan(db: Database, plan_id: str, actor: str) -> PlanJob:
    done_plan(db, plan_id)
    with db.write() as s:
        s.execute(update(PlanJob).where(PlanJob.plan_id == plan_id).values(approval="approved"))
        s.add(AuditEntry(actor=actor, action="approve", object_type="plan", object_id=plan_id))
    return get_plan(db, plan_id)


def team_ids_of(job: PlanJob) -> list[str]:
    assert job.result is not None
    return [t["team_id"] for t in job.result["teams"]]


def create_links(
    db: Database, signer: Signer, plan_id: str, base_url: str, grace_h: float, actor: str, team_ids: Sequence[str] = ()
) -> dict[str, str]:
    """One signed link per team of the plan (or of ``team_ids``), expiring at the end of the plan day + grace."""
    job = done_plan(db, plan_id)
    assert job.result is not None
    teams = team_ids_of(job)
    unknown = [t for t in team_ids if t not in teams]
    if unknown:
        msg = f"plan {plan_id} has no team {unknown[0]!r}"
        raise NotFoundError(msg)
    expires = link_expiry(dt.date.fromisoformat(job.result["date"]), job.result["timezone"], grace_h)
    links: dict[str, str] = {}
    with db.write() as s:
        for team_id in team_ids or teams:
            link_id = secrets.token_hex(8)
            s.add(OfficerLink(link_id=link_id, plan_id=plan_id, team_id=team_id, expires_at=expires))
            claims = OfficerClaims(link_id, plan_id, team_id, int(expires.timestamp()))
            links[team_id] = f"{base_url}/m/{signer.officer_token(claims)}"
        s.add(AuditEntry(actor=actor, action="create_links", object_type="plan", object_id=plan_id))
    return links


def revoke_links(db: Database, plan_id: str, team_id: str, actor: str) -> int:
    """Revoke every link of a team in a plan (a lost phone); returns how many were live."""
    get_plan(db, plan_id)
    with db.write() as s:
        result = s.execute(
            update(OfficerLink)
            .where(OfficerLink.plan_id == plan_id, OfficerLink.team_id == team_id, OfficerLink.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        s.add(AuditEntry(actor=actor, action="revoke_links", object_type="team", object_id=f"{plan_id}/{team_id}"))
    return int(getattr(result, "rowcount", 0) or 0)


def check_officer(db: Database, claims: OfficerClaims) -> None:
    """An officer token is only good while its link is unrevoked and its plan approved."""
    with db.read() as s:
        check_officer_in(s, claims)


def check_officer_in(s: Session, claims: OfficerClaims) -> None:
    """`check_officer` inside an open session: one query for the link and its plan's approval."""
    row = s.execute(
        select(OfficerLink.revoked_at, OfficerLink.plan_id, PlanJob.approval)
        .join(PlanJob, PlanJob.plan_id == OfficerLink.plan_id)
        .where(OfficerLink.link_id == claims.link_id)
    ).first()
    if row is None or row.revoked_at is not None or row.plan_id != claims.plan_id:
        msg = "this link has been revoked"
        raise ForbiddenError(msg, code="link_revoked")
    if row.approval != "approved":
        msg = "this plan is not approved yet; ask your supervisor"
        raise ForbiddenError(msg, code="plan_not_approved")


# --- outcomes -------------------------------------------------------------------------------------------------


class DayTypes:
    """The day type of dates in one country, remembered (building a holiday calendar costs milliseconds)."""

    def __init__(self, country: str) -> None:
        self.country = country
        self._known: dict[dt.date, str] = {}
        self._lock = threading.Lock()

    def __call__(self, date: dt.date) -> str:
        with self._lock:
            if date not in self._known:
                self._known[date] = day_type(date, self.country)
            return self._known[date]


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def count_outcomes(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(OutcomeRow)) or 0)


# --- idempotency keys -----------------------------------------------------------------------------------------


def idempotent_answer(db: Database, scope: str, key: str, request_hash: str) -> tuple[int, dict[str, Any]] | None:
    """The stored answer of an earlier POST with this key, or ``None``; 409 when the request differs."""
    with db.read() as s:
        row = s.get(IdempotencyRecord, (scope, key))
        if row is None or _aware(row.created_at) < utcnow() - IDEMPOTENCY_TTL:
            return None
        if row.request_hash != request_hash:
            msg = "Idempotency-Key was already used for a different request"
            raise ConflictError(msg, {"idempotency_key": key}, code="idempotency_conflict")
        return row.status_code, row.body


def remember_answer(db: Database, scope: str, key: str, request_hash: str, status: int, body: Any) -> None:
    """Keep a POST's answer for 24 h (the first answer wins when two race)."""
    with db.write() as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - IDEMPOTENCY_TTL))
        dialect = s.get_bind().dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(IdempotencyRecord.__table__).values(
            scope=scope, key=key, request_hash=request_hash, status_code=status, body=body, created_at=utcnow()
        )
        s.execute(stmt.on_conflict_do_nothing(index_elements=["scope", "key"]))


# --- audit log ------------------------------------------------------------------------------------------------


class AuditWriter:
    """Audit entries are queued by requests and written in batches by one thread, off the request path."""

    def __init__(self, db: Database, batch: int = 500) -> None:
        self._db = db
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._batch = batch
        self._thread = threading.Thread(target=self._loop, name="doorstep-audit", daemon=True)
        self._thread.start()

    def log(self, actor: str, action: str, object_type: str, object_id: str, request_id: str | None) -> None:
        self._queue.put(
            {
                "at": utcnow(),
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id[:400],
                "request_id": request_id,
            }
        )

    def _loop(self) -> None:
        while True:
            entries, stop = take_batch(self._queue, self._batch)
            if entries:
                try:
                    with self._db.write() as s:
                        s.connection().execute(insert(cast(Table, AuditEntry.__table__)), entries)
                except Exception:  # the audit thread must outlive a database hiccup
                    log.exception("audit: could not write %d entries", len(entries))
            if stop:
                return

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop."""
        self._queue.put(None)
        self._thread.join(timeout)
