"""``doorstep geocode`` and ``doorstep correct``: batch geocoding of a CSV file, and address corrections.

The command's logic lives here so that ``api/cli.py`` only registers it. Input (CONTRACTS.md): a CSV with an
``address`` column (and maybe ``id``, and maybe ``lat``/``lon`` to check instead of geocoding); output: the input
columns plus ``lat, lon, precision, confidence, status, code, message, matched, source``.

Bad input never stops the batch: a row that is not UTF-8, has no address cell, an address of 10 KB or control
characters, or coordinates outside the extract gets its own ``unresolved`` answer with a message, and every other
row is still answered. Only a file that cannot be read as a table at all (no ``address`` column, not UTF-8 at all,
not CSV) exits with status 2, naming the file and the reason.

Results are cached on disk (``ResultCache``, keyed by the index digest, the threshold and the normalised address)
and corrections (``CorrectionStore``) override the geocoder, cached answers included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.errors import InputFileError, RowProblem
from geo.corrections import Correction, CorrectionStore
from geo.geocoder import GeocodeResult, OfflineGeocoder, default_cache_dir
from geo.result_cache import ResultCache
from geo.types import Location

__all__ = ["OUTPUT_COLUMNS", "GeocodeRun", "read_address_rows", "register", "run_geocode"]

OUTPUT_COLUMNS = ("lat", "lon", "precision", "confidence", "status", "code", "message", "matched", "source")
_SURROGATE_RE = re.compile(r"[\udc80-\udcff]")


@dataclass(slots=True)
class AddressRow:
    """One input row: its cells as read, the address, given coordinates, and a problem that decides its answer."""

    cells: dict[str, str]
    address: str
    given: Location | None = None
    problem: GeocodeResult | None = None


@dataclass(slots=True)
class GeocodeRun:
    """What a batch did: rows, answers by status and precision, from the cache, corrected, and the times."""

    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_precision: Counter[str] = field(default_factory=Counter)
    from_cache: int = 0
    corrected: int = 0
    load_s: float = 0.0
    geocode_s: float = 0.0


def _unresolved(address: str, code: str, message: str) -> GeocodeResult:
    return GeocodeResult(address, None, "unresolved", 0.0, "unresolved", code, message, None)


def read_address_rows(path: Path) -> tuple[list[str], list[AddressRow]]:
    """The header and rows of an address CSV; per-row problems are kept on the rows, not raised.

    Raises
    ------
    InputFileError
        The file is missing, not CSV, not UTF-8 at all, or has no ``address`` column.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, [RowProblem(0, None, f"cannot read: {exc.strerror or exc}")]) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="surrogateescape")
    lines = text.splitlines()
    bad_lines = sum(1 for line in lines if _SURROGATE_RE.search(line))
    if lines and (_SURROGATE_RE.search(lines[0]) or bad_lines > max(1, len(lines) // 2)):
        msg = "not UTF-8 (save the file as UTF-8, with or without BOM)"
        raise InputFileError(path, [RowProblem(0, None, msg)])
    csv.field_size_limit(1 << 24)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = list(reader.fieldnames or [])
        if "address" not in header:
            have = ", ".join(header) or "nothing"
            raise InputFileError(path, [RowProblem(0, "address", f"missing column (the header has {have})")])
        rows: list[AddressRow] = []
        for number, record in enumerate(reader, start=1):
            rows.append(_row(number, record, header))
    except csv.Error as exc:
        raise InputFileError(path, [RowProblem(0, None, f"not a CSV table: {exc}")]) from exc
    return header, rows


def _row(number: int, record: dict[str | Any, Any], header: list[str]) -> AddressRow:
    cells = {k: ("" if record.get(k) is None else str(record.get(k))) for k in header}
    address = cells.get("address", "")
    if any(_SURROGATE_RE.search(v) for v in cells.values()):
        cells = {k: v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for k, v in cells.items()}
        problem = _unresolved(cells["address"], "no_match", f"row {number} is not valid UTF-8")
        return AddressRow(cells, cells["address"], problem=problem)
    if record.get("address") is None:
        return AddressRow(cells, "", problem=_unresolved("", "no_match", f"row {number} has no address cell"))
    lat_s, lon_s = cells.get("lat", "").strip(), cells.get("lon", "").strip()
    if lat_s or lon_s:
        try:
            lat, lon = float(lat_s), float(lon_s)
            if not (math.isfinite(lat) and math.isfinite(lon)):
                raise ValueError
            return AddressRow(cells, address, given=Location(lat, lon))
        except ValueError:
            msg = f"row {number}: lat/lon {lat_s!r}, {lon_s!r} is not a WGS-84 point"
            return AddressRow(cells, address, problem=_unresolved(address, "no_match", msg))
    return AddressRow(cells, address)


def _write_csv(path: Path, header: list[str], rows: list[AddressRow], results: list[GeocodeResult]) -> None:
    columns = [c for c in header if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row, res in zip(rows, results, strict=True):
                out = dict(row.cells)
                out.update(
                    lat=f"{res.location.lat:.7f}" if res.location else "",
                    lon=f"{res.location.lon:.7f}" if res.location else "",
                    precision=res.precision,
                    confidence=f"{res.confidence:.3f}",
                    status=res.status,
                    code=res.code or "",
                    message=res.message or "",
                    matched=res.matched or "",
                    source=res.source,
                )
                writer.writerow(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_geocode(
    osm: Path,
    in_csv: Path,
    out_csv: Path,
    *,
    min_confidence: float = 0.5,
    cache_dir: Path | None = None,
    corrections: Path | None = None,
    use_result_cache: bool = True,
) -> GeocodeRun:
    """Geocode every row of ``in_csv`` against ``osm`` and write ``out_csv`` (see the module docstring).

    Raises
    ------
    InputFileError
        ``in_csv`` cannot be read as an address table.
    GeocodeError
        The extract cannot be read.
    """
    run = GeocodeRun()
    header, rows = read_address_rows(in_csv)
    run.rows = len(rows)
    t0 = time.perf_counter()
    directory = cache_dir or default_cache_dir()
    geocoder = OfflineGeocoder.from_osm(osm, cache_dir=directory, min_confidence=min_confidence)
    run.load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    namespace = f"offline|{geocoder.index_digest}|{min_confidence:g}"
    store = CorrectionStore(corrections) if corrections else None
    cache = ResultCache(directory / "geocode-results.sqlite") if use_result_cache else None
    try:
        results: list[GeocodeResult | None] = [row.problem for row in rows]
        todo = [i for i, r in enumerate(results) if r is None]
        for i in todo:
            row = rows[i]
            if row.given is not None:
                results[i] = (
                    GeocodeResult(row.address, row.given, "house", 1.0, "ok", None, "coordinates given", None, "input")
                    if geocoder.in_region(row.given)
                    else _unresolved(row.address, "outside_region", "the coordinates given lie outside the extract")
                )
        todo = [i for i in todo if results[i] is None]
        cached = cache.get_many(namespace, [rows[i].address for i in todo]) if cache else [None] * len(todo)
        missing: list[int] = []
        for i, hit in zip(todo, cached, strict=True):
            if hit is None:
                missing.append(i)
            else:
                results[i] = hit
                run.from_cache += 1
        fresh = geocoder.geocode_many([rows[i].address for i in missing])
        for i, res in zip(missing, fresh, strict=True):
            results[i] = res
        if cache is not None and fresh:
            cache.put_many(namespace, fresh)
        final: list[GeocodeResult] = []
        for row, answer in zip(rows, results, strict=True):
            assert answer is not None  # every row was answered above
            res = answer
            if store is not None and row.problem is None and row.given is None:
                corrected = store.apply(row.address, res)
                if corrected is not res:
                    run.corrected += 1
                    if not geocoder.in_region(corrected.location or Location(0.0, 0.0)):
                        corrected = _unresolved(
                            row.address, "outside_region", f"{corrected.message}; outside the extract"
                        )
                res = corrected
            final.append(res)
    finally:
        if cache is not None:
            cache.close()
        if store is not None:
            store.close()
    run.geocode_s = time.perf_counter() - t0
    for res in final:
        run.by_status[res.code or res.status] += 1
        run.by_precision[res.precision] += 1
    _write_csv(out_csv, header, rows, final)
    return run


def _summary(console: Console, run: GeocodeRun, out_csv: Path) -> None:
    table = Table(title=f"geocoded {run.rows} rows")
    table.add_column("precision / status")
    table.add_column("rows", justify="right")
    for key, n in sorted(run.by_precision.items()):
        table.add_row(key, str(n))
    for key, n in sorted(run.by_status.items()):
        table.add_row(f"[dim]{key}[/]", str(n))
    console.print(table)
    rate = run.rows / run.geocode_s if run.geocode_s > 0 else float("inf")
    console.print(
        f"index {run.load_s:.2f} s; geocoding {run.geocode_s:.2f} s ({rate:.0f} rows/s);"
        f" {run.from_cache} from the cache; {run.corrected} corrected"
    )
    console.print(f"wrote {out_csv}")


def register(app: typer.Typer, errors_to_exit: Callable[[], AbstractContextManager[None]]) -> None:
    """Add ``geocode`` and ``correct`` to the ``doorstep`` command line."""
    out = Console()

    @app.command()
    def geocode(
        osm: Annotated[Path, typer.Option(help="OSM extract: .osm.pbf, .osm or .osm.bz2.")],
        in_csv: Annotated[Path, typer.Option("--in", help="CSV with an address column (and maybe id, lat, lon).")],
        out_csv: Annotated[Path, typer.Option("--out", help="CSV to write: the input plus the answers.")],
        min_confidence: Annotated[float, typer.Option(min=0.0, max=1.0, help="Below this: unresolved.")] = 0.5,
        corrections: Annotated[
            Path | None, typer.Option(help="Corrections database (SQLite); default $DOORSTEP_CORRECTIONS.")
        ] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write cached answers.")] = False,
    ) -> None:
        """Geocode a CSV of addresses offline against an OSM extract."""
        db = corrections or (
            Path(os.environ["DOORSTEP_CORRECTIONS"]) if os.environ.get("DOORSTEP_CORRECTIONS") else None
        )
        with errors_to_exit():
            run = run_geocode(
                osm, in_csv, out_csv, min_confidence=min_confidence, corrections=db, use_result_cache=not no_cache
            )
            _summary(out, run, out_csv)

    @app.command()
    def correct(
        db: Annotated[Path, typer.Option(help="Corrections database (SQLite; created when missing).")],
        address: Annotated[str, typer.Option(help="The address as the cases file writes it.")],
        lat: Annotated[float, typer.Option(help="Latitude (WGS-84).")],
        lon: Annotated[float, typer.Option(help="Longitude (WGS-84).")],
        by: Annotated[str, typer.Option(help="Who makes the correction (supervisor's id).")],
        note: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    ) -> None:
        """Record a supervisor's fix: this address is at this point from now on."""
        with errors_to_exit():
            try:
                where = Location(lat, lon)
            except ValueError as exc:
                raise InputFileError(db, [RowProblem(0, "lat/lon", str(exc))]) from exc
            with CorrectionStore(db) as store:
                fix = store.add(Correction(address, where, "supervisor", by, dt.datetime.now(dt.UTC), note=note))
            out.print(f"corrected {address!r}: {fix.provenance}")
