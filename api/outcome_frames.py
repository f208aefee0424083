"""The store's outcomes, cases and payments as the pandas frames ``api.analytics`` works on.

Only the columns the analytics need are read, JSON fields are taken out by the database (no per-row JSON parsing
in Python), and the date range is cut in SQL with the deployment zone's day bounds. A case the loan system closed
(paid) counts as a payment at the time it was closed: that is what makes a promise to pay kept.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Float, Select, String, Text, column, func, select, true, type_coerce
from sqlalchemy.sql.elements import ColumnElement
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


# name -> (SQL type, pandas dtype) of the JSON fields the analytics read.
_OUTCOME_FIELDS = {
    "promised_date": (Text, "str"),
    "lat": (Float, "float64"),
    "lon": (Float, "float64"),
    "crs": (Text, "str"),
}
_CASE_FIELDS = {
    "segment": (Text, "str"),
    "overdue_days": (Text, "str"),
    "district": (Text, "str"),
    "branch": (Text, "str"),
}
# Columns whose NULL matters (NULL is read as NaN); every other text column keeps its empty strings.
_NULLABLE = ("promised_date", "lat", "lon", "crs", "overdue_days")


def _json_fields(
    document: Any, fields: dict[str, tuple[Any, str]], postgresql: bool
) -> tuple[dict[str, ColumnElement[Any]], Any]:
    """The fields of a JSON column as SQL expressions, and the FROM item they need (PostgreSQL only).

    PostgreSQL parses a ``json`` value again for every ``->>``: ``json_to_record`` parses it once for all the
    fields (0.24 s instead of 0.4 s for four fields of 100,000 outcomes). SQLite's ``json_extract`` is cheap.
    """
    if postgresql:
        record = (
            func.json_to_record(document)
            .table_valued(*(column(name, kind) for name, (kind, _) in fields.items()))
            .render_derived(with_types=True)
        )
        return {name: record.c[name] for name in fields}, record
    return {
        name: document[name].as_float() if kind is Float else document[name].as_string()
        for name, (kind, _) in fields.items()
    }, None


def _utc_text(value: Any, postgresql: bool) -> ColumnElement[Any]:
    """A timestamp as text pandas parses: on PostgreSQL ISO 8601 in UTC whatever the session's DateStyle, on
    SQLite the stored text (UTC)."""
    if postgresql:
        return func.to_char(func.timezone("UTC", value), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    return type_coerce(value, _Raw())


def _read(conn: Connection, query: Select[Any], dtypes: dict[str, str]) -> pd.DataFrame:
    """The rows of ``query`` as a frame of ``dtypes`` (column name -> pandas dtype)."""
    if conn.dialect.name == "postgresql":
        return _read_copy(conn, query, dtypes)
    result = conn.execute(query)
    try:
        # The DBAPI cursor's tuples: SQLAlchemy's row objects cost more than SQLite's query itself, and
        # from_records builds the frame about twice as fast as transposing the rows in Python.
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()})
    return pd.DataFrame.from_records(rows, columns=list(dtypes))


def _read_copy(conn: Connection, query: Select[Any], dtypes: dict[str, str]) -> pd.DataFrame:
    """The rows of ``query`` through PostgreSQL's ``COPY … TO STDOUT`` (CSV), parsed by pandas in C.

    psycopg building 100,000 row tuples (and their datetimes) costs more than the query itself; CSV text
    parsed by pandas does not. The query is rendered with its values inline: they are the range's UTC bounds
    (from parsed dates) and JSON field names, never request text.
    """
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    buffer = io.BytesIO()
    # The session's own connection, so the copy reads inside its transaction.
    with (
        conn.connection.driver_connection.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy,
    ):
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return pd.read_csv(
        buffer,
        header=None,
        names=list(dtypes),
        dtype=dtypes,
        keep_default_na=False,
        na_values={c: [""] for c in dtypes if c in _NULLABLE},
        encoding="utf-8",
    )


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
    conditions = []
    if start is not None:
        conditions.append(OutcomeRow.visited_at >= _utc_bound(start, zone))
    if end is not None:
        conditions.append(OutcomeRow.visited_at < _utc_bound(end + dt.timedelta(days=1), zone))
    with db.read() as s:
        conn = s.connection()
        postgresql = conn.dialect.name == "postgresql"
        fields, record = _json_fields(OutcomeRow.payload, _OUTCOME_FIELDS, postgresql)
        q = select(
            OutcomeRow.case_id,
            OutcomeRow.team_id,
            # Text: pandas parses 100,000 at once far faster than the column type's per-row conversion.
            _utc_text(OutcomeRow.visited_at, postgresql),
            OutcomeRow.result,
            *fields.values(),
        ).where(*conditions)
        if record is not None:
            q = q.join_from(OutcomeRow, record, true())
        text = {"case_id": "str", "team_id": "str", "visited_at": "str", "result": "str"}
        outcomes = _read(conn, q, text | {name: kind for name, (_, kind) in _OUTCOME_FIELDS.items()})
        case_fields, case_record = _json_fields(CaseRow.record, _CASE_FIELDS, postgresql)
        cq = select(
            CaseRow.case_id,
            # The defaults in SQL: in CSV an empty text and a missing one look alike.
            func.coalesce(case_fields["segment"], "unknown"),
            case_fields["overdue_days"],
            func.coalesce(case_fields["district"], case_fields["branch"], "(none)"),
            CaseRow.state,
            _utc_text(CaseRow.updated_at, postgresql),
        ).where(CaseRow.case_id.in_(select(OutcomeRow.case_id).where(*conditions)))
        if case_record is not None:
            cq = cq.join_from(CaseRow, case_record, true())
        case_types = {"segment": "str", "overdue_days": "str", "district": "str"}
        cases = _read(conn, cq, {"case_id": "str"} | case_types | {"state": "str", "updated_at": "str"})
    # Phones in China may report GCJ-02; the exports are WGS-84.
    # All at once (the iteration runs until every point has converged, so each is at least as close).
    gcj = ((outcomes["crs"] == "gcj02") & outcomes["lat"].notna() & outcomes["lon"].notna()).to_numpy(dtype=bool)
    if gcj.any():
        lat, lon = gcj02_to_wgs84(outcomes.loc[gcj, "lat"].to_numpy(), outcomes.loc[gcj, "lon"].to_numpy())
        outcomes.loc[gcj, "lat"], outcomes.loc[gcj, "lon"] = lat, lon
    outcomes = outcomes.drop(columns=["crs"])
    outcomes["visited_at"] = pd.to_datetime(outcomes["visited_at"], utc=True, format="ISO8601")
    cases["overdue_days"] = pd.to_numeric(cases["overdue_days"], errors="coerce").fillna(0).astype(int)
    closed = cases[cases["state"] == "closed"]
    payments = pd.DataFrame(
        {"case_id": closed["case_id"], "paid_at": pd.to_datetime(closed["updated_at"], utc=True, format="ISO8601")}
    )
    return outcomes, cases.drop(columns=["state", "updated_at"]), payments


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
