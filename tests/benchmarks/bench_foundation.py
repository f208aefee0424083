"""Foundation figures: demo wall time, Copenhagen graph build (cold, cached), a 1000x1000 matrix, a 200-case day.

Run from the repository root with the venv active:

    python tests/benchmarks/bench_foundation.py --out tests/benchmarks/results/foundation.json

Prints a table and writes the figures as JSON. Each stage runs in a fresh process where a cold start matters.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT.parent / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "foundation.json")
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    env = {**os.environ, "DOORSTEP_CACHE_DIR": str(cache)}
    figures: dict[str, float] = {}

    load = (
        "from geo import load_network; import time; t = time.perf_counter(); "
        f"load_network({str(OSM)!r}); print(time.perf_counter() - t)"
    )
    for label in ("graph_build_cold_s", "graph_from_cache_s"):
        out = subprocess.run(
            [sys.executable, "-c", load], check=True, env=env, cwd=ROOT, capture_output=True, text=True
        )
        figures[label] = float(out.stdout.strip().splitlines()[-1])

    os.environ["DOORSTEP_CACHE_DIR"] = str(cache)
    from geo import load_network

    net = load_network(OSM)
    rng = np.random.default_rng(0)
    from geo.geocoder import OfflineGeocoder

    # Real addresses of the extract that lie on the routed network (not on islands or far off the roads).
    addresses = [r.location for r in OfflineGeocoder.from_osm(OSM).records]
    routable = np.flatnonzero(net.snap(addresses).ok_mask())
    snap_pool = [addresses[int(i)] for i in routable]
    picks = rng.choice(len(snap_pool), size=1000, replace=False)
    points = [snap_pool[int(i)] for i in picks]
    net.matrix(points[:10])  # warm-up: imports and lazy structures
    started = time.perf_counter()
    matrix = net.matrix(points)
    figures["matrix_1000x1000_s"] = time.perf_counter() - started
    figures["matrix_finite_share"] = float(np.isfinite(matrix).mean())

    work = Path(tempfile.mkdtemp(prefix="doorstep-day-"))
    from api.synthetic import CASE_COLUMNS, synthetic_case_rows, write_rows
    from geo.geocoder import OfflineGeocoder

    geocoder = OfflineGeocoder.from_osm(OSM)
    write_rows(work / "cases.csv", synthetic_case_rows(geocoder.records, 200, seed=11), CASE_COLUMNS)
    depot = geocoder.records[len(geocoder.records) // 2].location
    (work / "teams.csv").write_text(
        "team_id,members,start_lat,start_lon,shift_start,shift_end,break_start,break_end,break_min\n"
        + "".join(
            f"T{k},a;b,{depot.lat},{depot.lon},{s},{e},{bs},{be},{bm}\n"
            for k, (s, e, bs, be, bm) in enumerate(
                [
                    ("06:00", "23:30", "12:00", "14:00", "30"),
                    ("09:00", "18:00", "12:00", "13:30", "30"),
                    ("12:00", "21:00", "16:00", "18:00", "30"),
                    ("09:00", "17:00", "", "", ""),
                    ("13:00", "22:00", "", "", ""),
                ],
                start=1,
            )
        ),
        encoding="utf-8",
    )
    plan_cmd = [
        sys.executable, "-m", "api", "plan", "--osm", str(OSM), "--cases", str(work / "cases.csv"),
        "--teams", str(work / "teams.csv"), "--date", "2026-12-01", "--out", str(work / "out"),
        "--time-limit", "10",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(plan_cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    figures["plan_200_cases_5_teams_wall_s"] = time.perf_counter() - started
    plan = json.loads((work / "out" / "plan.json").read_text(encoding="utf-8"))
    figures["plan_200_planned"] = plan["summary"]["planned"]
    figures["plan_200_expected_contacts"] = plan["summary"]["expected_contacts"]
    figures["plan_200_solver_s"] = plan["summary"]["solver"]["time_s"]

    demo_env = {**env, "DOORSTEP_CACHE_DIR": tempfile.mkdtemp(prefix="doorstep-demo-cache-")}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "api", "demo", "--out", str(work / "demo"), "--date", "2026-12-01"],
        check=True,
        env=demo_env,
        cwd=ROOT,
        capture_output=True,
    )
    figures["demo_wall_cold_cache_s"] = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "api", "demo", "--out", str(work / "demo"), "--date", "2026-12-01"],
        check=True,
        env=demo_env,
        cwd=ROOT,
        capture_output=True,
    )
    figures["demo_wall_warm_cache_s"] = time.perf_counter() - started

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        **figures,
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:10.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
