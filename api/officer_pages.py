"""The officer map page (``GET /m/{token}``): loading it once, answering a read, and the fast path for reads.

A read is the hot path of a field day (every officer's phone, often), so its answer is built once per page and
kept: the bytes, a strong ETag and the headers. `OfficerFastPath` answers a read whose link was found good a
moment ago and whose page is kept without entering the framework (no routing, no dependency solving); every
other read goes to the route in `api.routes_ops`, which checks the link in the database and fills the caches.
Both answer through `answer`, so they cannot disagree, and both audit the read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.app_pages import page_csp
from api.db import PlanPage
from api.errors import NotFoundError
from api.security import CachedPage, OfficerClaims

if TYPE_CHECKING:
    from api.app import ASGIApp, Receive, Scope, Send, Services

# The phone may keep the page but must ask again before showing it (a revoked link then gets its 403).
OFFICER_CACHE_CONTROL = "private, no-cache"
PATH_PREFIX = "/m/"


@dataclass(frozen=True, slots=True)
class RouteName:
    """What the metrics and the access log name a request by (the route's path template)."""

    path: str


OFFICER_ROUTE = RouteName("/m/{token}")


def load_officer_page(svc: Services, key: tuple[str, str]) -> CachedPage:
    """The officer page of (plan, team) from the database, ready to send, and kept in the page cache."""
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


def answer(
    svc: Services, claims: OfficerClaims, page: CachedPage, if_none_match: str, request_id: str | None
) -> tuple[int, dict[str, str], bytes]:
    """Audit a read of a checked link's page; status, headers and body (304 when the phone has this version)."""
    svc.audit.log(f"link:{claims.link_id}", "read", "officer_map", f"{claims.plan_id}/{claims.team_id}", request_id)
    if page.etag in if_none_match:
        return 304, {"etag": page.etag, "cache-control": OFFICER_CACHE_CONTROL}, b""
    return 200, page.headers, page.body


class OfficerFastPath:
    """Answers ``GET /m/{token}`` straight from the link and page caches; anything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services | None]) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc = self.services()
        if (
            svc is not None
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(PATH_PREFIX)
        ):
            claims = svc.signer.officer_claims(scope["path"][len(PATH_PREFIX) :])
            page = svc.pages.get((claims.plan_id, claims.team_id)) if claims is not None else None
            if claims is not None and page is not None and svc.links.good(claims):
                if_none_match = b""
                for name, value in scope["headers"]:
                    if name == b"if-none-match":
                        if_none_match = value
                state = scope.get("state") or {}
                status, headers, body = answer(
                    svc, claims, page, if_none_match.decode("latin-1"), state.get("request_id")
                )
                scope["route"] = OFFICER_ROUTE
                raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
                if status == 200:  # a 304 carries no Content-Length (it would describe the page, not this answer)
                    raw.append((b"content-length", b"%d" % len(body)))
                await send({"type": "http.response.start", "status": status, "headers": raw})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
