"""The ``doorstep`` command line (CONTRACTS.md): thin commands over ``api.service``."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api import geocode_cmd, partitions, service
from api.errors import ConfigurationError, DoorstepError, exit_code
from api.history import learn_presence, read_outcomes
from api.settings import (
    DaySettings,
    legal_window,
    presence_floor,
    resolve_country,
    resolve_lang,
    resolve_public_url,
    resolve_timezone,
)
from data import demo_files, helsinki_extract
from geo.errors import GeoError
from maps.errors import UnknownTilesError
from maps.tiles import tile_source
from routing.errors import RoutingError

app = typer.Typer(help="Doorstep: plan home-verification visits that find customers at home.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    """Show an error the way a supervisor can act on it, and exit with CONTRACTS.md's status."""
    try:
        yield
    except (DoorstepError, GeoError, RoutingError, ValueError) as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False, markup=True)
        raise typer.Exit(exit_code(err)) from err


@contextmanager
def _progress() -> Iterator[service.Progress]:
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("loading", total=1.0)

        def report(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction)

        yield report


TILES_HELP = "Map tiles: osm, amap (AMap, drawn in GCJ-02), none (the plan's roads as a light layer) or an https URL."


def _run_plan(
    osm: Path,
    cases_path: Path,
    teams_path: Path,
    date: dt.date | None,
    out_dir: Path,
    time_limit: float,
    seed: int | None,
    tz: str | None,
    country: str | None,
    lang: str | None,
    tiles: str,
    *,
    pdf: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    history_path: Path | None = None,
    presence_store: Path | None = None,
) -> None:
    started = time.perf_counter()
    try:
        tile_source(tiles)  # a bad --tiles fails before the planning, not after it
    except UnknownTilesError as err:
        msg = f"--tiles: {err}"
        raise ConfigurationError(msg) from err
    for label, path in (("--osm", osm), ("--cases", cases_path), ("--teams", teams_path)):
        if not path.is_file():
            msg = f"{label}: no such file: {path}"
            raise ConfigurationError(msg)
    if history_path is not None and not history_path.is_file():
        msg = f"--history: no such file: {history_path}"
        raise ConfigurationError(msg)
    cases, team_specs = service.load_inputs(cases_path, teams_path)
    history = read_outcomes(history_path) if history_path is not None else []
    with _progress() as progress:
        progress("road network", 0.0)
        region = service.Region.load(osm, profiles=[t.profile for t in team_specs], country=country)
        teams = service.build_teams(team_specs, region, teams_path)
        timezone = resolve_timezone(tz, region.center)
        settings = DaySettings(
            timezone=timezone,
            country=resolve_country(country, timezone),
            legal=legal_window(),
            min_p_home=presence_floor(),
            lang=resolve_lang(lang),
        )
        day = date or dt.datetime.now(ZoneInfo(timezone)).date()
        model = None
        if history_path is not None or presence_store is not None:
            model = learn_presence(history_path, presence_store, cases, settings.timezone, settings.country)
        branches = {c.branch or "" for c in cases} | {t.branch or "" for t in teams}
        failed: list[partitions.PartitionResult] = []
        if scheduler or workers or len(branches) > 1:
            tasks = partitions.split_by_branch(
                cases, teams, osm_path=osm, cache_dir=None, date=day, settings=settings,
                time_limit_s=time_limit, seed=seed, country=country, history=history, presence=model,
                maps=(settings.lang, tiles),
            )  # fmt: skip
            progress(f"{len(tasks)} branches", 0.0)

            def branch_done(result: partitions.PartitionResult, finished: int, total: int) -> None:
                progress(f"branch {finished}/{total}", finished / total)

            results = partitions.run_partitions(tasks, scheduler=scheduler, workers=workers, done=branch_done)
            run = partitions.merge_partitions(results, cases, teams, day, timezone)
            failed = [r for r in results if r.run is None]
        else:
            run = service.plan_day(
                cases, teams, region, day, settings, time_limit, seed, model, progress=progress, history=history
            )
    if run.violations:
        for v in run.violations:
            console.print(f"[red]violation[/] {v.code}: {v.message}", highlight=False)
        msg = f"the plan breaks {len(run.violations)} rule(s); nothing was written"
        raise RoutingError(msg)
    public_base = resolve_public_url()
    written = service.write_outputs(
        run, out_dir, lang=settings.lang, tiles=tiles, public_base=public_base, sheets_pdf=pdf, region=region
    )
    _summary(run, written, time.perf_counter() - started)
    if failed:
        for result in failed:
            console.print(
                f"[red]branch {result.branch or '(default)'} failed[/] after {result.attempts} attempt(s): "
                f"{result.error}; its {len(result.case_ids)} cases are dropped with partition_failed",
                highlight=False,
            )
        raise typer.Exit(1)


