"""Load benchmark of the HTTP API on a real server (uvicorn subprocess on loopback).

Measures, on SQLite and on PostgreSQL: ``POST /v1/outcomes`` throughput and latency at a fixed concurrency, the
officer map ``GET /m/{token}`` latency at 50 concurrent clients, and a plan job's turnaround (POST answer time,
then queued → done). Prints a table and writes JSON.

    python -m tests.benchmarks.bench_api --out test-artifacts/bench_api.json

The load generator (httpx, asyncio) runs on the same 2 cores as the server, so figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import AGUAS, PG_ADMIN_URL, make_database, seed_cases, start_api, team_body

OSM = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm" / AGUAS


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to separate cost from waiting on busy cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def load(url: str, requests: list[tuple[str, str, Any, dict[str, str]]], concurrency: int) -> dict[str, Any]:
    """Send ``requests`` with ``concurrency`` workers; latency per request and overall rate."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    queue: asyncio.Queue[tuple[str, str, Any, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                method, path, body, headers = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body, headers=headers)
                except httpx.TransportError as err:
                    errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - t0)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(requests),
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "per_second": round(len(requests) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "statuses": statuses,
        "transport_errors": errors,
    }


def bench(kind: str, outcomes: int, maps: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    with make_database(kind, tmp) as url:
        env = {"DOORSTEP_RATE_LIMIT": "1000000", "DOORSTEP_RATE_BURST": "1000000"}
        api = start_api(OSM, url, tmp, env)
        try:
            with api.client(api.supervisor) as c:
                c.post("/v1/cases", json=seed_cases(50))
                for team in ("T1", "T2", "T3"):
                    c.put(f"/v1/teams/{team}", json=team_body())
                t0 = time.perf_counter()
                answer = c.post("/v1/plans", json={"date": "2026-12-02", "time_limit_s": 5})
                post_ms = (time.perf_counter() - t0) * 1000
                plan_id = answer.json()["plan_id"]
                while (status := c.get(f"/v1/plans/{plan_id}").json())["status"] in ("queued", "running"):
                    time.sleep(0.05)
                turnaround = time.perf_counter() - t0
                assert status["status"] == "done", status
                c.post(f"/v1/plans/{plan_id}/approve")
                token = c.post(f"/v1/plans/{plan_id}/links").json()["T1"].rsplit("/m/", 1)[1]
            auth = {"Authorization": f"Bearer {api.system}"}
            bodies = [
                (
                    "POST",
                    "/v1/outcomes",
                    {
                        "client_id": str(uuid.uuid4()),
                        "team_id": "T1",
                        "officer_id": "li",
                        "case_id": f"C{i % 50:03d}",
                        "visited_at": "2026-12-02T18:10:00-06:00",
                        "result": "not_home",
                    },
                    auth,
                )
                for i in range(outcomes)
            ]
            assert api.server.process is not None
            pid = api.server.process.pid
            cpu0 = cpu_seconds(pid)
            post = asyncio.run(load(api.server.url, bodies, 32))
            cpu1 = cpu_seconds(pid)
            gets = [("GET", f"/m/{token}", None, {}) for _ in range(maps)]
            officer = asyncio.run(load(api.server.url, gets, 50))
            cpu2 = cpu_seconds(pid)
            post["server_cpu_ms_per_request"] = round((cpu1 - cpu0) / outcomes * 1000, 2)
            officer["server_cpu_ms_per_request"] = round((cpu2 - cpu1) / maps * 1000, 2)
        finally:
            api.server.stop()
            api.db.dispose()
    return {
        "database": kind,
        "outcome_post": post,
        "officer_map_get": officer,
        "plan_job": {"post_ms": round(post_ms, 1), "turnaround_s": round(turnaround, 2), "time_limit_s": 5},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench_api.json"))
    parser.add_argument("--outcomes", type=int, default=3000)
    parser.add_argument("--maps", type=int, default=2000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    os.environ.setdefault("DOORSTEP_CACHE_DIR", str(Path(".doorstep-cache").resolve()))
    results = [bench(kind, args.outcomes, args.maps) for kind in args.databases.split(",")]
    print(
        f"{'database':<11} {'POST/s':>8} {'POST p50':>9} {'POST p95':>9} {'POST cpu':>9} {'map p50':>8} "
        f"{'map p95':>8} {'map/s':>7} {'map cpu':>8} {'plan POST':>10} {'plan done':>10}"
    )
    for r in results:
        p, m, j = r["outcome_post"], r["officer_map_get"], r["plan_job"]
        print(
            f"{r['database']:<11} {p['per_second']:>8} {p['p50_ms']:>7}ms {p['p95_ms']:>7}ms "
            f"{p['server_cpu_ms_per_request']:>7}ms {m['p50_ms']:>6}ms {m['p95_ms']:>6}ms {m['per_second']:>7} "
            f"{m['server_cpu_ms_per_request']:>6}ms {j['post_ms']:>8}ms {j['turnaround_s']:>9}s"
        )
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "pg": PG_ADMIN_URL, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
