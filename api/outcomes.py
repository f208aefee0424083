"""Recording visit outcomes: a group-commit writer and the batched store of a group of outcomes.

Outcomes posted at the same moment are stored together: one transaction (one commit, one fsync on SQLite) and
a handful of set-based SQLAlchemy Core statements per group, not a dozen ORM round trips per outcome. Every
rule a single outcome obeys is decided in Python first (officer scope, unknown case, repeat or conflicting
``client_id``, an older outcome never overwriting a newer one's case state), so the statements only write what is
already known to be right, and the answers are the same as posting the outcomes one after the other.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from api.db import AddressCorrection, CaseRow, Database, OutcomeRow, PlanJob, PresenceEvidence, utcnow
from api.errors import ApiError, ConflictError, ForbiddenError, NotFoundError
from api.schemas import OutcomeIn
from api.store import AT_HOME, NOT_HOME, Principal, _aware, body_hash, take_batch
from geo.corrections import MAX_GPS_ACCURACY_M
from geo.crs import gcj02_to_wgs84

__all__ = ["OutcomePost", "OutcomeWriter", "Recorded", "record_outcomes"]

log = logging.getLogger("doorstep.outcomes")

# A GPS fix taken while meeting the customer moves the case when accurate to 30 m or better (geo.corrections).
FIX_ACCURACY_M = MAX_GPS_ACCURACY_M
REFUSAL_COOLDOWN_DAYS = 7
# How often a group is tried again after another process stored one of its client_ids first (PostgreSQL).
RACE_RETRIES = 3

_OUTCOMES = cast(Table, OutcomeRow.__table__)
_CASES = cast(Table, CaseRow.__table__)
_PRESENCE = cast(Table, PresenceEvidence.__table__)
_CORRECTIONS = cast(Table, AddressCorrection.__table__)


@dataclass(frozen=True, slots=True)
class OutcomePost:
    """One posted outcome and who posted it."""

    outcome: OutcomeIn
    principal: Principal


@dataclass(frozen=True, slots=True)
class Recorded:
    """The answer to an outcome post: ``created`` is False for a repeat of a stored outcome."""

    created: bool
    outcome: dict[str, Any]


@dataclass(slots=True)
class _Case:
    """The columns of a case an outcome changes, as they will be after the group."""

    customer_id: str
    state: str
    state_until: dt.date | None
    fix_lat: float | None
    fix_lon: float | None
    newest: dt.datetime | None
    changed: bool = False


@dataclass(slots=True)
class _Stored:
    """An outcome row, stored before the group or about to be stored by it (``id`` is known after the insert)."""

    values: dict[str, Any]
    id: int | None = None


@dataclass(frozen=True, slots=True)
class _Pending:
    """A post's answer once its row id is known: new or a repeat, and the case state to answer."""

    created: bool
    client_id: str
    state: str


@dataclass(slots=True)
class _Group:
    """What a group writes, gathered while its outcomes are decided one by one."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    presence: Counter[tuple[str, str, int, str]] = field(default_factory=Counter)
    corrections: list[dict[str, Any]] = field(default_factory=list)


class RaceError(Exception):
    """Another process stored one of the group's ``client_id``s while the group was being decided."""


