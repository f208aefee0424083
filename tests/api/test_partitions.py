"""A day split by branch: planned on a local process pool and on a real Dask LocalCluster, merged into one plan,
with a failing branch retried, reported and its cases kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.partitions import PARTITION_FAILED, merge_partitions, run_partitions, split_by_branch
from api.service import Region
from api.settings import DaySettings, legal_window
from api.synthetic import CASE_COLUMNS, synthetic_case_rows, write_rows
from routing.model import Case, Team, TimeWindow

DAY = dt.date(2026, 12, 1)
SETTINGS = DaySettings(timezone="Europe/Copenhagen", country="DK", legal=legal_window())
BRANCHES = ("north", "centre", "south")
CASES_PER_BRANCH = 10


@pytest.fixture(scope="module")
def region(osm_dir: Path, cache_dir: Path) -> Region:
    """Copenhagen, built once into the run's cache (the workers then read it from there)."""
    return Region.load(osm_dir / "copenhagen_kbh.osm.pbf", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def day(region: Region) -> tuple[list[Case], list[Team]]:
    """Three branches, each a team of two and ten cases at real addresses around its own depot."""
    records = sorted(region.geocoder.records, key=lambda r: r.location.lat)
    cases: list[Case] = []
    teams: list[Team] = []
    band = len(records) // len(BRANCHES)
    for b, branch in enumerate(BRANCHES):
        own = records[b * band : (b + 1) * band]
        depot = own[len(own) // 2].location
        teams.append(Team(f"T-{branch}", ("a", "b"), depot, depot, TimeWindow(9 * 3600, 17 * 3600), branch=branch))
        step = len(own) // CASES_PER_BRANCH
        for k in range(CASES_PER_BRANCH):
            rec = own[k * step + step // 2]
            cases.append(Case(f"{branch}-{k}", f"P-{branch}-{k}", rec.label, rec.location, branch=branch))
    return cases, teams


def tasks_for(region: Region, cases: list[Case], teams: list[Team], cache_dir: Path, osm: Path | None = None):  # type: ignore[no-untyped-def]
    return split_by_branch(
        cases, teams, osm_path=osm or region.osm_path, cache_dir=cache_dir, date=DAY, settings=SETTINGS,
        time_limit_s=1.0, seed=3,
    )  # fmt: skip


def test_split_by_branch_keeps_every_case_and_team_once(
    region: Region, day: tuple[list[Case], list[Team]], cache_dir: Path
) -> None:
    """Each branch's cases and teams go to its own task; nothing is left out or duplicated."""
    cases, teams = day
    tasks = tasks_for(region, cases, teams, cache_dir)
    assert [t.branch for t in tasks] == sorted(BRANCHES)
    assert sorted(c.case_id for t in tasks for c in t.cases) == sorted(c.case_id for c in cases)
    for task in tasks:
        assert {c.branch for c in task.cases} == {task.branch} == {t.branch for t in task.teams}


def test_local_pool_plans_each_branch_and_merges(
    region: Region, day: tuple[list[Case], list[Team]], cache_dir: Path
) -> None:
    """On two local processes every branch is planned, every case appears once, teams stay in their branch."""
    cases, teams = day
    seen: list[tuple[int, int]] = []
    tasks = [dataclasses.replace(t, maps=("zh-CN", "none")) for t in tasks_for(region, cases, teams, cache_dir)]
    results = run_partitions(tasks, workers=2, done=lambda r, n, total: seen.append((n, total)))
    assert [r.error for r in results] == [None, None, None]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert len({r.worker for r in results}) >= 1 and all(r.peak_rss_mb > 50 for r in results)
    run = merge_partitions(results, cases, teams, DAY, SETTINGS.timezone)
    plan = run.plan
    assert run.violations == []
    # Each branch's worker rendered its teams' maps (in the language asked for); the merge keeps them.
    assert sorted(run.team_pages) == sorted(t.team_id for t in teams)
    assert all('<html lang="zh-CN">' in page and "leaflet" in page for page in run.team_pages.values())
    ids = [v.case_id for r in plan.routes for v in r.visits]
    ids += [d.case_id for d in plan.dropped] + [u.case_id for u in plan.unresolved]
    assert sorted(ids) == sorted(c.case_id for c in cases)
    assert [r.team.team_id for r in plan.routes] == [t.team_id for t in teams]
    for route in plan.routes:
        assert all(v.case_id.startswith(route.team.branch or "?") for v in route.visits)
    assert plan.planned >= 15


def test_a_failing_branch_is_retried_reported_and_its_cases_kept(
    region: Region, day: tuple[list[Case], list[Team]], cache_dir: Path, tmp_path: Path
) -> None:
    """A branch whose extract cannot be read fails on both attempts; the others are planned, and its cases come
    back dropped with partition_failed and the error."""
    cases, teams = day
    tasks = tasks_for(region, cases, teams, cache_dir)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protobuf")
    tasks[1] = tasks_for(region, list(tasks[1].cases), list(tasks[1].teams), cache_dir, osm=broken)[0]
    results = run_partitions(tasks, workers=2, retries=1)
    assert [r.run is None for r in results] == [False, True, False]
    assert results[1].attempts == 2 and results[1].error
    run = merge_partitions(results, cases, teams, DAY, SETTINGS.timezone)
    failed = [d for d in run.plan.dropped if d.code == PARTITION_FAILED]
    assert sorted(d.case_id for d in failed) == sorted(c.case_id for c in tasks[1].cases)
    assert all(tasks[1].branch in d.message for d in failed)
    assert run.plan.solver.status == "2 of 3 partitions solved"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real Dask distributed cluster of two worker processes on this machine."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local.scheduler_address


def test_same_day_on_a_dask_cluster(
    region: Region, day: tuple[list[Case], list[Team]], cache_dir: Path, cluster: str
) -> None:
    """The same call against a scheduler address plans every branch on the cluster's workers."""
    cases, teams = day
    results = run_partitions(tasks_for(region, cases, teams, cache_dir), scheduler=cluster)
    assert [r.error for r in results] == [None, None, None]
    assert all(r.worker and r.worker.split(":")[1] != str(os.getpid()) for r in results)
    run = merge_partitions(results, cases, teams, DAY, SETTINGS.timezone)
    assert run.violations == [] and run.plan.planned >= 15


def test_plan_command_with_scheduler(
    region: Region, day: tuple[list[Case], list[Team]], cluster: str, tmp_path: Path
) -> None:
    """`doorstep plan --scheduler ADDR` plans a multi-branch day on the cluster and writes one plan and overview."""
    cases, teams = day
    rows = synthetic_case_rows(region.geocoder.records, len(cases), seed=5)
    for row, case in zip(rows, cases, strict=True):
        assert case.location is not None
        row.update(case_id=case.case_id, address=case.address, branch=case.branch)
        row.update(lat=case.location.lat, lon=case.location.lon)
    write_rows(tmp_path / "cases.csv", rows, (*CASE_COLUMNS, "branch"))
    lines = ["team_id,members,start_lat,start_lon,shift_start,shift_end,branch"]
    lines += [f"{t.team_id},a;b,{t.start.lat},{t.start.lon},09:00,17:00,{t.branch}" for t in teams]
    (tmp_path / "teams.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable, "-m", "api", "plan", "--osm", str(region.osm_path),
            "--cases", str(tmp_path / "cases.csv"), "--teams", str(tmp_path / "teams.csv"),
            "--date", DAY.isoformat(), "--out", str(tmp_path / "out"), "--time-limit", "1", "--tiles", "none",
            "--scheduler", cluster,
        ],
        capture_output=True, text=True, timeout=600, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert [t["team_id"] for t in plan["teams"]] == [t.team_id for t in teams]
    assert plan["summary"]["cases"] == len(cases)
    assert (tmp_path / "out" / "index.html").is_file()
    # The branch workers render the team maps: with --tiles none they draw the roads of the plan's network.
    for team in plan["teams"]:
        page = (tmp_path / "out" / "maps" / f"{team['team_id']}.html").read_text(encoding="utf-8")
        assert "Doorstep.addRoads(" in page
