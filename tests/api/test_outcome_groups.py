"""A group of outcomes stored together answers and stores exactly what posting them one by one would, on a real
SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api import store
from api.db import AddressCorrection, CaseRow, Database, OutcomeRow, PresenceEvidence
from api.errors import ApiError, ConflictError, ForbiddenError, NotFoundError
from api.outcomes import OutcomePost, Recorded, record_outcomes
from api.schemas import OutcomeIn
from api.security import OfficerClaims
from api.store import DayTypes, Principal
from tests.api.conftest import make_database, seed_cases

ZONE = "America/Mexico_City"
SYSTEM = Principal(actor="key:tests", role="system")
IDS = [str(uuid.UUID(int=i)) for i in range(1, 10)]


def post(client_id: str, case_id: str, result: str, at: str, **extra: Any) -> OutcomePost:
    body = {"client_id": client_id, "team_id": "T1", "officer_id": "li", "case_id": case_id, "visited_at": at}
    return OutcomePost(OutcomeIn.model_validate({**body, "result": result, **extra}), SYSTEM)


# The group, in arrival order (all on Wednesday 2 December 2026, UTC-6).
GROUP = [
    post(IDS[0], "C001", "not_home", "2026-12-02T18:10:00-06:00"),  # new: C001 open
    post(IDS[0], "C001", "not_home", "2026-12-02T18:10:00-06:00"),  # the same again: a repeat
    post(IDS[0], "C001", "met", "2026-12-02T18:10:00-06:00"),  # same client_id, other body: 409
    post(IDS[1], "NOPE", "met", "2026-12-02T18:10:00-06:00"),  # unknown case: 404
    post(IDS[2], "C001", "met", "2026-12-02T17:05:00-06:00"),  # older than the first: C001 stays open
    # Refused with a 10 m GCJ-02 fix: cool-down for 7 days, and the fix moves the case (converted to WGS-84).
    post(
        IDS[3], "C002", "refused", "2026-12-02T18:30:00-06:00", lat=21.8711, lon=-102.2716, accuracy_m=10, crs="gcj02"
    ),
    post(IDS[4], "C002", "met", "2026-12-02T19:00:00-06:00"),  # newer: C002 done
    post(IDS[5], "C003", "promise_to_pay", "2026-12-02T20:00:00-06:00", promised_date="2026-12-20"),
    post(IDS[6], "C001", "wrong_address", "2026-12-02T18:40:00-06:00"),  # newest of C001: needs an address
]
# Per post: created (True/False) and the case state it answers, or the error it raises.
EXPECTED: list[tuple[bool, str] | type[ApiError]] = [
    (True, "open"),
    (False, "open"),
    ConflictError,
    NotFoundError,
    (True, "open"),
    (True, "cooldown"),
    (True, "done"),
    (True, "suspended"),
    (True, "needs_address"),  # while the repeat above still answers the state of its own moment, open
]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two empty, migrated databases of one kind, each with cases C000-C004."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with make_database(request.param, tmp_path / "a") as url_a, make_database(request.param, tmp_path / "b") as url_b:
        dbs = (Database(url_a), Database(url_b))
        for db in dbs:
            db.migrate()
            assert store.import_cases(db, seed_cases(5))["accepted"] == 5
        yield dbs
        for db in dbs:
            db.dispose()


def store_group(db: Database, posts: list[OutcomePost]) -> list[Recorded | ApiError]:
    with db.write() as s:
        return record_outcomes(s.connection(), posts, ZONE, DayTypes("MX"))


def contents(db: Database) -> dict[str, Any]:
    """What the database holds, without ids and clock times."""
    with db.read() as s:
        return {
            "outcomes": sorted(
                (r.client_id, r.case_id, r.result, r.day_type, r.hour) for r in s.scalars(select(OutcomeRow))
            ),
            "cases": sorted(
                (
                    r.case_id,
                    r.state,
                    r.state_until,
                    r.fix_lat and round(r.fix_lat, 6),
                    r.fix_lon and round(r.fix_lon, 6),
                )
                for r in s.scalars(select(CaseRow))
            ),
            "presence": sorted(
                (r.customer_id, r.day_type, r.hour, r.home, r.away) for r in s.scalars(select(PresenceEvidence))
            ),
            "fixes": sorted(
                (r.case_id, round(r.lat, 6), round(r.lon, 6)) for r in s.scalars(select(AddressCorrection))
            ),
        }


def test_a_group_answers_and_stores_what_one_by_one_posting_would(two_databases: tuple[Database, Database]) -> None:
    """The same nine posts, as one group and one transaction each: the same answers and the same tables."""
    together, alone = two_databases
    answers = store_group(together, GROUP)
    singles = [store_group(alone, [p])[0] for p in GROUP]
    for got, single, want in zip(answers, singles, EXPECTED, strict=True):
        if isinstance(want, tuple):
            assert isinstance(got, Recorded) and isinstance(single, Recorded)
            assert (got.created, got.outcome["case_state"]) == want == (single.created, single.outcome["case_state"])
        else:
            assert isinstance(got, want) and isinstance(single, want)
    first, repeat = answers[0], answers[1]
    assert isinstance(first, Recorded) and isinstance(repeat, Recorded) and first.outcome == repeat.outcome
    held = contents(together)
    assert held == contents(alone)
    assert [c[:3] for c in held["cases"][:4]] == [
        ("C000", "open", None),
        ("C001", "needs_address", None),
        ("C002", "done", None),
        ("C003", "suspended", dt.date(2026, 12, 20)),
    ]
    # C001 (PC001): not at home at 18, met at 17 (wrong address counts nothing); C002: refused at 18 and met at 19.
    assert held["presence"] == [
        ("PC001", "workday", 17, 1, 0),
        ("PC001", "workday", 18, 0, 1),
        ("PC002", "workday", 18, 1, 0),
        ("PC002", "workday", 19, 1, 0),
        ("PC003", "workday", 20, 1, 0),
    ]
    (fix,) = held["fixes"]
    # GCJ-02 is offset from WGS-84 by a few hundred metres in China; outside China the two are the same.
    assert fix == ("C002", 21.8711, -102.2716)


def test_a_group_again_is_all_repeats(two_databases: tuple[Database, Database]) -> None:
    """Posting the whole group a second time stores nothing new and answers every stored outcome as a repeat."""
    db, _ = two_databases
    first = store_group(db, GROUP)
    before = contents(db)
    second = store_group(db, GROUP)
    assert contents(db) == before
    for a, b in zip(first, second, strict=True):
        if isinstance(a, Recorded):
            assert isinstance(b, Recorded) and not b.created and b.outcome["id"] == a.outcome["id"]


def test_officer_posts_in_a_group_are_held_to_their_plan(two_databases: tuple[Database, Database]) -> None:
    """An officer link's post for an unknown plan is 404, for another team 403, each without harming the others."""
    db, _ = two_databases
    claims = OfficerClaims("l1", "no-such-plan", "T1", 2**40)
    officer = Principal(actor="link:l1", role="officer", claims=claims)
    group = [
        OutcomePost(GROUP[0].outcome, officer),
        OutcomePost(GROUP[5].outcome.model_copy(update={"team_id": "T2"}), officer),
        GROUP[7],
    ]
    answers = store_group(db, group)
    assert isinstance(answers[0], NotFoundError) and isinstance(answers[1], ForbiddenError)
    assert isinstance(answers[2], Recorded) and answers[2].created
    assert [o[0] for o in contents(db)["outcomes"]] == [IDS[5]]
