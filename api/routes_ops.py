"""Operations and officer pages: ``/healthz``, ``/metrics``, ``/m/{token}``, the officer script, sign-in."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool

from api import store
from api.app_pages import html_page, sign_in_form
from api.auth import SESSION_COOKIE, SESSION_HOURS, check_link, request_id, services, session_cookie
from api.db import PlanJob
from api.errors import UnauthorizedError
from api.officer_pages import answer, load_officer_page
from api.schemas import Health, json_errors

if TYPE_CHECKING:
    pass

router = APIRouter(tags=["operations"])
_OFFICER_JS = resources.files("api").joinpath("assets", "officer.js").read_bytes()
_CLOSED_JS = resources.files("api").joinpath("assets", "closed-stops.js").read_bytes()
_EDITOR_JS = resources.files("api").joinpath("assets", "plan-editor.js").read_bytes()


@router.get("/healthz", response_model=Health, summary="Liveness: the database answers")
def healthz(request: Request) -> dict[str, Any]:
    svc = services(request)
    with svc.db.read() as s:
        s.execute(text("SELECT 1"))
        counts = dict(s.execute(select(PlanJob.status, func.count()).group_by(PlanJob.status)).tuples().all())
    return {"status": "ok", "database": "ok", "jobs": {k: int(v) for k, v in counts.items()}}


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    svc = services(request)
    with svc.db.read() as s:
        counts = dict(s.execute(select(PlanJob.status, func.count()).group_by(PlanJob.status)).tuples().all())
    for status in ("queued", "running", "done", "failed", "cancelled"):
        svc.metrics.jobs.labels(status).set(counts.get(status, 0))
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/m/{token}",
    response_class=HTMLResponse,
    tags=["officer"],
    summary="The team-day map for phones, with outcome buttons (the token is the credential)",
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **json_errors(401, 403, 404, 413, 422, 429),
    },
)
async def officer_page(token: str, request: Request) -> Response:
    """The link is checked on every read (a revoked link stops at once; a good one is remembered for seconds),
    the page is sent as cached bytes with an ETag, and a phone that has it already gets a 304."""
    svc = services(request)
    claims = svc.signer.officer_claims(token)
    if claims is None:
        msg = "this link is invalid or has expired"
        raise UnauthorizedError(msg, code="link_invalid")
    await check_link(svc, claims)
    key = (claims.plan_id, claims.team_id)
    page = svc.pages.get(key)
    if page is None:
        page = await run_in_threadpool(load_officer_page, svc, key)
    status, headers, body = answer(svc, claims, page, request.headers.get("if-none-match", ""), request_id(request))
    return Response(body, status_code=status, headers=headers)


@router.get("/assets/officer.js", include_in_schema=False)
def officer_js() -> Response:
    return Response(_OFFICER_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=3600"})


@router.get("/assets/closed-stops.js", include_in_schema=False)
def closed_stops_js() -> Response:
    return Response(_CLOSED_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=3600"})


@router.get("/assets/plan-editor.js", include_in_schema=False)
def plan_editor_js() -> Response:
    return Response(_EDITOR_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=3600"})


@router.get("/v1/session", include_in_schema=False)
def session_form() -> HTMLResponse:
    return html_page(sign_in_form(), "", "none")


@router.post("/v1/session", include_in_schema=False)
def session_sign_in(request: Request, key: Annotated[str, Form(max_length=200)]) -> Response:
    """A supervisor's key, posted once from the form, becomes an HttpOnly, SameSite=Strict session cookie."""
    svc = services(request)
    principal = store.authenticate_key(svc.db, key)
    if principal is None or principal.role != "supervisor":
        return html_page(sign_in_form("That key is not a valid supervisor key."), "", "none", status=401)
    response = RedirectResponse("/v1/session", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(svc, principal),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=(svc.settings.public_url or "").startswith("https://"),
        path="/v1",
    )
    svc.audit.log(principal.actor, "sign_in", "session", principal.actor, request_id(request))
    return response
