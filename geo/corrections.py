"""Corrections: a supervisor's manual fix or an officer's GPS fix overrides the geocoder for that address.

The store is one SQLite file (stdlib ``sqlite3``: embedded, no server), usable from the CLI and callable from the API
(which owns the main database and may keep its own copy). Every correction is kept with its provenance: who, when,
from what (``supervisor`` or ``officer_gps``), the GPS accuracy, the case and outcome it came from, and a note. The
newest correction of an address wins; older ones stay as history. Addresses are matched by ``query_key`` (cleaned,
folded, spaces removed), so case, accents and spacing do not matter.

An officer's fix counts only when the phone says it is accurate to 30 m or better: a coarser fix is refused, so a
fix taken in a car two streets away never moves a customer.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from geo.errors import GeocodeError
from geo.geocoder import GeocodeResult, query_key
from geo.types import Location

__all__ = [
    "MAX_GPS_ACCURACY_M",
    "CorrectedGeocoder",
    "Correction",
    "CorrectionStore",
]

#: An officer's GPS fix must be at least this accurate (metres) to become a correction.
MAX_GPS_ACCURACY_M = 30.0

CorrectionSource = Literal["supervisor", "officer_gps"]
_SOURCES = ("supervisor", "officer_gps")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address_key TEXT NOT NULL,
    address TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    accuracy_m REAL,
    case_id TEXT,
    outcome_id TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS corrections_by_key ON corrections (address_key, id);
"""


@dataclass(frozen=True, slots=True)
class Correction:
    """One correction with its provenance."""

    address: str
    location: Location
    source: CorrectionSource
    author: str
    created_at: dt.datetime
    accuracy_m: float | None = None
    case_id: str | None = None
    outcome_id: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            msg = f"a correction's source must be one of {_SOURCES}, got {self.source!r}"
            raise GeocodeError(msg)
        if not self.author.strip():
            msg = "a correction needs an author (the supervisor's or the officer's id)"
            raise GeocodeError(msg)
        if not query_key(self.address):
            msg = "a correction needs the address it corrects"
            raise GeocodeError(msg)
        if self.created_at.tzinfo is None:
            msg = "a correction's time needs a UTC offset"
            raise GeocodeError(msg)
        if self.source == "officer_gps":
            if self.accuracy_m is None:
                msg = "an officer's GPS fix needs its accuracy"
                raise GeocodeError(msg)
            if not 0.0 <= self.accuracy_m <= MAX_GPS_ACCURACY_M:
                msg = f"GPS fix accuracy {self.accuracy_m:g} m is coarser than {MAX_GPS_ACCURACY_M:g} m: not used"
                raise GeocodeError(msg)

    @property
    def provenance(self) -> str:
        """One line a supervisor can read: who, how and when."""
        how = "supervisor's fix" if self.source == "supervisor" else f"officer GPS fix ±{self.accuracy_m:g} m"
        extra = f", case {self.case_id}" if self.case_id else ""
        return f"{how} by {self.author} at {self.created_at.isoformat(timespec='seconds')}{extra}"


class _Geocoder(Protocol):
    def geocode(self, address: str) -> GeocodeResult: ...


