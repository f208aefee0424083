"""Who may call what: API keys by role, officer link tokens, supervisor session cookies, and Idempotency-Key."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import store
from api.errors import ForbiddenError, UnauthorizedError
from api.security import OfficerClaims, key_id_of
from api.store import Principal

if TYPE_CHECKING:
    from api.app import Services

bearer = HTTPBearer(auto_error=False, description="an API key, or an officer link's token where allowed")
SESSION_COOKIE = "doorstep_session"
SESSION_HOURS = 12


def services(request: Request) -> Services:
    """The app's services (set up by its lifespan)."""
    return request.app.state.services


def request_id(request: Request) -> str | None:
    rid = request.scope.get("state", {}).get("request_id")
    return str(rid) if rid else None


def require(*roles: str, officer: bool = False, cookie: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits a key of one of ``roles`` (401 without a valid one, 403 with another role),
    an officer token when ``officer``, and a supervisor's session cookie on pages when ``cookie``."""

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        svc = services(request)
        token = credentials.credentials if credentials is not None else None
        if token is None and cookie:
            principal = await run_in_threadpool(_from_cookie, svc, request.cookies.get(SESSION_COOKIE))
            if principal is not None:
                return _role(principal, roles)
        if not token:
            msg = "missing credential: send Authorization: Bearer <key>"
            raise UnauthorizedError(msg)
        if key_id_of(token) is not None:
            cached = svc.keys.get(token)
            principal = cached if isinstance(cached, Principal) else None
            if principal is None:
                principal = await run_in_threadpool(store.authenticate_key, svc.db, token)
                if principal is not None:
                    svc.keys.put(token, principal)
            if principal is None:
                msg = "invalid or revoked API key"
                raise UnauthorizedError(msg)
            return _role(principal, roles)
        claims = svc.signer.officer_claims(token)
        if claims is None:
            msg = "invalid or expired credential"
            raise UnauthorizedError(msg)
        if not officer:
            msg = "an officer link cannot use this endpoint"
            raise ForbiddenError(msg)
        await check_link(svc, claims)
        return Principal(actor=f"link:{claims.link_id}", role="officer", claims=claims)

    return dependency


async def check_link(svc: Services, claims: OfficerClaims) -> None:
    """403 unless the link of ``claims`` is unrevoked and its plan approved (remembered for a few seconds)."""
    if svc.links.good(claims):
        return
    generation = svc.links.generation
    await run_in_threadpool(store.check_officer, svc.db, claims)
    svc.links.put(claims, generation)


def _role(principal: Principal, roles: tuple[str, ...]) -> Principal:
    if principal.role not in roles:
        msg = f"a {principal.role} key cannot use this endpoint (needs {' or '.join(roles)})"
        raise ForbiddenError(msg)
    return principal


def session_cookie(svc: Services, principal: Principal) -> str:
    """A signed session for a supervisor's browser (HttpOnly cookie), valid ``SESSION_HOURS``."""
    return svc.signer.sign(
        "session", {"a": principal.actor, "r": principal.role, "e": int(time.time() + SESSION_HOURS * 3600)}
    )


def _from_cookie(svc: Services, value: str | None) -> Principal | None:
    if not value:
        return None
    payload = svc.signer.verify("session", value)
    if payload is None or int(str(payload.get("e", 0))) <= time.time():
        return None
    actor = str(payload.get("a", ""))
    # A revoked key ends its sessions too.
    with svc.db.read() as s:
        from api.db import ApiKey

        row = s.get(ApiKey, actor.removeprefix("key:"))
        if row is None or row.revoked_at is not None:
            return None
        return Principal(actor=actor, role=row.role)


async def idempotent(
    request: Request, principal: Principal, handler: Callable[[], Awaitable[tuple[int, Any]]]
) -> JSONResponse:
    """Run a POST once per ``Idempotency-Key`` (scoped to the credential, kept 24 h) and replay its answer."""
    key = request.headers.get("idempotency-key")
    if key is None:
        status, body = await handler()
        return JSONResponse(jsonable_encoder(body), status_code=status)
    if not 1 <= len(key) <= 200:
        from api.errors import BadRequestError

        msg = "Idempotency-Key must be 1 to 200 characters"
        raise BadRequestError(msg, [{"field": "header.Idempotency-Key", "error": msg}])
    svc = services(request)
    raw = await request.body()
    digest = hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + raw).hexdigest()
    scope = principal.actor[:64]
    stored = await run_in_threadpool(store.idempotent_answer, svc.db, scope, key, digest)
    if stored is not None:
        return JSONResponse(stored[1], status_code=stored[0], headers={"idempotent-replay": "true"})
    status, body = await handler()
    encoded = jsonable_encoder(body)
    await run_in_threadpool(store.remember_answer, svc.db, scope, key, digest, status, encoded)
    return JSONResponse(encoded, status_code=status)
