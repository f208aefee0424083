"""Outcomes and presence (analytics: ``api.routes_analytics``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.auth import idempotent, request_id, require, services
from api.learnt_presence import presence_answer
from api.outcomes import OutcomePost
from api.schemas import OutcomeIn, OutcomeOut, PresenceOut
from api.store import Principal

router = APIRouter(prefix="/v1", tags=["outcomes"])


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
