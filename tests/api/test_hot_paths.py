"""The cached request paths keep every rule of the uncached ones, over real HTTP on SQLite and PostgreSQL: a link
read a moment ago is refused at once when revoked, a 304 still checks the link, every map read is audited by a
clean shutdown, and the documentation page loads nothing from outside."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.db import AuditEntry, Database
from api.security import LinkCache, OfficerClaims
from api.store import AuditWriter
from tests.api.conftest import AGUAS, Api, seed_cases, start_api, team_body, wait_for

PLAN_DATE = "2026-12-02"


def make_plan(api: Api, teams: tuple[str, ...] = ("T1",)) -> dict[str, Any]:
    """8 cases, the given teams, an approved plan and a link per team."""
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(8)).json()["accepted"] == 8
    with api.client(api.supervisor) as c:
        for team in teams:
            assert c.put(f"/v1/teams/{team}", json=team_body()).status_code in (200, 201)
        plan_id = c.post("/v1/plans", json={"date": PLAN_DATE, "time_limit_s": 1, "seed": 1}).json()["plan_id"]
        status = wait_for(
            lambda: (s := c.get(f"/v1/plans/{plan_id}").json())["status"] in ("done", "failed") and s, 60, "the plan"
        )
        assert status["status"] == "done", status
        result = c.get(f"/v1/plans/{plan_id}/result").json()
        assert c.post(f"/v1/plans/{plan_id}/approve").status_code == 200
        links = c.post(f"/v1/plans/{plan_id}/links").json()
    return {"plan_id": plan_id, "result": result, "links": links}


@pytest.fixture(scope="module")
def planned(api: Api) -> dict[str, Any]:
    return make_plan(api, ("T1", "T2"))


def path_of(link: str) -> str:
    return "/m/" + link.rsplit("/m/", 1)[1]


def officer_outcome(planned: dict[str, Any], team: str) -> dict[str, Any]:
    stops = [s["case_id"] for t in planned["result"]["teams"] if t["team_id"] == team for s in t["stops"]]
    assert stops, f"team {team} has no stop"
    return {
        "client_id": str(uuid.uuid4()),
        "team_id": team,
        "officer_id": "li",
        "case_id": stops[0],
        "visited_at": f"{PLAN_DATE}T18:10:00-06:00",
        "result": "not_home",
    }


def test_a_link_read_a_moment_ago_is_refused_at_once_when_revoked(api: Api, planned: dict[str, Any]) -> None:
    """Reads and posts just before the revocation succeed (the link is cached as good); right after it, 403."""
    link = planned["links"]["T1"]
    token = link.rsplit("/m/", 1)[1]
    with api.client() as c:
        for _ in range(3):  # the second and third reads come from the link and page caches
            assert c.get(path_of(link)).status_code == 200
        posted = c.post(
            "/v1/outcomes", json=officer_outcome(planned, "T1"), headers={"Authorization": f"Bearer {token}"}
        )
        assert posted.status_code == 201, posted.text
    with api.client(api.supervisor) as c:
        assert c.delete(f"/v1/plans/{planned['plan_id']}/links/T1").json()["revoked"] == 1
    with api.client() as c:
        page = c.get(path_of(link))
        assert page.status_code == 403 and page.json()["error"]["code"] == "link_revoked"
        refused = c.post(
            "/v1/outcomes", json=officer_outcome(planned, "T1"), headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "link_revoked"


def test_no_read_after_the_revocation_answers_is_served(api: Api, planned: dict[str, Any]) -> None:
    """Readers hammering a link while it is revoked: every read that starts after the DELETE answered gets 403."""
    link = planned["links"]["T2"]
    answered_at: list[float] = []

    def read(_: int) -> tuple[float, int]:
        with api.client() as c:
            started = time.monotonic()
            return started, c.get(path_of(link)).status_code

    with ThreadPoolExecutor(8) as pool:
        warm = list(pool.map(read, range(16)))
        assert {s for _, s in warm} == {200}
        later = [pool.submit(read, i) for i in range(200)]
        with api.client(api.supervisor) as c:
            assert c.delete(f"/v1/plans/{planned['plan_id']}/links/T2").status_code == 200
            answered_at.append(time.monotonic())
        after = [pool.submit(read, i) for i in range(40)]
        results = [f.result() for f in later + after]
    late = [status for started, status in results if started > answered_at[0]]
    assert len(late) >= 40 and set(late) == {403}


def test_officer_page_revalidates_with_etag_and_still_checks_the_link(api: Api, planned: dict[str, Any]) -> None:
    """A phone holding the page gets 304 (no body) while the link is good, and 403 once it is revoked."""
    plan_id = planned["plan_id"]
    with api.client(api.supervisor) as c:
        link = c.post(f"/v1/plans/{plan_id}/links", json={"team_ids": ["T1"]}).json()["T1"]
    with api.client() as c:
        first = c.get(path_of(link))
        assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
        etag = first.headers["etag"]
        again = c.get(path_of(link), headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        other = c.get(path_of(link), headers={"If-None-Match": '"not-this-one"'})
        assert other.status_code == 200 and other.content == first.content
    with api.client(api.supervisor) as c:
        assert c.delete(f"/v1/plans/{plan_id}/links/T1").status_code == 200
    with api.client() as c:
        assert c.get(path_of(link), headers={"If-None-Match": etag}).status_code == 403


def test_docs_page_loads_everything_from_this_origin(api: Api) -> None:
    """/docs: a CSP naming no other origin and no inline-script allowance; every asset served here; no /redoc."""
    with api.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "http" not in csp and "cdn" not in csp, csp
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        for asset in assets:
            assert c.get(asset).status_code == 200, asset
        assert c.get("/openapi.json").json()["openapi"].startswith("3.1")
        # ReDoc's bundle always fetches its maker's logo from their CDN, so it is not served.
        assert c.get("/redoc").status_code == 404


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request: pytest.FixtureRequest, osm_dir: Path, cache_dir: Path, tmp_path: Path) -> Iterator[Api]:
    """A server of its own (the test stops it)."""
    from tests.api.conftest import make_database

    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    with make_database(request.param, tmp_path) as url:
        started = start_api(osm_dir / AGUAS, url, tmp_path)
        yield started
        started.server.stop()
        started.db.dispose()


def test_every_map_read_is_audited_by_a_clean_shutdown(own_server: Api) -> None:
    """300 officer map reads, then SIGTERM at once: the audit log holds all 300, each with the link and the map."""
    api = own_server
    planned = make_plan(api)
    link = planned["links"]["T1"]
    with api.client() as c, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: c.get(path_of(link)).status_code, range(300)))
    assert statuses == [200] * 300
    api.server.stop()
    # uvicorn shuts down cleanly (lifespan end) on SIGTERM, then re-raises the signal: exit status -15.
    assert api.server.process is not None and api.server.process.returncode == -15
    with api.db.read() as s:
        rows = s.execute(
            select(AuditEntry.actor, AuditEntry.object_id, func.count())
            .where(AuditEntry.object_type == "officer_map")
            .group_by(AuditEntry.actor, AuditEntry.object_id)
        ).all()
    assert len(rows) == 1
    actor, object_id, count = rows[0]
    assert actor.startswith("link:") and object_id == f"{planned['plan_id']}/T1" and count == 300


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database of each kind."""
    from tests.api.conftest import make_database

    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    with make_database(request.param, tmp_path) as url:
        db = Database(url)
        db.migrate()
        yield db
        db.dispose()


