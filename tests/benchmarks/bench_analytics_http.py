"""Outcome analytics through the HTTP API over 100,000 stored outcomes: ``GET /v1/analytics/outcomes`` for every
grouping (JSON), with a date range, as CSV, and the analytics page, timed at the client against a real server
(uvicorn subprocess on loopback) over SQLite and PostgreSQL. Prints a table and writes JSON.

    python -m tests.benchmarks.bench_analytics_http --outcomes 100000 --out test-artifacts/bench_analytics_http.json

The outcomes are written straight into the database (as ``POST /v1/outcomes`` would store them) so that loading
them takes seconds, not the hour 100,000 posts would; the queries then go through HTTP like any client's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert

from api.db import CaseRow, Database, OutcomeRow, utcnow
from tests.api.conftest import AGUAS, make_database, start_api

OSM = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm" / AGUAS
RESULTS = ("met", "not_home", "refused", "promise_to_pay", "appointment_made", "wrong_address", "moved", "other")
RESULT_P = (0.30, 0.42, 0.05, 0.10, 0.04, 0.03, 0.02, 0.04)
GROUPS = ("segment", "hour", "day_type", "district", "overdue_bucket", "team", "week")
ZONE = "America/Mexico_City"


def fill(db: Database, n_outcomes: int, n_cases: int, seed: int) -> None:
    """``n_cases`` cases (a tenth of them closed, as paid) and a year of ``n_outcomes`` visits to them."""
    rng = np.random.default_rng(seed)
    segments = np.array(["employed", "retired", "unemployed", "self_employed", "shift_worker", "student"])
    now = utcnow()
    cases = [
        {
            "case_id": f"H{i:06d}",
            "customer_id": f"PH{i:06d}",
            "record": {
                "case_id": f"H{i:06d}",
                "customer_id": f"PH{i:06d}",
                "lat": 21.88,
                "lon": -102.29,
                "segment": str(rng.choice(segments)),
                "overdue_days": int(rng.integers(1, 400)),
                "branch": f"D{int(rng.integers(0, 30)):02d}",
            },
            "state": "closed" if i % 10 == 0 else "open",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n_cases)
    ]
    day = pd.Timestamp("2025-12-01", tz=ZONE) + pd.to_timedelta(rng.integers(0, 360, n_outcomes), "D")
    at = day + pd.to_timedelta(rng.integers(8 * 60, 22 * 60, n_outcomes), "min")
    result = rng.choice(np.array(RESULTS), n_outcomes, p=RESULT_P)
    promised = (at + pd.to_timedelta(rng.integers(1, 20, n_outcomes), "D")).strftime("%Y-%m-%d")
    which = rng.integers(0, n_cases, n_outcomes)
    teams = rng.integers(0, 50, n_outcomes)
    located = rng.random(n_outcomes) < 0.5
    rows = []
    for k in range(n_outcomes):
        case_id = f"H{which[k]:06d}"
        payload: dict[str, Any] = {"case_id": case_id, "team_id": f"T{teams[k]:02d}", "result": str(result[k])}
        if result[k] == "promise_to_pay":
            payload["promised_date"] = promised[k]
        if located[k]:
            payload |= {"lat": 21.88 + rng.normal(0, 0.01), "lon": -102.29 + rng.normal(0, 0.01), "accuracy_m": 10.0}
        rows.append(
            {
                "client_id": str(uuid.uuid4()),
                "body_hash": "0" * 64,
                "payload": payload,
                "case_id": case_id,
                "customer_id": f"PH{which[k]:06d}",
                "team_id": payload["team_id"],
                "result": str(result[k]),
                "visited_at": at[k].to_pydatetime(),
                "day_type": "workday",
                "hour": int(at[k].hour),
                "recorded_by": "bench",
                "recorded_at": now,
            }
        )
    with db.write() as s:
        s.execute(insert(CaseRow), cases)
        for start in range(0, len(rows), 10_000):
            s.execute(insert(OutcomeRow), rows[start : start + 10_000])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux ``/proc``; 0 for one that has gone)."""
    total = 0
    for pid in pids:
        try:
            # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Cpu:
    """CPU time of the server process and, on PostgreSQL, of the database's backends serving it."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid = server_pid
        self.url = url

    def _pids(self) -> list[int]:
        pids = [self.server_pid]
        if self.url.startswith("postgresql"):
            import psycopg

            name = self.url.rsplit("/", 1)[1]
            with psycopg.connect(self.url.replace("+psycopg", "")) as conn:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
                ).fetchall()
            pids += [row[0] for row in rows]
        return pids

    def server(self) -> float:
        return cpu_seconds([self.server_pid])

    def database(self) -> float:
        return cpu_seconds(self._pids()[1:])


def timed_get(client: Any, path: str, params: dict[str, str], repeats: int, cpu: Cpu) -> dict[str, Any]:
    times = []
    server_cpu = []
    db_cpu = []
    size = 0
    for _ in range(repeats):
        c0, d0 = cpu.server(), cpu.database()
        t0 = time.perf_counter()
        r = client.get(path, params=params)
        times.append(time.perf_counter() - t0)
        server_cpu.append(cpu.server() - c0)
        db_cpu.append(cpu.database() - d0)
        assert r.status_code == 200, r.text[:500]
        size = len(r.content)
    return {
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "server_cpu_s": round(statistics.median(server_cpu), 2),
        "db_cpu_s": round(statistics.median(db_cpu), 2),
        "bytes": size,
    }


def invalidate(client: Any, k: int) -> None:
    """Store one more outcome (through the API), so the next query cannot use the server's cached frame."""
    body = {
        "client_id": str(uuid.uuid4()),
        "team_id": "T00",
        "officer_id": "bench",
        "case_id": f"H{k:06d}",
        "visited_at": "2026-06-01T12:00:00-06:00",
        "result": "not_home",
    }
    assert client.post("/v1/outcomes", json=body).status_code == 201


