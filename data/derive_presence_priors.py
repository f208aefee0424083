"""Derive ``data/presence_priors.csv``: P(at home) by customer segment, day type and hour.

Run from the repository root::

    python data/derive_presence_priors.py --atus ../shared/data/availability/atus_2022_2023 \\
        --out data/presence_priors.csv

Source
------
Population-weighted ATUS 2022–2023 aggregates (U.S. Bureau of Labor Statistics, American Time Use Survey)
as shipped in the ``buildocc`` package 1.0.1 (Apache-2.0): ``time_at_activity.csv`` (share of each stratum in
each of nine activity categories at H:30, per weekday/weekend diary day), ``tewhere_validation.csv`` (share of
work, eating and exercise done at home, from ATUS's TEWHERE location codes) and
``activity_frequency_{O1..O4}.csv`` (the 50 most frequent activity codes per stratum, with buildocc's
home/away/ambiguous label per code).

Assumptions (also in ``data/SOURCES.md``)
-----------------------------------------
Strata, as buildocc defines them: O1 employed single adult 25–44, O2 retired couple 65+, O3 employed parent
35–54 with children at home, O4 not employed 25–44.

"At home" per activity category, the share of the time in that category that is spent at home:

- ``work``: TEWHERE D4 ``pct_home`` of the stratum (O1 24.25 %, O2 50.1 %, O3 25.71 %, O4 68.73 %);
- ``eating``: TEWHERE D5 (70.25 % at home); ``exercise``: TEWHERE D6 (39.88 % at home);
- ``travel``: 0 (travelling is away by definition);
- ``sleeping``, ``food_prep``, ``laundry``, ``tv``: buildocc labels all their frequent codes ``home``; the
  share is computed from those labels (it comes out at 1.0);
- ``other`` (the residual: grooming, socialising, shopping, child care, religious services, ...): the
  diary-time-weighted mean of buildocc's labels over the stratum's frequent codes in no named category,
  counting ``home`` as 1, ``away`` as 0 and ``ambiguous`` as 0.5.

P(home | stratum, day, hour) = Σ_category share(category | stratum, day, hour) × home(category | stratum).

P(at the workplace | stratum, day, hour) = share(work | stratum, day, hour) × (1 − TEWHERE D4 pct_home): the
chance of finding the customer at a work address (CONTRACTS.md ``work_address``), column ``p_work``. The
segments mix it by the same rules, except that a caregiver works half as much as O3.

Day types: ATUS ``weekday`` → ``workday``, ``weekend`` → ``rest_day`` (public holidays use ``rest_day``; see
``routing.presence``). ATUS diaries run 04:00–04:00, so hours 0–3 belong to the night after the diary day;
visits are never planned then, so this is left as it is.

Segments (``routing.model.SEGMENTS``):

- ``employed``: 0.6 × O1 + 0.4 × O3 (singles and parents);
- ``retired``: O2; ``unemployed``: O4;
- ``caregiver``: O3 with half of its absence removed, p = 1 − (1 − p_O3) / 2 (a parent caring at home, out
  for school runs, shopping and some work);
- ``self_employed``: 0.5 × employed + 0.5 × unemployed;
- ``farmer``: self_employed two hours earlier, p(h) = p_self_employed(h + 2);
- ``shift_worker``: employed nine hours later, p(h) = p_employed(h − 9) (an evening/night shift);
- ``student``: O1 (an employed-like weekday, a young single's rest day);
- ``unknown``: the population average of O1–O4, weighted by each stratum's ATUS population weight (recovered
  from ``activity_frequency``: total weighted minutes over the share of diary time the listed codes cover).

Values are rounded to 3 decimals and clipped to [0.02, 0.98]: a prior is never certain. These are U.S.
figures used as a starting point for any country; outcomes of real visits sharpen them per customer.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

STRATA = ("O1", "O2", "O3", "O4")
DAY_TYPES = {"weekday": "workday", "weekend": "rest_day"}
CATEGORIES = ("sleeping", "work", "food_prep", "laundry", "tv", "eating", "exercise", "travel", "other")
# Kept in step with routing.model.SEGMENTS (the tests check it); not imported so the script runs standalone.
SEGMENTS = (
    "employed",
    "shift_worker",
    "self_employed",
    "farmer",
    "retired",
    "unemployed",
    "caregiver",
    "student",
    "unknown",
)
OCCUPANCY_HOME = {"home": 1.0, "away": 0.0, "ambiguous": 0.5}
CLIP = (0.02, 0.98)

Profile = list[float]  # 24 hourly values
Table = dict[tuple[str, str], Profile]  # (stratum or segment, day_type) -> profile


def category_of(code: str) -> str:
    """buildocc's category of an ATUS 6-digit activity code (see its ``grounding/scheduler.py``)."""
    code = code.zfill(6)
    if code.startswith("0101"):
        return "sleeping"
    if code.startswith("05"):
        return "work"
    if code == "020102":
        return "laundry"
    if code.startswith("0202"):
        return "food_prep"
    if code in ("120303", "120304"):
        return "tv"
    if code.startswith("1101"):
        return "eating"
    if code.startswith("13"):
        return "exercise"
    if code.startswith("18"):
        return "travel"
    return "other"


