"""GET /v1/analytics/outcomes on the real server and database: api.analytics behind HTTP, every rate with its
interval, the weekly trend, CSV and GeoPackage exports, and the supervisor's chart page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import insert

from api.db import CaseRow, Database, OutcomeRow
from api.outcome_frames import PreparedCache, load_frames
from api.routes_analytics import rates_answer
from tests.api.conftest import Api, make_database, seed_cases

TODAY = dt.datetime.now(dt.UTC).date()


def outcome(case_id: str, at: str, result: str, **more: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "team_id": "T1",
        "officer_id": "li",
        "case_id": case_id,
        "visited_at": at,
        "result": result,
        **more,
    }


@pytest.fixture(scope="module")
def outcomes(api: Api) -> None:
    """Five visits to four cases (A000, A002 employed; A001, A003 retired); A001 promised to pay today and the
    loan system then closed it (paid)."""
    promise_at = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(17), dt.UTC).isoformat()
    with api.client(api.system) as c:
        assert c.post("/v1/cases", json=seed_cases(4, prefix="A")).json()["rejected"] == []
        posted = [
            outcome("A000", "2026-11-02T10:00:00-06:00", "not_home"),
            outcome("A000", "2026-11-03T18:00:00-06:00", "met", lat=21.8697, lon=-102.2737, accuracy_m=5),
            outcome("A002", "2026-11-10T11:00:00-06:00", "wrong_address"),
            outcome("A003", "2026-11-11T12:00:00-06:00", "refused"),
            outcome("A001", promise_at, "promise_to_pay", promised_date=TODAY.isoformat()),
        ]
        for body in posted:
            r = c.post("/v1/outcomes", json=body)
            assert r.status_code == 201, r.text
        closed = {**seed_cases(4, prefix="A")[1], "state": "closed"}
        assert c.post("/v1/cases", json=[closed]).json()["rejected"] == []


def by_group(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["group"]: g for g in answer["groups"]}


def test_rates_by_segment_with_every_rate_and_interval(api: Api, outcomes: None) -> None:
    """Employed: 3 visits, 1 contact, 1 wrong address; retired: 2 visits, 2 contacts, 1 promise, kept."""
    with api.client(api.system) as c:
        r = c.get("/v1/analytics/outcomes", params={"group_by": "segment"})
    assert r.status_code == 200, r.text
    groups = by_group(r.json())
    employed, retired = groups["employed"], groups["retired"]
    assert (employed["visits"], employed["contacts"]) == (3, 1)
    # Wilson 95 % of 1/3: centre (1/3 + z²/6) / (1 + z²/3) = 0.4269, half-width 0.3654 -> 0.0615 .. 0.7923.
    assert employed["rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert employed["low"] == pytest.approx(0.0615, abs=1e-3) and employed["high"] == pytest.approx(0.7923, abs=1e-3)
    rates = employed["rates"]
    assert rates["wrong_address"]["successes"] == 1 and rates["wrong_address"]["trials"] == 3
    assert rates["promise_to_pay"]["rate"] == 0 and rates["kept_promise"]["trials"] == 0
    assert rates["kept_promise"]["rate"] is None  # no promise fell due: no rate, rather than a made-up 0
    kept = retired["rates"]["kept_promise"]
    assert (retired["visits"], retired["contacts"]) == (2, 2)
    assert retired["rates"]["promise_to_pay"]["successes"] == 1
    assert (kept["successes"], kept["trials"], kept["rate"]) == (1, 1, 1.0)
    for group in groups.values():
        for rate in group["rates"].values():
            if rate["rate"] is not None:
                assert rate["low"] <= rate["rate"] <= rate["high"]


def test_weekly_trend_and_date_range(api: Api, outcomes: None) -> None:
    """The trend has a row per week (Mondays, oldest first) summing to all visits; from/to cut local dates."""
    with api.client(api.supervisor) as c:
        answer = c.get("/v1/analytics/outcomes", params={"group_by": "week"}).json()
        trend = answer["trend"]
        assert [w["week"] for w in trend][:2] == ["2026-11-02", "2026-11-09"]
        assert [w["week"] for w in trend] == sorted(w["week"] for w in trend)
        assert sum(w["visits"] for w in trend) == 5 and trend[0]["visits"] == 2
        assert [g["group"] for g in answer["groups"]] == [w["week"] for w in trend]
        week = c.get("/v1/analytics/outcomes", params={"group_by": "segment", "from": "2026-11-09", "to": "2026-11-15"})
        groups = by_group(week.json())
        assert groups["employed"]["visits"] == 1 and groups["retired"]["visits"] == 1
        old_name = c.get("/v1/analytics/outcomes", params={"group_by": "branch"}).json()
        assert old_name["group_by"] == "branch" and sum(g["visits"] for g in old_name["groups"]) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "colour"},  # not a grouping
        {"group_by": "segment", "from": "2026-11-10", "to": "2026-11-01"},  # to before from
        {"group_by": "segment", "from": "yesterday"},  # not a date
        {"group_by": "segment", "format": "xlsx"},  # not an export format
    ],
)
def test_bad_queries_are_422(api: Api, params: dict[str, str]) -> None:
    """Bad query parameters answer 422 naming the parameter, never 500."""
    with api.client(api.system) as c:
        r = c.get("/v1/analytics/outcomes", params=params)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"].startswith("query")


def test_csv_export_is_the_rates_table(api: Api, outcomes: None) -> None:
    """format=csv: one row per group with the counts, each rate and its bounds."""
    with api.client(api.system) as c:
        r = c.get("/v1/analytics/outcomes", params={"group_by": "segment", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["segment"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert set(rows) == {"employed", "retired"}
    assert rows["employed"]["visits"] == "3" and rows["retired"]["kept"] == "1"
    assert float(rows["employed"]["contact_rate_low"]) == pytest.approx(0.0615, abs=1e-3)


def test_geopackage_export_has_the_located_outcomes(api: Api, outcomes: None, tmp_path: Path) -> None:
    """format=gpkg: a GeoPackage whose layer has the one outcome with a GPS fix, as a WGS-84 point."""
    with api.client(api.system) as c:
        r = c.get("/v1/analytics/outcomes", params={"group_by": "segment", "format": "gpkg"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
        empty = c.get("/v1/analytics/outcomes", params={"group_by": "segment", "format": "gpkg", "to": "2026-11-02"})
    path = tmp_path / "outcomes.gpkg"
    path.write_bytes(r.content)
    points = gpd.read_file(path, layer="outcomes", engine="pyogrio")
    assert len(points) == 1 and points.crs.to_epsg() == 4326
    assert points.iloc[0]["case_id"] == "A000" and points.geometry.iloc[0].x == pytest.approx(-102.2737)
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "no_points"


def test_analytics_page_draws_charts_without_scripts(api: Api, outcomes: None) -> None:
    """The supervisor's page: inline SVG charts of each rate and the trend, no script, a self-only CSP, in the
    server's language (en by default)."""
    with api.client(api.supervisor) as c:
        r = c.get("/v1/analytics/page", params={"group_by": "segment"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert html.count("<svg") == 5 and "<script" not in html
    assert "Kept-promise rate" in html and "retired" in html and "Weekly trend" in html
    assert html.startswith('<!DOCTYPE html><html lang="en">') and "Kept-promise rate by segment" in html
    assert "default-src 'self'" in r.headers["content-security-policy"]
    with api.client(api.system) as c:
        assert c.get("/v1/analytics/page").status_code == 403


def test_a_new_outcome_shows_in_the_next_answer(api: Api, outcomes: None) -> None:
    """Answers are cached between queries, but never stale: a new outcome is counted in the next answer."""
    params = {"group_by": "segment", "from": "2026-11-16", "to": "2026-11-16"}
    with api.client(api.supervisor) as c:
        before = c.get("/v1/analytics/outcomes", params=params).json()
        assert c.get("/v1/analytics/outcomes", params=params).json() == before
        assert c.post("/v1/outcomes", json=outcome("A003", "2026-11-16T12:00:00-06:00", "met")).status_code == 201
        after = by_group(c.get("/v1/analytics/outcomes", params=params).json())
    assert before["groups"] == [] and after["retired"]["visits"] == 1 and after["retired"]["contacts"] == 1


@contextmanager
def _stored(kind: str, tmp: Path) -> Iterator[Database]:
    """A fresh database of ``kind`` holding awkward cases and outcomes, written as the API stores them."""
    with make_database(kind, tmp / kind) as url:
        db = Database(url)
        db.migrate()
        at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
        records = {
            # An empty segment stays empty; no district: the branch stands in.
            "K1": {"segment": "", "branch": "B1", "overdue_days": 15},
            # No segment ("unknown"), no overdue days (0); a district with a comma, quotes and a non-ASCII letter.
            "K2": {"segment": None, "district": 'Nørrebro, "north"'},
            # Text that looks like a null is text; an empty district stays empty; overdue days as text.
            "K3": {"segment": "NULL", "district": "", "overdue_days": "200"},
        }
        cases = [
            {
                "case_id": case_id,
                "customer_id": f"P{case_id}",
                "record": {"case_id": case_id, **record},
                "state": "closed" if case_id == "K1" else "open",
                "version": 1,
                "created_at": at,
                "updated_at": at + dt.timedelta(days=2, microseconds=123456),
            }
            for case_id, record in records.items()
        ]
        visits = [
            ("K1", 'T "1",\nnight', "promise_to_pay", {"promised_date": "2026-11-25"}, dt.timedelta(hours=1)),
            ("K2", "T2", "met", {"lat": 21.88, "lon": -102.29}, dt.timedelta(hours=30, microseconds=7)),
            ("K3", "", "not_home", {"lat": 31.2304, "lon": 121.4737, "crs": "gcj02"}, dt.timedelta(days=3)),
            ("K9", "T2", "refused", {}, dt.timedelta(days=10)),  # a case the store does not hold
            ("K2", "T2", "met", {}, dt.timedelta(days=-30)),  # before the range asked below
        ]
        outcomes = [
            {
                "client_id": str(uuid.uuid4()),
                "body_hash": "0" * 64,
                "payload": {"case_id": case_id, "team_id": team, "result": result, **more},
                "case_id": case_id,
                "customer_id": f"P{case_id}",
                "team_id": team,
                "result": result,
                "visited_at": at + offset,
                "day_type": "workday",
                "hour": 0,
                "recorded_by": "tests",
                "recorded_at": at,
            }
            for case_id, team, result, more, offset in visits
        ]
        with db.write() as s:
            s.execute(insert(CaseRow), cases)
            s.execute(insert(OutcomeRow), outcomes)
        try:
            yield db
        finally:
            db.dispose()


def test_sqlite_and_postgresql_read_the_same_frames(tmp_path: Path) -> None:
    """PostgreSQL (COPY as CSV) and SQLite (row tuples) give the same frames and answers for the same data."""
    frames = {}
    answers = {}
    for kind in ("sqlite", "postgresql"):
        (tmp_path / kind).mkdir()
        with _stored(kind, tmp_path) as db:
            start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
            outcomes, cases, payments = load_frames(db, start, end, "America/Mexico_City")
            prepared = PreparedCache().get(db, start, end, "America/Mexico_City", "MX")
            frames[kind] = [f.sort_values(list(f.columns[:2])).reset_index(drop=True) for f in (outcomes, cases)]
            frames[kind].append(payments.reset_index(drop=True))
            answers[kind] = [rates_answer(prepared, g, start, end) for g in ("segment", "district", "team", "week")]
    for sqlite_frame, pg_frame in zip(frames["sqlite"], frames["postgresql"], strict=True):
        pd.testing.assert_frame_equal(sqlite_frame, pg_frame)
    assert answers["sqlite"] == answers["postgresql"]
    outcomes, cases, payments = frames["postgresql"]
    assert list(outcomes["case_id"]) == ["K1", "K2", "K3", "K9"]  # the visit 30 days earlier is out of range
    assert list(outcomes["team_id"]) == ['T "1",\nnight', "T2", "", "T2"]
    assert outcomes["promised_date"].iloc[0] == "2026-11-25" and outcomes["promised_date"].iloc[1:].isna().all()
    assert outcomes["visited_at"].iloc[1] == pd.Timestamp("2026-11-21T15:00:00.000007Z")
    # GCJ-02 (Shanghai) moved to WGS-84: a few hundred metres south-west, about 0.002° and 0.0045°.
    assert outcomes["lat"].iloc[2] == pytest.approx(31.2324, abs=2e-4)
    assert outcomes["lon"].iloc[2] == pytest.approx(121.4692, abs=2e-4)
    assert list(cases["segment"]) == ["", "unknown", "NULL"]
    assert list(cases["district"]) == ["B1", 'Nørrebro, "north"', ""]
    assert list(cases["overdue_days"]) == [15, 0, 200]
    assert list(payments["case_id"]) == ["K1"]
    assert payments["paid_at"].iloc[0] == pd.Timestamp("2026-11-22T09:00:00.123456Z")
