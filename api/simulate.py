"""Closed-loop simulation (``doorstep simulate``): plan → visit → outcome → learn, against hidden true presence.

A synthetic population lives at real addresses of an extract. Each person has a hidden true P(home) by day and
hour that departs from their segment's prior: a personal offset for everybody, and for some a persona — night
shift, early riser, works weekends, or away for weeks (as migrant workers are). Every working day, four
policies plan the same teams over the same population with the same solver, each on its own copy of the case
states:

- ``agnostic``: presence ignored (one slot spanning the legal day, a constant P(home): its observed hit rate);
- ``prior``: the segment prior only;
- ``learning``: the per-customer posterior (``routing.learning``), updated after every day's outcomes;
- ``oracle``: the true probabilities.

Visits are resolved with common random numbers: whether customer c is at home at hour h of day d is one draw
``u[c, d, h] < p_true``, shared by all policies, so the policies differ only by their plans. A customer met
is verified and leaves the pool for ``revisit_days``; one not found is back the next day.

Per week and policy: visits, contacts, hit rate, Brier score of the visits' predictions against their
outcomes, and expected calibration error and mean absolute error of every (customer, legal hour) prediction
of the planned days against the hidden truth (CONTRACTS.md, simulate report.json).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from api.errors import ConfigurationError
from api.service import Region
from api.settings import legal_window, resolve_country, resolve_timezone
from api.synthetic import SEGMENT_WEIGHTS
from geo.types import Location
from routing.candidates import SlotPolicy, build_candidates
from routing.learning import CasePresence, LearningSettings, PresenceModel
from routing.model import SEGMENTS, Break, Case, Slot, Team, TimeWindow
from routing.presence import DAY_TYPES, PresencePrior, day_type
from routing.priority import derive_priority
from routing.solver import SolveInput, solve

__all__ = ["PERSONAS", "POLICIES", "SimulationConfig", "SimulationResult", "run_simulation", "write_outputs"]

POLICIES = ("agnostic", "prior", "learning", "oracle")
PERSONAS = ("typical", "night_shift", "early_riser", "works_weekends", "away")
# Shares of the personas in the population (the rest are typical).
PERSONA_SHARES = {"night_shift": 0.10, "early_riser": 0.10, "works_weekends": 0.10, "away": 0.10}
ABSENT_P = 0.02
ECE_BINS = 10
H = 3600
# Team shift patterns (start h, end h, break window start h, end h, break min), cycled over the teams.
SHIFTS = ((9, 18, 12, 14, 30), (12, 21, 16, 18, 30), (10, 19, 13, 15, 30), (13, 22, 17, 19, 30), (8, 17, 12, 14, 30))

Progress = Callable[[str, float], None]


class Learner(Protocol):
    """A further presence policy a benchmark can add to a run: it plans on ``view`` and is taught by ``learn``."""

    def view(self, day: int, day_type: int) -> np.ndarray:
        """P(home) ``(customers, 24)`` on simulated day ``day`` (index from the start) of ``DAY_TYPES[day_type]``."""
        ...

    def learn(self, day: int, day_type: int, rows: np.ndarray, start_s: np.ndarray, home: np.ndarray) -> None:
        """The day's visits: customer rows, service start (s after local midnight) and whether they were in."""
        ...


