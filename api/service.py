"""Use cases: plan a day from files. The CLI (and later the HTTP routes) are thin layers over these functions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import numpy as np

from api.errors import ConfigurationError, InputFileError, RowProblem
from api.files import TeamSpec, read_cases, read_teams
from api.plan_json import plan_to_dict
from api.settings import DaySettings, max_snap_m, rush_hours, speed_overrides
from geo import RoadNetwork, load_network
from geo.geocoder import OfflineGeocoder
from geo.network import Leg
from geo.types import Location
from routing.candidates import ALTERNATIVE_KINDS, SlotPolicy, alternative_sources, build_candidates, relabel_anytime
from routing.check import Violation, check_plan
from routing.decompose import solve_decomposed
from routing.history import VisitRules, allowances, summarize
from routing.learning import PresenceModel, PresenceSource
from routing.model import Case, Dropped, Outcome, Plan, SolverInfo, Team, TeamDay, Unresolved
from routing.presence import DAY_TYPES, PresencePrior, day_type
from routing.replan import replan_team
from routing.solver import SolveInput

log = logging.getLogger("doorstep.service")

Progress = Callable[[str, float], None]
"""``progress(stage, fraction_done)``: called as a run moves through its stages."""


def _quiet(stage: str, fraction: float) -> None:
    return None


class LegCache:
    """The road network's legs of recent stop sequences (per profile), least recently used first out.

    A route asks for its legs twice per run (road geometry, then the checker) and again at every later edit of
    its plan while it stays the same: a long-running server answers those from here.
    """

    def __init__(self, max_sequences: int = 400) -> None:
        self._legs: OrderedDict[tuple[str, tuple[Location, ...]], list[Leg]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_sequences

    def legs(self, network: RoadNetwork, points: Sequence[Location]) -> list[Leg]:
        key = (network.profile, tuple(points))
        with self._lock:
            found = self._legs.get(key)
            if found is not None:
                self._legs.move_to_end(key)
                return found
        legs = network.legs(list(points))
        with self._lock:
            self._legs[key] = legs
            while len(self._legs) > self._max:
                self._legs.popitem(last=False)
        return legs


@dataclass(frozen=True, slots=True)
class Region:
    """The road networks (one per travel profile) and address index of one extract."""

    osm_path: Path
    networks: dict[str, RoadNetwork]
    geocoder: OfflineGeocoder
    leg_cache: LegCache = dataclasses.field(default_factory=LegCache, compare=False, repr=False)

    @classmethod
    def load(
        cls,
        osm_path: Path,
        profiles: Sequence[str] = ("car",),
        cache_dir: Path | None = None,
        country: str | None = None,
    ) -> Region:
        """One network per travel profile the teams use (speeds, snap limit from the settings)."""
        country = country or os.environ.get("DOORSTEP_COUNTRY") or None
        overrides, snap_m = speed_overrides(), max_snap_m()
        networks = {
            p: load_network(
                osm_path, profile=p, cache_dir=cache_dir, country=country, speed_overrides=overrides, max_snap_m=snap_m
            )
            for p in sorted(set(profiles) or {"car"})
        }
        return cls(osm_path, networks, OfflineGeocoder.from_osm(osm_path, cache_dir=cache_dir))

    @property
    def center(self) -> Location:
        return next(iter(self.networks.values())).bbox.center

    def roads_for(self, profile: str) -> RoadNetwork:
        """The network a team of ``profile`` was planned on (the car network, or any, for the overview)."""
        return self.networks.get(profile) or self.networks.get("car") or next(iter(self.networks.values()))

    def leg_seconds(self, profile: str, points: Sequence[Location]) -> list[float]:
        """Travel time of each consecutive leg, asked of the road network afresh (for the checker)."""
        return [leg.seconds for leg in self.networks[profile].legs(list(points))]


@dataclass(frozen=True, slots=True)
class PlanRun:
    """What a planning run produced: the plan, the input it checked against, and the checker's verdict."""

    plan: Plan
    cases: list[Case]
    teams: list[Team]
    violations: list[Violation]
    # customer_id -> day type -> 24 hourly P(home), for the visited customers (the maps' heat strips).
    presence: dict[str, dict[str, tuple[float, ...]]] = dataclasses.field(default_factory=dict)
    # team_id -> its map page, already rendered where the team was planned (a branch's worker); see
    # `render_team_pages`. Teams missing here are rendered by `write_outputs`.
    team_pages: dict[str, str] = dataclasses.field(default_factory=dict)