def _summary(run: service.PlanRun, written: dict[str, Path], elapsed: float) -> None:
    plan = run.plan
    table = Table(title=f"Plan {plan.plan_id} for {plan.date} ({plan.timezone})")
    for col in ("team", "visits", "expected contacts", "travel", "km", "day"):
        table.add_column(col, justify="right" if col != "team" else "left")
    for route in plan.routes:
        table.add_row(
            route.team.team_id,
            str(len(route.visits)),
            f"{route.expected_contacts:.1f}",
            f"{route.travel_s / 3600:.1f} h",
            f"{route.distance_m / 1000:.1f}",
            f"{route.start_time // 3600:02d}:{route.start_time % 3600 // 60:02d}-"
            f"{route.end_time // 3600:02d}:{route.end_time % 3600 // 60:02d}",
        )
    out.print(table)
    codes: dict[str, int] = {}
    for code in [d.code for d in plan.dropped] + [u.code for u in plan.unresolved]:
        codes[code] = codes.get(code, 0) + 1
    out.print(
        f"{plan.cases} cases: {plan.planned} planned, {len(plan.dropped)} dropped, "
        f"{len(plan.unresolved)} unresolved"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(codes.items()))})" if codes else "")
    )
    out.print(
        f"expected contacts {plan.expected_contacts:.1f}; solver {plan.solver.status} in {plan.solver.time_s:.1f} s"
    )
    out.print(f"plan:     {written['plan']}")
    out.print(f"overview: {written['overview']}")
    out.print(f"maps:     {written['overview'].parent / 'maps'}/")
    out.print(f"sheets:   {written['overview'].parent / 'sheets'}/")
    out.print(f"done in {elapsed:.1f} s")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write plan.json, index.html and maps/.")] = Path(
        "doorstep-demo"
    ),
    date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Plan date (default: today).")] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time budget in seconds.")] = 5.0,
    seed: Annotated[int | None, typer.Option(help="Make the run reproducible.")] = None,
    lang: Annotated[str | None, typer.Option(help="Map language: en or zh-CN.")] = None,
    tiles: Annotated[str, typer.Option(help=TILES_HELP)] = "osm",
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print each route sheet to PDF (headless Chromium).")] = False,
) -> None:
    """Plan a whole day on the embedded Helsinki extract with synthetic cases, and write the maps."""
    cases_path, teams_path = demo_files()
    with _errors_to_exit():
        _run_plan(
            helsinki_extract(),
            cases_path,
            teams_path,
            date.date() if date else None,
            out_dir,
            time_limit,
            seed,
            None,
            None,
            lang,
            tiles,
            pdf=pdf,
        )


