"""Segment presence priors: P(at home) by customer segment, day type and hour, and the day type of a date.

The table is ``data/presence_priors.csv``, derived from ATUS 2022–2023 time-use aggregates by
``data/derive_presence_priors.py`` (sources and assumptions in ``data/SOURCES.md``). Hour ``h`` stands for the
clock hour [h:00, h+1:00). Public holidays use the ``rest_day`` row.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path

import holidays

from routing.errors import InvalidInputError
from routing.model import DAY_SECONDS, SEGMENTS, Case

__all__ = ["DAY_TYPES", "PRIOR_DAY_TYPES", "PresencePrior", "day_type"]

DAY_TYPES = ("workday", "rest_day", "public_holiday")
# Day types the prior table has rows for; a public holiday is read as a rest day.
PRIOR_DAY_TYPES = ("workday", "rest_day")
_DEFAULT_FILE = "presence_priors.csv"
_KEY_COLUMNS = ("segment", "day_type", "hour")


class PresencePrior:
    """Hourly P(at home) per segment and day type.

    Parameters
    ----------
    table
        ``(segment, day_type) -> 24 hourly probabilities`` for every segment of ``routing.model.SEGMENTS`` and
        both ``"workday"`` and ``"rest_day"``.

    Raises
    ------
    InvalidInputError
        A segment or day type is missing or unknown, a profile does not have 24 values, or a value lies
        outside [0, 1].
    """

    def __init__(self, table: Mapping[tuple[str, str], Sequence[float]]) -> None:
        expected = {(s, d) for s in SEGMENTS for d in PRIOR_DAY_TYPES}
        if set(table) != expected:
            missing = sorted(expected - set(table))
            extra = sorted(set(table) - expected)
            msg = f"presence table must cover every segment × day type: missing {missing}, unknown {extra}"
            raise InvalidInputError(msg)
        self._table: dict[tuple[str, str], tuple[float, ...]] = {}
        for key, values in table.items():
            profile = tuple(float(v) for v in values)
            if len(profile) != 24:
                msg = f"presence profile {key} has {len(profile)} hourly values, expected 24"
                raise InvalidInputError(msg)
            if not all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in profile):
                msg = f"presence profile {key} has a value outside [0, 1]: {profile}"
                raise InvalidInputError(msg)
            self._table[key] = profile

    @classmethod
    def load_default(cls) -> PresencePrior:
        """The table shipped in the ``data`` package (``presence_priors.csv``)."""
        text = resources.files("data").joinpath(_DEFAULT_FILE).read_text(encoding="utf-8")
        return cls.from_rows(csv.DictReader(io.StringIO(text)), source=f"data/{_DEFAULT_FILE}")

    @classmethod
    def load_default_work(cls) -> PresencePrior:
        """P(at the workplace) per segment, day type and hour: the shipped table's ``p_work`` column.

        Its ``p_home``-named methods then answer "found at a work address" (``Case.work_address``).
        """
        text = resources.files("data").joinpath(_DEFAULT_FILE).read_text(encoding="utf-8")
        return cls.from_rows(csv.DictReader(io.StringIO(text)), source=f"data/{_DEFAULT_FILE}", column="p_work")

    @classmethod
    def from_csv(cls, path: str | Path) -> PresencePrior:
        """A table from a CSV file with columns ``segment, day_type, hour, p_home`` (others ignored)."""
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            return cls.from_rows(csv.DictReader(fh), source=str(path))

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, str]], source: str = "<rows>", column: str = "p_home"
    ) -> PresencePrior:
        """A table from CSV-like rows (strings), one per (segment, day type, hour); values from ``column``."""
        cells: dict[tuple[str, str], dict[int, float]] = {}
        required = (*_KEY_COLUMNS, column)
        for n, row in enumerate(rows, start=2):
            missing = [c for c in required if not row.get(c)]
            if missing:
                msg = f"{source}, row {n}: missing {', '.join(missing)}"
                raise InvalidInputError(msg)
            try:
                hour, p = int(row["hour"]), float(row[column])
            except ValueError as exc:
                msg = f"{source}, row {n}: hour and {column} must be numbers ({exc})"
                raise InvalidInputError(msg) from exc
            if not 0 <= hour <= 23:
                msg = f"{source}, row {n}: hour {hour} outside 0-23"
                raise InvalidInputError(msg)
            profile = cells.setdefault((row["segment"], row["day_type"]), {})
            if hour in profile:
                msg = f"{source}, row {n}: duplicate hour {hour} for {row['segment']} / {row['day_type']}"
                raise InvalidInputError(msg)
            profile[hour] = p
        table: dict[tuple[str, str], list[float]] = {}
        for key, hours in cells.items():
            if set(hours) != set(range(24)):
                msg = f"{source}: {key[0]} / {key[1]} lacks hours {sorted(set(range(24)) - set(hours))}"
                raise InvalidInputError(msg)
            table[key] = [hours[h] for h in range(24)]
        return cls(table)

    def p_home(self, segment: str, day_type: str, hour: int) -> float:
        """P(at home) of ``segment`` during clock hour ``hour`` (0–23) on a day of ``day_type``.

        Parameters
        ----------
        segment
            One of ``routing.model.SEGMENTS``.
        day_type
            ``"workday"``, ``"rest_day"`` or ``"public_holiday"`` (read as a rest day).
        hour
            Clock hour, 0–23.

        Raises
        ------
        InvalidInputError
            Unknown segment or day type, or an hour outside 0–23.
        """
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            msg = f"hour must be an integer 0-23, got {hour!r}"
            raise InvalidInputError(msg)
        return self._profile(segment, day_type)[hour]

    def slot_p_home(self, segment: str, day_type: str, start_s: int, end_s: int) -> float:
        """Mean P(at home) over a time window, each hour weighted by its overlap with the window.

        Parameters
        ----------
        segment, day_type
            As for ``p_home``.
        start_s, end_s
            The window in seconds since midnight, 0 ≤ start_s < end_s ≤ 86400.

        Returns
        -------
        float
            Σ_h p(h) · overlap(h) / (end_s − start_s).

        Raises
        ------
        InvalidInputError
            Unknown segment or day type, or an empty or out-of-day window.
        """
        if not 0 <= start_s < end_s <= DAY_SECONDS:
            msg = f"slot must satisfy 0 <= start < end <= {DAY_SECONDS} s, got [{start_s}, {end_s})"
            raise InvalidInputError(msg)
        profile = self._profile(segment, day_type)
        total = 0.0
        for hour in range(start_s // 3600, (end_s - 1) // 3600 + 1):
            overlap = min(end_s, (hour + 1) * 3600) - max(start_s, hour * 3600)
            total += profile[hour] * overlap
        return total / (end_s - start_s)

    def case_slot_p_home(self, case: Case, day_type: str, start_s: int, end_s: int) -> float:
        """``slot_p_home`` of the case's segment: the prior knows segments, not customers."""
        return self.slot_p_home(case.segment, day_type, start_s, end_s)

    def profile(self, segment: str, day_type: str) -> tuple[float, ...]:
        """The 24 hourly values of one segment and day type."""
        return self._profile(segment, day_type)

    def _profile(self, segment: str, day_type: str) -> tuple[float, ...]:
        if segment not in SEGMENTS:
            msg = f"unknown segment {segment!r}; expected one of {', '.join(SEGMENTS)}"
            raise InvalidInputError(msg)
        if day_type not in DAY_TYPES:
            msg = f"unknown day type {day_type!r}; expected one of {', '.join(DAY_TYPES)}"
            raise InvalidInputError(msg)
        return self._table[(segment, "rest_day" if day_type == "public_holiday" else day_type)]


