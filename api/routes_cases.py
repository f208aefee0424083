"""Cases and teams: ``POST /v1/cases``, ``GET /v1/cases/{case_id}``, ``PUT /v1/teams/{team_id}``, ``GET /v1/teams``."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api import store
from api.auth import idempotent, request_id, require, services
from api.errors import BadRequestError
from api.schemas import CaseIn, CaseOut, ImportReport, TeamIn, TeamOut
from api.store import Principal

router = APIRouter(prefix="/v1", tags=["cases and teams"])
MAX_ROWS = 100_000
CaseId = Annotated[str, Path(min_length=1, max_length=200)]

_CASES_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": CaseIn.model_json_schema(), "maxItems": MAX_ROWS},
                "example": [
                    {"case_id": "C17", "customer_id": "P9001", "address": "Calle Venustiano Carranza 101"},
                    {"case_id": "C18", "customer_id": "P9002", "lat": 21.881, "lon": -102.296, "segment": "retired"},
                ],
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "case_id,customer_id,address\nC17,P9001,Calle Venustiano Carranza 101\n",
            },
        },
    }
}


def _records(body: bytes, content_type: str) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"the body is not UTF-8 (byte {err.start})"
        raise BadRequestError(msg, [{"field": "body", "error": msg}]) from err
    if content_type.startswith("text/csv"):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            msg = "empty CSV: a header row is required"
            raise BadRequestError(msg, [{"field": "body", "error": msg}])
        rows = []
        for record in reader:
            if None in record:
                msg = f"row {reader.line_num - 1}: more cells than header columns"
                raise BadRequestError(msg, [{"row": reader.line_num - 1, "field": None, "error": msg}])
            rows.append({k.strip(): v.strip() for k, v in record.items() if k and v is not None and v.strip()})
    else:
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as err:
            msg = f"invalid JSON: {err}"
            raise BadRequestError(msg, [{"field": "body", "error": msg}]) from err
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            msg = "the body must be a JSON list of case objects (or text/csv)"
            raise BadRequestError(msg, [{"field": "body", "error": msg}])
    if len(rows) > MAX_ROWS:
        msg = f"at most {MAX_ROWS} cases per request, got {len(rows)}"
        raise BadRequestError(msg, [{"field": "body", "error": msg}])
    known = set(CaseIn.model_fields)
    for i, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - known)
        if unknown:
            msg = f"row {i}: unknown field {unknown[0]!r}"
            raise BadRequestError(msg, [{"row": i, "field": unknown[0], "error": "unknown field"}])
    return rows


@router.post(
    "/cases",
    response_model=ImportReport,
    summary="Upsert cases (JSON list or text/csv)",
    openapi_extra=_CASES_BODY,
    responses={200: {"description": "what was stored and every rejected row (row, field, error)"}},
)
async def post_cases(
    request: Request, principal: Annotated[Principal, Depends(require("system", "supervisor"))]
) -> JSONResponse:
    """Store the good rows; report every bad row with its field and why. Cases are keyed by ``case_id``."""
    body = await request.body()
    records = _records(body, request.headers.get("content-type", "application/json"))
    svc = services(request)

    async def handle() -> tuple[int, Any]:
        report = await run_in_threadpool(store.import_cases, svc.db, records)
        svc.audit.log(principal.actor, "import_cases", "cases", str(report["accepted"]), request_id(request))
        return 200, report

    return await idempotent(request, principal, handle)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="A case, its geocode, state and visit history")
def get_case(
    case_id: CaseId, request: Request, principal: Annotated[Principal, Depends(require("system", "supervisor"))]
) -> dict[str, Any]:
    svc = services(request)
    case = store.get_case(svc.db, case_id)
    svc.audit.log(principal.actor, "read", "case", case_id, request_id(request))
    return case


@router.put(
    "/teams/{team_id}",
    response_model=TeamOut,
    summary="Create or replace a team",
    responses={201: {"model": TeamOut, "description": "created"}},
)
def put_team(
    team_id: CaseId,
    team: TeamIn,
    request: Request,
    principal: Annotated[Principal, Depends(require("supervisor"))],
) -> JSONResponse:
    svc = services(request)
    stored, created = store.put_team(svc.db, team_id, team.model_dump(exclude_none=True))
    svc.audit.log(principal.actor, "put", "team", team_id, request_id(request))
    return JSONResponse(TeamOut(**stored).model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/teams", response_model=list[TeamOut], summary="Every team")
def get_teams(
    request: Request, principal: Annotated[Principal, Depends(require("supervisor"))]
) -> list[dict[str, Any]]:
    return store.list_teams(services(request).db)