def home_shares(atus: Path) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Share of each category spent at home, per stratum; and each stratum's relative population weight."""
    where = pd.read_csv(atus / "tewhere_validation.csv")
    work_home = where[where["analysis"] == "D4_work_location"].set_index("stratum")["pct_home"] / 100.0
    eating_home = float(where.loc[where["analysis"] == "D5_eating_location", "pct_home"].iloc[0]) / 100.0
    exercise_home = float(where.loc[where["analysis"] == "D6_exercise_at_home", "pct_home"].iloc[0]) / 100.0

    shares: dict[str, dict[str, float]] = {}
    weights: dict[str, float] = {}
    for stratum in STRATA:
        freq = pd.read_csv(atus / f"activity_frequency_{stratum}.csv", dtype={"trcode": str})
        freq["category"] = freq["trcode"].map(category_of)
        freq["home"] = freq["occupancy"].map(OCCUPANCY_HOME)
        if freq["home"].isna().any():
            bad = sorted(set(freq.loc[freq["home"].isna(), "occupancy"]))
            msg = f"unknown occupancy labels {bad} in activity_frequency_{stratum}.csv"
            raise ValueError(msg)
        by_cat: dict[str, float] = {}
        for cat in CATEGORIES:
            rows = freq[freq["category"] == cat]
            w = rows["total_weighted_min"]
            by_cat[cat] = float((rows["home"] * w).sum() / w.sum()) if w.sum() > 0 else 1.0
        by_cat["work"] = float(work_home[stratum])
        by_cat["eating"] = eating_home
        by_cat["exercise"] = exercise_home
        by_cat["travel"] = 0.0
        shares[stratum] = by_cat
        covered = float(freq["cum_pct"].max()) / 100.0
        weights[stratum] = float(freq["total_weighted_min"].sum()) / covered / 1440.0
    total = sum(weights.values())
    return shares, {s: w / total for s, w in weights.items()}


def strata_profiles(atus: Path, shares: dict[str, dict[str, float]]) -> tuple[Table, Table]:
    """P(home) and P(at the workplace) per (stratum, day type) and hour, from the hourly category shares."""
    tat = pd.read_csv(atus / "time_at_activity.csv")
    out: Table = {}
    work: Table = {}
    for stratum in STRATA:
        for atus_day, day_type in DAY_TYPES.items():
            rows = tat[(tat["stratum"] == stratum) & (tat["day_type"] == atus_day)]
            profile = []
            at_work = []
            for hour in range(24):
                cell = rows[rows["hour"] == hour].set_index("category")["weighted_pct"]
                if set(cell.index) != set(CATEGORIES):
                    got = sorted(cell.index)
                    msg = f"{stratum} {atus_day} {hour}h: categories {got} != {sorted(CATEGORIES)}"
                    raise ValueError(msg)
                total = float(cell.sum())
                p = sum(float(cell[c]) * shares[stratum][c] for c in CATEGORIES) / total
                profile.append(p)
                at_work.append(float(cell["work"]) / total * (1.0 - shares[stratum]["work"]))
            out[(stratum, day_type)] = profile
            work[(stratum, day_type)] = at_work
    return out, work


