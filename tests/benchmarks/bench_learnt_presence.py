"""How long the API's presence model takes to learn a large outcome store, and to catch up with a few new outcomes.

A real SQLite file (WAL, the server's migrations) with ``--customers`` cases and ``--outcomes`` outcomes spread
over a year; times ``LearntPresence.snapshot()`` cold (every outcome read and learnt), then after 100 more
outcomes (what a plan pays once a day is running), then a snapshot with nothing new.

    python tests/benchmarks/bench_learnt_presence.py --outcomes 100000 --customers 5000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from api.db import CaseRow, Database, OutcomeRow
from api.learnt_presence import LearntPresence
from routing.model import SEGMENTS
from routing.presence import PresencePrior

RESULTS = ("met", "not_home", "refused", "promise_to_pay", "wrong_address")


def _outcomes(rng: np.random.Generator, n: int, customers: int, start: dt.datetime) -> list[dict[str, object]]:
    who = rng.integers(0, customers, n)
    minutes = rng.integers(0, 365 * 24 * 60, n)
    kinds = rng.choice(["workday", "rest_day"], n, p=[5 / 7, 2 / 7])
    results = rng.choice(RESULTS, n, p=[0.4, 0.4, 0.08, 0.1, 0.02])
    rows: list[dict[str, object]] = []
    for k in range(n):
        at = start + dt.timedelta(minutes=int(minutes[k]))
        rows.append(
            {
                "client_id": str(uuid.uuid4()),
                "body_hash": "0" * 64,
                "payload": {},
                "case_id": f"C{who[k]:06d}",
                "customer_id": f"P{who[k]:06d}",
                "team_id": "T1",
                "plan_id": None,
                "result": str(results[k]),
                "visited_at": at,
                "day_type": str(kinds[k]),
                "hour": (at.hour - 6) % 24,
                "recorded_by": "bench",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=Path("tests/benchmarks/results/learnt_presence.json"))
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    start = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/doorstep.db")
        db.migrate()
        with db.write() as s:
            s.execute(
                insert(CaseRow),
                [
                    {
                        "case_id": f"C{i:06d}",
                        "customer_id": f"P{i:06d}",
                        "record": {"segment": SEGMENTS[i % len(SEGMENTS)]},
                    }
                    for i in range(args.customers)
                ],
            )
            s.execute(insert(OutcomeRow), _outcomes(rng, args.outcomes, args.customers, start))
        learnt = LearntPresence(db, PresencePrior.load_default(), "America/Mexico_City")
        t0 = time.perf_counter()
        cold = learnt.snapshot()
        cold_s = time.perf_counter() - t0
        with db.write() as s:
            s.execute(insert(OutcomeRow), _outcomes(rng, 100, args.customers, start + dt.timedelta(days=365)))
        t0 = time.perf_counter()
        learnt.snapshot()
        catch_up_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        learnt.snapshot()
        idle_s = time.perf_counter() - t0
        db.dispose()
    figures = {
        "outcomes": args.outcomes,
        "customers": args.customers,
        "learnt_customers": len(cold),
        "cold_snapshot_s": round(cold_s, 3),
        "after_100_new_s": round(catch_up_s, 3),
        "nothing_new_s": round(idle_s, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
