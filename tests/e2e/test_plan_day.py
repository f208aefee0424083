"""A whole planning day through the real command line, on real road data."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdf
import pytest

from api.synthetic import CASE_COLUMNS, synthetic_case_rows, write_rows
from geo.geocoder import OfflineGeocoder
from geo.types import Location, haversine_m

TEAM_COLUMNS = (
    "team_id",
    "members",
    "start_lat",
    "start_lon",
    "shift_start",
    "shift_end",
    "break_start",
    "break_end",
    "break_min",
)
UNKNOWN_ADDRESSES = ("Ingenvej 999, 9999 Nowhere", "qqq zzz 0")


def doorstep(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a supervisor would (``env`` adds to the environment)."""
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def copenhagen_day(osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """200 cases at real Copenhagen addresses (two unknown), 5 teams, planned by `doorstep plan`."""
    work = tmp_path_factory.mktemp("copenhagen")
    osm = osm_dir / "copenhagen_kbh.osm.pbf"
    geocoder = OfflineGeocoder.from_osm(osm, cache_dir=cache_dir)
    rows = synthetic_case_rows(geocoder.records, 198, seed=11)
    for k, address in enumerate(UNKNOWN_ADDRESSES, start=199):
        rows.append({**rows[0], "case_id": f"C{k:04d}", "customer_id": f"PX{k}", "address": address})
    write_rows(work / "cases.csv", rows, CASE_COLUMNS)
    depot = geocoder.records[len(geocoder.records) // 2].location
    teams = [
        # T1 works 06:00-23:30: visits must still keep to 08:00-22:00.
        ("T1", "a;b", "06:00", "23:30", "12:00", "14:00", "30"),
        ("T2", "c;d", "09:00", "18:00", "12:00", "13:30", "30"),
        ("T3", "e;f", "12:00", "21:00", "16:00", "18:00", "30"),
        ("T4", "g;h", "09:00", "17:00", "", "", ""),
        ("T5", "i;j", "13:00", "22:00", "", "", ""),
    ]
    write_rows(
        work / "teams.csv",
        [dict(zip(TEAM_COLUMNS, (t[0], t[1], depot.lat, depot.lon, *t[2:]), strict=True)) for t in teams],
        TEAM_COLUMNS,
    )
    # Visit history: the customer of C0006 refused three days ago (cool-down); C0007's was visited this morning.
    history = [
        {
            "client_id": "h1",
            "case_id": rows[5]["case_id"],
            "visited_at": "2026-11-28T18:30:00+01:00",
            "result": "refused",
        },
        {
            "client_id": "h2",
            "case_id": rows[6]["case_id"],
            "visited_at": "2026-12-01T09:10:00+01:00",
            "result": "not_home",
        },
    ]
    write_rows(work / "history.csv", history, ("client_id", "case_id", "visited_at", "result"))
    result = doorstep(
        "plan",
        "--osm", str(osm),
        "--cases", str(work / "cases.csv"),
        "--teams", str(work / "teams.csv"),
        "--date", "2026-12-01",
        "--out", str(work / "out"),
        "--time-limit", "10",
        "--tiles", "none",
        "--pdf",
        "--history", str(work / "history.csv"),
        cwd=work,
        env={"DOORSTEP_PUBLIC_URL": "https://doorstep.bank.example/days/2026-12-01"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    plan = json.loads((work / "out" / "plan.json").read_text(encoding="utf-8"))
    return {"plan": plan, "rows": rows, "work": work, "stdout": result.stdout}


def parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts)


def test_every_case_appears_exactly_once(copenhagen_day: dict[str, Any]) -> None:
    """Each of the 200 input cases is a stop, dropped or unresolved: exactly once."""
    plan = copenhagen_day["plan"]
    ids = [s["case_id"] for t in plan["teams"] for s in t["stops"]]
    ids += [d["case_id"] for d in plan["dropped"]] + [u["case_id"] for u in plan["unresolved"]]
    assert sorted(ids) == sorted(r["case_id"] for r in copenhagen_day["rows"])
    assert plan["summary"]["cases"] == 200
    assert plan["summary"]["planned"] == sum(len(t["stops"]) for t in plan["teams"])
    # Five teams over a working day in a dense city visit a good share of the cases.
    assert plan["summary"]["planned"] >= 60


def test_history_drops_a_cool_down_and_a_used_up_daily_cap(copenhagen_day: dict[str, Any]) -> None:
    """`--history`: a refusal 3 days ago -> `cooldown`; a visit earlier today (cap 1/day) -> `visit_cap`."""
    rows = copenhagen_day["rows"]
    dropped = {d["case_id"]: d for d in copenhagen_day["plan"]["dropped"]}
    assert dropped[rows[5]["case_id"]]["code"] == "cooldown"
    assert dropped[rows[6]["case_id"]]["code"] == "visit_cap"
    assert dropped[rows[5]["case_id"]]["message"]


def test_unknown_addresses_are_unresolved_not_dropped(copenhagen_day: dict[str, Any]) -> None:
    """Addresses that do not exist in the extract come back in `unresolved` with a code and a message."""
    unresolved = {u["address"]: u for u in copenhagen_day["plan"]["unresolved"]}
    for address in UNKNOWN_ADDRESSES:
        assert address in unresolved
        assert unresolved[address]["code"] in ("no_match", "low_confidence")
        assert unresolved[address]["message"]


def test_no_visit_outside_legal_hours(copenhagen_day: dict[str, Any]) -> None:
    """Every visit starts and ends inside 08:00-22:00 local time, even for the 06:00-23:30 team."""
    plan = copenhagen_day["plan"]
    for team in plan["teams"]:
        for stop in team["stops"]:
            start, end = parse(stop["service_start"]), parse(stop["departure"])
            assert start.utcoffset() == dt.timedelta(hours=1)  # Copenhagen in December
            assert dt.time(8, 0) <= start.time() and end.time() <= dt.time(22, 0), stop
            assert end.date() == start.date()
            slot = stop["slot"]
            assert parse(slot["start"]) <= start <= parse(slot["end"])


def test_times_and_travel_are_consistent_and_plausible(copenhagen_day: dict[str, Any]) -> None:
    """Stops follow each other in time, and no leg is faster than 130 km/h in a straight line."""
    for team in copenhagen_day["plan"]["teams"]:
        previous = Location(team["start"]["lat"], team["start"]["lon"])
        clock = parse(team["start"]["time"])
        for stop in team["stops"]:
            here = Location(stop["lat"], stop["lon"])
            travel = stop["travel_s_from_previous"]
            straight = haversine_m(previous, here)
            assert straight <= max(1.0, travel) * 130 / 3.6, (team["team_id"], stop["seq"])
            assert parse(stop["arrival"]) >= clock + dt.timedelta(seconds=travel)
            assert parse(stop["service_start"]) == parse(stop["arrival"]) + dt.timedelta(seconds=stop["wait_s"])
            clock = parse(stop["departure"])
            previous = here
        assert parse(team["end"]["time"]) >= clock
        assert team["expected_contacts"] == pytest.approx(sum(s["p_home"] for s in team["stops"]), abs=0.02)


def test_breaks_sit_inside_their_windows(copenhagen_day: dict[str, Any]) -> None:
    """Each team with a break window has a 30-minute break inside it; teams without have none."""
    windows = {"T1": (12, 14), "T2": (12, 13.5), "T3": (16, 18)}
    for team in copenhagen_day["plan"]["teams"]:
        brk = team["break"]
        if team["team_id"] not in windows:
            assert brk is None
            continue
        lo, hi = windows[team["team_id"]]
        start, end = parse(brk["start"]), parse(brk["end"])
        assert end - start == dt.timedelta(minutes=30)
        assert lo <= start.hour + start.minute / 60 and end.hour + end.minute / 60 <= hi


def test_outputs_include_a_map_per_team_and_the_overview(copenhagen_day: dict[str, Any]) -> None:
    """The run writes the overview, one map per team, and Leaflet beside them; with ``--tiles none`` each map
    and the overview draw the plan's roads."""
    out = copenhagen_day["work"] / "out"
    assert (out / "index.html").is_file()
    assert "Doorstep.addRoads(" in (out / "index.html").read_text(encoding="utf-8")
    for team in ("T1", "T2", "T3", "T4", "T5"):
        html = (out / "maps" / f"{team}.html").read_text(encoding="utf-8")
        assert "OpenStreetMap" in html
        assert "Doorstep.addRoads(" in html
    assert any((out / "static").rglob("leaflet.js"))
    assert "index.html" in copenhagen_day["stdout"]


def test_bad_cases_file_exits_2_naming_row_and_field(tmp_path: Path, osm_dir: Path, cache_dir: Path) -> None:
    """A cases file with a negative amount exits with status 2 and names row and field."""
    (tmp_path / "cases.csv").write_text(
        "case_id,customer_id,address,overdue_amount\nC1,P1,Somewhere 1,100\nC2,P2,Somewhere 2,-3\n",
        encoding="utf-8",
    )
    (tmp_path / "teams.csv").write_text(
        "team_id,members,start_lat,start_lon,shift_start,shift_end\nT1,a;b,55.67,12.57,09:00,17:00\n",
        encoding="utf-8",
    )
    result = doorstep(
        "plan", "--osm", str(osm_dir / "aguascalientes.osm.pbf"), "--cases", str(tmp_path / "cases.csv"),
        "--teams", str(tmp_path / "teams.csv"), "--date", "2026-12-01", "--out", str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "row 2, field overdue_amount" in result.stderr
    assert not (tmp_path / "out").exists()


def test_lone_officer_team_exits_2_naming_the_team(tmp_path: Path, osm_dir: Path, cache_dir: Path) -> None:
    """A team of one is refused with status 2 and an error naming the team."""
    (tmp_path / "cases.csv").write_text("case_id,customer_id,lat,lon\nC1,P1,21.88,-102.29\n", encoding="utf-8")
    (tmp_path / "teams.csv").write_text(
        "team_id,members,start_lat,start_lon,shift_start,shift_end\nSOLO7,ann,21.88,-102.29,09:00,17:00\n",
        encoding="utf-8",
    )
    result = doorstep(
        "plan", "--osm", str(osm_dir / "aguascalientes.osm.pbf"), "--cases", str(tmp_path / "cases.csv"),
        "--teams", str(tmp_path / "teams.csv"), "--date", "2026-12-01", "--out", str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "team SOLO7" in result.stderr and "at least two officers" in result.stderr


def test_unknown_tiles_exit_2_before_planning(tmp_path: Path, osm_dir: Path, cache_dir: Path) -> None:
    """``--tiles baidu`` (no such choice) exits with status 2 naming the option, and writes nothing."""
    (tmp_path / "cases.csv").write_text("case_id,customer_id,lat,lon\nC1,P1,21.88,-102.29\n", encoding="utf-8")
    (tmp_path / "teams.csv").write_text(
        "team_id,members,start_lat,start_lon,shift_start,shift_end\nT1,a;b,21.88,-102.29,09:00,17:00\n",
        encoding="utf-8",
    )
    result = doorstep(
        "plan", "--osm", str(osm_dir / "aguascalientes.osm.pbf"), "--cases", str(tmp_path / "cases.csv"),
        "--teams", str(tmp_path / "teams.csv"), "--date", "2026-12-01", "--out", str(tmp_path / "out"),
        "--tiles", "baidu", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--tiles" in result.stderr and "amap" in result.stderr
    assert not (tmp_path / "out").exists()


def test_route_sheets_printed_for_every_team(copenhagen_day: dict[str, Any]) -> None:
    """With --pdf every team gets an HTML and a PDF route sheet listing its stops, with the officer link."""
    out = copenhagen_day["work"] / "out"
    overview = (out / "index.html").read_text(encoding="utf-8")
    for team in copenhagen_day["plan"]["teams"]:
        assert f'href="https://doorstep.bank.example/days/2026-12-01/maps/{team["team_id"]}.html"' in overview
        html = (out / "sheets" / f"{team['team_id']}.html").read_text(encoding="utf-8")
        assert html.count("<svg") == 1  # the QR code of the officer link
        reader = pypdf.PdfReader(out / "sheets" / f"{team['team_id']}.pdf")
        text = "".join(page.extract_text() for page in reader.pages)
        assert [s["case_id"] for s in team["stops"] if s["case_id"] not in text] == []
