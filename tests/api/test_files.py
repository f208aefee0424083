"""Reading case and team files: every bad row is named with its field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.errors import InputFileError
from api.files import read_cases, read_teams

CASE_HEADER = "case_id,customer_id,address,lat,lon,segment,overdue_amount,overdue_days,appointment\n"
TEAM_HEADER = "team_id,members,start_lat,start_lon,shift_start,shift_end,break_start,break_end,break_min\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_good_cases_file_reads_every_field(tmp_path: Path) -> None:
    """A valid CSV row becomes a Case with its fields typed, and a missing priority is derived."""
    path = write(
        tmp_path,
        "cases.csv",
        CASE_HEADER + "C1,P1,Mannerheimintie 5,,,retired,10000,90,18:00-19:30\n",
    )
    (case,) = read_cases(path)
    assert case.case_id == "C1" and case.segment == "retired"
    assert case.appointment is not None and (case.appointment.start, case.appointment.end) == (64800, 70200)
    # 10 + 30*log10(1 + 10000/1000) + 0.25*90 = 10 + 31.24 + 22.5 = 63.7
    assert case.priority == pytest.approx(63.7)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (",P1,Addr 1,,,employed,0,0,", "case_id"),  # missing id
        ("C1,P1,Addr 1,,,employed,-5,0,", "overdue_amount"),  # negative amount
        ("C1,P1,,91.5,24.9,employed,0,0,", "lat"),  # latitude out of range
        ("C1,P1,,sixty,24.9,employed,0,0,", "lat"),  # coordinates that are not numbers
        ("C1,P1,,60.1,,employed,0,0,", "lon"),  # half a coordinate pair
        ("C1,P1,Addr 1,,,astronaut,0,0,", "segment"),  # unknown segment
        ("C1,P1,Addr 1,,,employed,0,1.5,", "overdue_days"),  # fractional days
        ("C1,P1,Addr 1,,,employed,0,0,19:00-18:00", "appointment"),  # window ending before it starts
        ("C1,,Addr 1,,,employed,0,0,", "customer_id"),  # missing customer
        ("C1,P1,,,,employed,0,0,", "address"),  # neither address nor coordinates
    ],
)
def test_bad_case_row_is_named_with_row_and_field(tmp_path: Path, row: str, field: str) -> None:
    """A bad value fails the file with an error naming row 2 (after a good row 1) and the field."""
    path = write(tmp_path, "cases.csv", CASE_HEADER + "C0,P0,Good street 1,,,employed,0,0,\n" + row + "\n")
    with pytest.raises(InputFileError) as info:
        read_cases(path)
    problems = info.value.problems
    assert [(p.row, p.field) for p in problems] == [(2, field)]
    assert "row 2" in str(info.value) and field in str(info.value)


def test_duplicate_case_id_names_both_rows(tmp_path: Path) -> None:
    """A repeated case_id is reported on the second row with the row it first appeared on."""
    path = write(tmp_path, "cases.csv", CASE_HEADER + "C1,P1,A 1,,,,,,\nC1,P2,A 2,,,,,,\n")
    with pytest.raises(InputFileError, match=r"row 2, field case_id: duplicate case_id 'C1' \(first on row 1\)"):
        read_cases(path)


def test_non_utf8_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A Latin-1 file is refused and the message says to save it as UTF-8."""
    path = write(tmp_path, "cases.csv", CASE_HEADER + "C1,P1,Nørrebrogade 1,,,,,,\n", encoding="latin-1")
    with pytest.raises(InputFileError, match="not UTF-8"):
        read_cases(path)


def test_bom_and_json_inputs_are_accepted(tmp_path: Path) -> None:
    """UTF-8 with BOM and JSON lists (with ;-separated or array skills) read the same cases."""
    csv_path = write(tmp_path, "cases.csv", "\ufeff" + CASE_HEADER + "C1,P1,A 1,,,,,,\n")
    json_path = write(
        tmp_path,
        "cases.json",
        '[{"case_id": "C1", "customer_id": "P1", "address": "A 1", "skills": ["legal"]}]',
    )
    assert read_cases(csv_path)[0].case_id == "C1"
    assert read_cases(json_path)[0].skills == frozenset({"legal"})


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("T1,ann,60.17,24.94,09:00,17:00,,,", "members", "team T1 has 1 member"),  # a lone officer
        ("T1,ann;bo,60.17,24.94,9am,17:00,,,", "shift_start", "HH:MM"),  # not a clock time
        ("T1,ann;bo,60.17,24.94,17:00,09:00,,,", "shift_end", "after it starts"),  # inverted shift
        ("T1,ann;bo,60.17,24.94,09:00,17:00,12:00,13:00,", "break_min", "missing break_min"),  # partial break
        ("T1,ann;bo,60.17,24.94,09:00,17:00,12:00,12:20,30", "break_min", "does not fit"),  # break too long
    ],
)
def test_bad_team_row_is_named(tmp_path: Path, row: str, field: str, reason: str) -> None:
    """Team rows breaking a rule are refused with the field and the reason."""
    path = write(tmp_path, "teams.csv", TEAM_HEADER + row + "\n")
    with pytest.raises(InputFileError) as info:
        read_teams(path)
    (problem,) = info.value.problems
    assert (problem.row, problem.field) == (1, field)
    assert reason in problem.error
