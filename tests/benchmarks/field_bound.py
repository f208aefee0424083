"""How far above the presence-agnostic plan can any plan go on the field day? An upper bound, not a plan.

Run from ``tests/benchmarks`` with the venv active:

    python field_bound.py --cases 1000 --teams 20 --rate 3.0

The bound relaxes routing to an assignment of cases to clock hours: each case is visited at most once, at an hour
inside some eligible team's shift, and hour h takes at most ``rate`` visits per team on shift at h (travel and
breaks folded into that rate). It maximises Σ value · P(home | segment, hour) over that assignment with a linear
program (HiGHS through scipy). With ``rate`` at or above the best visits per team-hour any real plan reached, no
plan on this instance can score more, so bound / agnostic caps the ratio the issue asks to reach 1.25.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from field_day import DATE, LEGAL, build_field_day
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from routing.presence import PresencePrior, day_type

H = 3600


def assignment_bound(values: np.ndarray, p: np.ndarray, capacity: np.ndarray) -> float:
    """max Σ v_i p_ih x_ih  s.t.  Σ_h x_ih ≤ 1,  Σ_i x_ih ≤ capacity_h,  0 ≤ x ≤ 1 (p = 0 where h is closed)."""
    n, hours = p.shape
    gain = (values[:, None] * p).ravel()
    rows = np.concatenate([np.repeat(np.arange(n), hours), n + np.tile(np.arange(hours), n)])
    cols = np.concatenate([np.arange(n * hours), np.arange(n * hours)])
    a = coo_matrix((np.ones(2 * n * hours), (rows, cols)), shape=(n + hours, n * hours))
    b = np.concatenate([np.ones(n), capacity])
    upper = (p.ravel() > 0).astype(float)
    done = linprog(-gain, A_ub=a.tocsr(), b_ub=b, bounds=np.c_[np.zeros(n * hours), upper], method="highs")
    if not done.success:
        msg = f"the bound's linear program failed: {done.message}"
        raise RuntimeError(msg)
    return float(-done.fun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--rate", type=float, nargs="+", default=[2.5, 3.0, 3.5])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    day = build_field_day(args.cases, args.teams)
    prior = PresencePrior.load_default()
    kind = day_type(DATE, "DK")
    hours = np.arange(LEGAL.start // H, LEGAL.end // H)
    segment = {c.case_id: c.segment for c in day.cases}
    cands = day.problem.candidates
    values = np.array([c.value for c in cands])
    p = np.zeros((len(cands), len(hours)))
    for i, cand in enumerate(cands):
        for j, h in enumerate(hours):
            # Open when some eligible team is on shift for a whole visit starting in that hour.
            if any(
                day.problem.teams[v].shift.start <= h * H and h * H + cand.service_s <= day.problem.teams[v].shift.end
                for v in cand.allowed_teams
            ):
                p[i, j] = prior.p_home(segment[cand.case_id], kind, int(h))
    on_shift = np.array([sum(t.shift.start <= h * H < t.shift.end for t in day.problem.teams) for h in hours])
    rows = []
    for rate in args.rate:
        bound = assignment_bound(values, p, rate * on_shift)
        rows.append({"rate_per_team_hour": rate, "bound_weighted_contacts": round(bound, 1)})
        print(f"rate {rate:.2f} visits per team-hour: bound {bound:,.0f} weighted contacts", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
