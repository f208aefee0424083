"""Operations and officer pages: ``/healthz``, ``/metrics``, ``/m/{token}``, the officer script, sign-in."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool

from api import store
from api.app_pages import html_page, page_csp, sign_in_form
from api.auth import SESSION_COOKIE, SESSION_HOURS, check_link, request_id, services, session_cookie
from api.db import PlanJob, PlanPage
from api.errors import NotFoundError, UnauthorizedError
from api.schemas import Health, json_errors
from api.security import CachedPage

if TYPE_CHECKING:
    from api.app import Services

router = APIRouter(tags=["operations"])
_OFFICER_JS = resources.files("api").joinpath("assets", "officer.js").read_bytes()


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
        page = await run_in_threadpool(_load_officer_page, svc, key)
    svc.audit.log(
        f"link:{claims.link_id}", "read", "officer_map", f"{claims.plan_id}/{claims.team_id}", request_id(request)
    )
    if page.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"etag": page.etag, "cache-control": OFFICER_CACHE_CONTROL})
    return Response(page.body, headers=page.headers)


# The phone may keep the page but must ask again before showing it (a revoked link then gets its 403).
OFFICER_CACHE_CONTROL = "private, no-cache"


def _load_officer_page(svc: Services, key: tuple[str, str]) -> CachedPage:
    with svc.db.read() as s:
        row = s.get(PlanPage, (key[0], "officer", key[1]))
        if row is None:
            msg = "this team has no map in the plan"
            raise NotFoundError(msg)
        html, hashes = row.html, row.script_hashes
    body = html.encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": page_csp(hashes, svc.settings.tiles),
        "etag": etag,
        "cache-control": OFFICER_CACHE_CONTROL,
    }
    return svc.pages.put(key, CachedPage(body, etag, headers))


@router.get("/assets/officer.js", include_in_schema=False)
def officer_js() -> Response:
    return Response(_OFFICER_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=3600"})


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
