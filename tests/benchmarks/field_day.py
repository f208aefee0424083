"""A synthetic field day at real Copenhagen addresses, built the way ``api.service.plan_day`` builds one.

Shared by the field benchmarks: N open cases at distinct real addresses (synthetic people), T teams with mixed
shifts (09-18 and 12-21) and a 30-minute lunch break each, presence from the project's segment priors, travel
times from the real road network. Returns the solver's ``SolveInput`` plus the cases and teams for the checker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.synthetic import synthetic_case_rows
from geo import RoadNetwork, load_network
from geo.geocoder import OfflineGeocoder
from geo.types import Location
from routing.candidates import SlotPolicy, build_candidates
from routing.model import Break, Case, Dropped, Team, TimeWindow
from routing.presence import PresencePrior, day_type
from routing.solver import SolveInput

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT.parent / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"
H = 3600
LEGAL = TimeWindow(8 * H, 22 * H)
DATE = dt.date(2026, 12, 1)  # a Tuesday: a workday in Denmark


@dataclass(frozen=True, slots=True)
class FieldDay:
    problem: SolveInput
    cases: list[Case]
    teams: list[Team]
    dropped: list[Dropped]
    network: RoadNetwork
    points: list[Location]


def build_field_day(
    n_cases: int, n_teams: int, seed: int = 1, lunch: bool = True, max_slots: int = 3, cache_dir: Path | None = None
) -> FieldDay:
    """``n_cases`` cases and ``n_teams`` teams (half 09-18, half 12-21) on the Copenhagen extract."""
    network = load_network(OSM, profile="car", cache_dir=cache_dir)
    geocoder = OfflineGeocoder.from_osm(OSM, cache_dir=cache_dir)
    records = geocoder.records
    ok = network.snap([r.location for r in records]).ok_mask()
    usable = [r for r, good in zip(records, ok, strict=True) if good]
    rows = synthetic_case_rows(usable, n_cases, seed=seed)
    by_label = {r.label: r for r in usable}
    cases = [
        Case(
            case_id=row["case_id"],
            customer_id=row["customer_id"],
            address=row["address"],
            location=by_label[row["address"]].location,
            segment=row["segment"],
            overdue_amount=float(row["overdue_amount"]),
            overdue_days=int(row["overdue_days"]),
            priority=float(min(100.0, 20.0 + 10.0 * np.log10(1.0 + float(row["overdue_amount"])))),
            service_s=int(row["service_min"]) * 60,
        )
        for row in rows
    ]
    rng = np.random.default_rng(seed + 1000)
    depots = [usable[int(k)].location for k in rng.choice(len(usable), size=max(1, n_teams // 5), replace=False)]
    teams = []
    for k in range(n_teams):
        early = k % 2 == 0
        shift = TimeWindow(9 * H, 18 * H) if early else TimeWindow(12 * H, 21 * H)
        window = TimeWindow(12 * H, 14 * H) if early else TimeWindow(16 * H, 18 * H)
        depot = depots[k % len(depots)]
        teams.append(
            Team(
                team_id=f"T{k + 1:02d}",
                members=(f"o{2 * k}", f"o{2 * k + 1}"),
                start=depot,
                end=depot,
                shift=shift,
                lunch=Break(window, 30 * 60) if lunch else None,
            )
        )
    points: list[Location] = []
    index_of: dict[Location, int] = {}
    for loc in [*(t.start for t in teams), *(c.location for c in cases if c.location is not None)]:
        if loc not in index_of:
            index_of[loc] = len(points)
            points.append(loc)
    travel = {"car": network.matrix(points)}
    start_rows = [index_of[t.start] for t in teams]
    case_rows = {c.case_id: index_of[c.location] for c in cases if c.location is not None}
    candidates, dropped = build_candidates(
        cases,
        case_rows,
        teams,
        start_rows,
        start_rows,
        travel,
        PresencePrior.load_default(),
        day_type(DATE, "DK"),
        SlotPolicy(legal=LEGAL, max_slots=max_slots),
    )
    problem = SolveInput(
        teams=tuple(teams),
        team_start_index=tuple(start_rows),
        team_end_index=tuple(start_rows),
        candidates=tuple(candidates),
        travel=travel,
        legal=LEGAL,
    )
    return FieldDay(problem, cases, teams, dropped, network, points)
