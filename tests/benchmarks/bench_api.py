"""Load benchmark of the HTTP API on a real server (uvicorn subprocess on loopback).

Measures, on SQLite and on PostgreSQL: ``POST /v1/outcomes`` throughput and latency at a fixed concurrency, the
officer map ``GET /m/{token}`` latency at 50 concurrent clients, and a plan job's turnaround (POST answer time,
then queued → done). Prints a table and writes JSON.

    python -m tests.benchmarks.bench_api --out test-artifacts/bench_api.json

The load generator is wrk (C, with a Lua script that gives every POST its own client_id) when it is installed,
else httpx on asyncio (``--load-tool httpx``), which costs more CPU per request than the server itself. Either
runs on the same 2 cores as the server, so the wall-clock figures are a floor; the server's CPU per request is
not affected by how busy the machine is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from api import store
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


# Every request gets its own client_id: a per-thread random prefix, the thread number and a counter.
WRK_POST = """
local counter, threads, prefix = 0, 0, ""
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  math.randomseed(os.time() * 1000 + tid)
  prefix = string.format("%08x-%04x-4%03x", math.random(0, 0x7fffffff), tid, math.random(0, 0xfff))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end
function request()
  counter = counter + 1
  local body = string.format('{"client_id":"%s-8%03x-%012x","team_id":"T1","officer_id":"li","case_id":"C%03d",'
    .. '"visited_at":"2026-12-02T18:10:00-06:00","result":"not_home"}', prefix, counter % 4096, counter, counter % 50)
  return wrk.format(nil, "/v1/outcomes", nil, body)
end
"""
WRK_DONE = """
function done(summary, latency, requests)
  io.write(string.format("BENCH requests=%d us=%d non2xx=%d sockerr=%d p50=%d p95=%d p99=%d mean=%d\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def wrk(url: str, path: str, concurrency: int, seconds: float, post_key: str | None) -> dict[str, Any]:
    """``seconds`` of load by wrk with ``concurrency`` connections on 2 threads (outcome posts when ``post_key``)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text((WRK_POST if post_key else "") + WRK_DONE)
        env = {**os.environ, "BENCH_KEY": post_key or ""}
        command = ["wrk", "-t2", f"-c{concurrency}", f"-d{round(seconds)}s", "-s", str(script), url + path]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    found = re.search(r"BENCH (.*)", out)
    assert found, out
    v = {k: int(x) for k, x in (item.split("=") for item in found.group(1).split())}
    return {
        "requests": v["requests"],
        "concurrency": concurrency,
        "seconds": round(v["us"] / 1e6, 2),
        "per_second": round(v["requests"] / (v["us"] / 1e6), 1),
        "p50_ms": round(v["p50"] / 1000, 1),
        "p95_ms": round(v["p95"] / 1000, 1),
        "p99_ms": round(v["p99"] / 1000, 1),
        "mean_ms": round(v["mean"] / 1000, 1),
        "non_2xx": v["non2xx"],
        "transport_errors": v["sockerr"],
    }


def bench(kind: str, outcomes: int, maps: int, tool: str, seconds: float) -> dict[str, Any]:
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
            load0, cpu0 = os.getloadavg()[0], cpu_seconds(pid)
            if tool == "wrk":
                post = wrk(api.server.url, "/v1/outcomes", 32, seconds, api.system)
            else:
                post = asyncio.run(load(api.server.url, bodies, 32))
            load1, cpu1 = os.getloadavg()[0], cpu_seconds(pid)
            if tool == "wrk":
                officer = wrk(api.server.url, f"/m/{token}", 50, seconds, None)
            else:
                gets: list[tuple[str, str, Any, dict[str, str]]] = [("GET", f"/m/{token}", None, {})] * maps
                officer = asyncio.run(load(api.server.url, gets, 50))
            load2, cpu2 = os.getloadavg()[0], cpu_seconds(pid)
            post["server_cpu_ms_per_request"] = round((cpu1 - cpu0) / post["requests"] * 1000, 2)
            officer["server_cpu_ms_per_request"] = round((cpu2 - cpu1) / officer["requests"] * 1000, 2)
            post["load_avg_1min"] = [round(load0, 2), round(load1, 2)]
            officer["load_avg_1min"] = [round(load1, 2), round(load2, 2)]
            # Every acknowledged post is a distinct stored outcome (wrk counts answers, the database rows).
            post["stored"] = store.count_outcomes(api.db)
        finally:
            api.server.stop()
            api.db.dispose()
    return {
        "database": kind,
        "load_tool": tool,
        "outcome_post": post,
        "officer_map_get": officer,
        "plan_job": {"post_ms": round(post_ms, 1), "turnaround_s": round(turnaround, 2), "time_limit_s": 5},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench_api.json"))
    parser.add_argument("--outcomes", type=int, default=3000, help="posts sent by httpx")
    parser.add_argument("--maps", type=int, default=2000, help="map reads sent by httpx")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--load-tool", choices=("wrk", "httpx"), default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each wrk phase")
    args = parser.parse_args()
    os.environ.setdefault("DOORSTEP_CACHE_DIR", str(Path(".doorstep-cache").resolve()))
    results = [
        bench(kind, args.outcomes, args.maps, args.load_tool, args.seconds) for kind in args.databases.split(",")
    ]
    print(
        f"{'database':<11} {'POST/s':>8} {'POST p50':>9} {'POST p95':>9} {'POST cpu':>9} {'map p50':>8} "
        f"{'map p95':>8} {'map/s':>7} {'map cpu':>8} {'plan POST':>10} {'plan done':>10}  load (1 min)"
    )
    for r in results:
        p, m, j = r["outcome_post"], r["officer_map_get"], r["plan_job"]
        print(
            f"{r['database']:<11} {p['per_second']:>8} {p['p50_ms']:>7}ms {p['p95_ms']:>7}ms "
            f"{p['server_cpu_ms_per_request']:>7}ms {m['p50_ms']:>6}ms {m['p95_ms']:>6}ms {m['per_second']:>7} "
            f"{m['server_cpu_ms_per_request']:>6}ms {j['post_ms']:>8}ms {j['turnaround_s']:>9}s  "
            f"{p['load_avg_1min'][0]} / {m['load_avg_1min'][0]} / {m['load_avg_1min'][1]}"
        )
    print(f"load tool: {args.load_tool}; stored outcomes: {[r['outcome_post']['stored'] for r in results]}")
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "pg": PG_ADMIN_URL, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