@app.command()
def plan(
    osm: Annotated[Path, typer.Option(help="OSM extract: .osm.pbf, .osm or .osm.bz2.")],
    cases: Annotated[Path, typer.Option(help="Cases file (CSV or JSON).")],
    teams: Annotated[Path, typer.Option(help="Teams file (CSV or JSON).")],
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Plan date, YYYY-MM-DD.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    time_limit: Annotated[float, typer.Option(help="Solver time budget in seconds.")] = 10.0,
    seed: Annotated[int | None, typer.Option(help="Reproducible run: stop on a solution count.")] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone (IANA); default: the extract's.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country code; default: the zone's.")] = None,
    lang: Annotated[str | None, typer.Option(help="Map language: en or zh-CN.")] = None,
    tiles: Annotated[str, typer.Option(help=TILES_HELP)] = "osm",
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print each route sheet to PDF (headless Chromium).")] = False,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://HOST:8786): plan the branches on that cluster.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Plan the branches on a local pool of this many processes.")
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(help="Past outcomes (outcome CSV/JSON): visit caps, cool-downs, and P(home) learns from them."),
    ] = None,
    presence_store: Annotated[
        Path | None, typer.Option(help="Presence model file (.npz): read, taught --history, written back.")
    ] = None,
) -> None:
    """Plan one day from files; writes plan.json, index.html, maps/<team>.html and sheets/<team>.html."""
    with _errors_to_exit():
        _run_plan(
            osm, cases, teams, date.date(), out_dir, time_limit, seed, tz, country, lang, tiles,
            pdf=pdf, scheduler=scheduler, workers=workers, history_path=history, presence_store=presence_store,
        )  # fmt: skip