@functools.cache
def work_presence() -> PresencePrior:
    """P(found at a work address) by segment, day type and hour (the shipped table's ``p_work``), read once."""
    return PresencePrior.load_default_work()


def locate_cases(cases: Sequence[Case], region: Region) -> tuple[list[Case], list[Unresolved]]:
    """Geocode and snap every case; a case with no usable point goes to ``unresolved`` with the reason."""
    located: list[Case] = []
    unresolved: list[Unresolved] = []
    need_geocode = [c for c in cases if c.location is None]
    results = region.geocoder.geocode_many([c.address or "" for c in need_geocode])
    geocoded = {c.case_id: r for c, r in zip(need_geocode, results, strict=True)}
    placed: list[Case] = []
    for case in cases:
        result = geocoded.get(case.case_id)
        if result is None:
            placed.append(case)
        elif result.location is None or result.status != "ok":
            code = result.code or "no_match"
            unresolved.append(Unresolved(case.case_id, case.address, code, result.message or "no match"))
        else:
            placed.append(case.with_location(result.location))
    # Snap on every profile's network: a case must be reachable by whichever team visits it.
    statuses = [net.snap([c.location for c in placed if c.location is not None]) for net in region.networks.values()]
    for i, case in enumerate(placed):
        bad = next((s.status[i] for s in statuses if s.status[i] != "ok"), None)
        if bad is None:
            located.append(case)
        else:
            unresolved.append(Unresolved(case.case_id, case.address, str(bad), _snap_message(str(bad), case)))
    return located, unresolved


def locate_alternatives(cases: Sequence[Case], region: Region) -> list[Case]:
    """``cases`` with their work and registered addresses placed where they resolve and snap on every network.

    An alternative that does not resolve is left unplaced (the case is still visited at home) and logged.
    """
    wanted = [(i, kind, text) for i, c in enumerate(cases) for kind, text in _alternative_texts(c)]
    if not wanted:
        return list(cases)
    results = region.geocoder.geocode_many([text for _, _, text in wanted])
    points = [r.location if r.location is not None and r.status == "ok" else None for r in results]
    found = [p for p in points if p is not None]
    statuses = [net.snap(found).status for net in region.networks.values()] if found else []
    out = list(cases)
    k = 0
    for (i, kind, text), point in zip(wanted, points, strict=True):
        ok = point is not None and all(s[k] == "ok" for s in statuses)
        if point is not None:
            k += 1
        if not ok:
            log.info("case %s: %s address %r not placed; visited at home only", cases[i].case_id, kind, text)
            continue
        if kind == "work":
            out[i] = dataclasses.replace(out[i], work_location=point)
        else:
            out[i] = dataclasses.replace(out[i], registered_location=point)
    return out


def _alternative_texts(case: Case) -> list[tuple[str, str]]:
    return [(k, t) for k, t in (("work", case.work_address), ("registered", case.registered_address)) if t]


def _snap_message(code: str, case: Case) -> str:
    where = f"{case.location.lat:.5f}, {case.location.lon:.5f}" if case.location else "?"
    return {
        "off_network": f"the point {where} is too far from any road of the extract",
        "outside_region": f"the point {where} lies outside the region of the extract",
        "unreachable_island": f"the nearest road to {where} is not connected to the main road network",
    }.get(code, f"cannot place {where} on the road network")


def build_teams(specs: Sequence[TeamSpec], region: Region, path: Path) -> list[Team]:
    """Teams with their depots geocoded and checked on the road network; bad rows raise ``InputFileError``."""
    problems: list[RowProblem] = []
    teams: list[Team] = []
    for spec in specs:
        start = _depot(spec.start, spec.start_address, "start_address", spec.row, region, problems)
        end = _depot(spec.end, spec.end_address, "end_address", spec.row, region, problems) or start
        if spec.end is None and spec.end_address is None:
            end = start
        if start is None or end is None:
            continue
        snapped = region.networks[spec.profile].snap([start, end]) if spec.profile in region.networks else None
        if snapped is not None and not all(s == "ok" for s in snapped.status):
            problems.append(
                RowProblem(spec.row, "start_address", f"depot is not on the road network: {snapped.status}")
            )
            continue
        teams.append(
            Team(
                team_id=spec.team_id,
                members=spec.members,
                start=start,
                end=end,
                shift=spec.shift,
                lunch=spec.lunch,
                profile=spec.profile,
                skills=spec.skills,
                max_visits=spec.max_visits,
                branch=spec.branch,
            )
        )
    if problems:
        raise InputFileError(path, problems)
    return teams