def _quiet(stage: str, fraction: float) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """One closed-loop run.

    Parameters
    ----------
    osm
        The extract whose addresses the population lives at.
    customers, teams, weeks, seed
        Population size, field teams, weeks simulated, random seed (the same seed gives the same report).
    start
        The first day (a Monday by default); teams work Monday to Saturday.
    truth
        ``"personas"``: true presence departs from the segment (personal offsets and personas);
        ``"prior"``: the truth is exactly the segment prior (a learner must not make things worse).
    shortlist_per_team
        Open cases of its territory handed to the solver per team and day: the best by value × best P(home)
        in the policy's own view (a supervisor's daily shortlist). Each team's territory (an equal sector
        around the branch) is solved on its own, which keeps every solve small.
    time_limit_s
        A guard on each day's solve; the search stops on a solution count first (reproducible).
    revisit_days
        Days a verified customer stays out of the pool.
    learning
        Settings of the learning model.
    min_p_home
        The presence-aware policies' floor on P(home) for a visit (``SlotPolicy.min_p_home``); the agnostic
        policy knows no P(home) and has none.
    tz, country
        Time zone and calendar; default from the extract's location.
    """

    osm: Path
    customers: int = 500
    teams: int = 5
    weeks: int = 4
    seed: int = 1
    start: dt.date = dt.date(2026, 11, 30)
    truth: str = "personas"
    shortlist_per_team: int = 24
    time_limit_s: float = 20.0
    revisit_days: int = 7
    learning: LearningSettings = field(default_factory=LearningSettings)
    min_p_home: float = 0.0
    tz: str | None = None
    country: str | None = None
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.customers < 1 or self.teams < 1 or self.weeks < 1 or self.shortlist_per_team < 1:
            msg = "customers, teams, weeks and shortlist_per_team must be at least 1"
            raise ConfigurationError(msg)
        if not 0.0 <= self.min_p_home < 1.0:
            msg = f"min_p_home must be in [0, 1), got {self.min_p_home}"
            raise ConfigurationError(msg)
        if self.truth not in ("personas", "prior"):
            msg = f"truth must be 'personas' or 'prior', got {self.truth!r}"
            raise ConfigurationError(msg)


