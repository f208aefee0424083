"""A day split by branch: each branch's cases and teams are planned as one task, on a local process pool or on
Dask distributed, and the results merged into one plan.

Branches never share teams (teams only visit cases of their own branch), so planning them apart loses nothing
and lets a province's day run on many cores. A task loads the region's road graph and address index from the
on-disk cache, which the caller builds once before the tasks start; on a cluster that cache lies on shared
storage. A task that fails is retried, then reported with its error; the others complete, and the failed
branch's cases are listed as dropped with the code ``partition_failed``, so no case is lost.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import functools
import multiprocessing
import os
import platform
import resource
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from api.service import PlanRun, Region, plan_day, render_team_pages
from api.settings import DaySettings
from routing.learning import PresenceModel
from routing.model import Case, Dropped, Outcome, Plan, SolverInfo, Team

__all__ = [
    "PartitionResult",
    "PartitionTask",
    "merge_partitions",
    "plan_partition",
    "run_partitions",
    "split_by_branch",
]

DEFAULT_BRANCH = ""
PARTITION_FAILED = "partition_failed"


@dataclass(frozen=True, slots=True)
class PartitionTask:
    """Everything a worker needs to plan one branch's day (picklable; no open files or networks)."""

    branch: str
    osm_path: Path
    profiles: tuple[str, ...]
    cache_dir: Path | None
    cases: tuple[Case, ...]
    teams: tuple[Team, ...]
    date: dt.date
    settings: DaySettings
    time_limit_s: float
    seed: int | None = None
    # The country the road network's speeds were built for (None: detected from the extract, as the parent did).
    country: str | None = None
    # Past outcomes of this branch's cases: visit caps and cool-downs.
    history: tuple[Outcome, ...] = ()
    # The learnt presence model (``--history``); None plans on the segment prior.
    presence: PresenceModel | None = None
    # Render the branch's team maps in the task (language, tiles); None leaves them to the caller.
    maps: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PartitionResult:
    """One branch's outcome: its checked plan, or the error that stopped it after every attempt."""

    branch: str
    run: PlanRun | None
    error: str | None = None
    attempts: int = 1
    seconds: float = 0.0
    load_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    worker: str = ""
    case_ids: tuple[str, ...] = field(default_factory=tuple)


def split_by_branch(
    cases: Sequence[Case],
    teams: Sequence[Team],
    *,
    osm_path: Path,
    cache_dir: Path | None,
    date: dt.date,
    settings: DaySettings,
    time_limit_s: float,
    seed: int | None = None,
    country: str | None = None,
    history: Sequence[Outcome] = (),
    presence: PresenceModel | None = None,
    maps: tuple[str, str] | None = None,
) -> list[PartitionTask]:
    """One task per branch that has cases or teams, in branch order (``maps``: see `PartitionTask`).

    A branch with cases but no team still gets a task: its cases come back dropped with
    ``no_team_in_branch``, as in an unsplit plan.
    """
    branches = sorted({c.branch or DEFAULT_BRANCH for c in cases} | {t.branch or DEFAULT_BRANCH for t in teams})
    profiles = tuple(sorted({t.profile for t in teams} or {"car"}))
    branch_of = {c.case_id: c.branch for c in cases}
    return [
        PartitionTask(
            branch=branch,
            osm_path=osm_path,
            profiles=profiles,
            cache_dir=cache_dir,
            cases=tuple(c for c in cases if (c.branch or DEFAULT_BRANCH) == branch),
            teams=tuple(t for t in teams if (t.branch or DEFAULT_BRANCH) == branch),
            date=date,
            settings=settings,
            time_limit_s=time_limit_s,
            seed=seed,
            country=country,
            history=tuple(o for o in history if (branch_of.get(o.case_id) or DEFAULT_BRANCH) == branch),
            presence=presence,
            maps=maps,
        )
        for branch in branches
    ]


def plan_partition(task: PartitionTask) -> PartitionResult:
    """Plan one branch (runs in a worker process). Raises on failure, so the executor can retry it."""
    started = time.perf_counter()
    region = _worker_region(task.osm_path, task.profiles, task.cache_dir, task.country)
    loaded = time.perf_counter()
    run = plan_day(
        list(task.cases),
        list(task.teams),
        region,
        task.date,
        task.settings,
        task.time_limit_s,
        task.seed,
        task.presence,
        history=task.history,
        # The branches are the parallel level: one solver process per branch, none nested inside it.
        solver_workers=1,
    )
    if task.maps is not None:
        lang, tiles = task.maps
        run = dataclasses.replace(run, team_pages=render_team_pages(run, lang=lang, tiles=tiles, region=region))
    return PartitionResult(
        branch=task.branch,
        run=run,
        seconds=time.perf_counter() - started,
        load_seconds=loaded - started,
        # ru_maxrss is in kilobytes on Linux: the worker process's peak so far.
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        worker=f"{platform.node()}:{os.getpid()}",
        case_ids=tuple(c.case_id for c in task.cases),
    )


@functools.lru_cache(maxsize=2)
def _worker_region(osm_path: Path, profiles: tuple[str, ...], cache_dir: Path | None, country: str | None) -> Region:
    """The region a worker process plans on, read from the on-disk cache by its first task and kept in the
    process for the next ones (a worker plans many branches of the same extract)."""
    return Region.load(osm_path, profiles=profiles, cache_dir=cache_dir, country=country)