def record_outcomes(
    conn: Connection, posts: Sequence[OutcomePost], timezone: str, kind_of: Callable[[dt.date], str]
) -> list[Recorded | ApiError]:
    """Store and apply a group of outcomes in the connection's transaction; one answer (or error) per post.

    The same ``client_id`` with the same body answers the stored record; with another body, 409. An officer
    link may only post for its own team, plan and stops. A new outcome sets its case's state (unless the case
    already has a newer outcome), counts as presence evidence and, with an accurate GPS fix while meeting the
    customer, corrects the case's location. ``kind_of`` gives the day type of a local date.
    """
    zone = ZoneInfo(timezone)
    answers: list[Recorded | ApiError | _Pending | None] = [None] * len(posts)
    stops = _plan_stops(conn, {p.principal.claims.plan_id for p in posts if p.principal.claims is not None})
    digests: list[str] = []
    payloads: list[dict[str, Any]] = []
    for i, post in enumerate(posts):
        payload = post.outcome.model_dump(mode="json")
        if payload.get("address_kind") is None:
            # A body without the field hashes as it did before the field existed: old repeats stay repeats.
            payload.pop("address_kind", None)
        try:
            _check_scope(post, stops, payload)
        except ApiError as err:
            answers[i] = err
        payloads.append(payload)
        digests.append(body_hash(payload))
    case_ids = sorted({p.outcome.case_id for p in posts})
    cases = _cases(conn, case_ids)
    known = {
        row["client_id"]: _Stored(dict(row), row["id"])
        for row in conn.execute(
            select(_OUTCOMES).where(_OUTCOMES.c.client_id.in_({str(p.outcome.client_id) for p in posts}))
        ).mappings()
    }
    group = _Group()
    now = utcnow()
    for i, post in enumerate(posts):
        if answers[i] is not None:
            continue
        outcome, client_id = post.outcome, str(post.outcome.client_id)
        stored = known.get(client_id)
        if stored is not None:
            if stored.values["body_hash"] != digests[i]:
                msg = f"client_id {client_id} was already used for a different outcome"
                answers[i] = ConflictError(msg, {"client_id": client_id}, code="client_id_conflict")
            else:
                case = cases.get(stored.values["case_id"])
                # The case's state at this moment of the group, as a one-by-one repeat would answer it.
                answers[i] = _Pending(False, client_id, case.state if case is not None else "open")
            continue
        case = cases.get(outcome.case_id)
        if case is None:
            msg = f"unknown case {outcome.case_id!r}"
            answers[i] = NotFoundError(msg, [{"field": "case_id", "error": "no such case"}])
            continue
        local = outcome.visited_at.astimezone(zone)
        row = {
            "client_id": client_id,
            "body_hash": digests[i],
            "payload": payloads[i],
            "case_id": outcome.case_id,
            "customer_id": case.customer_id,
            "team_id": outcome.team_id,
            "plan_id": payloads[i].get("plan_id"),
            "result": outcome.result,
            "visited_at": outcome.visited_at.astimezone(dt.UTC),
            "day_type": kind_of(local.date()),
            "hour": local.hour,
            "recorded_by": post.principal.actor,
            "recorded_at": now,
        }
        group.rows.append(row)
        known[client_id] = _Stored(row)
        _apply(case, outcome, local.date(), client_id, group)
        # The state this outcome left its case in (a later outcome of the group may change it again).
        answers[i] = _Pending(True, client_id, case.state)
    _write(conn, group, cases, known, now)
    return [_answer(a, known) for a in answers]


def _answer(answer: Recorded | ApiError | _Pending | None, known: dict[str, _Stored]) -> Recorded | ApiError:
    assert answer is not None
    if not isinstance(answer, _Pending):
        return answer
    stored = known[answer.client_id]
    values = stored.values
    assert stored.id is not None
    return Recorded(
        answer.created,
        {
            "id": stored.id,
            "client_id": answer.client_id,
            "case_id": values["case_id"],
            "team_id": values["team_id"],
            "plan_id": values["plan_id"],
            "result": values["result"],
            "visited_at": _aware(values["visited_at"]),
            "recorded_at": _aware(values["recorded_at"]),
            "case_state": answer.state,
            "outcome": values["payload"],
        },
    )


def _plan_stops(conn: Connection, plan_ids: set[str]) -> dict[str, dict[str, set[str]] | ApiError]:
    """Team id -> case ids of each plan an officer posts for, or why no outcome can be posted for it."""
    found: dict[str, dict[str, set[str]] | ApiError] = {}
    if not plan_ids:
        return found
    rows = conn.execute(
        select(PlanJob.plan_id, PlanJob.status, PlanJob.result).where(PlanJob.plan_id.in_(plan_ids))
    ).all()
    for plan_id, status, result in rows:
        if status != "done" or result is None:
            msg = f"plan {plan_id} is {status}, not done"
            found[plan_id] = ConflictError(msg, {"status": status}, code="plan_not_done")
        else:
            found[plan_id] = {t["team_id"]: {s["case_id"] for s in t["stops"]} for t in result["teams"]}
    for plan_id in plan_ids - set(found):
        found[plan_id] = NotFoundError(f"unknown plan {plan_id!r}")
    return found


