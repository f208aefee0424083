"""Outcomes, presence and analytics."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from api import store
from api.auth import idempotent, request_id, require, services
from api.errors import BadRequestError
from api.learnt_presence import presence_answer
from api.outcomes import OutcomePost
from api.schemas import AnalyticsOut, OutcomeIn, OutcomeOut, PresenceOut
from api.store import Principal

router = APIRouter(prefix="/v1", tags=["outcomes"])
GroupBy = Literal["segment", "hour", "day_type", "overdue_bucket", "team", "branch", "district"]


@router.post(
    "/outcomes",
    status_code=201,
    response_model=OutcomeOut,
    summary="Record a visit outcome (201 new, 200 repeat, 409 conflicting repeat)",
    responses={
        200: {"model": OutcomeOut, "description": "a repeat of a stored outcome: the stored record"},
        404: {"description": "unknown case"},
        409: {"description": "client_id already used for a different outcome"},
    },
)
async def post_outcome(
    outcome: OutcomeIn,
    request: Request,
    principal: Annotated[Principal, Depends(require("system", "supervisor", officer=True))],
) -> JSONResponse:
    """Stored and committed before the answer; applied to the case state, presence and address in the same
    transaction. Officer links may only post for their own team's stops."""
    svc = services(request)

    async def handle() -> tuple[int, Any]:
        recorded = await asyncio.wrap_future(svc.outcomes.submit(OutcomePost(outcome, principal)))
        svc.metrics.outcomes.labels(outcome.result, "new" if recorded.created else "repeat").inc()
        return (201 if recorded.created else 200), recorded.outcome

    return await idempotent(request, principal, handle)


@router.get("/customers/{customer_id}/presence", response_model=PresenceOut, summary="P(home) by day type and hour")
def presence(
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    request: Request,
    principal: Annotated[Principal, Depends(require("system", "supervisor"))],
) -> dict[str, Any]:
    svc = services(request)
    answer = presence_answer(svc.db, customer_id, svc.presence)
    svc.audit.log(principal.actor, "read", "presence", customer_id, request_id(request))
    return answer


@router.get(
    "/analytics/outcomes",
    response_model=AnalyticsOut,
    response_model_by_alias=True,
    summary="Contact rates by group, with Wilson 95 % intervals",
)
def analytics(
    request: Request,
    principal: Annotated[Principal, Depends(require("system", "supervisor"))],
    group_by: Annotated[
        Literal["segment", "hour", "day_type", "overdue_bucket", "team", "branch", "district"], Query()
    ],
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """``district`` is answered by the case's ``branch`` until cases carry a district of their own."""
    if start is not None and end is not None and end < start:
        msg = "to must not be before from"
        raise BadRequestError(msg, [{"field": "query.to", "error": msg}])
    svc = services(request)
    key = "branch" if group_by == "district" else group_by
    groups = store.outcome_rates(svc.db, key, start, end, svc.day.timezone)
    return {"group_by": group_by, "from": start, "to": end, "groups": groups}
