"""Planning jobs: queued in the database, run by a pool of worker threads, cancellable, and recovered on start.

A job's state lives only in the ``plans`` table. When the server starts, a job left ``running`` by a crash is
queued again (or failed, once it has used its attempts), so nothing stays "running" forever. Claiming a job
is a conditional update, so two server processes never run the same job.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from api import partitions, service
from api.db import CaseRow, Database, PlanJob, PlanPage, TeamRow, utcnow
from api.errors import InputFileError
from api.files import parse_cases, parse_teams
from api.learnt_presence import LearntPresence
from api.plan_json import plan_to_dict
from api.settings import DaySettings
from api.store import mark_planned
from routing.errors import RoutingError
from routing.model import Dropped, Plan, SolverInfo, TeamDay

log = logging.getLogger("doorstep.jobs")

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
RESULT_BUTTONS = ("met", "not_home", "refused", "promise_to_pay", "appointment_made", "wrong_address", "moved", "other")


class JobCancelledError(Exception):
    """Raised inside a job when a supervisor cancelled it."""


@dataclass(frozen=True, slots=True)
class PlanningEnv:
    """What every job needs: the region (per travel profiles), the day settings and how pages are drawn."""

    region_for: Callable[[Sequence[str]], service.Region]
    settings: DaySettings
    tiles: str
    default_time_limit_s: float
    # With a Dask scheduler (DOORSTEP_SCHEDULER) each job's branches are planned on that cluster.
    scheduler: str | None = None
    osm_path: Path | None = None
    # The presence model taught by the stored outcomes; without it plans use the segment prior.
    presence: LearntPresence | None = None


class JobRunner:
    """A pool of ``workers`` threads running planning jobs from the database."""

    def __init__(self, db: Database, env: PlanningEnv, workers: int = 1, attempts: int = 2) -> None:
        self._db = db
        self._env = env
        self.env = env
        self._attempts = attempts
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="doorstep-plan")
        self._lock = threading.Lock()
        self.running: set[str] = set()

    def start(self) -> None:
        """Recover jobs a previous process left running, then queue every waiting job."""
        for plan_id in self.recover():
            self.submit(plan_id)

    def recover(self) -> list[str]:
        """Queue again (or fail, once their attempts are used) the jobs left running; the ids of queued jobs."""
        with self._db.write() as s:
            stuck = s.scalars(select(PlanJob).where(PlanJob.status == "running")).all()
            for job in stuck:
                if job.attempts >= self._attempts:
                    job.status, job.stage, job.finished_at = "failed", "failed", utcnow()
                    job.error = {
                        "code": "interrupted",
                        "message": f"the server stopped while this job ran ({job.attempts} attempt(s)); post it again",
                    }
                else:
                    job.status, job.stage, job.progress = "queued", "re-queued after a restart", 0.0
                log.warning("job %s was running at shutdown: now %s", job.plan_id, job.status)
            queued = s.scalars(select(PlanJob.plan_id).where(PlanJob.status == "queued").order_by(PlanJob.created_at))
            return list(queued)

    def submit(self, plan_id: str) -> None:
        self._pool.submit(self._run, plan_id)

    def shutdown(self) -> None:
        """Stop taking jobs; a job in progress is recovered by the next start."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _claim(self, plan_id: str) -> dict[str, Any] | None:
        with self._db.write() as s:
            claimed = s.execute(
                update(PlanJob)
                .where(PlanJob.plan_id == plan_id, PlanJob.status == "queued")
                .values(
                    status="running",
                    stage="starting",
                    progress=0.0,
                    attempts=PlanJob.attempts + 1,
                    started_at=utcnow(),
                )
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return None
            job = s.get(PlanJob, plan_id)
            assert job is not None
            return dict(job.request)

    def _run(self, plan_id: str) -> None:
        request = self._claim(plan_id)
        if request is None:
            return
        with self._lock:
            self.running.add(plan_id)
        try:
            result, pages = execute(self._db, self._env, plan_id, request, self._progress(plan_id))
            with self._db.write() as s:
                job = s.get(PlanJob, plan_id)
                assert job is not None
                for page in pages:
                    s.merge(page)
                job.result, job.status, job.stage, job.progress = result, "done", "done", 1.0
                job.finished_at = utcnow()
                stops = [stop["case_id"] for team in result["teams"] for stop in team["stops"]]
                mark_planned(s, stops)
            log.info("job %s done: %d stops", plan_id, len(stops))
        except JobCancelledError:
            self._finish(plan_id, "cancelled", None)
        except InputFileError as err:
            details = [{"row": p.row, "field": p.field, "error": p.error} for p in err.problems]
            self._finish(plan_id, "failed", {"code": "bad_input", "message": str(err), "details": details})
        except (RoutingError, ValueError) as err:
            self._finish(plan_id, "failed", {"code": "planning_failed", "message": str(err)})
        except Exception as err:  # a job must end in a state, whatever went wrong
            log.exception("job %s failed", plan_id)
            self._finish(plan_id, "failed", {"code": "internal", "message": f"{type(err).__name__}: {err}"})
        finally:
            with self._lock:
                self.running.discard(plan_id)

    def _finish(self, plan_id: str, status: str, error: dict[str, Any] | None) -> None:
        with self._db.write() as s:
            s.execute(
                update(PlanJob)
                .where(PlanJob.plan_id == plan_id)
                .values(status=status, stage=status, error=error, finished_at=utcnow())
            )
        log.info("job %s %s", plan_id, status)

    def _progress(self, plan_id: str) -> service.Progress:
        def report(stage: str, fraction: float) -> None:
            with self._db.write() as s:
                cancel = s.scalar(select(PlanJob.cancel_requested).where(PlanJob.plan_id == plan_id))
                if cancel:
                    raise JobCancelledError(plan_id)
                s.execute(
                    update(PlanJob).where(PlanJob.plan_id == plan_id).values(stage=stage, progress=round(fraction, 3))
                )

        return report


# Cases the store holds back from planning, and the plan.json code they get.
_HELD = {"cooldown": "cooldown", "suspended": "suspended", "needs_address": "suspended", "done": "closed"}
_HELD_MESSAGE = {
    "cooldown": "refused recently; cooling down until {until}",
    "suspended": "promised to pay by {until}",
    "needs_address": "the address was reported wrong or the customer moved; needs an address fix",
    "done": "already met on an earlier visit",
    "closed": "closed by the loan system",
}


def held_reason(row: CaseRow, date: dt.date) -> Dropped | None:
    """Why the store holds a case back from planning on ``date`` (closed, cooling down, ...), or ``None``."""
    state = row.state
    if state in ("cooldown", "suspended") and (row.state_until is None or row.state_until <= date):
        state = "open"
    if state in _HELD or state == "closed":
        message = _HELD_MESSAGE[state].format(until=row.state_until)
        return Dropped(row.case_id, _HELD.get(state, "closed"), message)
    return None


def case_records(rows: Sequence[CaseRow], date: dt.date) -> tuple[list[dict[str, Any]], list[Dropped]]:
    """The stored cases as planner input (an officer's GPS fix replaces the point), and those held back."""
    records: list[dict[str, Any]] = []
    held: list[Dropped] = []
    for row in rows:
        reason = held_reason(row, date)
        if reason is not None:
            held.append(reason)
            continue
        record = dict(row.record)
        record["state"] = "open"
        if row.fix_lat is not None and row.fix_lon is not None:
            record["lat"], record["lon"] = row.fix_lat, row.fix_lon
        records.append(record)
    return records, held


def execute(
    db: Database, env: PlanningEnv, plan_id: str, request: dict[str, Any], progress: service.Progress
) -> tuple[dict[str, Any], list[PlanPage]]:
    """Plan one job from the stored cases and teams; returns plan.json and the rendered pages."""
    date = dt.date.fromisoformat(request["date"])
    with db.read() as s:
        q = select(TeamRow).order_by(TeamRow.team_id)
        if request.get("team_ids"):
            q = q.where(TeamRow.team_id.in_(request["team_ids"]))
        team_records = [dict(r.record) for r in s.scalars(q)]
        cq = select(CaseRow).order_by(CaseRow.case_id)
        if request.get("case_ids"):
            cq = cq.where(CaseRow.case_id.in_(request["case_ids"]))
        else:
            cq = cq.where(CaseRow.state.in_(["open", "planned", "cooldown", "suspended"]))
        case_rows = list(s.scalars(cq))
    if not team_records:
        msg = "no teams to plan: PUT /v1/teams/{team_id} first"
        raise ValueError(msg)
    records, held = case_records(case_rows, date)
    cases, problems = parse_cases(records)
    if problems:
        raise InputFileError(Path("stored cases"), problems)
    phones = {c.case_id: c.phone for c in cases}
    specs, team_problems = parse_teams(team_records)
    if team_problems:
        raise InputFileError(Path("stored teams"), team_problems)
    progress("road network", 0.0)
    region = env.region_for([t.profile for t in specs])
    teams = service.build_teams(specs, region, Path("stored teams"))
    time_limit = float(request.get("time_limit_s") or env.default_time_limit_s)
    # Every stored outcome teaches the model the plan is made with: the next day's plan starts from what was learnt.
    presence = env.presence.snapshot() if env.presence is not None else None
    if cases:
        if env.scheduler is not None and env.osm_path is not None:
            tasks = partitions.split_by_branch(
                cases, teams, osm_path=env.osm_path, cache_dir=None, date=date, settings=env.settings,
                time_limit_s=time_limit, seed=request.get("seed"), country=env.settings.country, presence=presence,
            )  # fmt: skip
            results = partitions.run_partitions(
                tasks, scheduler=env.scheduler, done=lambda r, n, total: progress(f"branch {n}/{total}", n / total)
            )
            failed = [r for r in results if r.run is None]
            if failed:
                names = "; ".join(f"{r.branch or '(default)'}: {r.error}" for r in failed)
                msg = f"{len(failed)} branch(es) could not be planned: {names}"
                raise RoutingError(msg)
            run = partitions.merge_partitions(results, cases, teams, date, env.settings.timezone)
        else:
            run = service.plan_day(
                cases, teams, region, date, env.settings, time_limit, request.get("seed"), presence, progress=progress
            )
        if run.violations:
            names = "; ".join(f"{v.code}: {v.message}" for v in run.violations[:20])
            msg = f"the plan breaks {len(run.violations)} rule(s): {names}"
            raise RoutingError(msg)
        plan = run.plan
    else:
        progress("nothing to plan", 0.9)
        plan = Plan(plan_id, date, env.settings.timezone, (), (), (), SolverInfo("ortools", "nothing_to_plan", 0.0))
    plan = dataclasses.replace(plan, plan_id=plan_id, dropped=(*plan.dropped, *held), cases=len(cases) + len(held))
    progress("maps", 0.95)
    return plan_to_dict(plan), render_pages(plan, env, phones, region)


def csp_hashes(page: str) -> str:
    """CSP source expressions for the page's own inline scripts: these and same-origin files may run."""
    digests = {
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in _INLINE_SCRIPT.findall(page)
    }
    return " ".join(sorted(digests))


def render_pages(
    plan: Plan,
    env: PlanningEnv,
    phones: dict[str, str | None],
    region: service.Region | None = None,
    teams: Collection[str] | None = None,
    revision: int = 1,
) -> list[PlanPage]:
    """The overview (with the edit panel of a draft plan at ``revision``), each team's supervisor map and each
    team's officer page (the map with outcome buttons); with ``region``, tile-less pages draw the roads of the
    networks the plan was made on.

    With ``teams``, only those teams' pages are drawn (the others are unchanged) besides the overview.
    """
    from api.plan_editor import plan_editor
    from maps import render_overview

    lang = env.settings.lang
    pages: list[PlanPage] = []
    links = {r.team.team_id: f"/v1/plans/{plan.plan_id}/teams/{r.team.team_id}/map" for r in plan.routes}
    roads = region.roads_for("car") if region is not None else None
    overview = render_overview(plan, links, lang=lang, asset_prefix="/static/", tiles=env.tiles, roads=roads)
    overview = overview.replace("</body>", plan_editor(plan, revision, lang) + "</body>", 1)
    pages.append(
        PlanPage(plan_id=plan.plan_id, kind="overview", team_id="", html=overview, script_hashes=csp_hashes(overview))
    )
    for route in plan.routes:
        if teams is None or route.team.team_id in teams:
            pages += render_team_pages(plan, route, env, phones, region)
    return pages


def render_team_pages(
    plan: Plan,
    route: TeamDay,
    env: PlanningEnv,
    phones: dict[str, str | None],
    region: service.Region | None = None,
) -> list[PlanPage]:
    """A team's supervisor map and its officer page (the same map with the outcome buttons)."""
    from maps import render_team_map

    roads = region.roads_for(route.team.profile) if region is not None else None
    team_map = render_team_map(
        plan, route, lang=env.settings.lang, asset_prefix="/static/", tiles=env.tiles, roads=roads
    )
    officer = team_map.replace("</body>", officer_panel(plan, route, phones, env.settings.lang) + "</body>", 1)
    team_id = route.team.team_id
    return [
        PlanPage(plan_id=plan.plan_id, kind="map", team_id=team_id, html=team_map, script_hashes=csp_hashes(team_map)),
        PlanPage(
            plan_id=plan.plan_id, kind="officer", team_id=team_id, html=officer, script_hashes=csp_hashes(officer)
        ),
    ]


def mask_phone(phone: str | None) -> str:
    """Only the last three digits of a phone number (officer pages must not show it whole)."""
    if not phone:
        return ""
    digits = [c for c in phone if c.isdigit()]
    return "*** " + "".join(digits[-3:]) if len(digits) >= 6 else "***"


def officer_panel(plan: Plan, route: TeamDay, phones: dict[str, str | None], lang: str = "en") -> str:
    """The outcome buttons and the re-plan button of the officer page; the script is served from this origin
    (CSP: self). Stops carry their WGS-84 point: a re-plan without a GPS fix starts at the last stop done."""
    from maps.i18n import translate
    from maps.page import esc

    rows = []
    for visit in sorted(route.visits, key=lambda v: v.seq):
        buttons = "".join(
            f'<button type="button" data-result="{r}">{esc(translate(lang, f"result.{r}"))}</button>'
            for r in RESULT_BUTTONS
        )
        phone = mask_phone(phones.get(visit.case_id))
        rows.append(
            f'<li data-case="{esc(visit.case_id)}" data-kind="{esc(visit.address_kind)}" '
            f'data-lat="{visit.location.lat:.6f}" '
            f'data-lon="{visit.location.lon:.6f}"><strong><span class="ds-seq">{visit.seq}</span> · '
            f"{esc(visit.case_id)}</strong>"
            + (f' <span class="ds-phone">{esc(phone)}</span>' if phone else "")
            + f'<div class="ds-outcome-buttons">{buttons}</div><span class="ds-sent"></span></li>'
        )
    members = "".join(f'<option value="{esc(m)}">{esc(m)}</option>' for m in route.team.members)
    texts = " ".join(
        f'data-{key.replace("_", "-")}="{esc(translate(lang, key))}"'
        for key in ("replan_busy", "replan_done", "replan_failed", "replan_offline", "replan_unplanned")
    )
    # The queue's and a refused post's messages, for officer.js to fill in ({n}, {status}).
    queue_texts = " ".join(
        f'data-{key.replace("_", "-")}="{esc(translate(lang, key, n="{n}", status="{status}", cases="{cases}"))}"'
        for key in ("outcomes_waiting", "outcome_refused", "promised_date_prompt", "closed_note", "closed_banner")
    )
    replan = (
        f'<div class="ds-replan"><button type="button" id="ds-replan" {texts}>{esc(translate(lang, "replan"))}'
        '</button><p id="ds-replan-status" role="status"></p></div>'
    )
    start = route.team.start
    return (
        f'<div class="ds-panel ds-outcomes" id="ds-outcomes" data-plan="{esc(plan.plan_id)}" '
        f'data-team="{esc(route.team.team_id)}" data-start-lat="{start.lat:.6f}" data-start-lon="{start.lon:.6f}" '
        f'{queue_texts}>{replan}<label>{esc(translate(lang, "officer"))} <select id="ds-officer">{members}</select>'
        "</label>"
        f'<ol>{"".join(rows)}</ol><p id="ds-queue"></p></div>'
        '<script src="/assets/officer.js" defer></script>'
        '<script src="/assets/closed-stops.js" defer></script>'
    )