def _check_scope(post: OutcomePost, stops: dict[str, dict[str, set[str]] | ApiError], payload: dict[str, Any]) -> None:
    """An officer link posts only for its own team, plan and stops; its plan id is stored with the outcome."""
    claims = post.principal.claims
    if claims is None:
        return
    outcome = post.outcome
    if outcome.team_id != claims.team_id or outcome.plan_id not in (None, claims.plan_id):
        msg = f"this link is for team {claims.team_id} of plan {claims.plan_id}"
        raise ForbiddenError(msg, code="wrong_team")
    plan = stops[claims.plan_id]
    if isinstance(plan, ApiError):
        # A fresh error per post: one exception object is never raised in two requests at once.
        raise type(plan)(plan.message, plan.details, code=plan.code)
    if outcome.case_id not in plan.get(claims.team_id, set()):
        msg = f"case {outcome.case_id} is not on team {claims.team_id}'s route"
        raise ForbiddenError(msg, code="not_on_route")
    payload["plan_id"] = claims.plan_id


def _cases(conn: Connection, case_ids: list[str]) -> dict[str, _Case]:
    """The cases of the group, locked in key order (PostgreSQL), with each one's newest outcome time."""
    if not case_ids:
        return {}
    rows = conn.execute(
        select(
            _CASES.c.case_id,
            _CASES.c.customer_id,
            _CASES.c.state,
            _CASES.c.state_until,
            _CASES.c.fix_lat,
            _CASES.c.fix_lon,
        )
        .where(_CASES.c.case_id.in_(case_ids))
        .order_by(_CASES.c.case_id)
        .with_for_update()
    ).all()
    newest: dict[str, dt.datetime | None] = {
        case_id: when
        for case_id, when in conn.execute(
            select(_OUTCOMES.c.case_id, func.max(_OUTCOMES.c.visited_at))
            .where(_OUTCOMES.c.case_id.in_(case_ids))
            .group_by(_OUTCOMES.c.case_id)
        )
    }
    return {
        r.case_id: _Case(
            r.customer_id,
            r.state,
            r.state_until,
            r.fix_lat,
            r.fix_lon,
            _aware(when) if (when := newest.get(r.case_id)) is not None else None,
        )
        for r in rows
    }


def _apply(case: _Case, outcome: OutcomeIn, local_day: dt.date, client_id: str, group: _Group) -> None:
    """The effects of a new outcome on its case, and the presence evidence and address fix it adds."""
    case.changed = True
    # Phones post late over poor connections: an older outcome must not overwrite a newer one's state.
    if case.newest is None or case.newest <= outcome.visited_at:
        _set_state(case, outcome, local_day)
    if case.newest is None or outcome.visited_at > case.newest:
        case.newest = outcome.visited_at
    row = group.rows[-1]
    # A visit at work or at the registered residence says nothing about P(home), nor where home is.
    at_home_address = outcome.address_kind in (None, "home")
    if at_home_address and (outcome.result in AT_HOME or outcome.result in NOT_HOME):
        group.presence[(case.customer_id, row["day_type"], row["hour"], outcome.result)] += 1
    accuracy = outcome.accuracy_m
    located = at_home_address and outcome.lat is not None and outcome.lon is not None and outcome.result in AT_HOME
    if located and accuracy is not None and accuracy <= FIX_ACCURACY_M:
        assert outcome.lat is not None and outcome.lon is not None
        lat, lon = outcome.lat, outcome.lon
        if outcome.crs == "gcj02":
            lat, lon = gcj02_to_wgs84(lat, lon)
        group.corrections.append({"client_id": client_id, "lat": lat, "lon": lon, "accuracy_m": accuracy})
        case.fix_lat, case.fix_lon = lat, lon


def _set_state(case: _Case, outcome: OutcomeIn, local_day: dt.date) -> None:
    """The case lifecycle of DESIGN.md §4; a closed case stays closed (only the loan system re-opens it)."""
    if case.state == "closed":
        return
    result = outcome.result
    if result == "met":
        case.state, case.state_until = "done", None
    elif result == "refused":
        case.state, case.state_until = "cooldown", local_day + dt.timedelta(days=REFUSAL_COOLDOWN_DAYS)
    elif result == "promise_to_pay":
        case.state, case.state_until = "suspended", outcome.promised_date
    elif result in ("wrong_address", "moved"):
        case.state, case.state_until = "needs_address", None
    else:  # not_home, appointment_made, other: plan it again
        case.state, case.state_until = "open", None


