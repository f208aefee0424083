"""A synthetic field day at real Copenhagen addresses, built the way ``api.service.plan_day`` builds one.

Shared by the field benchmarks: N open cases at distinct real addresses (synthetic people), T teams with mixed
shifts (09-18 and 12-21) and a 30-minute lunch break each, travel times from the real road network. Presence:

- ``prior``: the project's segment priors, which are also the truth the plans are scored against;
- ``learnt``: each customer has a hidden true presence that departs from the segment (``api.simulate.hidden_truth``:
  personal offsets, night shifts, early risers, weekend workers, weeks away), ``HISTORY_WEEKS`` of past visits at
  random legal hours taught a ``PresenceModel``, and the plan sees that model's posterior; plans are scored
  against the hidden truth.

Returns the solver's ``SolveInput`` plus the cases and teams for the checker and the true P(home) by hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.simulate import hidden_truth
from api.synthetic import synthetic_case_rows
from geo import RoadNetwork, load_network
from geo.geocoder import OfflineGeocoder
from geo.types import Location
from routing.candidates import SlotPolicy, build_candidates
from routing.learning import DAY_TYPES, PresenceModel, PresenceSource
from routing.model import Break, Case, Dropped, Team, TimeWindow
from routing.presence import PresencePrior, day_type
from routing.solver import SolveInput

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT.parent / "shared" / "data" / "osm" / "copenhagen_kbh.osm.pbf"
H = 3600
LEGAL = TimeWindow(8 * H, 22 * H)
DATE = dt.date(2026, 12, 1)  # a Tuesday: a workday in Denmark
TZ = dt.timezone(dt.timedelta(hours=1))  # Copenhagen in December
HISTORY_WEEKS = 8
# Past visits per customer over those weeks (Poisson mean): about one every two weeks.
HISTORY_VISITS = 4.0
PRESENCE_SOURCES = ("prior", "learnt")


@dataclass(frozen=True, slots=True)
class FieldDay:
    problem: SolveInput
    cases: list[Case]
    teams: list[Team]
    dropped: list[Dropped]
    network: RoadNetwork
    points: list[Location]
    #: True P(home) on the plan day by case id: 24 values, one per clock hour.
    true_p_home: dict[str, np.ndarray]


def build_field_day(
    n_cases: int,
    n_teams: int,
    seed: int = 1,
    lunch: bool = True,
    max_slots: int = 3,
    cache_dir: Path | None = None,
    presence: str = "prior",
) -> FieldDay:
    """``n_cases`` cases and ``n_teams`` teams (half 09-18, half 12-21) on the Copenhagen extract."""
    if presence not in PRESENCE_SOURCES:
        msg = f"presence must be one of {PRESENCE_SOURCES}, got {presence!r}"
        raise ValueError(msg)
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
    kind = day_type(DATE, "DK")
    prior = PresencePrior.load_default()
    source: PresenceSource = prior
    truth = {c.case_id: np.array(prior.profile(c.segment, kind)) for c in cases}
    if presence == "learnt":
        source, truth = _learnt_presence(cases, prior, np.random.default_rng(seed + 2000))
    candidates, dropped = build_candidates(
        cases,
        case_rows,
        teams,
        start_rows,
        start_rows,
        travel,
        source,
        kind,
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
    return FieldDay(problem, cases, teams, dropped, network, points, truth)


def _learnt_presence(
    cases: list[Case], prior: PresencePrior, rng: np.random.Generator
) -> tuple[PresenceSource, dict[str, np.ndarray]]:
    """Hidden truth for every customer, a visit history drawn from it, and the model that history taught."""
    days = 7 * HISTORY_WEEKS
    population = hidden_truth(cases, prior, days + 1, "personas", rng)
    first_day = DATE - dt.timedelta(days=days)
    kinds = np.array([DAY_TYPES.index(day_type(first_day + dt.timedelta(days=d), "DK")) for d in range(days + 1)])
    visits = rng.poisson(HISTORY_VISITS, size=len(cases))
    rows = np.repeat(np.arange(len(cases)), visits)
    day = rng.integers(0, days, size=rows.size)
    hour = rng.uniform(LEGAL.start / H, LEGAL.end / H - 0.5, size=rows.size)
    p = population.base[rows, kinds[day], hour.astype(np.int64)]
    p = np.where(population.away[rows, day], 0.02, p)
    home = rng.random(rows.size) < p
    model = PresenceModel(prior)
    model_rows = model.ensure([c.customer_id for c in cases], [c.segment for c in cases])
    start = dt.datetime.combine(first_day, dt.time(0), TZ).timestamp() / 86400
    model.add_evidence(model_rows[rows], kinds[day], hour, start + day + hour / 24, home)
    noon = dt.datetime.combine(DATE, dt.time(12), TZ)
    truth = {}
    for k, case in enumerate(cases):
        today = population.base[k, kinds[days]]
        truth[case.case_id] = np.where(population.away[k, days], 0.02, today)
    return model.for_cases(cases, at=noon), truth
