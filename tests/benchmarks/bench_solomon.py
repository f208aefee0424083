"""Solomon / Gehring-Homberger: Doorstep's OR-Tools engine against PyVRP, same instances, same budget, one run.

Run from the repository root with the venv active (PyVRP from the ``bench`` extra):

    python tests/benchmarks/bench_solomon.py --data ../shared/data/vrptw/solomon --time-limit 10 \\
        --out tests/benchmarks/results/solomon_10s.json

For every instance, Doorstep (``api.service.bench_vrptw``, the code behind ``doorstep bench solomon``) and then
PyVRP solve it with the same wall-clock limit; both are scored by ``routing.vrptw.evaluate`` (exact Euclidean
distances and times) against the best-known routes re-scored by the same evaluator. Prints a table per instance
and the mean gaps, and writes the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from api.service import bench_vrptw
from routing.solver_vrptw import SCALE
from routing.vrptw import Instance, evaluate, find_instances, read_instance

ROOT = Path(__file__).resolve().parents[2]


def pyvrp_routes(instance: Instance, time_limit_s: float, seed: int = 1) -> tuple[list[list[int]], float]:
    """PyVRP on the instance, scaled to integers as Doorstep's engine does (durations rounded up)."""
    started = time.perf_counter()
    dist = instance.distances()
    distance = np.rint(dist * SCALE).astype(np.int64)
    duration = np.ceil(dist * SCALE - 1e-9).astype(np.int64)
    ready = np.ceil(instance.ready * SCALE - 1e-9).astype(np.int64)
    due = np.floor(instance.due * SCALE + 1e-9).astype(np.int64)
    service = np.rint(instance.service * SCALE).astype(np.int64)
    locations = [pyvrp.Location(float(x), float(y)) for x, y in instance.xy]
    depot = pyvrp.Depot(0, tw_early=int(ready[0]), tw_late=int(due[0]))
    clients = [
        pyvrp.Client(
            i,
            delivery=[int(instance.demand[i])],
            service_duration=int(service[i]),
            tw_early=int(ready[i]),
            tw_late=int(due[i]),
        )
        for i in range(1, len(instance.xy))
    ]
    vehicle = pyvrp.VehicleType(
        num_available=instance.vehicles, capacity=[instance.capacity], tw_early=int(ready[0]), tw_late=int(due[0])
    )
    data = pyvrp.ProblemData(locations, clients, [depot], [vehicle], [distance], [duration])
    remaining = max(0.1, time_limit_s - (time.perf_counter() - started))
    result = pyvrp.solve(data, stop=MaxRuntime(remaining), seed=seed, display=False)
    # A client activity's idx counts clients from 0; customer numbers count the depot first.
    routes = [[int(a.idx) + 1 for a in route if a.is_client()] for route in result.best.routes()]
    return routes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "vrptw" / "solomon")
    parser.add_argument("--instances", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--objective", default="distance")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "benchmarks" / "results" / "solomon.json")
    args = parser.parse_args()
    names = args.instances.split(",") if args.instances else None
    rows = []
    header = (
        f"{'instance':10s} {'bks':>9s} {'bks ok':>6s} | {'doorstep':>9s} {'veh':>3s} {'gap%':>6s} {'ok':>3s} "
        f"| {'pyvrp':>9s} {'veh':>3s} {'gap%':>6s} {'ok':>3s}"
    )
    print(header, flush=True)
    for path in find_instances(args.data, names):
        ours = bench_vrptw(args.data, [path.stem], args.time_limit, args.objective)[0]
        instance = read_instance(path)
        routes, pyvrp_s = pyvrp_routes(instance, args.time_limit)
        theirs = evaluate(instance, routes)
        bks = ours.get("bks_distance")
        row = {
            **{k: v for k, v in ours.items() if k != "routes"},
            "doorstep_routes": ours["routes"],
            "pyvrp_vehicles": theirs.vehicles,
            "pyvrp_distance": theirs.distance,
            "pyvrp_feasible": theirs.feasible,
            "pyvrp_time_s": round(pyvrp_s, 3),
            "pyvrp_gap_pct": 100.0 * (theirs.distance / bks - 1.0) if isinstance(bks, float) else None,
            "pyvrp_routes": routes,
        }
        rows.append(row)
        print(
            f"{row['instance']:10s} {bks or 0:9.1f} {'yes' if row.get('bks_feasible') else 'no':>6s} | "
            f"{row['distance']:9.1f} {row['vehicles']:3d} {row.get('gap_pct') or 0:6.2f} "
            f"{'yes' if row['feasible'] else 'NO':>3s} | {theirs.distance:9.1f} {theirs.vehicles:3d} "
            f"{row['pyvrp_gap_pct'] or 0:6.2f} {'yes' if theirs.feasible else 'NO':>3s}",
            flush=True,
        )
    ours_gaps = [r["gap_pct"] for r in rows if r.get("gap_pct") is not None]
    their_gaps = [r["pyvrp_gap_pct"] for r in rows if r.get("pyvrp_gap_pct") is not None]
    summary = {
        "instances": len(rows),
        "time_limit_s": args.time_limit,
        "objective": args.objective,
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
        "doorstep_feasible": sum(bool(r["feasible"]) for r in rows),
        "pyvrp_feasible": sum(bool(r["pyvrp_feasible"]) for r in rows),
        "doorstep_mean_gap_pct": statistics.fmean(ours_gaps) if ours_gaps else None,
        "pyvrp_mean_gap_pct": statistics.fmean(their_gaps) if their_gaps else None,
    }
    print(json.dumps(summary, indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