def test_audit_writer_stores_everything_queued_when_closed(empty_db: Database) -> None:
    """5,000 entries queued faster than they are written, then close(): all 5,000 are in the table."""
    writer = AuditWriter(empty_db)
    for i in range(5000):
        writer.log("link:abc", "read", "officer_map", f"plan/T{i}", None)
    writer.close(timeout=60)
    with empty_db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 5000


def test_link_cache_forgets_revoked_expired_and_stale_answers() -> None:
    """Good for ttl seconds; a revocation drops the team's links and refuses an answer checked before it."""
    cache = LinkCache(ttl=5.0)
    t1 = OfficerClaims("l1", "P", "T1", 2**40)
    t2 = OfficerClaims("l2", "P", "T2", 2**40)
    cache.put(t1, cache.generation, now=100.0)
    cache.put(t2, cache.generation, now=100.0)
    assert cache.good(t1, now=104.9) and not cache.good(t1, now=105.0)  # 100 + 5 s
    # The same link id presented with other claims (another plan or team) is not the cached link.
    assert not cache.good(OfficerClaims("l1", "P", "T2", 2**40), now=101.0)
    before = cache.generation  # a check of t1 starts, reads "not revoked" from the database ...
    cache.revoke("P", "T1")  # ... the link is revoked meanwhile ...
    cache.put(t1, before, now=101.0)  # ... and its stale answer is not kept
    assert not cache.good(t1, now=101.0) and cache.good(t2, now=101.0)
    cache.revoke("P")  # the whole plan
    assert not cache.good(t2, now=101.0)
