"""What the visits taught: contact, promise-to-pay, kept-promise and wrong-address rates by group, with
confidence intervals, and the weekly trend.

The rates are computed from the outcomes (CONTRACTS.md outcome fields) joined to the cases they belong to, and
to payments where the bank supplies them. Grouping is by segment, hour, day type, district, overdue bucket,
team or week. The engine is pandas: on 100,000 outcomes it answers in tens of milliseconds (see
BENCHMARKS.md, where DuckDB and polars were measured on the same queries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from routing.presence import day_type

__all__ = [
    "GROUPS",
    "RATES",
    "AnalyticsError",
    "export_csv",
    "export_geopackage",
    "outcome_rates",
    "prepare",
    "weekly_trend",
]

#: Results that mean someone opened the door.
CONTACT_RESULTS = ("met", "refused", "promise_to_pay", "appointment_made")
#: What the rates can be grouped by.
GROUPS = ("segment", "hour", "day_type", "district", "overdue_bucket", "team", "week")
#: rate name -> (numerator column, denominator column)
RATES = {
    "contact_rate": ("contacts", "visits"),
    "promise_rate": ("promises", "visits"),
    "kept_promise_rate": ("kept", "promises_due"),
    "wrong_address_rate": ("wrong_address", "visits"),
}
OVERDUE_BUCKETS = ((0, 30, "0-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, 180, "91-180"))
# Two-sided 95% normal quantile for the Wilson interval.
Z95 = 1.959963984540054


class AnalyticsError(ValueError):
    """A query asks for something the outcomes cannot answer (unknown group, missing column)."""


def overdue_bucket(days: pd.Series) -> pd.Series:
    """Overdue days as the bucket labels collections teams use: 0-30, 31-60, 61-90, 91-180, 181+."""
    labels = np.full(len(days), "181+", dtype=object)
    values = days.to_numpy()
    for low, high, label in reversed(OVERDUE_BUCKETS):
        labels[(values >= low) & (values <= high)] = label
    return pd.Series(labels, index=days.index)


def prepare(
    outcomes: pd.DataFrame,
    cases: pd.DataFrame,
    *,
    timezone: str,
    country: str,
    payments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per outcome with every grouping column and the 0/1 counts the rates are made of.

    Parameters
    ----------
    outcomes
        ``case_id, team_id, visited_at`` (ISO 8601 with offset, or tz-aware timestamps), ``result``, and for
        promises ``promised_date``; ``lat, lon`` optional.
    cases
        ``case_id, segment, overdue_days``, and ``district`` (else ``branch`` stands in for it).
    timezone, country
        The deployment's zone (for the hour and the date) and country (for the day type).
    payments
        ``case_id, paid_at`` when known: a promise is kept when a payment arrives by its promised date.

    Returns
    -------
    pandas.DataFrame
        The outcomes with ``segment, hour, day_type, district, overdue_bucket, team, week`` and the counts
        ``visits, contacts, promises, promises_due, kept, wrong_address``.
    """
    missing = [c for c in ("case_id", "team_id", "visited_at", "result") if c not in outcomes.columns]
    missing += [f"cases.{c}" for c in ("case_id", "segment", "overdue_days") if c not in cases.columns]
    if missing:
        msg = f"analytics needs the columns {', '.join(missing)}"
        raise AnalyticsError(msg)
    district = "district" if "district" in cases.columns else "branch" if "branch" in cases.columns else None
    case_cols = ["case_id", "segment", "overdue_days"] + ([district] if district else [])
    frame = outcomes.merge(cases[case_cols], on="case_id", how="left", validate="many_to_one")
    local = pd.to_datetime(frame["visited_at"], utc=True).dt.tz_convert(timezone)
    frame["hour"] = local.dt.hour
    # Per distinct local date, not per row: a year of outcomes has a few hundred dates.
    codes, uniques = pd.factorize(local.dt.normalize())
    days = pd.DatetimeIndex(uniques)
    dates = np.array([d.date() for d in days], dtype=object)
    frame["date"] = dates[codes]
    frame["day_type"] = np.array([day_type(d, country) for d in dates], dtype=object)[codes]
    monday = days - pd.to_timedelta(days.day_of_week, unit="D")
    week = np.asarray(monday.strftime("%Y-%m-%d"), dtype=object)[codes]
    frame["district"] = frame[district].fillna("(none)") if district else "(none)"
    frame["segment"] = frame["segment"].fillna("unknown")
    frame["overdue_bucket"] = overdue_bucket(frame["overdue_days"].fillna(0))
    frame["team"] = frame["team_id"]
    frame["week"] = week
    result = frame["result"]
    frame["visits"] = 1
    frame["contacts"] = result.isin(CONTACT_RESULTS).astype(int)
    frame["promises"] = (result == "promise_to_pay").astype(int)
    frame["wrong_address"] = (result == "wrong_address").astype(int)
    frame["promises_due"], frame["kept"] = _kept_promises(frame, local, payments)
    return frame