def _mix(parts: Sequence[tuple[float, Profile]]) -> Profile:
    return [sum(w * prof[h] for w, prof in parts) for h in range(24)]


def _shift(profile: Profile, hours: int) -> Profile:
    """The profile ``hours`` later in the day: result(h) = profile(h − hours)."""
    return [profile[(h - hours) % 24] for h in range(24)]


def segment_profiles(
    strata: Table, weights: dict[str, float], at_home: bool = True
) -> dict[tuple[str, str], tuple[Profile, str]]:
    """The nine segments' profiles per day type, each with a one-line derivation.

    ``at_home`` False mixes workplace profiles: the same rules, but a caregiver is at work half as much as O3.
    """
    out: dict[tuple[str, str], tuple[Profile, str]] = {}
    for day in DAY_TYPES.values():
        o = {s: strata[(s, day)] for s in STRATA}
        employed = _mix([(0.6, o["O1"]), (0.4, o["O3"])])
        unemployed = o["O4"]
        self_employed = _mix([(0.5, employed), (0.5, unemployed)])
        rules: dict[str, tuple[Profile, str]] = {
            "employed": (employed, "0.6*O1 + 0.4*O3"),
            "retired": (o["O2"], "O2"),
            "unemployed": (unemployed, "O4"),
            "caregiver": (
                ([1 - (1 - p) / 2 for p in o["O3"]], "1 - (1 - O3)/2")
                if at_home
                else ([p / 2 for p in o["O3"]], "O3/2")
            ),
            "self_employed": (self_employed, "0.5*employed + 0.5*unemployed"),
            "farmer": (_shift(self_employed, -2), "self_employed 2 h earlier"),
            "shift_worker": (_shift(employed, 9), "employed 9 h later"),
            "student": (o["O1"], "O1"),
            "unknown": (
                _mix([(weights[s], o[s]) for s in STRATA]),
                "ATUS-weighted " + " + ".join(f"{weights[s]:.2f}*{s}" for s in STRATA),
            ),
        }
        for segment in SEGMENTS:
            out[(segment, day)] = rules[segment]
    return out


def write_csv(
    path: Path,
    table: dict[tuple[str, str], tuple[Profile, str]],
    work: dict[tuple[str, str], tuple[Profile, str]],
) -> int:
    """Write ``segment, day_type, hour, p_home, p_work, derivation``; returns the number of rows."""
    lo, hi = CLIP
    rows = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["segment", "day_type", "hour", "p_home", "p_work", "derivation"])
        for segment in SEGMENTS:
            for day in DAY_TYPES.values():
                profile, how = table[(segment, day)]
                at_work = work[(segment, day)][0]
                for hour, p in enumerate(profile):
                    home, job = (f"{min(hi, max(lo, round(x, 3))):.3f}" for x in (p, at_work[hour]))
                    writer.writerow([segment, day, hour, home, job, how])
                    rows += 1
    return rows


def main(argv: Sequence[str] | None = None, echo: Callable[[str], None] = print) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--atus", type=Path, required=True, help="folder of the buildocc ATUS 2022-2023 CSVs")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    args = parser.parse_args(argv)
    shares, weights = home_shares(args.atus)
    for stratum in STRATA:
        detail = ", ".join(f"{c} {v:.2f}" for c, v in shares[stratum].items())
        echo(f"{stratum} (weight {weights[stratum]:.3f}) at home: {detail}")
    home, work = strata_profiles(args.atus, shares)
    rows = write_csv(args.out, segment_profiles(home, weights), segment_profiles(work, weights, at_home=False))
    echo(f"wrote {rows} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