def cold_and_warm(client: Any, path: str, params: dict[str, str], repeats: int, k: int, cpu: Cpu) -> dict[str, Any]:
    """The first answer after new data (cold: read and prepare every outcome) and repeats of it (warm)."""
    invalidate(client, k)
    cold = timed_get(client, path, params, 1, cpu)
    warm = timed_get(client, path, params, repeats, cpu)
    return {
        "cold_s": cold["median_s"],
        # CPU seconds the answer cost (server process; database backends on PostgreSQL): wall time minus
        # these is waiting, mostly for the other jobs on a loaded machine.
        "cold_server_cpu_s": cold["server_cpu_s"],
        "cold_db_cpu_s": cold["db_cpu_s"],
        "warm_median_s": warm["median_s"],
        "warm_server_cpu_s": warm["server_cpu_s"],
        "bytes": warm["bytes"],
    }


def bench(kind: str, n_outcomes: int, n_cases: int, repeats: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-analytics-{kind}-"))
    with make_database(kind, tmp) as url:
        env = {"DOORSTEP_RATE_LIMIT": "1000000", "DOORSTEP_RATE_BURST": "1000000", "DOORSTEP_TZ": ZONE}
        db = Database(url)
        db.migrate()
        t0 = time.perf_counter()
        fill(db, n_outcomes, n_cases, seed=1)
        fill_s = time.perf_counter() - t0
        db.dispose()
        api = start_api(OSM, url, tmp, env)
        queries: list[dict[str, Any]] = []
        assert api.server.process is not None
        cpu = Cpu(api.server.process.pid, url)
        try:
            with api.client(api.supervisor) as c:
                path = "/v1/analytics/outcomes"
                for k, group in enumerate(GROUPS):
                    queries.append(
                        {"query": f"json {group}", **cold_and_warm(c, path, {"group_by": group}, repeats, k, cpu)}
                    )
                month = {"group_by": "segment", "from": "2026-03-01", "to": "2026-03-31"}
                queries.append({"query": "json segment, one month", **cold_and_warm(c, path, month, repeats, 10, cpu)})
                csv_params = {"group_by": "district", "format": "csv"}
                queries.append({"query": "csv district", **cold_and_warm(c, path, csv_params, repeats, 11, cpu)})
                gpkg = {"group_by": "segment", "format": "gpkg"}
                queries.append({"query": "gpkg (~50k points)", **cold_and_warm(c, path, gpkg, 1, 12, cpu)})
                page = {"group_by": "segment"}
                queries.append(
                    {"query": "page segment", **cold_and_warm(c, "/v1/analytics/page", page, repeats, 13, cpu)}
                )
        finally:
            api.server.stop()
            api.db.dispose()
    return {"database": kind, "outcomes": n_outcomes, "cases": n_cases, "fill_s": round(fill_s, 1), "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench_analytics_http.json"))
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    os.environ.setdefault("DOORSTEP_CACHE_DIR", str(Path(".doorstep-cache").resolve()))
    load_before = os.getloadavg()
    results = [bench(kind, args.outcomes, args.cases, args.repeats) for kind in args.databases.split(",")]
    for r in results:
        print(f"{r['database']}: {r['outcomes']} outcomes, {r['cases']} cases (filled in {r['fill_s']} s)")
        for q in r["queries"]:
            print(
                f"  {q['query']:<28} cold {q['cold_s']:>6} s (cpu server {q['cold_server_cpu_s']:>5} s,"
                f" db {q['cold_db_cpu_s']:>5} s)   warm {q['warm_median_s']:>6} s   {q['bytes']:>9} bytes"
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
