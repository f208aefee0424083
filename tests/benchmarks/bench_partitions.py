"""Province-scale day: 20 branches x 5 teams x 300 open cases on 20 territories of the Copenhagen extract,
planned branch by branch on 1 and 2 local worker processes and on a 2-worker Dask LocalCluster.

Run from the repository root with the venv active (takes a few minutes):

    python tests/benchmarks/bench_partitions.py --time-limit 5 --out tests/benchmarks/results/partitions.json

Prints a table and writes per-run and per-partition figures (wall time, time to load the region from the cache,
peak resident memory of the worker process) as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from scipy.cluster.vq import kmeans2

from api.partitions import PartitionResult, merge_partitions, run_partitions, split_by_branch
from api.service import Region
from api.settings import DaySettings, legal_window
from routing.model import Break, Case, Team, TimeWindow

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT.parent / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"
H = 3600
SHIFTS = ((9, 18), (9, 18), (12, 21), (12, 21), (10, 19))


def province_day(region: Region, branches: int, teams_per_branch: int, cases_per_branch: int, seed: int):  # type: ignore[no-untyped-def]
    """Territories by k-means over the extract's routable addresses; each branch gets the cases nearest its
    centre and teams starting from its most central address."""
    records = region.geocoder.records
    snap = next(iter(region.networks.values())).snap([r.location for r in records])
    usable = [r for r, ok in zip(records, snap.ok_mask(), strict=True) if ok]
    xy = np.array([[r.location.lat, r.location.lon] for r in usable])
    centres, labels = kmeans2(xy, branches, seed=seed, minit="++")
    rng = np.random.default_rng(seed)
    segments = ("employed", "retired", "unemployed", "self_employed", "shift_worker", "unknown")
    cases: list[Case] = []
    teams: list[Team] = []
    for b in range(branches):
        branch = f"B{b + 1:02d}"
        members = np.flatnonzero(labels == b)
        if members.size < cases_per_branch:  # a small territory borrows its nearest addresses
            dist = np.hypot(*(xy - centres[b]).T)
            members = np.argsort(dist)[: cases_per_branch * 2]
        chosen = rng.choice(members, size=cases_per_branch, replace=False)
        depot = usable[int(members[np.argmin(np.hypot(*(xy[members] - centres[b]).T))])].location
        for k in range(teams_per_branch):
            start, end = SHIFTS[k % len(SHIFTS)]
            lunch = Break(TimeWindow((start + 3) * H, (start + 5) * H), 30 * 60)
            teams.append(
                Team(
                    f"{branch}-T{k + 1}", ("a", "b"), depot, depot, TimeWindow(start * H, end * H), lunch, branch=branch
                )
            )
        for k, i in enumerate(chosen):
            rec = usable[int(i)]
            cases.append(
                Case(
                    f"{branch}-C{k:03d}", f"{branch}-P{k:03d}", rec.label, rec.location,
                    segment=str(rng.choice(segments)), overdue_amount=float(rng.integers(500, 20000)),
                    overdue_days=int(rng.integers(30, 360)), branch=branch,
                )
            )  # fmt: skip
    return cases, teams


def summarise(label: str, results: list[PartitionResult], wall: float) -> dict[str, object]:
    ok = [r for r in results if r.run is not None]
    return {
        "run": label,
        "wall_s": wall,
        "partitions_ok": len(ok),
        "partitions_failed": len(results) - len(ok),
        "partition_s_median": statistics.median(r.seconds for r in ok),
        "partition_s_max": max(r.seconds for r in ok),
        "load_region_s_median": statistics.median(r.load_seconds for r in ok),
        "worker_peak_rss_mb_max": max(r.peak_rss_mb for r in ok),
        "workers": sorted({r.worker for r in ok}),
        "planned": sum(r.run.plan.planned for r in ok if r.run is not None),
        "violations": sum(len(r.run.violations) for r in ok if r.run is not None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--teams", type=int, default=5)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "partitions.json")
    args = parser.parse_args()
    cache = Path(os.environ.setdefault("DOORSTEP_CACHE_DIR", str(Path.home() / ".cache" / "doorstep")))
    region = Region.load(OSM, cache_dir=cache)
    cases, teams = province_day(region, args.branches, args.teams, args.cases, seed=7)
    settings = DaySettings(timezone="Europe/Copenhagen", country="DK", legal=legal_window())
    date = dt.date(2026, 12, 1)
    tasks = split_by_branch(
        cases, teams, osm_path=OSM, cache_dir=cache, date=date, settings=settings,
        time_limit_s=args.time_limit, seed=None,
    )  # fmt: skip
    runs = []
    for label, kwargs in (("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2})):
        started = time.perf_counter()
        results = run_partitions(tasks, **kwargs)  # type: ignore[arg-type]
        runs.append(summarise(label, results, time.perf_counter() - started))
        print(runs[-1])

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        started = time.perf_counter()
        results = run_partitions(tasks, scheduler=cluster.scheduler_address)
        runs.append(summarise("Dask LocalCluster, 2 workers", results, time.perf_counter() - started))
        print(runs[-1])
    started = time.perf_counter()
    merged = merge_partitions(results, cases, teams, date, settings.timezone)
    merge_s = time.perf_counter() - started

    speedup = float(runs[0]["wall_s"]) / float(runs[1]["wall_s"])  # type: ignore[arg-type]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1min_at_end": os.getloadavg()[0],
        "day": {"branches": args.branches, "teams": len(teams), "cases": len(cases), "time_limit_s": args.time_limit},
        "runs": runs,
        "speedup_2_vs_1_local": speedup,
        "merge_s": merge_s,
        "merged_planned": merged.plan.planned,
    }
    print(f"speed-up with 2 local workers: {speedup:.2f}x; merged plan: {merged.plan.planned} visits")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