@app.command()
def simulate(
    osm: Annotated[Path, typer.Option(help="OSM extract whose addresses the synthetic customers live at.")],
    customers: Annotated[int, typer.Option(help="Customers.")] = 500,
    teams: Annotated[int, typer.Option(help="Field teams.")] = 5,
    weeks: Annotated[int, typer.Option(help="Weeks simulated.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same report.")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write report.json and the plots.")] = Path(
        "doorstep-sim"
    ),
    truth: Annotated[str, typer.Option(help="personas (departs from segments) or prior (equals them).")] = "personas",
    shortlist: Annotated[int, typer.Option(help="Open cases per team and day handed to the solver.")] = 24,
    revisit_days: Annotated[int, typer.Option(help="Days a customer met stays out of the pool.")] = 7,
    min_p_home: Annotated[
        float, typer.Option(help="Presence-aware plans offer no visit at an hour with a lower P(home).")
    ] = 0.0,
) -> None:
    """Close the loop plan → visit → outcome → learn on a synthetic population and compare four policies."""
    from api.simulate import SimulationConfig, run_simulation, write_outputs

    with _errors_to_exit():
        if not osm.is_file():
            msg = f"--osm: no such file: {osm}"
            raise ConfigurationError(msg)
        config = SimulationConfig(
            osm=osm, customers=customers, teams=teams, weeks=weeks, seed=seed, truth=truth,
            shortlist_per_team=shortlist, revisit_days=revisit_days, min_p_home=min_p_home,
        )  # fmt: skip
        with _progress() as progress:
            result = run_simulation(config, progress=progress)
        written = write_outputs(result, out_dir)
    table = Table(title=f"Closed loop on {osm.name}: {customers} customers, {teams} teams, seed {seed}")
    for col in ("week", "policy", "visits", "contacts", "hit rate", "Brier", "ECE", "MAE p"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for week in result.report["weekly"]:
        for policy in result.report["policies"]:
            m = week[policy]
            cells = [m["hit_rate"], m["brier"], m["ece"], m["mae_p"]]
            table.add_row(
                str(week["week"]), policy, str(m["visits"]), str(m["contacts"]),
                *("-" if c is None else f"{c:.3f}" for c in cells),
            )  # fmt: skip
    out.print(table)
    for name, path in written.items():
        out.print(f"{name + ':':<16} {path}")


geocode_cmd.register(app, _errors_to_exit)


bench_app = typer.Typer(help="Benchmarks of the planning engine.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("solomon")
def bench_solomon(
    data: Annotated[Path, typer.Option(help="Folder of Solomon-format instances (*.txt, best-knowns beside them).")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the JSON results.")],
    instances: Annotated[
        str | None, typer.Option(help="Comma-separated instance names, e.g. R101,C201 (default: all).")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Time budget per instance in seconds.")] = 10.0,
    objective: Annotated[str, typer.Option(help="distance, or hierarchical (vehicles first).")] = "distance",
) -> None:
    """Solve Solomon/Gehring-Homberger instances with Doorstep's OR-Tools engine and score them."""
    with _errors_to_exit():
        names = [n for n in instances.split(",") if n.strip()] if instances else None
        with _progress() as progress:
            rows = service.bench_vrptw(data, names, time_limit, objective, progress=progress)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(rows, indent=1), encoding="utf-8")
        table = Table(title=f"VRPTW, {objective} objective, {time_limit:g} s each")
        for col in ("instance", "vehicles", "distance", "best known", "gap %", "feasible", "time s"):
            table.add_column(col, justify="left" if col == "instance" else "right")
        gaps: list[float] = []
        for row in rows:
            gap = row.get("gap_pct")
            if isinstance(gap, float):
                gaps.append(gap)
            bks = row.get("bks_distance")
            table.add_row(
                str(row["instance"]),
                str(row["vehicles"]),
                f"{row['distance']:.1f}",
                f"{bks:.1f}" if isinstance(bks, float) else "-",
                f"{gap:.2f}" if isinstance(gap, float) else "-",
                "yes" if row["feasible"] else "NO",
                f"{row['time_s']:.1f}",
            )
        out.print(table)
        if gaps:
            out.print(f"mean gap to best known: {sum(gaps) / len(gaps):.2f}% over {len(gaps)} instance(s)")
        infeasible = [str(r["instance"]) for r in rows if not r["feasible"]]
        if infeasible:
            out.print(f"[red]no feasible complete solution:[/] {', '.join(infeasible)}")
        out.print(f"results: {out_file}")


def main() -> None:  # pragma: no cover - console entry point
    app()


@app.command()
def serve(
    osm: Annotated[Path | None, typer.Option(help="OSM extract of the region (or DOORSTEP_OSM).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[
        str | None, typer.Option(help="Database URL (or DOORSTEP_DB); default SQLite in the data dir.")
    ] = None,
) -> None:
    """The HTTP API for the region of one extract (settings: see the README's table)."""
    import uvicorn

    from api.app import create_app
    from api.server_settings import ServerSettings

    with _errors_to_exit():
        settings = ServerSettings.from_env(osm=osm, db_url=db)
        if settings.osm is None or not settings.osm.is_file():
            msg = f"--osm: no such file: {settings.osm}" if settings.osm else "--osm (or DOORSTEP_OSM) is required"
            raise ConfigurationError(msg)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


@app.command("import-cases")
def import_cases(
    file: Annotated[Path, typer.Argument(help="Cases file (CSV or JSON).")],
    db: Annotated[str | None, typer.Option(help="Database URL (or DOORSTEP_DB).")] = None,
) -> None:
    """Load cases into the store; prints the same report as POST /v1/cases."""
    import json

    from api import store
    from api.db import Database
    from api.files import read_records
    from api.server_settings import ServerSettings

    with _errors_to_exit():
        if not file.is_file():
            msg = f"no such file: {file}"
            raise ConfigurationError(msg)
        database = Database(ServerSettings.from_env(db_url=db).db_url)
        database.migrate()
        report = store.import_cases(database, read_records(file))
        out.print(json.dumps(report, ensure_ascii=False, indent=2), highlight=False)
        if report["rejected"]:
            raise typer.Exit(2)


keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="system or supervisor.")],
    label: Annotated[str | None, typer.Option(help="Who the key is for.")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (or DOORSTEP_DB).")] = None,
) -> None:
    """Print a new API key once; only its hash is stored."""
    from api import store
    from api.db import Database
    from api.errors import ApiError
    from api.server_settings import ServerSettings

    with _errors_to_exit():
        database = Database(ServerSettings.from_env(db_url=db).db_url)
        database.migrate()
        try:
            secret = store.create_key(database, role, label)
        except ApiError as err:
            raise ConfigurationError(err.message) from err
        out.print(secret, highlight=False)


if __name__ == "__main__":  # pragma: no cover - python -m api.cli
    app()
