"""Planning jobs of the HTTP API on a Dask cluster (DOORSTEP_SCHEDULER): the same request, planned branch by
branch on the cluster's workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import AGUAS, Api, seed_cases, start_api, team_body, wait_for


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite is enough: the storage paths run on both databases in test_http.py."""
    return "sqlite"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real Dask distributed cluster of two worker processes."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def api_on_cluster(
    osm_dir: Path, cache_dir: Path, database_url: str, cluster: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    started = start_api(
        osm_dir / AGUAS, database_url, tmp_path_factory.mktemp("server"), env={"DOORSTEP_SCHEDULER": cluster}
    )
    yield started
    started.server.stop()
    started.db.dispose()


def test_plan_job_runs_its_branches_on_the_cluster(api_on_cluster: Api) -> None:
    """Two branches with a team each: the job is planned on the cluster and accounts for every case once."""
    api = api_on_cluster
    north = [{**row, "branch": "north"} for row in seed_cases(6, prefix="N")]
    south = [{**row, "branch": "south"} for row in seed_cases(6, prefix="S")]
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=north + south).json()["rejected"] == []
    with api.client(api.supervisor) as c:
        for team, branch in (("TN", "north"), ("TS", "south")):
            assert c.put(f"/v1/teams/{team}", json={**team_body(), "branch": branch}).status_code in (200, 201)
        plan_id = c.post("/v1/plans", json={"date": "2026-12-02", "time_limit_s": 2, "seed": 1}).json()["plan_id"]
        status = wait_for(
            lambda: (s := c.get(f"/v1/plans/{plan_id}").json())["status"] in ("done", "failed") and s, 180, "the job"
        )
        assert status["status"] == "done", status
        result = c.get(f"/v1/plans/{plan_id}/result").json()
    assert result["summary"]["solver"]["status"] == "2 of 2 partitions solved"  # planned branch by branch
    seen = [s["case_id"] for t in result["teams"] for s in t["stops"]]
    seen += [d["case_id"] for d in result["dropped"]] + [u["case_id"] for u in result["unresolved"]]
    assert sorted(seen) == sorted(r["case_id"] for r in north + south)
    for team in result["teams"]:
        prefix = "N" if team["team_id"] == "TN" else "S"
        assert all(s["case_id"].startswith(prefix) for s in team["stops"])