def _depot(
    location: Location | None,
    address: str | None,
    field: str,
    row: int,
    region: Region,
    problems: list[RowProblem],
) -> Location | None:
    if location is not None:
        return location
    if address is None:
        return None
    result = region.geocoder.geocode(address)
    if result.location is None or result.status != "ok":
        problems.append(RowProblem(row, field, f"cannot geocode {address!r}: {result.message or result.code}"))
        return None
    return result.location


def plan_day(
    cases: Sequence[Case],
    teams: Sequence[Team],
    region: Region,
    date: dt.date,
    settings: DaySettings,
    time_limit_s: float = 10.0,
    seed: int | None = None,
    presence: PresencePrior | PresenceModel | None = None,
    progress: Progress = _quiet,
    history: Sequence[Outcome] = (),
    rules: VisitRules | None = None,
    solver_workers: int | None = None,
    initial: Mapping[str, Sequence[tuple[str, int]]] | None = None,
    pins: Mapping[str, str] | None = None,
    required: Collection[str] = (),
) -> PlanRun:
    """Plan one day: locate cases, build candidates, solve, add road geometry, and re-check the result.

    ``presence`` is the segment prior (the default) or a ``PresenceModel`` that has learnt from past visits;
    with a model, every case's P(home) per slot is its customer's posterior.

    ``history`` (past outcomes) feeds the visit caps and the cool-down after a refusal (``rules``, default
    ``VisitRules()``): customers over a cap or in a cool-down are dropped before solving, and a customer with
    more open cases than visits left today gets a cap inside the solver.

    A supervisor's edits (``api.edits``) come as ``initial`` (team id -> (case id, planned service start) in
    order: the routes the search starts from), ``pins`` (case id -> the only team that may visit it) and
    ``required`` (case ids the plan must visit; see ``Candidate.required``).
    """
    rules = rules or VisitRules()
    if pins:
        cases = [dataclasses.replace(c, pin_team=pins[c.case_id]) if c.case_id in pins else c for c in cases]
    presence = presence or PresencePrior.load_default()
    progress("geocoding", 0.0)
    located, unresolved = locate_cases(cases, region)
    located = locate_alternatives(located, region)

    progress("travel times", 0.25)
    points: list[Location] = []
    index_of: dict[Location, int] = {}
    alternatives = [(c.case_id, k, c.location_of(k)) for c in located for k in ALTERNATIVE_KINDS if c.location_of(k)]
    for loc in [
        *(t.start for t in teams),
        *(t.end for t in teams),
        *(c.location for c in located),
        *(loc for _, _, loc in alternatives),
    ]:
        assert loc is not None
        if loc not in index_of:
            index_of[loc] = len(points)
            points.append(loc)
    travel = {p: net.matrix(points) for p, net in region.networks.items()}
    start_rows = [index_of[t.start] for t in teams]
    end_rows = [index_of[t.end] for t in teams]
    case_rows = {c.case_id: index_of[c.location] for c in located if c.location is not None}
    alternative_rows = {(cid, kind): index_of[loc] for cid, kind, loc in alternatives if loc is not None}

    progress("candidates", 0.35)
    policy = SlotPolicy(legal=settings.legal, min_p_home=settings.min_p_home)
    kind = day_type(date, settings.country)
    source: PresenceSource
    if isinstance(presence, PresenceModel):
        # Evidence fades up to the plan day (noon local time), not just up to the last visit.
        noon = dt.datetime.combine(date, dt.time(12), ZoneInfo(settings.timezone))
        source = presence.for_cases(located, at=noon)
    else:
        source = presence
    sources_by_kind = {"home": source, **alternative_sources(source, work_presence())}
    seen = summarize(history, cases, date, settings.timezone)
    open_cases = [c for c in located if c.state != "closed"]
    caps, held_back = allowances(open_cases, seen, date, rules)
    held_ids = {d.case_id for d in held_back}
    must = set(required)
    candidates, dropped = build_candidates(
        [c for c in located if c.case_id not in held_ids],
        case_rows,
        teams,
        start_rows,
        end_rows,
        travel,
        source,
        kind,
        policy,
        alternative_rows,
        sources_by_kind,
        # A supervisor's pin or addition outranks the presence floor.
        floor_exempt=must,
    )
    dropped = [*dropped, *held_back]
    if required:
        candidates = [dataclasses.replace(c, required=True) if c.case_id in must else c for c in candidates]

    progress("solving", 0.4)
    if candidates:
        output = solve_decomposed(
            SolveInput(
                teams=tuple(teams),
                team_start_index=tuple(start_rows),
                team_end_index=tuple(end_rows),
                candidates=tuple(candidates),
                travel=travel,
                legal=settings.legal,
                time_limit_s=time_limit_s,
                seed=seed,
                hourly_factors={p: f.hourly for p, f in (settings.rush or rush_hours()).items()},
                customer_caps=caps,
                initial=None if initial is None else tuple(tuple(initial.get(t.team_id, ())) for t in teams),
            ),
            workers=solver_workers,
        )
        case_of = {c.case_id: c for c in located}
        routes = tuple(
            dataclasses.replace(
                route,
                visits=tuple(
                    dataclasses.replace(
                        v,
                        slot=relabel_anytime(
                            v.slot,
                            v.service_start,
                            case_of[v.case_id],
                            sources_by_kind[v.address_kind],
                            kind,
                            settings.legal,
                        ),
                    )
                    for v in route.visits
                ),
            )
            for route in output.routes
        )
        status, solve_s = output.status, output.time_s
        not_worth = [
            Dropped(cid, "not_worth_detour", "the planner found better use of the teams' time")
            for cid in output.unperformed
        ]
    else:
        routes = tuple(_empty_route(t) for t in teams)
        status, solve_s, not_worth = "nothing_to_plan", 0.0, []

    progress("road geometry", 0.9)
    # The checker asks the road network for the same legs the geometry needs: ask once (the checker stays
    # independent of the solver, whose travel times come from the matrix).
    legs = _LegMemo(region)
    routes = tuple(_with_geometry(r, region.networks[r.team.profile], legs) for r in routes)
    order = {c.case_id: i for i, c in enumerate(cases)}
    all_dropped = sorted([*dropped, *not_worth], key=lambda d: order[d.case_id])
    plan = Plan(
        plan_id=uuid.uuid4().hex[:12] if seed is None else f"{date:%Y%m%d}-s{seed}",
        date=date,
        timezone=settings.timezone,
        routes=routes,
        dropped=tuple(all_dropped),
        unresolved=tuple(sorted(unresolved, key=lambda u: order[u.case_id])),
        solver=SolverInfo("ortools", status, solve_s),
        cases=len(cases),
        expected_value=sum(v.value * v.slot.p_home for r in routes for v in r.visits),
    )
    # The checker sees each case where it was placed, so a stop's location is checked too.
    located_by_id = {c.case_id: c for c in located}
    checked_cases = [located_by_id.get(c.case_id, c) for c in cases]
    violations = check_plan(plan, checked_cases, teams, legs.seconds, settings.legal, history=seen, rules=rules)
    progress("done", 1.0)
    return PlanRun(plan, list(cases), list(teams), violations, _visited_profiles(plan, located, presence, date))


