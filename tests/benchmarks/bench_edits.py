"""Plan edits through the HTTP API: a 20-team day on the Copenhagen extract, then ``PATCH /v1/plans/{id}`` edits
(pin, move at a position, remove, add, and all four at once), each timed from request to the re-optimised,
re-checked plan coming back. Prints a table and writes JSON.

    python -m tests.benchmarks.bench_edits --out test-artifacts/bench_edits.json

Server (uvicorn subprocess on loopback) and client share the machine's 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from api.synthetic import synthetic_case_rows
from geo import load_network
from geo.geocoder import OfflineGeocoder
from tests.api.conftest import make_database, start_api

OSM = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"
DATE = "2026-12-01"


def field_rows(n_cases: int, n_teams: int, seed: int, cache_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Case rows at distinct real addresses (with their points) and 20 team bodies (09-18 and 12-21, lunch)."""
    network = load_network(OSM, profile="car", cache_dir=cache_dir)
    records = OfflineGeocoder.from_osm(OSM, cache_dir=cache_dir).records
    ok = network.snap([r.location for r in records]).ok_mask()
    usable = [r for r, good in zip(records, ok, strict=True) if good]
    by_label = {r.label: r for r in usable}
    rows = synthetic_case_rows(usable, n_cases, seed=seed)
    for row in rows:
        point = by_label[row["address"]].location
        row["lat"], row["lon"] = point.lat, point.lon
    cases = [{k: v for k, v in r.items() if v != ""} for r in rows]
    rng = np.random.default_rng(seed + 1000)
    depots = [usable[int(k)].location for k in rng.choice(len(usable), size=max(1, n_teams // 5), replace=False)]
    teams = {}
    for k in range(n_teams):
        early = k % 2 == 0
        depot = depots[k % len(depots)]
        teams[f"T{k + 1:02d}"] = {
            "members": [f"o{2 * k}", f"o{2 * k + 1}"],
            "start_lat": depot.lat,
            "start_lon": depot.lon,
            "shift_start": "09:00" if early else "12:00",
            "shift_end": "18:00" if early else "21:00",
            "break_start": "12:00" if early else "16:00",
            "break_end": "14:00" if early else "18:00",
            "break_min": 30,
        }
    return cases, teams


def stops(result: dict[str, Any], team: str) -> list[str]:
    return [s["case_id"] for t in result["teams"] if t["team_id"] == team for s in t["stops"]]


def bench(kind: str, n_cases: int, n_teams: int, rounds: int, cache_dir: Path) -> dict[str, Any]:
    cases, teams = field_rows(n_cases, n_teams, 1, cache_dir)
    planned_ids = [c["case_id"] for c in cases[: n_cases - rounds * 2]]
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-edits-{kind}-"))
    timings: list[dict[str, Any]] = []
    with make_database(kind, tmp) as url:
        env = {"DOORSTEP_RATE_LIMIT": "1000000", "DOORSTEP_RATE_BURST": "1000000"}
        api = start_api(OSM, url, tmp, env)
        try:
            with api.client(api.supervisor) as c:
                assert c.post("/v1/cases", json=cases).json()["rejected"] == []
                for team_id, body in teams.items():
                    assert c.put(f"/v1/teams/{team_id}", json=body).status_code in (200, 201)
                plan_id = c.post("/v1/plans", json={"date": DATE, "time_limit_s": 20, "case_ids": planned_ids}).json()[
                    "plan_id"
                ]
                while (status := c.get(f"/v1/plans/{plan_id}").json())["status"] in ("queued", "running"):
                    time.sleep(0.2)
                assert status["status"] == "done", status
                result = c.get(f"/v1/plans/{plan_id}/result").json()
                planned = sum(len(t["stops"]) for t in result["teams"])
                spare = [c["case_id"] for c in cases[n_cases - rounds * 2 :]]
                for k in range(rounds):
                    for name in ("pin", "move", "remove", "add", "all four"):
                        # Each edit is made on the plan as the previous one left it.
                        busy = [t["team_id"] for t in result["teams"] if len(t["stops"]) >= 3]
                        a, b = busy[k % len(busy)], busy[(k + 1) % len(busy)]
                        sa, sb = stops(result, a), stops(result, b)
                        edits = {
                            "pin": [{"op": "pin", "case_id": sa[0], "team_id": b}],
                            "move": [{"op": "move", "case_id": sa[1], "team_id": b, "position": 2}],
                            "remove": [{"op": "remove", "case_id": sb[-1]}],
                            "add": [{"op": "add", "case_id": spare[2 * k]}],
                            "all four": [
                                {"op": "pin", "case_id": sb[0], "team_id": a},
                                {"op": "move", "case_id": sa[-1], "team_id": b, "position": 1},
                                {"op": "remove", "case_id": sa[1]},
                                {"op": "add", "case_id": spare[2 * k + 1], "team_id": a},
                            ],
                        }[name]
                        t0 = time.perf_counter()
                        r = c.patch(f"/v1/plans/{plan_id}", json={"edits": edits})
                        elapsed = time.perf_counter() - t0
                        timings.append({"edit": name, "status": r.status_code, "seconds": round(elapsed, 3)})
                        if r.status_code == 200:
                            result = r.json()
                        else:
                            timings[-1]["error"] = r.json()["error"]
                            result = c.get(f"/v1/plans/{plan_id}/result").json()
        finally:
            api.server.stop()
            api.db.dispose()
    ok = [t["seconds"] for t in timings if t["status"] == 200]
    return {
        "database": kind,
        "cases": n_cases,
        "teams": n_teams,
        "planned": planned,
        "edits": timings,
        "ok": len(ok),
        "median_s": round(statistics.median(ok), 3) if ok else None,
        "max_s": round(max(ok), 3) if ok else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench_edits.json"))
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    cache_dir = Path(os.environ.get("DOORSTEP_CACHE_DIR") or ".doorstep-cache").resolve()
    os.environ["DOORSTEP_CACHE_DIR"] = str(cache_dir)
    load_before = os.getloadavg()
    results = [bench(kind, args.cases, args.teams, args.rounds, cache_dir) for kind in args.databases.split(",")]
    print(f"{'database':<11} {'cases':>6} {'teams':>6} {'planned':>8} {'edits ok':>9} {'median':>8} {'max':>8}")
    for r in results:
        print(
            f"{r['database']:<11} {r['cases']:>6} {r['teams']:>6} {r['planned']:>8} {r['ok']:>4}/{len(r['edits']):<4} "
            f"{r['median_s']:>7}s {r['max_s']:>7}s"
        )
        print(
            "   "
            + ", ".join(
                f"{t['edit']} {t['seconds']}s" + ("" if t["status"] == 200 else f" ({t['status']} {t.get('error')})")
                for t in r["edits"]
            )
        )
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
