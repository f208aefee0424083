"""Reading the case and team files of CONTRACTS.md (CSV or JSON) into domain types.

Every problem is reported with the file, the row (1-based data row; the header is row 0), the field and why,
and all problems of a file are collected before failing, so a supervisor fixes them in one pass.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.errors import InputFileError, RowProblem
from geo.types import Location
from routing.model import SEGMENTS, Break, Case, TimeWindow
from routing.priority import derive_priority

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class TeamSpec:
    """A team as read from a file: its depot may still be an address to geocode."""

    team_id: str
    members: tuple[str, ...]
    start_address: str | None
    start: Location | None
    end_address: str | None
    end: Location | None
    shift: TimeWindow
    lunch: Break | None
    profile: str
    skills: frozenset[str]
    max_visits: int | None
    branch: str | None
    row: int


def read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV (header required) or JSON (a list of objects) file, empty cells as absent."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"not UTF-8 (byte {err.start}): save the file as UTF-8, with or without BOM"
        raise InputFileError(path, [RowProblem(0, None, msg)]) from err
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputFileError(path, [RowProblem(0, None, f"invalid JSON: {err}")]) from err
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputFileError(path, [RowProblem(0, None, "JSON must be a list of objects")])
        return [{k: v for k, v in r.items() if v not in (None, "")} for r in data]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputFileError(path, [RowProblem(0, None, "empty file: a header row is required")])
    rows = []
    for record in reader:
        if None in record:
            raise InputFileError(path, [RowProblem(reader.line_num - 1, None, "more cells than header columns")])
        rows.append({k.strip(): v.strip() for k, v in record.items() if v is not None and v.strip() != ""})
    return rows


class _Row:
    """Typed access to one record that collects problems instead of raising at the first."""

    def __init__(self, record: dict[str, Any], row: int, problems: list[RowProblem]) -> None:
        self.record = record
        self.row = row
        self.problems = problems

    def problem(self, field: str | None, error: str) -> None:
        self.problems.append(RowProblem(self.row, field, error))

    def text(self, field: str, required: bool = False) -> str | None:
        value = self.record.get(field)
        if value is None:
            if required:
                self.problem(field, "required")
            return None
        return str(value).strip() or None

    def number(self, field: str, minimum: float | None = None, maximum: float | None = None) -> float | None:
        value = self.record.get(field)
        if value is None:
            return None
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.problem(field, f"not a number: {value!r}")
            return None
        if not math.isfinite(x):
            self.problem(field, f"not a finite number: {value!r}")
            return None
        if minimum is not None and x < minimum:
            self.problem(field, f"must be >= {minimum:g}, got {value!r}")
            return None
        if maximum is not None and x > maximum:
            self.problem(field, f"must be <= {maximum:g}, got {value!r}")
            return None
        return x

    def integer(self, field: str, minimum: int | None = None) -> int | None:
        x = self.number(field, minimum)
        if x is None:
            return None
        if x != int(x):
            self.problem(field, f"must be a whole number, got {self.record[field]!r}")
            return None
        return int(x)

    def items(self, field: str) -> tuple[str, ...]:
        value = self.record.get(field)
        if value is None:
            return ()
        parts = value if isinstance(value, list) else str(value).split(";")
        return tuple(p for p in (str(x).strip() for x in parts) if p)

    def clock(self, field: str) -> int | None:
        value = self.text(field)
        if value is None:
            return None
        m = _CLOCK.match(value)
        if m is None or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (int(m.group(1)) == 24 and m.group(2) != "00"):
            self.problem(field, f"expected HH:MM, got {value!r}")
            return None
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60

    def window(self, field: str) -> TimeWindow | None:
        value = self.text(field)
        if value is None:
            return None
        parts = value.split("-")
        if len(parts) != 2 or not all(_CLOCK.match(p) for p in parts):
            self.problem(field, f"expected HH:MM-HH:MM, got {value!r}")
            return None
        start, end = (_clock_s(p) for p in parts)
        if start >= end:
            self.problem(field, f"window must end after it starts, got {value!r}")
            return None
        return TimeWindow(start, end)

    def location(self, lat_field: str, lon_field: str) -> Location | None:
        lat, lon = self.record.get(lat_field), self.record.get(lon_field)
        if lat is None and lon is None:
            return None
        if lat is None or lon is None:
            self.problem(lat_field if lat is None else lon_field, f"{lat_field} and {lon_field} go together")
            return None
        la = self.number(lat_field, -90, 90)
        lo = self.number(lon_field, -180, 180)
        if la is None or lo is None:
            return None
        return Location(la, lo)


def _clock_s(text: str) -> int:
    h, m = text.strip().split(":")
    return int(h) * 3600 + int(m) * 60


def read_cases(path: Path) -> list[Case]:
    """Cases from a CSV or JSON file, validated; raises ``InputFileError`` listing every bad row."""
    cases, problems = parse_cases(read_records(path))
    if problems:
        raise InputFileError(path, problems)
    if not cases:
        raise InputFileError(path, [RowProblem(0, None, "no cases in the file")])
    return cases


def parse_cases(records: list[dict[str, Any]]) -> tuple[list[Case], list[RowProblem]]:
    """Validate case records (file rows or API objects): the good cases, and every problem of the bad rows.

    Row numbers are 1-based positions in ``records``; a row with any problem yields no case.
    """
    problems: list[RowProblem] = []
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for i, record in enumerate(records, start=1):
        row = _Row(record, i, problems)
        before = len(problems)
        case_id = row.text("case_id", required=True)
        customer_id = row.text("customer_id", required=True)
        address = row.text("address")
        location = row.location("lat", "lon")
        if address is None and location is None and "lat" not in record and "lon" not in record:
            row.problem("address", "required unless lat and lon are given")
        segment = row.text("segment") or "unknown"
        if segment not in SEGMENTS:
            row.problem("segment", f"unknown segment {segment!r}; one of {', '.join(SEGMENTS)}")
        amount = row.number("overdue_amount", 0)
        days = row.integer("overdue_days", 0)
        priority = row.number("priority", 0, 100)
        service_min = row.number("service_min", 1, 480)
        appointment = row.window("appointment")
        state = row.text("state") or "open"
        if state not in ("open", "closed"):
            row.problem("state", f"unknown state {state!r}; one of open, closed")
        if case_id is not None and case_id in seen:
            row.problem("case_id", f"duplicate case_id {case_id!r} (first on row {seen[case_id]})")
        if len(problems) > before or case_id is None or customer_id is None:
            continue
        seen[case_id] = i
        cases.append(
            Case(
                case_id=case_id,
                customer_id=customer_id,
                address=address,
                location=location,
                segment=segment,
                overdue_amount=amount or 0.0,
                overdue_days=days or 0,
                priority=priority if priority is not None else derive_priority(amount or 0.0, days or 0),
                service_s=round((service_min or 20) * 60),
                skills=frozenset(row.items("skills")),
                appointment=appointment,
                pin_team=row.text("pin_team"),
                branch=row.text("branch"),
                state=state,
                name=row.text("name"),
                phone=row.text("phone"),
                work_address=row.text("work_address"),
                registered_address=row.text("registered_address"),
            )
        )
    return cases, problems


def read_teams(path: Path) -> list[TeamSpec]:
    """Teams from a CSV or JSON file, validated; raises ``InputFileError`` listing every bad row."""
    teams, problems = parse_teams(read_records(path))
    if problems:
        raise InputFileError(path, problems)
    if not teams:
        raise InputFileError(path, [RowProblem(0, None, "no teams in the file")])
    return teams


def parse_teams(records: list[dict[str, Any]]) -> tuple[list[TeamSpec], list[RowProblem]]:
    """Validate team records (file rows or API objects): the good teams, and every problem of the bad rows."""
    problems: list[RowProblem] = []
    teams: list[TeamSpec] = []
    seen: dict[str, int] = {}
    for i, record in enumerate(records, start=1):
        row = _Row(record, i, problems)
        before = len(problems)
        team_id = row.text("team_id", required=True)
        members = row.items("members")
        if len(members) < 2:
            who = f"team {team_id}" if team_id else "the team"
            row.problem("members", f"{who} has {len(members)} member(s); a home visit needs at least two officers")
        start_address = row.text("start_address")
        start = row.location("start_lat", "start_lon")
        if start_address is None and start is None and "start_lat" not in record:
            row.problem("start_address", "required unless start_lat and start_lon are given")
        end_address = row.text("end_address")
        end = row.location("end_lat", "end_lon")
        shift_start = row.clock("shift_start")
        shift_end = row.clock("shift_end")
        if shift_start is None and "shift_start" not in record:
            row.problem("shift_start", "required")
        if shift_end is None and "shift_end" not in record:
            row.problem("shift_end", "required")
        if shift_start is not None and shift_end is not None and shift_start >= shift_end:
            row.problem("shift_end", "the shift must end after it starts")
        lunch = _lunch(row)
        profile = row.text("profile") or "car"
        if profile not in ("car", "ebike", "walk"):
            row.problem("profile", f"unknown profile {profile!r}; one of car, ebike, walk")
        max_visits = row.integer("max_visits", 0)
        if team_id is not None and team_id in seen:
            row.problem("team_id", f"duplicate team_id {team_id!r} (first on row {seen[team_id]})")
        if len(problems) > before or team_id is None or shift_start is None or shift_end is None:
            continue
        seen[team_id] = i
        teams.append(
            TeamSpec(
                team_id=team_id,
                members=members,
                start_address=start_address,
                start=start,
                end_address=end_address,
                end=end,
                shift=TimeWindow(shift_start, shift_end),
                lunch=lunch,
                profile=profile,
                skills=frozenset(row.items("skills")),
                max_visits=max_visits,
                branch=row.text("branch"),
                row=i,
            )
        )
    return teams, problems


def _lunch(row: _Row) -> Break | None:
    fields = ("break_start", "break_end", "break_min")
    given = [f for f in fields if f in row.record]
    if not given:
        return None
    if len(given) != 3:
        missing = ", ".join(f for f in fields if f not in given)
        row.problem(missing.split(",")[0], f"a break needs break_start, break_end and break_min; missing {missing}")
        return None
    start, end = row.clock("break_start"), row.clock("break_end")
    minutes = row.number("break_min", 1, 480)
    if start is None or end is None or minutes is None:
        return None
    if end - start < minutes * 60:
        row.problem(
            "break_min",
            f"a {minutes:g}-minute break does not fit in {row.record['break_start']}-{row.record['break_end']}",
        )
        return None
    return Break(TimeWindow(start, end), round(minutes * 60))