def _kept_promises(frame: pd.DataFrame, local: pd.Series, payments: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Promises whose date has passed (by the last payment known) and whether a payment met them."""
    promises = frame["result"] == "promise_to_pay"
    if payments is None or payments.empty or "promised_date" not in frame.columns:
        none = pd.Series(0, index=frame.index)
        return none, none
    promised = pd.to_datetime(frame["promised_date"], errors="coerce").dt.date
    paid = pd.to_datetime(payments["paid_at"], utc=True)
    horizon = paid.max().date()
    due = promises & promised.notna() & (promised <= horizon)
    # The first payment on or after the promise was made, per outcome: kept when it came by the promised date.
    pay = pd.DataFrame({"case_id": payments["case_id"], "paid_at": paid}).sort_values("paid_at")
    asked = pd.DataFrame({"row": frame.index[due], "case_id": frame.loc[due, "case_id"], "at": local[due]})
    asked = asked.sort_values("at")
    asked["at"] = asked["at"].dt.tz_convert("UTC")
    matched = pd.merge_asof(asked, pay, left_on="at", right_on="paid_at", by="case_id", direction="forward")
    on_time = matched["paid_at"].dt.date <= promised.loc[matched["row"]].to_numpy()
    kept = pd.Series(0, index=frame.index)
    kept.loc[matched["row"][on_time.fillna(False).to_numpy(dtype=bool)]] = 1
    return due.astype(int), kept


def wilson(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of a proportion (NaN where there are no trials)."""
    n = trials.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + Z95**2 / n
        centre = (p + Z95**2 / (2 * n)) / denom
        half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return centre - half, centre + half


def outcome_rates(
    prepared: pd.DataFrame,
    group_by: Sequence[str],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Counts, rates and 95% Wilson intervals per group.

    Parameters
    ----------
    prepared
        The frame from `prepare`.
    group_by
        One or more of `GROUPS`.
    start, end
        Keep visits on these local dates (inclusive); open when None.

    Returns
    -------
    pandas.DataFrame
        One row per group: the grouping columns, ``visits, contacts, promises, promises_due, kept,
        wrong_address`` and, per rate, ``<rate>``, ``<rate>_low``, ``<rate>_high``.
    """
    unknown = [g for g in group_by if g not in GROUPS]
    if unknown or not group_by:
        msg = f"cannot group by {', '.join(unknown) or 'nothing'}; choose from {', '.join(GROUPS)}"
        raise AnalyticsError(msg)
    frame = prepared
    if start is not None or end is not None:
        # Local dates (the deployment's zone), as everywhere else in the product.
        day = frame["date"]
        keep = np.ones(len(frame), dtype=bool)
        if start is not None:
            keep &= (day >= start).to_numpy()
        if end is not None:
            keep &= (day <= end).to_numpy()
        frame = frame[keep]
    counts = ["visits", "contacts", "promises", "promises_due", "kept", "wrong_address"]
    table = frame.groupby(list(group_by), sort=True, observed=True)[counts].sum().reset_index()
    for rate, (num, den) in RATES.items():
        successes, trials = table[num].to_numpy(), table[den].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            table[rate] = np.where(trials > 0, successes / np.maximum(trials, 1), np.nan)
        table[f"{rate}_low"], table[f"{rate}_high"] = wilson(successes, trials)
    return table


def weekly_trend(prepared: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The rates per week (and per ``by`` group, when given), oldest week first."""
    return outcome_rates(prepared, ["week"] if by is None else ["week", by])


def export_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write a rates table as UTF-8 CSV."""
    table.to_csv(path, index=False, encoding="utf-8")
    return path


def export_geopackage(prepared: pd.DataFrame, path: Path, layer: str = "outcomes") -> Path:
    """Write the outcomes that carry an officer's GPS fix as points (WGS-84) in a GeoPackage layer."""
    import geopandas as gpd

    if not {"lat", "lon"} <= set(prepared.columns):
        msg = "the outcomes have no lat/lon to export as points"
        raise AnalyticsError(msg)
    located = prepared.dropna(subset=["lat", "lon"])
    columns = ["case_id", "team", "result", "segment", "hour", "day_type", "district", "overdue_bucket", "week"]
    data = located[columns].copy()
    utc = pd.to_datetime(located["visited_at"], utc=True).dt.tz_convert(None).to_numpy(dtype="datetime64[s]")
    # numpy formats 50,000 timestamps about ten times faster than strftime.
    data["visited_at"] = np.char.add(np.datetime_as_string(utc, unit="s"), "Z")
    points = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(located["lon"], located["lat"]), crs="EPSG:4326")
    points.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path
