"""Outcome analytics over 100,000 outcomes: the product's pandas engine against DuckDB and polars on the same
query (rates by one grouping, all four rates with their counts), side by side in one run.

Run from the repository root with the venv active (`pip install -e '.[bench]'` for DuckDB and polars):

    python tests/benchmarks/bench_analytics.py --outcomes 100000 --out tests/benchmarks/results/analytics.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from api.analytics import GROUPS, outcome_rates, prepare

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ("met", "not_home", "refused", "promise_to_pay", "appointment_made", "wrong_address", "moved", "other")
RESULT_P = (0.30, 0.42, 0.05, 0.10, 0.04, 0.03, 0.02, 0.04)
COUNTS = ["visits", "contacts", "promises", "promises_due", "kept", "wrong_address"]


def generate(n_outcomes: int, n_cases: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Outcomes of a year of visits (08-22 local) to ``n_cases`` cases by 50 teams, and payments for a third
    of the promises."""
    rng = np.random.default_rng(seed)
    segments = np.array(["employed", "retired", "unemployed", "self_employed", "shift_worker", "student"])
    cases = pd.DataFrame(
        {
            "case_id": [f"C{i:06d}" for i in range(n_cases)],
            "segment": rng.choice(segments, n_cases),
            "overdue_days": rng.integers(1, 400, n_cases),
            "district": rng.choice([f"D{i:02d}" for i in range(30)], n_cases),
        }
    )
    day = pd.Timestamp("2026-01-05", tz="Europe/Copenhagen") + pd.to_timedelta(rng.integers(0, 360, n_outcomes), "D")
    at = day + pd.to_timedelta(rng.integers(8 * 60, 22 * 60, n_outcomes), "min")
    result = rng.choice(np.array(RESULTS), n_outcomes, p=RESULT_P)
    promised = (at + pd.to_timedelta(rng.integers(1, 20, n_outcomes), "D")).strftime("%Y-%m-%d")
    outcomes = pd.DataFrame(
        {
            "case_id": cases["case_id"].to_numpy()[rng.integers(0, n_cases, n_outcomes)],
            "team_id": [f"T{i:02d}" for i in rng.integers(0, 50, n_outcomes)],
            "visited_at": at.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "result": result,
            "promised_date": np.where(result == "promise_to_pay", promised, None),
        }
    )
    promises = outcomes[outcomes["result"] == "promise_to_pay"].sample(frac=0.33, random_state=seed)
    paid = pd.to_datetime(promises["visited_at"], utc=True) + pd.to_timedelta(rng.integers(0, 15, len(promises)), "D")
    payments = pd.DataFrame({"case_id": promises["case_id"].to_numpy(), "paid_at": paid.to_numpy()})
    return outcomes, cases, payments


def by_duckdb(prepared: pd.DataFrame, group: str) -> pd.DataFrame:
    sums = ", ".join(f"sum({c}) AS {c}" for c in COUNTS)
    query = f"SELECT {group}, {sums} FROM prepared GROUP BY {group} ORDER BY {group}"
    return duckdb.query_df(prepared[[group, *COUNTS]], "prepared", query).df()


def by_polars(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    return frame.group_by(group).agg([pl.col(c).sum() for c in COUNTS]).sort(group)


def timed(fn: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "analytics.json")
    args = parser.parse_args()
    outcomes, cases, payments = generate(args.outcomes, args.cases, seed=1)
    started = time.perf_counter()
    prepared = prepare(outcomes, cases, timezone="Europe/Copenhagen", country="DK", payments=payments)
    prepare_s = time.perf_counter() - started
    as_polars = pl.DataFrame(
        {c: prepared[c].astype(str).to_numpy() if prepared[c].dtype == object else prepared[c].to_numpy()
         for c in (*GROUPS, *COUNTS)}
    )  # fmt: skip
    rows = []
    for group in GROUPS:
        pandas_s = timed(lambda g=group: outcome_rates(prepared, [g]))  # type: ignore[misc]
        duck_s = timed(lambda g=group: by_duckdb(prepared, g))  # type: ignore[misc]
        polars_s = timed(lambda g=group: by_polars(as_polars, g))  # type: ignore[misc]
        # The engines must agree before their times mean anything.
        ours = outcome_rates(prepared, [group])["visits"].to_numpy()
        assert np.array_equal(ours, by_duckdb(prepared, group)["visits"].to_numpy())
        rows.append({"group_by": group, "pandas_s": pandas_s, "duckdb_s": duck_s, "polars_s": polars_s})
        print(f"{group:<15} pandas {pandas_s * 1000:7.1f} ms   duckdb {duck_s * 1000:7.1f} ms   "
              f"polars {polars_s * 1000:7.1f} ms")  # fmt: skip
    print(f"prepare (join, local time, day types, kept promises): {prepare_s:.2f} s")
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1min": os.getloadavg()[0],
        "outcomes": args.outcomes,
        "prepare_s": prepare_s,
        "queries": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
