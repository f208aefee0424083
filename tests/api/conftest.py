"""A real API server for the tests: `doorstep serve` in a subprocess (uvicorn on loopback) over a real SQLite file
or a real PostgreSQL database made for the session and dropped after it."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from api import store
from api.db import Database

PG_ADMIN_URL = os.environ.get("DOORSTEP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "test-signing-secret-" + "x" * 32
AGUAS = "aguascalientes.osm.pbf"
# Aguascalientes extract: a depot and case points near its centre (21.8697 N, 102.2737 W).
DEPOT = (21.8697, -102.2737)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """One `doorstep serve` process; ``kill()`` sends SIGKILL, ``stop()`` a graceful SIGTERM."""

    osm: Path
    db_url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> LiveServer:
        self.port = free_port()
        env = {
            **os.environ,
            "DOORSTEP_DATA_DIR": str(self.data_dir),
            "DOORSTEP_TILES": "none",
            "DOORSTEP_SECRET": SECRET,
            "DOORSTEP_LOG_LEVEL": "WARNING",
            **self.env,
        }
        log = (self.data_dir / f"server-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api",
                "serve",
                "--osm",
                str(self.osm),
                "--port",
                str(self.port),
                "--db",
                self.db_url,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the child has its own copy of the descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"server did not answer /healthz within {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return (self.data_dir / f"server-{self.port}.log").read_text(errors="replace")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _pg_admin() -> Any:
    import psycopg

    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server's admin URL; the tests fail (not skip) when none answers."""
    try:
        with _pg_admin() as conn:
            conn.execute("SELECT 1")
    except Exception as err:
        pytest.fail(f"no PostgreSQL at {PG_ADMIN_URL} ({err}); .ci/run starts one")
    return PG_ADMIN_URL


@contextmanager
def make_database(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh, empty database URL of ``kind`` (dropped afterwards for PostgreSQL)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'doorstep.sqlite3'}"
        return
    name = f"doorstep_test_{secrets.token_hex(6)}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Api:
    """A running server with a key of each role and the seeded ids."""

    server: LiveServer
    db: Database
    system: str
    supervisor: str

    def client(self, key: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=60.0, **kw)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each API test module runs once per database."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    return str(request.param)


@pytest.fixture(scope="module")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with make_database(backend, tmp_path_factory.mktemp(f"db-{backend}")) as url:
        yield url


def start_api(osm: Path, url: str, data_dir: Path, env: dict[str, str] | None = None) -> Api:
    """Migrate, make one key per role, and start a server."""
    db = Database(url)
    db.migrate()
    system = store.create_key(db, "system", "tests")
    supervisor = store.create_key(db, "supervisor", "tests")
    server = LiveServer(osm, url, data_dir, env or {}).start()
    return Api(server, db, system, supervisor)


@pytest.fixture(scope="module")
def api(osm_dir: Path, cache_dir: Path, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A live server over the module's database (Aguascalientes extract)."""
    started = start_api(osm_dir / AGUAS, database_url, tmp_path_factory.mktemp("server"))
    yield started
    started.server.stop()
    started.db.dispose()


def seed_cases(n: int, prefix: str = "C") -> list[dict[str, Any]]:
    """``n`` cases on a small grid around the depot (about 150 m apart), with phones and amounts."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "case_id": f"{prefix}{i:03d}",
                "customer_id": f"P{prefix}{i:03d}",
                "lat": round(DEPOT[0] + 0.0014 * (i % 5 - 2), 6),
                "lon": round(DEPOT[1] + 0.0014 * (i // 5 - 2), 6),
                "phone": f"+52 449 555 {1000 + i}",
                "overdue_amount": 98765.5 + i,
                "overdue_days": 30 + i,
                "segment": "retired" if i % 2 else "employed",
            }
        )
    return rows


def team_body(shift: tuple[str, str] = ("09:00", "21:00")) -> dict[str, Any]:
    return {
        "members": ["li", "wang"],
        "start_lat": DEPOT[0],
        "start_lon": DEPOT[1],
        "shift_start": shift[0],
        "shift_end": shift[1],
    }


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def headless_chromium(*arguments: str) -> Iterator[webdriver.Chrome]:
    """Real headless Chromium (Debian's chromium and chromedriver) with the project's flags, browser logs kept."""
    import shutil

    from maps.pdf import CHROMIUM_FLAGS

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.fail("chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, *arguments):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def approved_officer_link(api: Api, team_id: str, prefix: str, cases: int, date: str) -> tuple[str, list[str]]:
    """Cases ``{prefix}000…`` and team ``team_id`` stored, a plan for ``date`` made and approved; the team's
    officer link (absolute URL) and its stops in order."""
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(cases, prefix=prefix)).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        assert c.put(f"/v1/teams/{team_id}", json=team_body()).status_code in (200, 201)
        plan_id = c.post("/v1/plans", json={"date": date, "time_limit_s": 2, "seed": 1}).json()["plan_id"]
        wait_for(lambda: c.get(f"/v1/plans/{plan_id}").json()["status"] == "done", 90, "the plan")
        result = c.get(f"/v1/plans/{plan_id}/result").json()
        assert c.post(f"/v1/plans/{plan_id}/approve").status_code == 200
        link = str(c.post(f"/v1/plans/{plan_id}/links").json()[team_id])
    stops = [s["case_id"] for t in result["teams"] if t["team_id"] == team_id for s in t["stops"]]
    assert len(stops) >= 2
    return (link if link.startswith("http") else api.server.url.rstrip("/") + link), stops
