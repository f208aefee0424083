"""Plans: asynchronous planning jobs, their results and pages, approval and officer links."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from api import store
from api.app_pages import html_page, route_sheet
from api.auth import idempotent, request_id, require, services
from api.db import CaseRow, PlanJob, PlanPage, TeamRow, utcnow
from api.edits import edit_plan
from api.errors import ApiError, BadRequestError, ConflictError, ForbiddenError, NotFoundError, with_status
from api.replan import replan_team
from api.schemas import PlanAccepted, PlanEdits, PlanRequest, PlanStatus, ReplanRequest, json_errors
from api.sheet_pdf import sheet_pdf
from api.store import Principal
from maps.pdf import PdfError

router = APIRouter(prefix="/v1/plans", tags=["plans"])
PlanId = Annotated[str, Path(min_length=1, max_length=40)]
TeamId = Annotated[str, Path(min_length=1, max_length=200)]
Supervisor = Annotated[Principal, Depends(require("supervisor", cookie=True))]
Reader = Annotated[Principal, Depends(require("system", "supervisor"))]
# The overview page's edit panel asks for the plan's status with the supervisor's session cookie.
StatusReader = Annotated[Principal, Depends(require("system", "supervisor", cookie=True))]


class LinksRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"team_ids": ["T1"]}]})

    team_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(None, max_length=1000)


class RevokeAnswer(BaseModel):
    plan_id: str
    team_id: str
    revoked: int


def _status(job: PlanJob) -> dict[str, Any]:
    return {
        "plan_id": job.plan_id,
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "approval": job.approval,
        "date": job.request["date"],
        "created_at": store._aware(job.created_at),
        "started_at": store._aware(job.started_at) if job.started_at else None,
        "finished_at": store._aware(job.finished_at) if job.finished_at else None,
        "summary": job.result["summary"] if job.result else None,
        "error": job.error,
    }


def _create_job(request: Request, plan: PlanRequest, principal: Principal) -> str:
    svc = services(request)
    if plan.time_limit_s is not None and plan.time_limit_s > svc.settings.max_time_limit_s:
        msg = f"time_limit_s may be at most {svc.settings.max_time_limit_s:g}"
        raise BadRequestError(msg, [{"field": "body.time_limit_s", "error": msg}])
    with svc.db.read() as s:
        for name, column, ids in (
            ("team_ids", TeamRow.team_id, plan.team_ids),
            ("case_ids", CaseRow.case_id, plan.case_ids),
        ):
            if not ids:
                continue
            found: set[str] = set()
            wanted = list(dict.fromkeys(ids))
            for start in range(0, len(wanted), 500):
                found.update(s.scalars(select(column).where(column.in_(wanted[start : start + 500]))))
            missing = [i for i in wanted if i not in found]
            if missing:
                msg = f"{name}: unknown {', '.join(repr(m) for m in missing[:10])}"
                raise BadRequestError(msg, [{"field": f"body.{name}", "error": msg}])
        if plan.team_ids is None and s.scalar(select(TeamRow.team_id).limit(1)) is None:
            msg = "no teams yet: PUT /v1/teams/{team_id} first"
            raise BadRequestError(msg, [{"field": "body.team_ids", "error": msg}])
    plan_id = secrets.token_hex(6)
    with svc.db.write() as s:
        s.add(
            PlanJob(
                plan_id=plan_id,
                status="queued",
                stage="queued",
                progress=0.0,
                request=plan.model_dump(mode="json"),
                created_by=principal.actor,
                created_at=utcnow(),
            )
        )
    svc.runner.submit(plan_id)
    return plan_id


@router.post(
    "",
    status_code=202,
    response_model=PlanAccepted,
    summary="Start planning a day (answers at once; poll status_url)",
    responses={202: {"description": "queued"}},
)
async def post_plan(
    plan: PlanRequest, request: Request, principal: Annotated[Principal, Depends(require("system", "supervisor"))]
) -> JSONResponse:
    async def handle() -> tuple[int, Any]:
        plan_id = await run_in_threadpool(_create_job, request, plan, principal)
        return 202, {"plan_id": plan_id, "status_url": f"/v1/plans/{plan_id}"}

    return await idempotent(request, principal, handle)


@router.get("/{plan_id}", response_model=PlanStatus, summary="A planning job's status and progress")
def get_plan(plan_id: PlanId, request: Request, principal: StatusReader) -> dict[str, Any]:
    return _status(store.get_plan(services(request).db, plan_id))


@router.get(
    "/{plan_id}/result",
    summary="plan.json (CONTRACTS.md)",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        409: {"description": "not done"},
    },
)
def get_result(plan_id: PlanId, request: Request, principal: Reader) -> JSONResponse:
    svc = services(request)
    job = store.done_plan(svc.db, plan_id)
    svc.audit.log(principal.actor, "read", "plan", plan_id, request_id(request))
    return JSONResponse(job.result)


@router.delete("/{plan_id}", response_model=PlanStatus, summary="Cancel a queued or running job")
def cancel_plan(plan_id: PlanId, request: Request, principal: Supervisor) -> dict[str, Any]:
    svc = services(request)
    with svc.db.write() as s:
        job = s.get(PlanJob, plan_id)
        if job is None:
            msg = f"unknown plan {plan_id!r}"
            raise NotFoundError(msg)
        if job.status not in ("queued", "running"):
            msg = f"plan {plan_id} is already {job.status}"
            raise ConflictError(msg, {"status": job.status}, code="already_finished")
        s.execute(
            update(PlanJob)
            .where(PlanJob.plan_id == plan_id, PlanJob.status == "queued")
            .values(status="cancelled", stage="cancelled", finished_at=utcnow())
        )
        s.execute(update(PlanJob).where(PlanJob.plan_id == plan_id).values(cancel_requested=True))
    svc.audit.log(principal.actor, "cancel", "plan", plan_id, request_id(request))
    return _status(store.get_plan(svc.db, plan_id))


@router.patch(
    "/{plan_id}",
    summary="Edit a draft plan (pin, move, add, remove); the day is re-optimised around the edits",
    responses={
        200: {
            "description": "plan.json re-optimised around the edits, re-checked; ``revision`` + 1 and the ``edits``"
            " in force (pins, added, removed), which stay in force in later edits",
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "plan_id": "3f2a9c1e0b7d",
                        "revision": 2,
                        "edits": {"pins": {"C17": "T2", "C21": "T1"}, "added": ["C99"], "removed": ["C5"]},
                        "teams": ["…"],
                        "dropped": [
                            {"case_id": "C5", "code": "removed", "message": "removed from the plan by a supervisor"}
                        ],
                    },
                }
            },
        },
        **json_errors(404, 409, 422),
    },
)
def patch_plan(plan_id: PlanId, body: PlanEdits, request: Request, principal: Supervisor) -> JSONResponse:
    """Edits apply in order, each checked against the plan as the edits before it left it: ``pin`` (only that
    team may visit the case, and the plan must visit it), ``move`` (a planned stop to another team, tried at
    ``position``; pinned there from now on), ``add`` (a stored case joins the plan and must be visited, by
    ``team_id`` when given), ``remove`` (a stop leaves the plan: ``dropped`` with code ``removed``). Synchronous:
    the search starts from the current routes and runs about a second.

    Errors: 409 ``plan_not_draft`` (approved plans cannot be edited), ``plan_not_done``, ``revision_conflict``
    (``expected_revision`` is stale), ``edit_infeasible`` (no allowed team can make a required visit; the plan
    is unchanged); 422 ``invalid_edit`` with one ``{index, field, error}`` per bad edit.
    """
    svc = services(request)
    result = edit_plan(svc.db, svc.runner.env, plan_id, body, principal.actor)
    for team in result["teams"]:
        svc.pages.drop((plan_id, team["team_id"]))
    svc.audit.log(principal.actor, "edit", "plan", plan_id, request_id(request))
    return JSONResponse(result)


@router.post("/{plan_id}/approve", response_model=PlanStatus, summary="Approve a draft plan (officer links work then)")
def approve(plan_id: PlanId, request: Request, principal: Supervisor) -> dict[str, Any]:
    return _status(store.approve_plan(services(request).db, plan_id, principal.actor))


def _page(request: Request, plan_id: str, kind: str, team_id: str, actor: str) -> HTMLResponse:
    svc = services(request)
    store.done_plan(svc.db, plan_id)
    with svc.db.read() as s:
        page = s.get(PlanPage, (plan_id, kind, team_id))
        if page is None:
            msg = f"plan {plan_id} has no team {team_id!r}"
            raise NotFoundError(msg)
        html, hashes = page.html, page.script_hashes
    svc.audit.log(actor, "read", kind, f"{plan_id}/{team_id}" if team_id else plan_id, request_id(request))
    return html_page(html, hashes, svc.settings.tiles)


_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "the page"},
    **json_errors(401, 403, 404, 406, 409, 413, 422, 429),
}


@router.get("/{plan_id}/overview", response_class=HTMLResponse, responses=_HTML, summary="Supervisor overview")
def overview(plan_id: PlanId, request: Request, principal: Supervisor) -> HTMLResponse:
    return _page(request, plan_id, "overview", "", principal.actor)


@router.get("/{plan_id}/teams/{team_id}/map", response_class=HTMLResponse, responses=_HTML, summary="Team-day map")
def team_map(plan_id: PlanId, team_id: TeamId, request: Request, principal: Supervisor) -> HTMLResponse:
    return _page(request, plan_id, "map", team_id, principal.actor)


@router.get(
    "/{plan_id}/teams/{team_id}/sheet",
    response_class=HTMLResponse,
    responses={
        **_HTML,
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "the sheet: HTML, or with ?format=pdf an A4 PDF printed by headless Chromium",
        },
        **json_errors(503),
    },
    summary="Printable route sheet (HTML, or PDF with ?format=pdf)",
)
def sheet(
    plan_id: PlanId,
    team_id: TeamId,
    request: Request,
    principal: Supervisor,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    svc = services(request)
    result, team = store.plan_team(svc.db, plan_id, team_id)
    svc.audit.log(principal.actor, "read", "sheet", f"{plan_id}/{team_id}", request_id(request))
    if format == "pdf":
        return _sheet_pdf(svc.db, result, team, svc.day.lang)
    return html_page(route_sheet(result, team), "", "none")


def _sheet_pdf(db: Any, plan: dict[str, Any], team: dict[str, Any], lang: str) -> Response:
    """The route sheet printed by headless Chromium; 503 when the server cannot print (no Chromium)."""
    ids = [stop["case_id"] for stop in team["stops"]]
    with db.read() as s:
        facts = {
            row.case_id: (row.customer_id, row.record.get("address"))
            for row in s.scalars(select(CaseRow).where(CaseRow.case_id.in_(ids)))
        }
    try:
        pdf = sheet_pdf(plan, team, facts, lang=lang)
    except PdfError as err:
        raise with_status(ApiError(str(err), code="pdf_unavailable"), 503) from err
    name = f"sheet-{plan['plan_id']}-{team['team_id']}.pdf"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Response(pdf, media_type="application/pdf", headers={"content-disposition": f'inline; filename="{safe}"'})


@router.post(
    "/{plan_id}/links",
    response_model=dict[str, str],
    summary="Signed, expiring officer links, one per team",
    responses={200: {"content": {"application/json": {"example": {"T1": "https://doorstep.example/m/eyJ…"}}}}},
)
async def post_links(
    plan_id: PlanId,
    request: Request,
    principal: Supervisor,
    body: Annotated[LinksRequest | None, Body()] = None,
) -> JSONResponse:
    svc = services(request)
    base = svc.settings.public_url or str(request.base_url).rstrip("/")

    async def handle() -> tuple[int, Any]:
        links = await run_in_threadpool(
            store.create_links,
            svc.db,
            svc.signer,
            plan_id,
            base,
            svc.settings.link_grace_h,
            principal.actor,
            (body.team_ids or []) if body else [],
        )
        return 200, links

    return await idempotent(request, principal, handle)


@router.delete("/{plan_id}/links/{team_id}", response_model=RevokeAnswer, summary="Revoke a team's links")
def revoke(plan_id: PlanId, team_id: TeamId, request: Request, principal: Supervisor) -> dict[str, Any]:
    count = store.revoke_links(services(request).db, plan_id, team_id, principal.actor)
    services(request).links.revoke(plan_id, team_id)
    return {"plan_id": plan_id, "team_id": team_id, "revoked": count}


class ClosedStops(BaseModel):
    """The team's stops whose case is closed now (paid or withdrawn after the plan was made): skip them."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"plan_id": "3f2a9c1e0b7d", "team_id": "T1", "closed": ["C17"]}]}
    )

    plan_id: str
    team_id: str
    closed: list[str]