def _visited_profiles(
    plan: Plan, located: Sequence[Case], presence: PresencePrior | PresenceModel, date: dt.date
) -> dict[str, dict[str, tuple[float, ...]]]:
    """Each visited customer's P(home) by day type and hour, as the plan saw it."""
    visited = {v.customer_id for r in plan.routes for v in r.visits}
    seg = {c.customer_id: c.segment for c in located if c.customer_id in visited}
    ids = sorted(seg)
    model = presence if isinstance(presence, PresenceModel) else PresenceModel(presence)
    noon = dt.datetime.combine(date, dt.time(12), ZoneInfo(plan.timezone))
    table = model.profiles(ids, [seg[c] for c in ids], at=noon)
    return {c: {d: tuple(float(x) for x in table[k, i]) for i, d in enumerate(DAY_TYPES)} for k, c in enumerate(ids)}


def _empty_route(team: Team) -> TeamDay:
    return TeamDay(team, team.shift.start, team.shift.start, (), 0, 0.0)


class _LegMemo:
    """The road network's legs of stop sequences, through the region's ``LegCache``."""

    def __init__(self, region: Region) -> None:
        self._region = region

    def legs(self, profile: str, points: Sequence[Location]) -> list[Leg]:
        return self._region.leg_cache.legs(self._region.networks[profile], points)

    def seconds(self, profile: str, points: Sequence[Location]) -> list[float]:
        return [leg.seconds for leg in self.legs(profile, points)]