def _failed(task: PartitionTask, error: BaseException, attempts: int) -> PartitionResult:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return PartitionResult(
        branch=task.branch,
        run=None,
        error=text,
        attempts=attempts,
        case_ids=tuple(c.case_id for c in task.cases),
    )


Done = Callable[[PartitionResult, int, int], None]
"""``done(result, finished, total)``: called as each partition finishes."""


def run_partitions(
    tasks: Sequence[PartitionTask],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 1,
    done: Done | None = None,
    work: Callable[[PartitionTask], PartitionResult] = plan_partition,
) -> list[PartitionResult]:
    """Run every task, retrying a failed one ``retries`` times; results come back in task order.

    Parameters
    ----------
    tasks
        The partitions, e.g. from `split_by_branch`.
    scheduler
        A Dask distributed scheduler address (``tcp://host:8786``); without it a local process pool runs them.
    workers
        Size of the local pool (default: the machine's cores); ignored with a scheduler.
    retries
        Further attempts after a task's first failure.
    done
        Told of each finished partition, for progress.
    work
        The function run per task (a module-level function, so it pickles).

    Returns
    -------
    list of PartitionResult
        One per task; a task that failed every attempt has ``run=None`` and its error.
    """
    if scheduler:
        return _run_on_dask(tasks, scheduler, retries, done, work)
    return _run_on_pool(tasks, workers or os.cpu_count() or 1, retries, done, work)


def _run_on_pool(
    tasks: Sequence[PartitionTask],
    workers: int,
    retries: int,
    done: Done | None,
    work: Callable[[PartitionTask], PartitionResult],
) -> list[PartitionResult]:
    results: dict[int, PartitionResult] = {}
    # spawn, not fork: the parent may hold OR-Tools and thread pools that a forked child must not inherit.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(tasks) or 1), mp_context=context) as pool:
        attempts = dict.fromkeys(range(len(tasks)), 1)
        pending = {pool.submit(work, task): i for i, task in enumerate(tasks)}
        while pending:
            finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                error = future.exception()
                if error is None:
                    results[i] = dataclasses.replace(future.result(), attempts=attempts[i])
                elif attempts[i] <= retries:
                    attempts[i] += 1
                    pending[pool.submit(work, tasks[i])] = i
                    continue
                else:
                    results[i] = _failed(tasks[i], error, attempts[i])
                if done is not None:
                    done(results[i], len(results), len(tasks))
    return [results[i] for i in range(len(tasks))]


def _run_on_dask(
    tasks: Sequence[PartitionTask],
    scheduler: str,
    retries: int,
    done: Done | None,
    work: Callable[[PartitionTask], PartitionResult],
) -> list[PartitionResult]:
    from distributed import Client, as_completed

    results: dict[int, PartitionResult] = {}
    run_id = uuid.uuid4().hex[:8]
    with Client(scheduler, timeout=30) as client:
        futures = [
            client.submit(work, task, retries=retries, pure=False, key=f"doorstep-{run_id}-{i}-{task.branch}")
            for i, task in enumerate(tasks)
        ]
        index = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            i = index[future.key]
            if future.status == "finished":
                results[i] = future.result()
            else:
                results[i] = _failed(tasks[i], future.exception(), retries + 1)
            if done is not None:
                done(results[i], len(results), len(tasks))
    return [results[i] for i in range(len(tasks))]


def merge_partitions(
    results: Sequence[PartitionResult], cases: Sequence[Case], teams: Sequence[Team], date: dt.date, timezone: str
) -> PlanRun:
    """One plan for the day from the branches' plans, in the input's case and team order.

    A failed branch's cases are dropped with ``partition_failed`` and its error, and its teams get no route.
    """
    routes = []
    dropped: list[Dropped] = []
    unresolved = []
    violations = []
    solver_s = 0.0
    failed = [r for r in results if r.run is None]
    for result in results:
        if result.run is None:
            message = f"planning branch {result.branch or '(default)'} failed: {result.error}"
            dropped += [Dropped(cid, PARTITION_FAILED, message) for cid in result.case_ids]
            continue
        plan = result.run.plan
        routes += list(plan.routes)
        dropped += list(plan.dropped)
        unresolved += list(plan.unresolved)
        violations += result.run.violations
        solver_s += plan.solver.time_s
    case_order = {c.case_id: i for i, c in enumerate(cases)}
    team_order = {t.team_id: i for i, t in enumerate(teams)}
    status = f"{len(results) - len(failed)} of {len(results)} partitions solved"
    plan = Plan(
        plan_id=uuid.uuid4().hex[:12],
        date=date,
        timezone=timezone,
        routes=tuple(sorted(routes, key=lambda r: team_order[r.team.team_id])),
        dropped=tuple(sorted(dropped, key=lambda d: case_order[d.case_id])),
        unresolved=tuple(sorted(unresolved, key=lambda u: case_order[u.case_id])),
        solver=SolverInfo("ortools", status, solver_s),
        cases=len(cases),
        expected_value=sum(r.run.plan.expected_value for r in results if r.run is not None),
    )
    presence: dict[str, dict[str, tuple[float, ...]]] = {}
    pages: dict[str, str] = {}
    for result in results:
        if result.run is not None:
            presence.update(result.run.presence)
            pages.update(result.run.team_pages)
    return PlanRun(plan, list(cases), list(teams), violations, presence=presence, team_pages=pages)
