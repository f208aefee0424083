"""Schemathesis against the live server: generated requests (valid and invalid) find no 5xx and no response that
breaks the OpenAPI schema."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import AGUAS, Api, make_database, seed_cases, start_api, team_body, wait_for


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A server of its own (plans capped at 1 s of solving, no rate limit to speak of), seeded with a done plan."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with make_database(request.param, tmp) as url:
        env = {"DOORSTEP_MAX_TIME_LIMIT": "1", "DOORSTEP_TIME_LIMIT": "0.5", "DOORSTEP_RATE_LIMIT": "100000"}
        api = start_api(osm_dir / AGUAS, url, tmp, env)
        with api.client(api.supervisor) as c:
            c.post("/v1/cases", json=seed_cases(6))
            c.put("/v1/teams/T1", json=team_body())
            seed_plan = c.post("/v1/plans", json={"date": "2026-12-02", "seed": 1}).json()["status_url"]
            wait_for(lambda: c.get(seed_plan).json()["status"] == "done", 60, "the seed plan")
        yield api
        api.server.stop()
        api.db.dispose()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_or_schema_violation(fuzzed: Api, tmp_path: Path) -> None:
    """`schemathesis run` exits 0 with the checks not_a_server_error, response_schema_conformance and
    content_type_conformance over every operation of /openapi.json."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{fuzzed.server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {fuzzed.supervisor}",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "7",
        "--workers",
        "2",
        "--no-color",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report + "\n--- server log ---\n" + fuzzed.server.log()[-4000:]
    assert "passed" in result.stdout.lower() or "success" in result.stdout.lower(), report