@functools.lru_cache(maxsize=64)
def _calendar(code: str, year: int) -> holidays.HolidayBase:
    """A country's calendar for a year, built once: building one takes about 10 ms, and analytics ask for the
    day type of every date in a year of outcomes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return holidays.country_holidays(code, years=year)
    except NotImplementedError as exc:
        msg = f"no public-holiday calendar for country {code!r}"
        raise InvalidInputError(msg) from exc


def day_type(date: dt.date, country: str) -> str:
    """The kind of day ``date`` is in ``country``, from its official calendar.

    Parameters
    ----------
    date
        The plan date.
    country
        ISO 3166-1 alpha-2 code (``"DK"``, ``"FI"``, ``"CN"``, ...).

    Returns
    -------
    str
        ``"public_holiday"`` for a holiday of the ``holidays`` package; otherwise ``"workday"`` for a working
        day, including China's weekend make-up working days (调休, ``weekend_workdays``), and ``"rest_day"``
        for a weekend day (the country's own weekend, e.g. Friday–Saturday where that applies).

    Raises
    ------
    InvalidInputError
        The ``holidays`` package has no calendar for ``country``.
    """
    calendar = _calendar(country.strip().upper(), date.year)
    if date in calendar:
        return "public_holiday"
    return "workday" if calendar.is_working_day(date) else "rest_day"
