"""The store's outcomes, cases and payments as the pandas frames ``api.analytics`` works on.

Only the columns the analytics need are read, JSON fields are taken out by the database (no per-row JSON parsing
in Python), and the date range is cut in SQL with the deployment zone's day bounds. A case the loan system closed
(paid) counts as a payment at the time it was closed: that is what makes a promise to pay kept.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select

from api.db import CaseRow, Database, OutcomeRow
from geo.crs import gcj02_to_wgs84

__all__ = ["load_frames"]


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
        OutcomeRow.visited_at,
        OutcomeRow.result,
        payload["promised_date"].as_string().label("promised_date"),
        payload["lat"].as_float().label("lat"),
        payload["lon"].as_float().label("lon"),
        payload["crs"].as_string().label("crs"),
    )
    if start is not None:
        q = q.where(OutcomeRow.visited_at >= _utc_bound(start, zone))
    if end is not None:
        q = q.where(OutcomeRow.visited_at < _utc_bound(end + dt.timedelta(days=1), zone))
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
    with db.read() as s:
        outcomes = pd.DataFrame(s.execute(q).all(), columns=list(q.selected_columns.keys()))
        ids = outcomes["case_id"].unique().tolist()
        rows = []
        for at in range(0, len(ids), 5000):
            rows += s.execute(cq.where(CaseRow.case_id.in_(ids[at : at + 5000]))).all()
    cases = pd.DataFrame(rows, columns=list(cq.selected_columns.keys()))
    # Phones in China may report GCJ-02; the exports are WGS-84.
    for i in outcomes.index[(outcomes["crs"] == "gcj02") & outcomes["lat"].notna() & outcomes["lon"].notna()]:
        outcomes.loc[i, ["lat", "lon"]] = gcj02_to_wgs84(outcomes.at[i, "lat"], outcomes.at[i, "lon"])
    outcomes = outcomes.drop(columns=["crs"])
    outcomes["visited_at"] = pd.to_datetime(outcomes["visited_at"], utc=True)
    cases["segment"] = cases["segment"].fillna("unknown")
    cases["overdue_days"] = pd.to_numeric(cases["overdue_days"], errors="coerce").fillna(0).astype(int)
    cases["district"] = cases["district"].fillna(cases["branch"]).fillna("(none)")
    closed = cases[cases["state"] == "closed"]
    payments = pd.DataFrame({"case_id": closed["case_id"], "paid_at": pd.to_datetime(closed["updated_at"], utc=True)})
    return outcomes, cases.drop(columns=["branch", "state", "updated_at"]), payments