@dataclass(slots=True)
class _Tally:
    """One policy's figures over one week."""

    visits: int = 0
    contacts: int = 0
    brier_sum: float = 0.0
    abs_err_sum: float = 0.0
    pairs: int = 0
    bin_n: np.ndarray = field(default_factory=lambda: np.zeros(ECE_BINS))
    bin_pred: np.ndarray = field(default_factory=lambda: np.zeros(ECE_BINS))
    bin_true: np.ndarray = field(default_factory=lambda: np.zeros(ECE_BINS))
    brier_all_sum: float = 0.0

    def add_pairs(self, pred: np.ndarray, true: np.ndarray, home: np.ndarray) -> None:
        """Predictions of every (customer, legal hour) of a day against the truth and the day's draws."""
        pred, true, home = pred.ravel(), true.ravel(), home.ravel()
        self.brier_all_sum += float(((pred - home) ** 2).sum())
        b = np.minimum((pred * ECE_BINS).astype(np.int64), ECE_BINS - 1)
        self.bin_n += np.bincount(b, minlength=ECE_BINS)
        self.bin_pred += np.bincount(b, weights=pred, minlength=ECE_BINS)
        self.bin_true += np.bincount(b, weights=true, minlength=ECE_BINS)
        self.abs_err_sum += float(np.abs(pred - true).sum())
        self.pairs += pred.size

    def as_dict(self) -> dict[str, float | int | None]:
        n = self.bin_n
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.abs(self.bin_pred - self.bin_true)
        ece = float(gap.sum() / n.sum()) if n.sum() else None
        return {
            "visits": self.visits,
            "contacts": self.contacts,
            "hit_rate": round(self.contacts / self.visits, 4) if self.visits else None,
            "brier": round(self.brier_sum / self.visits, 4) if self.visits else None,
            "ece": None if ece is None else round(ece, 4),
            "mae_p": round(self.abs_err_sum / self.pairs, 4) if self.pairs else None,
            "brier_all": round(self.brier_all_sum / self.pairs, 4) if self.pairs else None,
        }

    def reliability(self) -> list[dict[str, float]]:
        return [
            {"bin": k, "n": int(self.bin_n[k]), "pred": self.bin_pred[k] / self.bin_n[k],
             "true": self.bin_true[k] / self.bin_n[k]}
            for k in range(ECE_BINS)
            if self.bin_n[k] > 0
        ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Population:
    """The synthetic customers and their hidden truth."""

    cases: tuple[Case, ...]
    persona: np.ndarray  # (C,) index into PERSONAS
    base: np.ndarray  # (C, day types, 24) true P(home) when not away
    away: np.ndarray  # (C, days) True on days the customer is away


@dataclass(slots=True)
class SimulationResult:
    """What a run produced: the report (CONTRACTS.md) and the last week's reliability data per policy."""

    report: dict[str, Any]
    reliability: dict[str, list[dict[str, float]]]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(p / (1 - p)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def make_population(
    region: Region, prior: PresencePrior, n: int, n_days: int, truth: str, rng: np.random.Generator
) -> Population:
    """``n`` customers at distinct real addresses that lie on the road network, with their hidden truth."""
    records = region.geocoder.records
    network = next(iter(region.networks.values()))
    order = rng.permutation(len(records))
    picked: list[int] = []
    seen: set[Location] = set()
    for chunk in np.array_split(order, max(1, len(order) // max(4 * n, 1))):
        locs = [records[int(i)].location for i in chunk]
        ok = network.snap(locs).status == "ok"
        for i, good in zip(chunk, ok, strict=True):
            loc = records[int(i)].location
            if good and loc not in seen:
                seen.add(loc)
                picked.append(int(i))
        if len(picked) >= n:
            break
    if len(picked) < n:
        msg = f"the extract has only {len(picked)} distinct routable addresses; asked for {n} customers"
        raise ConfigurationError(msg)
    picked = picked[:n]
    segs = list(SEGMENT_WEIGHTS)
    w = np.array([SEGMENT_WEIGHTS[s] for s in segs])
    seg_idx = rng.choice(len(segs), size=n, p=w / w.sum())
    amount = np.round(rng.lognormal(8.5, 1.0, n), -1)
    days = rng.integers(31, 240, n)
    service = rng.choice([15, 20, 20, 25, 30], n)
    cases = tuple(
        Case(
            case_id=f"S{k + 1:05d}",
            customer_id=f"Q{k + 1:05d}",
            address=records[i].label,
            location=records[i].location,
            segment=segs[int(seg_idx[k])],
            overdue_amount=float(amount[k]),
            overdue_days=int(days[k]),
            priority=derive_priority(float(amount[k]), int(days[k])),
            service_s=int(service[k]) * 60,
        )
        for k, i in enumerate(picked)
    )
    return hidden_truth(cases, prior, n_days, truth, rng)


def persona_shapes(base: np.ndarray) -> np.ndarray:
    """P(home) shapes ``(..., personas, day types, 24)`` of each persona for segment profiles ``(..., day types, 24)``
    (before a person's own offset)."""
    wd, rd, ph = (DAY_TYPES.index(d) for d in ("workday", "rest_day", "public_holiday"))
    out = np.repeat(base[..., None, :, :], len(PERSONAS), axis=-3)
    # Night shift: the workday nine hours later (asleep at home by day, out in the evening).
    out[..., PERSONAS.index("night_shift"), wd, :] = np.roll(base[..., wd, :], 9, axis=-1)
    # Early riser: the whole day two hours earlier (home from mid-afternoon, out early).
    out[..., PERSONAS.index("early_riser"), :, :] = np.roll(base, -2, axis=-1)
    # Works weekends: rest days look like workdays; two weekdays off in five.
    weekends = PERSONAS.index("works_weekends")
    out[..., weekends, rd, :] = base[..., wd, :]
    out[..., weekends, ph, :] = base[..., wd, :]
    out[..., weekends, wd, :] = 0.6 * base[..., wd, :] + 0.4 * base[..., rd, :]
    return out


def hidden_truth(
    cases: Sequence[Case], prior: PresencePrior, n_days: int, truth: str, rng: np.random.Generator
) -> Population:
    """Each customer's true presence: the segment prior (``truth="prior"``), or departing from it by a personal
    offset and, for some, a persona (night shift, early riser, works weekends, away for a block of weeks).

    ``n_days`` is how many days the away blocks cover (day 0 is the first simulated day).
    """
    cases = tuple(cases)
    n = len(cases)
    table = np.array([[prior.profile(s, d) for d in DAY_TYPES] for s in SEGMENTS])
    seg_model = np.array([SEGMENTS.index(c.segment) for c in cases])
    base = table[seg_model].copy()  # (C, 3, 24)
    persona = np.zeros(n, dtype=np.int64)
    away = np.zeros((n, n_days), dtype=bool)
    if truth == "prior":
        return Population(cases, persona, base, away)
    # Everybody keeps their own hours a little: a personal offset on the logit scale, per day type.
    offset = rng.normal(0.0, 0.5, size=(n, 1, 1)) + rng.normal(0.0, 0.25, size=(n, len(DAY_TYPES), 1))
    u = rng.random(n)
    edges = np.cumsum([PERSONA_SHARES[p] for p in PERSONAS[1:]])
    persona = np.searchsorted(edges, u, side="right") + 1
    persona[u >= edges[-1]] = 0
    shifted = persona_shapes(base)[np.arange(n), persona]
    true_base = _sigmoid(_logit(shifted) + offset)
    gone = np.flatnonzero(persona == PERSONAS.index("away"))
    # Away: one block of one to three weeks, starting anywhere from a week before the run to its fourth week's
    # end (or its own end when longer; four weeks or less draw the same blocks).
    first = rng.integers(-7, max(28, n_days), size=gone.size)
    length = rng.integers(7, 22, size=gone.size)
    d = np.arange(n_days)
    away[gone] = (d[None, :] >= first[:, None]) & (d[None, :] < (first + length)[:, None])
    return Population(cases, persona, true_base, away)


def _teams(region: Region, n: int, depot: Location) -> list[Team]:
    teams = []
    for k in range(n):
        s, e, bs, be, bm = SHIFTS[k % len(SHIFTS)]
        teams.append(
            Team(
                team_id=f"T{k + 1}",
                members=(f"o{2 * k + 1}", f"o{2 * k + 2}"),
                start=depot,
                end=depot,
                shift=TimeWindow(s * H, e * H),
                lunch=Break(TimeWindow(bs * H, be * H), bm * 60),
            )
        )
    return teams


def _depot(region: Region, population: Population) -> Location:
    """The customer address nearest the population's median point: the branch office."""
    lat = np.array([c.location.lat for c in population.cases if c.location is not None])
    lon = np.array([c.location.lon for c in population.cases if c.location is not None])
    k = int(np.argmin((lat - np.median(lat)) ** 2 + (lon - np.median(lon)) ** 2))
    loc = population.cases[k].location
    assert loc is not None
    return loc


def _territories(cases: Sequence[Case], depot: Location, n: int) -> np.ndarray:
    """Each customer's team: equal sectors by bearing from the depot (large days are split by territory)."""
    lat = np.array([c.location.lat for c in cases if c.location is not None])
    lon = np.array([c.location.lon for c in cases if c.location is not None])
    bearing = np.arctan2(lat - depot.lat, (lon - depot.lon) * np.cos(np.radians(depot.lat)))
    order = np.lexsort((np.arange(len(cases)), bearing))
    territory = np.empty(len(cases), dtype=np.int64)
    territory[order] = np.arange(len(cases)) * n // len(cases)
    return territory


def run_simulation(
    config: SimulationConfig,
    progress: Progress = _quiet,
    learners: Mapping[str, Callable[[Population, PresencePrior], Learner]] | None = None,
) -> SimulationResult:
    """Run the closed loop for every policy on one population; see the module docstring.

    ``learners`` adds policies after the four of the contract: each factory is given the population (its hidden
    truth included, for benchmarks that bound what any learner could do) and the segment prior.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    progress("road network", 0.0)
    region = Region.load(config.osm, cache_dir=config.cache_dir)
    timezone = resolve_timezone(config.tz, region.center)
    country = resolve_country(config.country, timezone)
    legal = legal_window()
    prior = PresencePrior.load_default()
    n_days = 7 * config.weeks
    dates = [config.start + dt.timedelta(days=k) for k in range(n_days)]
    kinds = np.array([DAY_TYPES.index(day_type(d, country)) for d in dates])
    population = make_population(region, prior, config.customers, n_days, config.truth, rng)
    cases = population.cases
    n = len(cases)
    depot = _depot(region, population)
    teams = _teams(region, config.teams, depot)
    progress("travel times", 0.05)
    points = [depot, *(c.location for c in cases if c.location is not None)]
    travel = {"car": region.networks["car"].matrix(points)}
    case_rows = {c.case_id: k + 1 for k, c in enumerate(cases)}
    row_of_customer = {c.customer_id: k for k, c in enumerate(cases)}
    territory = _territories(cases, depot, len(teams))
    slot_policy = SlotPolicy(legal=legal, min_p_home=config.min_p_home)
    legal_hours = np.arange(legal.start // H, (legal.end + H - 1) // H)

    models = {
        "prior": PresenceModel(prior, dataclasses.replace(config.learning, pool_strength=None)),
        "learning": PresenceModel(prior, config.learning),
    }
    for model in models.values():
        model.ensure([c.customer_id for c in cases], [c.segment for c in cases])
    extra = {name: make(population, prior) for name, make in (learners or {}).items()}
    policies = POLICIES + tuple(name for name in extra if name not in POLICIES)
    prior_table = models["prior"].mean()  # (C, 3, 24), fixed
    legal_prior = prior_table[:, :, legal_hours]
    agnostic_counts = [0, 0]  # visits, contacts so far
    agnostic_start = float(legal_prior[:, DAY_TYPES.index("workday")].mean())
    next_open = {p: np.zeros(n, dtype=np.int64) for p in policies}
    weekly: list[dict[str, Any]] = []
    tallies = {p: _Tally() for p in policies}
    reliability: dict[str, list[dict[str, float]]] = {}
    solves: list[float] = []
    work_days = [k for k, d in enumerate(dates) if d.weekday() < 6]

    for step, k in enumerate(work_days):
        date, kind = dates[k], int(kinds[k])
        noon = dt.datetime.combine(date, dt.time(12), dt.UTC)
        truth = np.where(population.away[:, k, None], ABSENT_P, population.base[:, kind, :])  # (C, 24)
        # Common random numbers: at home at hour h iff draw[c, h] < p_true, the same draw for every policy;
        # one stream per day, so a shorter run sees the same first days as a longer one.
        draw = np.random.default_rng([config.seed, 1_000 + k]).random((n, 24))
        truth_legal = truth[:, legal_hours]
        home_legal = draw[:, legal_hours] < truth_legal  # every customer's legal hours, for ECE and brier_all
        for policy in policies:
            share = policies.index(policy) / len(policies)
            progress(f"week {k // 7 + 1} {policy}", 0.1 + 0.9 * (step + share) / len(work_days))
            if policy == "agnostic":
                rate = agnostic_counts[1] / agnostic_counts[0] if agnostic_counts[0] else agnostic_start
                view = np.full((n, 24), rate)
            elif policy == "oracle":
                view = truth
            elif policy == "prior":
                view = prior_table[:, kind, :]
            elif policy == "learning":
                view = models["learning"].mean(at=noon)[:, kind, :]
            else:
                view = extra[policy].view(k, kind)
            tally = tallies[policy]
            tally.add_pairs(view[:, legal_hours], truth_legal, home_legal)
            visits = []
            for t, team in enumerate(teams):
                visits += _plan_day(
                    policy, view, cases, (next_open[policy] <= k) & (territory == t), case_rows, row_of_customer,
                    team, travel, prior, DAY_TYPES[kind], slot_policy, config, solves,
                )  # fmt: skip
            if not visits:
                continue
            rows = np.array([row_of_customer[cid] for cid, _ in visits])
            start_s = np.array([s for _, s in visits])
            hour = start_s // H
            p_true = truth[rows, hour]
            home = draw[rows, hour] < p_true
            pred = view[rows, hour]
            tally.visits += len(visits)
            tally.contacts += int(home.sum())
            tally.brier_sum += float(((pred - home) ** 2).sum())
            next_open[policy][rows] = np.where(home, k + config.revisit_days, k + 1)
            if policy == "agnostic":
                agnostic_counts[0] += len(visits)
                agnostic_counts[1] += int(home.sum())
            elif policy == "learning":
                model = models["learning"]
                t_days = (noon.timestamp() - 12 * H) / 86400 + start_s / 86400
                model.add_evidence(rows, np.full(rows.size, kind), start_s / H, t_days, home)
            elif policy in extra:
                extra[policy].learn(k, kind, rows, start_s, home)
        last_of_week = step == len(work_days) - 1 or work_days[step + 1] // 7 != k // 7
        if last_of_week:
            weekly.append({"week": k // 7 + 1, **{p: tallies[p].as_dict() for p in policies}})
            reliability = {p: tallies[p].reliability() for p in policies}
            tallies = {p: _Tally() for p in policies}

    personas = {p: int((population.persona == i).sum()) for i, p in enumerate(PERSONAS)}
    report: dict[str, Any] = {
        "policies": list(policies),
        "customers": n,
        "teams": config.teams,
        "weeks": config.weeks,
        "seed": config.seed,
        "weekly": weekly,
        "extract": config.osm.name,
        "timezone": timezone,
        "country": country,
        "start": config.start.isoformat(),
        "truth": config.truth,
        "personas": personas,
        "working_days": len(work_days),
        "settings": {
            "learning": dataclasses.asdict(config.learning),
            "shortlist_per_team": config.shortlist_per_team,
            "revisit_days": config.revisit_days,
            "time_limit_s": config.time_limit_s,
        },
        "solver": {"solves": len(solves), "mean_s": round(float(np.mean(solves)), 3) if solves else 0.0,
                   "max_s": round(float(np.max(solves)), 3) if solves else 0.0},
        "targets": targets(weekly),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return SimulationResult(report, reliability)


def _plan_day(
    policy: str,
    view: np.ndarray,
    cases: Sequence[Case],
    open_mask: np.ndarray,
    case_rows: dict[str, int],
    row_of_customer: dict[str, int],
    team: Team,
    travel: dict[str, np.ndarray],
    prior: PresencePrior,
    kind: str,
    slot_policy: SlotPolicy,
    config: SimulationConfig,
    solves: list[float],
) -> list[tuple[str, int]]:
    """One policy's plan for one team's territory and day: the visits as (customer id, service start in s)."""
    legal = slot_policy.legal
    hours = np.arange(legal.start // H, (legal.end + H - 1) // H)
    value = np.array([max(1.0, c.priority) for c in cases])
    score = np.where(open_mask, value * view[:, hours].max(axis=1), -1.0)
    k = min(int(open_mask.sum()), config.shortlist_per_team)
    if k == 0:
        return []
    # Highest score first; ties by case order, so the shortlist is reproducible.
    chosen = np.lexsort((np.arange(len(cases)), -score))[:k]
    short = [cases[int(i)] for i in chosen]
    table = np.repeat(view[:, None, :], len(DAY_TYPES), axis=1)
    source = CasePresence(row_of_customer, table, prior)
    if policy == "agnostic":
        slot_policy = dataclasses.replace(slot_policy, min_p_home=0.0)
    candidates, _ = build_candidates(short, case_rows, [team], [0], [0], travel, source, kind, slot_policy)
    if policy == "agnostic":
        # Presence ignored: any time of the legal day is as good as any other.
        p = float(view[0, 0])
        candidates = [
            dataclasses.replace(c, slots=(Slot("presence", TimeWindow(legal.start, legal.end - c.service_s), p),))
            for c in candidates
        ]
    if not candidates:
        return []
    out = solve(
        SolveInput(
            teams=(team,),
            team_start_index=(0,),
            team_end_index=(0,),
            candidates=tuple(candidates),
            travel=travel,
            legal=legal,
            time_limit_s=config.time_limit_s,
            seed=config.seed,
        )
    )
    solves.append(out.time_s)
    return [(v.customer_id, v.service_start) for r in out.routes for v in r.visits]


def targets(weekly: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets read off the last week: ratios and whether each holds."""
    if not weekly:
        return {}
    last = weekly[-1]
    learn, agn, orc = last["learning"], last["agnostic"], last["oracle"]

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    hit_vs_agnostic = ratio(learn["hit_rate"], agn["hit_rate"])
    hit_vs_oracle = ratio(learn["hit_rate"], orc["hit_rate"])
    brier_vs_oracle = ratio(learn["brier"], orc["brier"])
    return {
        "week": last["week"],
        "learning_hit_vs_agnostic": hit_vs_agnostic,
        "learning_hit_vs_oracle": hit_vs_oracle,
        "learning_brier_vs_oracle": brier_vs_oracle,
        "learning_ece": learn["ece"],
        "met": {
            "hit_vs_agnostic_ge_1.3": hit_vs_agnostic is not None and hit_vs_agnostic >= 1.3,
            "hit_vs_oracle_ge_0.9": hit_vs_oracle is not None and hit_vs_oracle >= 0.9,
            "brier_within_10pct_of_oracle": brier_vs_oracle is not None and brier_vs_oracle <= 1.1,
            "ece_le_0.03": learn["ece"] is not None and learn["ece"] <= 0.03,
        },
    }


def write_outputs(result: SimulationResult, out_dir: Path) -> dict[str, Path]:
    """``report.json``, ``learning_curves.png`` and ``reliability.png`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report_path = out_dir / "report.json"
    report_path.write_text(json.dumps(result.report, indent=2), encoding="utf-8")
    curves, reliability = plot(result, out_dir)
    return {"report": report_path, "learning_curves": curves, "reliability": reliability}


COLOURS = {"agnostic": "#9ca3af", "prior": "#2563eb", "learning": "#16a34a", "oracle": "#111827"}
EXTRA_COLOURS = ("#d97706", "#9333ea", "#dc2626", "#0891b2")


def _colour(policy: str, policies: Sequence[str]) -> str:
    """The contract's policies keep their colours; policies a benchmark adds take the next free ones in turn."""
    if policy in COLOURS:
        return COLOURS[policy]
    extra = [p for p in policies if p not in COLOURS]
    return EXTRA_COLOURS[extra.index(policy) % len(EXTRA_COLOURS)]


def plot(result: SimulationResult, out_dir: Path) -> tuple[Path, Path]:
    """The learning curves (hit rate, Brier, ECE by week) and the last week's reliability diagram."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    report = result.report
    weeks = [w["week"] for w in report["weekly"]]
    title = f"{report['extract']}: {report['customers']} customers, {report['teams']} teams, seed {report['seed']}"
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), dpi=90)
    for ax, metric, label in zip(
        axes, ("hit_rate", "brier", "ece"), ("hit rate (contacts / visits)", "Brier score", "ECE"), strict=True
    ):
        for policy in report["policies"]:
            ys = [w[policy][metric] for w in report["weekly"]]
            colour = _colour(policy, report["policies"])
            ax.plot(weeks, [np.nan if y is None else y for y in ys], marker="o", label=policy, color=colour)
        ax.set_xlabel("week")
        ax.set_title(label, fontsize=10)
        ax.set_xticks(weeks)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    curves = out_dir / "learning_curves.png"
    fig.savefig(curves)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.4, 4.2), dpi=90)
    ax.plot([0, 1], [0, 1], color="#d1d5db", linestyle="--", label="perfect")
    for policy in ("agnostic", "prior", "learning"):
        pts = result.reliability.get(policy, [])
        if pts:
            ax.plot([p["pred"] for p in pts], [p["true"] for p in pts], marker="o", label=policy, color=COLOURS[policy])
    ax.set_xlabel("predicted P(home)")
    ax.set_ylabel("true P(home), mean in bin")
    ax.set_title(f"reliability, week {weeks[-1] if weeks else '-'} (all customers × legal hours)", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    reliability = out_dir / "reliability.png"
    fig.savefig(reliability)
    plt.close(fig)
    return curves, reliability