def _with_geometry(route: TeamDay, network: RoadNetwork, memo: _LegMemo | None = None) -> TeamDay:
    """Add the road path and driven distance of the whole day."""
    team = route.team
    stops = [team.start, *(v.location for v in route.visits), team.end]
    legs = memo.legs(network.profile, stops) if memo is not None else network.legs(stops)
    path: list[Location] = []
    for leg in legs:
        path.extend(leg.points if not path else leg.points[1:])
    distance = float(np.sum([leg.meters for leg in legs]))
    return dataclasses.replace(route, path=tuple(path), distance_m=distance)


def _team_page(run: PlanRun, route: TeamDay, lang: str, tiles: str, region: Region | None) -> str:
    """One team's map page for ``maps/<team>.html`` (assets in ``../static/``)."""
    from maps import render_team_map

    roads = region.roads_for(route.team.profile) if region is not None else None
    return render_team_map(
        run.plan, route, lang=lang, asset_prefix="../static/", tiles=tiles, presence=run.presence, roads=roads
    )


def load_inputs(cases_path: Path, teams_path: Path) -> tuple[list[Case], list[TeamSpec]]:
    """Read both input files; every problem of both is reported before failing."""
    return read_cases(cases_path), read_teams(teams_path)


def render_team_pages(
    run: PlanRun, lang: str = "en", tiles: str = "osm", region: Region | None = None
) -> dict[str, str]:
    """Each team's map page as `write_outputs` writes it (``maps/<team>.html`` beside ``static/``); with
    ``region``, a tile-less map draws the roads of the team's network around its day."""
    return {route.team.team_id: _team_page(run, route, lang, tiles, region) for route in run.plan.routes}


def write_outputs(
    run: PlanRun,
    out_dir: Path,
    lang: str = "en",
    tiles: str = "osm",
    public_base: str | None = None,
    sheets_pdf: bool = False,
    region: Region | None = None,
) -> dict[str, Path]:
    """Write plan.json, the overview ``index.html``, one map and one route sheet per team.

    With ``public_base`` (where ``out_dir`` is published) the overview's team links are absolute and
    printed as QR codes, on the overview and on the route sheets. With ``sheets_pdf`` each sheet is also
    printed to PDF by headless Chromium. With ``region`` (the networks the plan was made on), maps drawn with
    ``tiles="none"`` show the roads around each day. Returns what was written, by name.
    """
    from maps import render_overview, render_route_sheet, write_assets
    from maps.pdf import print_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    maps_dir = out_dir / "maps"
    maps_dir.mkdir(exist_ok=True)
    write_assets(out_dir / "static")
    plan = run.plan
    written: dict[str, Path] = {}
    plan_path = out_dir / "plan.json"
    plan_path.write_text(json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=2), encoding="utf-8")
    written["plan"] = plan_path
    links: dict[str, str] = {}
    for route in plan.routes:
        team_id = route.team.team_id
        path = maps_dir / f"{_safe_name(team_id)}.html"
        page = run.team_pages.get(team_id) or _team_page(run, route, lang, tiles, region)
        path.write_text(page, encoding="utf-8")
        links[team_id] = f"maps/{path.name}"
        written[f"map:{team_id}"] = path
    sheets_dir = out_dir / "sheets"
    sheets_dir.mkdir(exist_ok=True)
    for route in plan.routes:
        team_id = route.team.team_id
        officer_url = urljoin(public_base, links[team_id]) if public_base else None
        sheet = sheets_dir / f"{_safe_name(team_id)}.html"
        sheet.write_text(render_route_sheet(plan, route, lang=lang, officer_url=officer_url), encoding="utf-8")
        written[f"sheet:{team_id}"] = sheet
        if sheets_pdf:
            written[f"sheet_pdf:{team_id}"] = print_pdf(sheet, sheet.with_suffix(".pdf"))
    index = out_dir / "index.html"
    overview = render_overview(
        plan,
        links,
        lang=lang,
        asset_prefix="static/",
        tiles=tiles,
        public_base=public_base,
        roads=region.roads_for("car") if region is not None else None,
    )
    index.write_text(overview, encoding="utf-8")
    written["overview"] = index
    return written


def _safe_name(team_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in team_id) or "team"


