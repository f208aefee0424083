"""Nothing is lost when the server dies: acknowledged outcomes survive SIGKILL, and a job that was running when
the server died is re-queued (or failed once it has used its attempts), never left "running"."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.db import Database, OutcomeRow, PlanJob, utcnow
from api.jobs import JobRunner, PlanningEnv
from tests.api.conftest import AGUAS, LiveServer, make_database, seed_cases, start_api, team_body, wait_for


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(
    request: pytest.FixtureRequest, osm_dir: Path, cache_dir: Path, tmp_path: Path
) -> Iterator[tuple[str, Path, Path]]:
    """An empty database of each kind, the extract, and a data folder."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    with make_database(request.param, tmp_path) as url:
        yield url, osm_dir / AGUAS, tmp_path


KILL_AFTER = 80


def _post(client: httpx.Client, body: dict[str, Any]) -> int | None:
    try:
        return client.post("/v1/outcomes", json=body).status_code
    except httpx.TransportError:
        return None


@pytest.mark.slow
def test_sigkill_during_a_burst_loses_no_acknowledged_outcome(fresh: tuple[str, Path, Path]) -> None:
    """Outcomes answered 201 before a SIGKILL are all in the database after it (and the server starts again)."""
    url, osm, data = fresh
    api = start_api(osm, url, data)
    try:
        with api.client(api.system) as c:
            assert c.post("/v1/cases", json=seed_cases(20)).json()["accepted"] == 20
        bodies = [
            {
                "client_id": str(uuid.uuid4()),
                "team_id": "T1",
                "officer_id": "li",
                "case_id": f"C{i % 20:03d}",
                "visited_at": "2026-12-02T18:10:00-06:00",
                "result": "not_home",
            }
            for i in range(240)
        ]
        acknowledged: list[str] = []
        lock = threading.Lock()
        killed = threading.Event()

        def send(body: dict[str, Any]) -> None:
            if killed.is_set():
                return
            status = _post(client, body)
            if status == 201:
                with lock:
                    acknowledged.append(body["client_id"])
                    if len(acknowledged) == KILL_AFTER:
                        api.server.kill()
                        killed.set()

        with api.client(api.system, limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(16) as pool:
            list(pool.map(send, bodies))
        assert killed.is_set(), "the burst ended before the kill"
        assert api.server.process is not None and api.server.process.returncode == -9
        with api.db.read() as s:
            stored = set(s.scalars(select(OutcomeRow.client_id)))
        missing = [cid for cid in acknowledged if cid not in stored]
        assert not missing, f"{len(missing)} acknowledged outcomes lost"
        assert len(acknowledged) >= KILL_AFTER
        # Posts still in flight at the kill may or may not be stored; a stored one is whole (its effects too).
        with api.db.read() as s:
            for row in s.scalars(select(OutcomeRow)):
                assert row.client_id in {b["client_id"] for b in bodies} and row.day_type == "workday"
    finally:
        api.server.stop()
        api.db.dispose()


def _job(db: Database, plan_id: str) -> PlanJob:
    with db.read() as s:
        job = s.get(PlanJob, plan_id)
        assert job is not None
        return job


def test_recovery_requeues_running_jobs_until_their_attempts_are_used(fresh: tuple[str, Path, Path]) -> None:
    """On start, a job left running with attempts to spare is queued again; one that used them all fails."""
    url, _, _ = fresh
    db = Database(url)
    db.migrate()
    try:
        with db.write() as s:
            for plan_id, status, attempts in (("spare", "running", 1), ("spent", "running", 2), ("wait", "queued", 0)):
                s.add(
                    PlanJob(
                        plan_id=plan_id,
                        status=status,
                        stage=status,
                        progress=0.5,
                        request={"date": "2026-12-02"},
                        attempts=attempts,
                        created_at=utcnow(),
                    )
                )
        env = PlanningEnv(
            region_for=lambda profiles: pytest.fail("recover() must not plan"),
            settings=None,  # type: ignore[arg-type]
            tiles="none",
            default_time_limit_s=1.0,
        )
        runner = JobRunner(db, env, workers=1, attempts=2)
        queued = runner.recover()
        runner.shutdown()
        assert sorted(queued) == ["spare", "wait"]
        assert _job(db, "spare").status == "queued" and _job(db, "spare").progress == 0.0
        spent = _job(db, "spent")
        assert spent.status == "failed" and spent.error is not None and spent.error["code"] == "interrupted"
    finally:
        db.dispose()


@pytest.mark.slow
def test_sigkill_during_a_job_then_restart_fails_it_and_runs_the_queued_one(fresh: tuple[str, Path, Path]) -> None:
    """A job running at SIGKILL is not left "running": with its one attempt used it fails as `interrupted`, and the
    job queued behind it runs to `done` on the restarted server."""
    url, osm, data = fresh
    api = start_api(osm, url, data)
    try:
        with api.client(api.supervisor) as c:
            c.post("/v1/cases", json=seed_cases(6))
            c.put("/v1/teams/T1", json=team_body())
            first = c.post("/v1/plans", json={"date": "2026-12-02", "time_limit_s": 2}).json()["plan_id"]
            second = c.post("/v1/plans", json={"date": "2026-12-02", "time_limit_s": 1}).json()["plan_id"]
            wait_for(lambda: c.get(f"/v1/plans/{first}").json()["status"] == "running", 60, "the job to run")
        api.server.kill()
        assert _job(api.db, first).status == "running"  # what a crash leaves behind
        assert _job(api.db, second).status == "queued"

        api.server = LiveServer(osm, url, data, {"DOORSTEP_JOB_ATTEMPTS": "1"}).start()
        with api.client(api.supervisor) as c:
            failed = c.get(f"/v1/plans/{first}").json()
            assert failed["status"] == "failed" and failed["error"]["code"] == "interrupted", failed
            done = wait_for(
                lambda: (s := c.get(f"/v1/plans/{second}").json())["status"] in ("done", "failed") and s, 90, "job 2"
            )
            assert done["status"] == "done", done
    finally:
        api.server.stop()
        api.db.dispose()


def test_rate_limit_and_cors_when_configured(osm_dir: Path, cache_dir: Path, tmp_path: Path) -> None:
    """Past its burst a credential gets 429 with Retry-After; CORS answers only a configured origin."""
    with make_database("sqlite", tmp_path) as url:
        env = {"DOORSTEP_RATE_LIMIT": "1", "DOORSTEP_RATE_BURST": "5", "DOORSTEP_CORS_ORIGINS": "https://ok.example"}
        api = start_api(osm_dir / AGUAS, url, tmp_path, env)
        try:
            with api.client(api.system) as c:
                codes = [c.get("/v1/cases/none").status_code for _ in range(8)]
                assert codes[:5] == [404] * 5 and 429 in codes[5:]
                limited = c.get("/v1/cases/none")
                assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
                assert limited.json()["error"]["code"] == "rate_limited"
            with api.client() as c:
                pre = {"Access-Control-Request-Method": "POST"}
                ok = c.options("/v1/outcomes", headers={"Origin": "https://ok.example", **pre})
                assert ok.headers.get("access-control-allow-origin") == "https://ok.example"
                bad = c.options("/v1/outcomes", headers={"Origin": "https://evil.example", **pre})
                assert "access-control-allow-origin" not in bad.headers
        finally:
            api.server.stop()
            api.db.dispose()
