"""The store's outcomes, cases and payments as the pandas frames ``api.analytics`` works on.

Only the columns the analytics need are read, JSON fields are taken out by the database (no per-row JSON parsing
in Python), and the date range is cut in SQL with the deployment zone's day bounds. A case the loan system closed
(paid) counts as a payment at the time it was closed: that is what makes a promise to pay kept.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.types import TypeDecorator

from api import analytics
from api.db import CaseRow, Database, OutcomeRow
from geo.crs import gcj02_to_wgs84

__all__ = ["PreparedCache", "data_version", "load_frames"]


class _Raw(TypeDecorator[Any]):
    """A column read as the driver hands it over, without the mapped type's conversion."""

    impl = String
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


def _frame(result: Any, columns: list[str]) -> pd.DataFrame:
    """A frame built column by column (pandas is slow to build one from 100,000 row objects)."""
    # fetchall: one bulk fetch (iterating a psycopg cursor fetches row by row).
    data = list(zip(*result.fetchall(), strict=True))
    if not data:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame(dict(zip(columns, data, strict=True)))


def _utc_bound(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.UTC)


def load_frames(
    db: Database, start: dt.date | None, end: dt.date | None, timezone: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Outcomes visited on local dates [start, end], every case they concern, and the payments known.

    Returns
    -------
    tuple of pandas.DataFrame
        ``outcomes`` (case_id, team_id, visited_at, result, promised_date, lat, lon), ``cases`` (case_id,
        segment, overdue_days, district) and ``payments`` (case_id, paid_at) as ``api.analytics.prepare``
        takes them.
    """
    zone = ZoneInfo(timezone)
    payload = OutcomeRow.payload
    q = select(
        OutcomeRow.case_id,
        OutcomeRow.team_id,
        # The raw stored value (text on SQLite, a timestamp on PostgreSQL): pandas parses 100,000 at once far
        # faster than the column type's per-row conversion.
        type_coerce(OutcomeRow.visited_at, _Raw()).label("visited_at"),
        OutcomeRow.result,
        payload["promised_date"].as_string().label("promised_date"),
        payload["lat"].as_float().label("lat"),
        payload["lon"].as_float().label("lon"),
        payload["crs"].as_string().label("crs"),
    )
    conditions = []
    if start is not None:
        conditions.append(OutcomeRow.visited_at >= _utc_bound(start, zone))
    if end is not None:
        conditions.append(OutcomeRow.visited_at < _utc_bound(end + dt.timedelta(days=1), zone))
    q = q.where(*conditions)
    record = CaseRow.record
    cq = select(
        CaseRow.case_id,
        record["segment"].as_string().label("segment"),
        record["overdue_days"].as_string().label("overdue_days"),
        record["district"].as_string().label("district"),
        record["branch"].as_string().label("branch"),
        CaseRow.state,
        CaseRow.updated_at,
    )
    visited = select(OutcomeRow.case_id).where(*conditions)
    with db.read() as s:
        # Core rows straight from the connection: the ORM's row handling would double the time.
        conn = s.connection()
        outcomes = _frame(conn.execute(q), list(q.selected_columns.keys()))
        cases = _frame(conn.execute(cq.where(CaseRow.case_id.in_(visited))), list(cq.selected_columns.keys()))
    # Phones in China may report GCJ-02; the exports are WGS-84.
    for i in outcomes.index[(outcomes["crs"] == "gcj02") & outcomes["lat"].notna() & outcomes["lon"].notna()]:
        outcomes.loc[i, ["lat", "lon"]] = gcj02_to_wgs84(outcomes.at[i, "lat"], outcomes.at[i, "lon"])
    outcomes = outcomes.drop(columns=["crs"])
    outcomes["visited_at"] = pd.to_datetime(outcomes["visited_at"], utc=True, format="ISO8601")
    cases["segment"] = cases["segment"].fillna("unknown")
    cases["overdue_days"] = pd.to_numeric(cases["overdue_days"], errors="coerce").fillna(0).astype(int)
    cases["district"] = cases["district"].fillna(cases["branch"]).fillna("(none)")
    closed = cases[cases["state"] == "closed"]
    payments = pd.DataFrame({"case_id": closed["case_id"], "paid_at": pd.to_datetime(closed["updated_at"], utc=True)})
    return outcomes, cases.drop(columns=["branch", "state", "updated_at"]), payments


def data_version(db: Database) -> tuple[Any, ...]:
    """What changes whenever an answer could: outcomes stored (count, newest id) and the newest case update."""
    with db.read() as s:
        conn = s.connection()
        count, newest = conn.execute(select(func.count(), func.max(OutcomeRow.id))).one()
        updated = conn.execute(select(func.max(type_coerce(CaseRow.updated_at, _Raw())))).scalar()
    return count, newest, str(updated)


class PreparedCache:
    """Prepared outcome frames by (date range, zone, country), reused while the data version stays the same.

    A supervisor moving from one grouping to the next asks the same outcomes again; reading and preparing
    100,000 of them is most of an answer's time (BENCHMARKS.md). One per app, never module-level.
    """

    def __init__(self, max_entries: int = 8) -> None:
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], pd.DataFrame | None]] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(
        self,
        db: Database,
        start: dt.date | None,
        end: dt.date | None,
        timezone: str,
        country: str,
    ) -> pd.DataFrame | None:
        """The prepared frame of the outcomes in [start, end] (``None`` when there are none)."""
        key = (start, end, timezone, country)
        version = data_version(db)
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        outcomes, cases, payments = load_frames(db, start, end, timezone)
        prepared = (
            None
            if outcomes.empty
            else analytics.prepare(outcomes, cases, timezone=timezone, country=country, payments=payments)
        )
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (version, prepared)
        return prepared