def _write(
    conn: Connection, group: _Group, cases: dict[str, _Case], known: dict[str, _Stored], now: dt.datetime
) -> None:
    """The group's statements: outcomes, case updates, presence counts, address corrections."""
    if not group.rows:
        return
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert_rows = module.insert(_OUTCOMES).on_conflict_do_nothing(index_elements=["client_id"])
    params = group.rows
    ids = dict((c, i) for i, c in conn.execute(insert_rows.returning(_OUTCOMES.c.id, _OUTCOMES.c.client_id), params))
    if len(ids) != len(params):
        # Another process stored one of these client_ids after we looked: decide the group again.
        raise RaceError(sorted({row["client_id"] for row in params} - set(ids))[0])
    for client_id, new_id in ids.items():
        known[client_id].id = new_id
    changed = sorted((case_id, c) for case_id, c in cases.items() if c.changed)
    conn.execute(
        update(_CASES)
        .where(_CASES.c.case_id == bindparam("b_case_id"))
        .values(
            state=bindparam("b_state"),
            state_until=bindparam("b_until"),
            fix_lat=bindparam("b_lat"),
            fix_lon=bindparam("b_lon"),
            updated_at=bindparam("b_now"),
        ),
        [
            {"b_case_id": k, "b_state": c.state, "b_until": c.state_until, "b_lat": c.fix_lat, "b_lon": c.fix_lon,
             "b_now": now}
            for k, c in changed
        ],
    )  # fmt: skip
    if group.presence:
        counts: Counter[tuple[str, str, int]] = Counter()
        away: Counter[tuple[str, str, int]] = Counter()
        for (customer, kind, hour, result), n in group.presence.items():
            (away if result in NOT_HOME else counts)[(customer, kind, hour)] += n
        upsert = module.insert(_PRESENCE)
        upsert = upsert.on_conflict_do_update(
            index_elements=["customer_id", "day_type", "hour"],
            set_={"home": _PRESENCE.c.home + upsert.excluded.home, "away": _PRESENCE.c.away + upsert.excluded.away},
        )
        conn.execute(
            upsert,
            [
                {"customer_id": c, "day_type": k, "hour": h, "home": counts[(c, k, h)], "away": away[(c, k, h)]}
                for c, k, h in sorted(set(counts) | set(away))
            ],
        )
    if group.corrections:
        conn.execute(
            _CORRECTIONS.insert(),
            [
                {
                    "case_id": known[fix["client_id"]].values["case_id"],
                    "lat": fix["lat"],
                    "lon": fix["lon"],
                    "accuracy_m": fix["accuracy_m"],
                    "outcome_id": known[fix["client_id"]].id,
                    "created_at": now,
                }
                for fix in group.corrections
            ],
        )


class OutcomeWriter:
    """Group commit: outcomes posted at the same moment are stored by one thread in one transaction.

    One commit (one fsync on SQLite) then stores a whole group. A request's future is resolved only after the
    commit, so an answer always means stored. Should a group's statements fail for a reason of the database's
    own, each outcome of it is tried again alone, so one bad outcome cannot cost the others their answer.
    """

    def __init__(self, db: Database, timezone: str, kind_of: Callable[[dt.date], str], max_batch: int = 256) -> None:
        self._db = db
        self._timezone = timezone
        self._kind_of = kind_of
        self._max_batch = max_batch
        self._queue: queue.Queue[tuple[OutcomePost, Future[Recorded]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="doorstep-outcomes", daemon=True)
        self._thread.start()

    def submit(self, post: OutcomePost) -> Future[Recorded]:
        future: Future[Recorded] = Future()
        self._queue.put((post, future))
        return future

    def _loop(self) -> None:
        while True:
            batch, stop = take_batch(self._queue, self._max_batch)
            if batch:
                self._write(batch)
            if stop:
                return

    def _store(self, posts: Sequence[OutcomePost]) -> list[Recorded | ApiError]:
        for attempt in range(RACE_RETRIES + 1):
            try:
                with self._db.write() as s:
                    return record_outcomes(s.connection(), posts, self._timezone, self._kind_of)
            except RaceError:
                if attempt == RACE_RETRIES:
                    raise
                log.info("outcomes: a client_id was stored by another process meanwhile; deciding again")
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _write(self, batch: list[tuple[OutcomePost, Future[Recorded]]]) -> None:
        try:
            answers = self._store([post for post, _ in batch])
        except Exception as err:
            if len(batch) == 1:
                log.exception("outcomes: one outcome could not be stored")
                batch[0][1].set_exception(err)
                return
            log.exception("outcomes: a group of %d could not be stored; storing them one by one", len(batch))
            for item in batch:
                self._write([item])
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if isinstance(answer, Recorded):
                future.set_result(answer)
            else:
                future.set_exception(answer)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)