class CorrectionStore:
    """Corrections in a SQLite file.

    Parameters
    ----------
    path
        The database file (created with its table when missing); ``":memory:"`` for a throw-away store.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path)
        with self._tx() as cur:
            cur.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        try:
            yield cur
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        finally:
            cur.close()

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> CorrectionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, correction: Correction) -> Correction:
        """Store a correction (already validated by ``Correction``); it overrides earlier ones for that address."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO corrections (address_key, address, lat, lon, source, author, created_at, accuracy_m,"
                " case_id, outcome_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    query_key(correction.address),
                    correction.address,
                    correction.location.lat,
                    correction.location.lon,
                    correction.source,
                    correction.author,
                    correction.created_at.isoformat(),
                    correction.accuracy_m,
                    correction.case_id,
                    correction.outcome_id,
                    correction.note,
                ),
            )
        return correction

    def add_gps_fix(
        self,
        address: str,
        lat: float,
        lon: float,
        accuracy_m: float,
        officer_id: str,
        visited_at: dt.datetime,
        *,
        case_id: str | None = None,
        outcome_id: str | None = None,
        crs: str = "wgs84",
    ) -> Correction:
        """Store an officer's GPS fix from an outcome (CONTRACTS.md: ``lat``, ``lon``, ``accuracy_m``, ``crs``).

        A ``gcj02`` fix (Chinese phones' maps) is converted to WGS-84 first.

        Raises
        ------
        GeocodeError
            Accuracy coarser than ``MAX_GPS_ACCURACY_M``, unknown ``crs``, or bad coordinates.
        """
        from geo.crs import gcj02_to_wgs84  # the converter is only needed here

        if crs == "gcj02":
            lat, lon = gcj02_to_wgs84(lat, lon)
        elif crs != "wgs84":
            msg = f"unknown crs {crs!r} (expected wgs84 or gcj02)"
            raise GeocodeError(msg)
        try:
            location = Location(lat, lon)
        except ValueError as exc:
            raise GeocodeError(str(exc)) from exc
        fix = Correction(address, location, "officer_gps", officer_id, visited_at, accuracy_m, case_id, outcome_id)
        return self.add(fix)

    def get(self, address: str) -> Correction | None:
        """The newest correction of ``address``, ``None`` when it has none."""
        rows = self._rows("WHERE address_key = ? ORDER BY id DESC LIMIT 1", (query_key(address),))
        return rows[0] if rows else None

    def history(self, address: str) -> list[Correction]:
        """Every correction of ``address``, oldest first."""
        return self._rows("WHERE address_key = ? ORDER BY id", (query_key(address),))

    def __len__(self) -> int:
        row = self._conn.execute("SELECT COUNT(*) FROM corrections").fetchone()
        return int(row[0])

    def _rows(self, where: str, params: Sequence[object]) -> list[Correction]:
        cur = self._conn.execute(
            "SELECT address, lat, lon, source, author, created_at, accuracy_m, case_id, outcome_id, note"
            f" FROM corrections {where}",
            tuple(params),
        )
        return [
            Correction(a, Location(lat, lon), src, au, dt.datetime.fromisoformat(at), acc, case, oid, note)
            for a, lat, lon, src, au, at, acc, case, oid, note in cur.fetchall()
        ]

    def apply(self, address: str, result: GeocodeResult) -> GeocodeResult:
        """``result`` unless ``address`` has a correction; then the corrected point, with its provenance."""
        fix = self.get(address)
        if fix is None:
            return result
        return GeocodeResult(
            result.query,
            fix.location,
            "house",
            1.0,
            "ok",
            None,
            f"corrected: {fix.provenance}" + (f" ({fix.note})" if fix.note else ""),
            fix.address,
            "correction",
        )


class CorrectedGeocoder:
    """A geocoder whose answers are overridden by a ``CorrectionStore``.

    Parameters
    ----------
    geocoder
        Anything with ``geocode(address) -> GeocodeResult`` (the offline geocoder, an online provider).
    store
        The corrections.
    """

    def __init__(self, geocoder: _Geocoder, store: CorrectionStore) -> None:
        self.geocoder = geocoder
        self.store = store

    def geocode(self, address: str) -> GeocodeResult:
        """The corrected point when there is one (without asking the geocoder), else the geocoder's answer."""
        fix = self.store.get(address)
        if fix is not None:
            placeholder = GeocodeResult(address, None, "unresolved", 0.0, "unresolved", "no_match", "", None)
            return self.store.apply(address, placeholder)
        return self.geocoder.geocode(address)

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode a batch, in input order."""
        return [self.geocode(a) for a in addresses]
