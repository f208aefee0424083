"""Outcome analytics over HTTP: rates by group with intervals and a weekly trend (JSON), the same as CSV or the
outcome points as a GeoPackage, and a page of charts for supervisors. One implementation: ``api.analytics``."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api import analytics
from api.app_pages import html_page
from api.auth import request_id, require, services
from api.errors import BadRequestError, ConflictError
from api.schemas import AnalyticsOut, json_errors
from api.store import Principal

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

GroupBy = Literal["segment", "hour", "day_type", "district", "overdue_bucket", "team", "week", "branch"]
# plan.json-era name -> analytics.RATES name
RATE_NAMES = {
    "contact": "contact_rate",
    "promise_to_pay": "promise_rate",
    "kept_promise": "kept_promise_rate",
    "wrong_address": "wrong_address_rate",
}
GPKG = "application/geopackage+sqlite3"


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 4)


def _rates(row: Any) -> dict[str, dict[str, Any]]:
    rates = {}
    for name, column in RATE_NAMES.items():
        num, den = analytics.RATES[column]
        rates[name] = {
            "rate": _num(row[column]),
            "low": _num(row[f"{column}_low"]),
            "high": _num(row[f"{column}_high"]),
            "successes": int(row[num]),
            "trials": int(row[den]),
        }
    return rates


def _groups(table: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    out = []
    for _, row in table.iterrows():
        rates = _rates(row)
        contact = rates["contact"]
        out.append(
            {
                "group": str(row[column]),
                "visits": int(row["visits"]),
                "contacts": int(row["contacts"]),
                "rate": contact["rate"] or 0.0,
                "low": contact["low"] or 0.0,
                "high": contact["high"] if contact["high"] is not None else 1.0,
                "rates": rates,
            }
        )
    return out


def _prepared(request: Request, start: dt.date | None, end: dt.date | None) -> pd.DataFrame | None:
    if start is not None and end is not None and end < start:
        msg = "to must not be before from"
        raise BadRequestError(msg, [{"field": "query.to", "error": msg}])
    svc = services(request)
    return svc.analytics.get(svc.db, start, end, svc.day.timezone, svc.day.country)


def rates_answer(
    prepared: pd.DataFrame | None, group_by: str, start: dt.date | None, end: dt.date | None
) -> dict[str, Any]:
    """The JSON answer: rates per group and per week."""
    column = "district" if group_by == "branch" else group_by
    if prepared is None:
        return {"group_by": group_by, "from": start, "to": end, "groups": [], "trend": []}
    table = analytics.outcome_rates(prepared, [column])
    trend = analytics.weekly_trend(prepared)
    weeks = [
        {"week": str(row["week"]), "visits": int(row["visits"]), "rates": _rates(row)} for _, row in trend.iterrows()
    ]
    return {"group_by": group_by, "from": start, "to": end, "groups": _groups(table, column), "trend": weeks}


@router.get(
    "/outcomes",
    response_model=AnalyticsOut,
    response_model_by_alias=True,
    summary="Outcome rates by group with Wilson 95 % intervals and the weekly trend (JSON, CSV or GeoPackage)",
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "segment,visits,contacts,…,contact_rate,contact_rate_low,contact_rate_high,…\n",
                },
                GPKG: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "``format=json`` (default): rates per group and week; ``format=csv``: the rates table"
            " (one row per group: counts, each rate and its interval); ``format=gpkg``: the outcomes with an"
            " officer's GPS fix as WGS-84 points (layer ``outcomes``)",
        },
        **json_errors(409),
    },
)
def outcome_rates(
    request: Request,
    principal: Annotated[Principal, Depends(require("system", "supervisor"))],
    group_by: Annotated[GroupBy, Query(description="``branch`` is the older name of ``district``")],
    start: Annotated[dt.date | None, Query(alias="from", description="first local date (inclusive)")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="last local date (inclusive)")] = None,
    format: Annotated[Literal["json", "csv", "gpkg"], Query()] = "json",
) -> Any:
    """Contact, promise-to-pay, kept-promise and wrong-address rates over the outcomes visited from ``from`` to
    ``to`` (local dates), by ``group_by``. ``rate``/``low``/``high`` of a group are its contact rate; ``rates``
    has all four. A case closed by the loan system counts as paid when it was closed (kept promises)."""
    svc = services(request)
    prepared = _prepared(request, start, end)
    svc.audit.log(principal.actor, "read", "analytics", f"{group_by}:{format}", request_id(request))
    column = "district" if group_by == "branch" else group_by
    name = f"outcomes-{group_by}-{start or 'all'}-{end or 'all'}"
    if format == "json":
        return JSONResponse(
            AnalyticsOut.model_validate(rates_answer(prepared, group_by, start, end)).model_dump(
                mode="json", by_alias=True
            )
        )
    if format == "csv":
        table = analytics.outcome_rates(prepared, [column]) if prepared is not None else pd.DataFrame()
        with tempfile.TemporaryDirectory(prefix="doorstep-analytics-") as tmp:
            body = analytics.export_csv(table, Path(tmp) / "rates.csv").read_bytes()
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )
    located = prepared if prepared is not None else None
    if located is None or located[["lat", "lon"]].dropna().empty:
        msg = "no outcome in this period carries an officer's GPS fix: nothing to export as points"
        raise ConflictError(msg, code="no_points")
    with tempfile.TemporaryDirectory(prefix="doorstep-analytics-") as tmp:
        body = analytics.export_geopackage(located, Path(tmp) / "outcomes.gpkg").read_bytes()
    return Response(body, media_type=GPKG, headers={"content-disposition": f'attachment; filename="{name}.gpkg"'})


@router.get(
    "/page",
    response_class=HTMLResponse,
    summary="The supervisor's analytics page: the rates as charts (inline SVG, no scripts)",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}, **json_errors(401, 403, 422)},
)
def analytics_page(
    request: Request,
    principal: Annotated[Principal, Depends(require("supervisor", cookie=True))],
    group_by: Annotated[GroupBy, Query()] = "segment",
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    from maps.analytics_page import render_analytics_page

    svc = services(request)
    answer = rates_answer(_prepared(request, start, end), group_by, start, end)
    answer = AnalyticsOut.model_validate(answer).model_dump(mode="json", by_alias=True)
    svc.audit.log(principal.actor, "read", "analytics_page", group_by, request_id(request))
    groups = [g for g in GroupBy.__args__ if g != "branch"]  # type: ignore[attr-defined]
    return html_page(render_analytics_page(answer, groups, lang=svc.day.lang), "", "none")
