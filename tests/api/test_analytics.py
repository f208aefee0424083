"""Outcome analytics on a hand-checkable week in Copenhagen, and the exports read back."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from api.analytics import AnalyticsError, export_csv, export_geopackage, outcome_rates, prepare, weekly_trend

CASES = pd.DataFrame(
    {
        "case_id": ["C1", "C2", "C3"],
        "segment": ["employed", "retired", "employed"],
        "overdue_days": [10, 45, 200],
        "district": ["Nørrebro", "Vesterbro", "Nørrebro"],
    }
)
# Copenhagen is UTC+1 in December; 2026-12-05 is a Saturday (a rest day), 2026-12-07 a Monday.
OUTCOMES = pd.DataFrame(
    {
        "case_id": ["C1", "C1", "C2", "C3", "C3"],
        "team_id": ["T1", "T1", "T2", "T2", "T1"],
        "visited_at": [
            "2026-12-01T09:30:00+01:00",
            "2026-12-01T18:10:00+01:00",
            "2026-12-02T10:05:00+01:00",
            "2026-12-05T11:00:00+01:00",
            "2026-12-07T19:00:00+01:00",
        ],
        "result": ["not_home", "met", "promise_to_pay", "wrong_address", "promise_to_pay"],
        "promised_date": [None, None, "2026-12-05", None, "2026-12-08"],
        "lat": [55.69, 55.69, 55.67, None, 55.70],
        "lon": [12.55, 12.55, 12.55, None, 12.54],
    }
)
# C2 pays before its promised date; C3 never pays; C1's payment on the 10th tells us the data reach that far.
PAYMENTS = pd.DataFrame({"case_id": ["C2", "C1"], "paid_at": ["2026-12-04T12:00:00Z", "2026-12-10T09:00:00Z"]})


@pytest.fixture
def prepared() -> pd.DataFrame:
    return prepare(OUTCOMES, CASES, timezone="Europe/Copenhagen", country="DK", payments=PAYMENTS)


def test_rates_by_segment_with_wilson_intervals(prepared: pd.DataFrame) -> None:
    """Employed: 4 visits, 2 contacts (met, promise), 1 wrong address, 1 promise due and broken; retired: 1 of 1."""
    table = outcome_rates(prepared, ["segment"]).set_index("segment")
    employed = table.loc["employed"]
    assert (employed.visits, employed.contacts, employed.wrong_address) == (4, 2, 1)
    assert (employed.promises, employed.promises_due, employed.kept) == (1, 1, 0)
    assert employed.contact_rate == pytest.approx(0.5)
    # Wilson, 2 of 4: centre 0.5, half-width 1.96 * sqrt(0.0625 + 3.8415/64) / 1.9604 = 0.350.
    assert (employed.contact_rate_low, employed.contact_rate_high) == pytest.approx((0.150, 0.850), abs=1e-3)
    retired = table.loc["retired"]
    assert (retired.contact_rate, retired.promise_rate, retired.kept_promise_rate) == (1.0, 1.0, 1.0)


def test_hour_day_type_district_bucket_and_team(prepared: pd.DataFrame) -> None:
    """Local hours, the Saturday as a rest day, districts, overdue buckets and teams are all grouped on."""
    assert outcome_rates(prepared, ["hour"])["hour"].tolist() == [9, 10, 11, 18, 19]
    by_day = outcome_rates(prepared, ["day_type"]).set_index("day_type")["visits"].to_dict()
    assert by_day == {"rest_day": 1, "workday": 4}
    by_district = outcome_rates(prepared, ["district"]).set_index("district")["visits"].to_dict()
    assert by_district == {"Nørrebro": 4, "Vesterbro": 1}
    buckets = outcome_rates(prepared, ["overdue_bucket"]).set_index("overdue_bucket")["visits"].to_dict()
    assert buckets == {"0-30": 2, "181+": 2, "31-60": 1}
    teams = outcome_rates(prepared, ["team", "segment"])
    assert len(teams) == 3 and teams["visits"].sum() == 5


def test_weekly_trend_and_date_filter(prepared: pd.DataFrame) -> None:
    """Weeks start on Monday; a date range keeps only the visits in it."""
    trend = weekly_trend(prepared).set_index("week")
    assert trend["visits"].to_dict() == {"2026-11-30": 4, "2026-12-07": 1}
    first_days = outcome_rates(prepared, ["segment"], start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 2))
    assert first_days["visits"].sum() == 3


def test_kept_promise_needs_payments() -> None:
    """Without payment data no promise counts as due, so the kept-promise rate is unknown, not zero."""
    table = outcome_rates(prepare(OUTCOMES, CASES, timezone="Europe/Copenhagen", country="DK"), ["segment"])
    assert table["promises_due"].sum() == 0
    assert table["kept_promise_rate"].isna().all()


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (["colour"], "cannot group by colour"),  # not a grouping column
        ([], "cannot group by nothing"),  # no grouping at all
    ],
)
def test_bad_groupings_are_named(prepared: pd.DataFrame, group: list[str], message: str) -> None:
    with pytest.raises(AnalyticsError, match=message):
        outcome_rates(prepared, group)


def test_missing_columns_are_named() -> None:
    with pytest.raises(AnalyticsError, match="visited_at"):
        prepare(OUTCOMES.drop(columns="visited_at"), CASES, timezone="UTC", country="DK")


def test_csv_and_geopackage_exports_read_back(prepared: pd.DataFrame, tmp_path: Path) -> None:
    """The CSV has the rates table; the GeoPackage holds the 4 outcomes with a GPS fix as WGS-84 points."""
    csv = export_csv(outcome_rates(prepared, ["segment"]), tmp_path / "rates.csv")
    assert pd.read_csv(csv)["segment"].tolist() == ["employed", "retired"]
    gpkg = export_geopackage(prepared, tmp_path / "outcomes.gpkg")
    # A GeoPackage is an SQLite file: read it back as one.
    with sqlite3.connect(gpkg) as db:
        assert db.execute("SELECT count(*) FROM outcomes").fetchone() == (4,)
        srs = db.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'outcomes'").fetchone()
        assert srs == (4326,)
