"""GET /v1/analytics/outcomes on the real server and database: api.analytics behind HTTP, every rate with its
interval, the weekly trend, CSV and GeoPackage exports, and the supervisor's chart page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from tests.api.conftest import Api, seed_cases

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