def bench_vrptw(
    data_dir: Path,
    instances: Sequence[str] | None = None,
    time_limit_s: float = 10.0,
    objective: str = "distance",
    progress: Progress = _quiet,
) -> list[dict[str, object]]:
    """Solve Solomon/Gehring-Homberger instances with the project's OR-Tools engine (``doorstep bench solomon``).

    Each row has CONTRACTS.md's fields (``instance``, ``vehicles``, ``distance``, ``time_s``, ``routes``) and adds
    ``feasible``/``violations`` from the independent evaluator, ``unserved`` customers, ``first_solution_s``,
    and when best-known routes lie beside the instance, their re-scored ``bks_distance``, ``bks_vehicles``,
    ``bks_feasible`` (False for the few that are infeasible with exact times) and ``gap_pct``.
    """
    from routing.solver_vrptw import solve_vrptw
    from routing.vrptw import best_known_distance, best_known_path, evaluate, find_instances, read_instance, read_routes

    paths = find_instances(data_dir, instances)
    rows: list[dict[str, object]] = []
    for k, path in enumerate(paths):
        progress(path.stem, k / len(paths))
        instance = read_instance(path)
        result = solve_vrptw(instance, time_limit_s, objective=objective)
        score = evaluate(instance, result.routes)
        row: dict[str, object] = {
            "instance": instance.name,
            "vehicles": score.vehicles,
            "distance": score.distance,
            "time_s": round(result.time_s, 3),
            "routes": result.routes,
            "feasible": score.feasible,
            "violations": list(score.violations),
            "unserved": result.unserved,
            "first_solution_s": None if result.first_solution_s is None else round(result.first_solution_s, 3),
            "ruin_recreate_rounds": result.rounds,
            "improving_rounds": result.improving_rounds,
            "objective": objective,
        }
        bks_path = best_known_path(path)
        if bks_path is not None:
            bks = evaluate(instance, read_routes(bks_path))
            row |= {
                "bks_vehicles": bks.vehicles,
                "bks_distance": bks.distance,
                "bks_feasible": bks.feasible,
                "gap_pct": 100.0 * (score.distance / bks.distance - 1.0),
            }
        elif (published := best_known_distance(path)) is not None:
            # Only the published figure (no routes to re-score): the gap is against it, feasibility unknown.
            row |= {
                "bks_distance": published,
                "bks_source": "table",
                "gap_pct": 100.0 * (score.distance / published - 1.0),
            }
        rows.append(row)
    progress("done", 1.0)
    return rows


def replan_team_day(
    run: PlanRun,
    region: Region,
    team_id: str,
    now: int,
    position: Location,
    done: Sequence[str],
    settings: DaySettings,
    time_limit_s: float = 2.0,
    presence: PresencePrior | None = None,
) -> TeamDay:
    """Re-plan one team's day mid-way (CONTRACTS.md ``replan``): visits in ``done`` kept, the rest re-optimised.

    The team's remaining stops are re-planned from ``position`` at ``now`` (seconds since midnight), with fresh
    slots for the rest of the day; the route comes back with road geometry and ``revision`` + 1.
    """
    presence = presence or PresencePrior.load_default()
    route = next((r for r in run.plan.routes if r.team.team_id == team_id), None)
    if route is None:
        msg = f"team {team_id!r} is not in plan {run.plan.plan_id}"
        raise ConfigurationError(msg)
    team = route.team
    remaining = [v for v in route.visits if v.case_id not in set(done)]
    case_by_id = {c.case_id: c for c in run.cases}
    cases = [dataclasses.replace(case_by_id[v.case_id], location=v.location) for v in remaining]
    points = [position, team.end, *(v.location for v in remaining)]
    travel = {team.profile: region.networks[team.profile].matrix(points)}
    rows = {v.case_id: k + 2 for k, v in enumerate(remaining)}
    candidates, _dropped = build_candidates(
        cases,
        rows,
        [team],
        [0],
        [1],
        travel,
        presence,
        day_type(run.plan.date, settings.country),
        SlotPolicy(legal=settings.legal, min_p_home=settings.min_p_home),
    )
    problem = SolveInput(
        teams=(team,),
        team_start_index=(0,),
        team_end_index=(1,),
        candidates=tuple(candidates),
        travel=travel,
        legal=settings.legal,
        time_limit_s=time_limit_s,
    )
    day, _out = replan_team(problem, 0, route, set(done), now, 0, time_limit_s=time_limit_s)
    return _with_geometry(day, region.networks[team.profile])
