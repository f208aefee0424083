"""`doorstep plan --history`: past outcomes teach the presence model, and the plan's P(home) comes from it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from api.errors import InputFileError
from api.files import read_cases
from api.history import learn_from_history, observations, read_outcomes
from api.synthetic import CASE_COLUMNS, synthetic_case_rows, write_rows
from geo.geocoder import OfflineGeocoder
from routing.learning import PresenceModel
from routing.model import Case
from routing.presence import PresencePrior

TZ = "America/Mexico_City"
OUTCOME_COLUMNS = ("client_id", "case_id", "team_id", "officer_id", "visited_at", "result")


def doorstep(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a supervisor would."""
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd, env={**os.environ, "COLUMNS": "200"}, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def history_day(osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """24 cases at Aguascalientes addresses; C0001 (employed) was never home in the evening but met at 10:30."""
    work = tmp_path_factory.mktemp("history")
    osm = osm_dir / "aguascalientes.osm.pbf"
    geocoder = OfflineGeocoder.from_osm(osm, cache_dir=cache_dir)
    rows = synthetic_case_rows(geocoder.records, 24, seed=5)
    where = {r.label: r.location for r in geocoder.records}
    # Placed by coordinates: this test is about presence, not about geocoding house-numberless addresses.
    rows = [{**r, "lat": where[r["address"]].lat, "lon": where[r["address"]].lon} for r in rows]
    rows[0] = {**rows[0], "segment": "employed", "overdue_amount": "90000", "overdue_days": "200"}
    write_rows(work / "cases.csv", rows, CASE_COLUMNS)
    depot = geocoder.records[0].location
    (work / "teams.csv").write_text(
        "team_id,members,start_lat,start_lon,shift_start,shift_end\n"
        f"T1,a;b,{depot.lat},{depot.lon},09:00,21:00\nT2,c;d,{depot.lat},{depot.lon},09:00,21:00\n",
        encoding="utf-8",
    )
    history = []
    # Tue 10 - Fri 13 November 2026 are workdays in Mexico: absent at 18:30-21:30 four days running, home at
    # 10:30. More than a week before the plan day, so the weekly visit cap does not hold the case back.
    for day in (10, 11, 12, 13):
        for hour in (18, 19, 20, 21):
            history.append((f"u-{day}-{hour}", rows[0]["case_id"], f"2026-11-{day}T{hour}:30:00-06:00", "not_home"))
        history.append((f"u-{day}-10", rows[0]["case_id"], f"2026-11-{day}T10:30:00-06:00", "met"))
    history.append(("u-x", "C9999", "2026-11-27T12:00:00-06:00", "met"))  # a case not in today's file
    write_rows(
        work / "history.csv",
        [dict(zip(OUTCOME_COLUMNS, (c, case, "T1", "o1", at, res), strict=True)) for c, case, at, res in history],
        OUTCOME_COLUMNS,
    )
    store = work / "presence.npz"
    result = doorstep(
        "plan", "--osm", str(osm), "--cases", str(work / "cases.csv"), "--teams", str(work / "teams.csv"),
        "--date", "2026-12-01", "--out", str(work / "out"), "--time-limit", "3", "--seed", "1", "--tiles", "none",
        "--tz", TZ, "--history", str(work / "history.csv"), "--presence-store", str(store),
        cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    plan = json.loads((work / "out" / "plan.json").read_text(encoding="utf-8"))
    return {"plan": plan, "rows": rows, "work": work, "store": store, "osm": osm}


def stop_of(plan: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(s for t in plan["teams"] for s in t["stops"] if s["case_id"] == case_id)


def test_plan_p_home_comes_from_the_learnt_posterior(history_day: dict[str, Any]) -> None:
    """The high-priority customer with evening absences is planned in a daytime slot at the model's P(home)."""
    plan, work = history_day["plan"], history_day["work"]
    stop = stop_of(plan, "C0001")
    start = dt.datetime.fromisoformat(stop["slot"]["start"])
    cases = read_cases(work / "cases.csv")
    model, learnt, unknown = learn_from_history(work / "history.csv", cases, TZ, "MX")
    assert learnt == 20 and unknown == ["C9999"]
    # The plan reads the posterior with evidence faded up to noon of the plan day.
    noon = dt.datetime(2026, 12, 1, 12, tzinfo=ZoneInfo(TZ))
    expected = model.profiles([cases[0].customer_id], ["employed"], at=noon)[0, 0, start.hour]
    assert stop["p_home"] == pytest.approx(expected, abs=1e-3)
    prior = PresencePrior.load_default()
    # The prior would prefer the evening (0.83 at 21:00); the learnt posterior says evenings are hopeless.
    assert model.p_home(cases[0].customer_id, "employed", "workday", 20) < prior.p_home("employed", "workday", 20) - 0.4
    assert start.hour < 18


def test_map_popup_shows_the_presence_heat_strip(history_day: dict[str, Any]) -> None:
    """Each stop's popup carries a heat strip with one row per day type."""
    team = next(t for t in history_day["plan"]["teams"] if t["stops"])
    html = (history_day["work"] / "out" / "maps" / f"{team['team_id']}.html").read_text(encoding="utf-8")
    assert "At home by hour" in html
    for day in ("workday", "rest_day", "public_holiday"):
        assert f'data-day-type=\\"{day}\\"' in html or f'data-day-type="{day}"' in html


def test_store_keeps_what_was_learnt_and_never_counts_twice(history_day: dict[str, Any]) -> None:
    """The store holds the posterior; replaying the same history leaves it unchanged."""
    work, store = history_day["work"], history_day["store"]
    prior = PresencePrior.load_default()
    before = PresenceModel.load(store, prior)
    cases = read_cases(work / "cases.csv")
    again, learnt, _ = learn_from_history(work / "history.csv", cases, TZ, "MX", store=store)
    assert learnt == 0
    ids = [c.customer_id for c in cases]
    segs = [c.segment for c in cases]
    np.testing.assert_array_equal(before.profiles(ids, segs), again.profiles(ids, segs))


@pytest.mark.parametrize(
    ("line", "field"),
    [
        # unknown result
        ("u1,C1,T1,o1,2026-11-24T10:00:00-06:00,asleep", "result"),
        # no UTC offset
        ("u1,C1,T1,o1,2026-11-24T10:00:00,met", "visited_at"),
        # not a time
        ("u1,C1,T1,o1,yesterday,met", "visited_at"),
        # no client id
        (",C1,T1,o1,2026-11-24T10:00:00-06:00,met", "client_id"),
        # an address kind the cases file has no column for
        ("u1,C1,T1,o1,2026-11-24T10:00:00-06:00,met,office", "address_kind"),
    ],
)
def test_bad_history_rows_name_row_and_field(tmp_path: Path, line: str, field: str) -> None:
    """A bad outcome row is reported with its row and field."""
    path = tmp_path / "h.csv"
    path.write_text(",".join(OUTCOME_COLUMNS) + ",address_kind\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        read_outcomes(path)
    assert f"row 1, field {field}" in str(err.value)


def test_history_visits_at_work_teach_no_home_presence(tmp_path: Path) -> None:
    """An outcome at the customer's work address counts for the visit caps (it is read) but says nothing about
    when they are at home: it does not reach the presence model; one with an empty address_kind is a home visit."""
    path = tmp_path / "h.csv"
    path.write_text(
        ",".join(OUTCOME_COLUMNS) + ",address_kind\n"
        "u1,C1,T1,o1,2026-11-24T10:30:00-06:00,met,work\n"
        "u2,C1,T1,o1,2026-11-24T19:30:00-06:00,not_home,\n"
        "u3,C1,T1,o1,2026-11-25T19:30:00-06:00,not_home,home\n",
        encoding="utf-8",
    )
    outcomes = read_outcomes(path)
    assert [o.address_kind for o in outcomes] == ["work", None, "home"]
    case = Case("C1", "P1", address="x", segment="employed")
    seen, unknown = observations(outcomes, [case], TZ, "MX")
    assert unknown == [] and [o.key for o in seen] == ["u2", "u3"]
