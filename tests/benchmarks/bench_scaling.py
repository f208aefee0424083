"""Scaling: time to the first plan and quality at the budget, by day size (Copenhagen, mixed shifts, breaks).

Run from tests/benchmarks with the venv active:

    python bench_scaling.py --time-limit 30 --out results/scaling_30s.json

Sizes default to 250x5, 500x10, 1000x20, 2000x40 (cases x teams); ``--sizes 250x5,1000x20`` picks others. For each
size, Doorstep's production path (``solve_decomposed``) runs once at the budget and once cut to 0.1 s of search;
the table gives the time to the first complete plan, the weighted contacts of that first plan and at the budget,
visits and checker violations.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from bench_field import checker_violations, evaluate, sequenced
from field_day import build_field_day

from routing.decompose import partition, solve_decomposed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250x5,500x10,1000x20,2000x40")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path("results/scaling.json"))
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        n_cases, n_teams = (int(x) for x in size.split("x"))
        built = time.perf_counter()
        day = build_field_day(n_cases, n_teams)
        build_s = time.perf_counter() - built
        problem = dataclasses.replace(day.problem, time_limit_s=args.time_limit)
        parts = len(partition(problem))
        # The first plan: the same path with a budget that leaves only the construction.
        first = solve_decomposed(dataclasses.replace(problem, time_limit_s=0.1))
        out = solve_decomposed(problem)
        row = {
            "size": size,
            "copies": sum(len(c.slots) for c in problem.candidates),
            "parts": parts,
            "instance_build_s": round(build_s, 1),
            # When the budgeted run had its first complete plan, and what a run cut to 0.1 s of search returns
            # (the first plan, after every part's model is built) and in what time.
            "first_solution_s": None if out.first_solution_s is None else round(out.first_solution_s, 2),
            "short_run_s": round(first.time_s, 2),
            "first_weighted": evaluate(day, sequenced(day, first))["weighted_contacts"],
            "time_s": round(out.time_s, 2),
            **evaluate(day, sequenced(day, out)),
            "checker_violations": checker_violations(day, out),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"time_limit_s": args.time_limit, "rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