@router.get(
    "/{plan_id}/teams/{team_id}/closed",
    response_model=ClosedStops,
    summary="The team's stops whose case was closed since the plan was made (the officer page polls it)",
)
def closed_stops(
    plan_id: PlanId,
    team_id: TeamId,
    request: Request,
    principal: Annotated[Principal, Depends(require("system", "supervisor", officer=True))],
) -> dict[str, Any]:
    """Officer links may ask for their own team only. The officer page flags these stops and disables their
    buttons; the next re-plan leaves them out (``dropped`` with code ``closed``)."""
    svc = services(request)
    claims = principal.claims
    if claims is not None and (claims.plan_id != plan_id or claims.team_id != team_id):
        msg = f"this link is for team {claims.team_id} of plan {claims.plan_id}"
        raise ForbiddenError(msg, code="wrong_team")
    _plan, team = store.plan_team(svc.db, plan_id, team_id)
    stops = [stop["case_id"] for stop in team["stops"]]
    with svc.db.read() as s:
        closed = set(s.scalars(select(CaseRow.case_id).where(CaseRow.case_id.in_(stops), CaseRow.state == "closed")))
    return {"plan_id": plan_id, "team_id": team_id, "closed": [c for c in stops if c in closed]}


@router.post(
    "/{plan_id}/teams/{team_id}/replan",
    summary="Re-plan the rest of a team's day from its position now (synchronous)",
    responses={
        200: {
            "description": "the team's entry of plan.json, visits done kept, revision + 1, plus `path`: the "
            "road path ([lat, lon] points) from the position through the re-planned stops to the end",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        409: {"description": "the plan is not done, the shift is over, or now is another day"},
    },
)
def replan(
    plan_id: PlanId,
    team_id: TeamId,
    body: ReplanRequest,
    request: Request,
    principal: Annotated[Principal, Depends(require("supervisor", officer=True))],
) -> JSONResponse:
    svc = services(request)
    claims = principal.claims
    if claims is not None and (claims.plan_id != plan_id or claims.team_id != team_id):
        msg = f"this link is for team {claims.team_id} of plan {claims.plan_id}"
        raise ForbiddenError(msg, code="wrong_team")
    entry = replan_team(svc.db, svc.runner.env, plan_id, team_id, body)
    svc.pages.drop((plan_id, team_id))
    svc.audit.log(principal.actor, "replan", "team", f"{plan_id}/{team_id}", request_id(request))
    return JSONResponse(entry)
