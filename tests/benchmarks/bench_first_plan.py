"""Time to the first complete plan without OR-Tools (``routing.first_plan``), by day size, with the checker's verdict.

Run from tests/benchmarks with the venv active:

    python bench_first_plan.py --out results/first_plan.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_field import checker_violations, evaluate, sequenced
from field_day import build_field_day

from routing.first_plan import first_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250x5,500x10,1000x20,2000x40")
    parser.add_argument("--out", type=Path, default=Path("results/first_plan.json"))
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        n_cases, n_teams = (int(x) for x in size.split("x"))
        day = build_field_day(n_cases, n_teams)
        out = first_plan(day.problem)
        row = {
            "size": size,
            "first_plan_s": round(out.time_s, 3),
            **evaluate(day, sequenced(day, out)),
            "checker_violations": checker_violations(day, out),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
