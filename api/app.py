"""The FastAPI application: ``create_app(settings)`` wires the database, jobs, security and routes together.

Nothing here is module-level state: each app owns its database, job pool, rate limiter, audit writer and
metrics registry, so tests can run several apps side by side.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from api import service
from api.db import Database
from api.docs_pages import install_docs
from api.errors import ApiError, DoorstepError
from api.jobs import JobRunner, PlanningEnv
from api.learnt_presence import LearntPresence
from api.officer_pages import OfficerFastPath
from api.outcome_frames import PreparedCache
from api.outcomes import OutcomeWriter
from api.security import KeyCache, LinkCache, PageCache, RateLimiter, Signer, load_or_create_secret
from api.server_settings import ServerSettings
from api.settings import DaySettings, legal_window, presence_floor, resolve_country, resolve_lang, resolve_timezone
from api.store import AuditWriter, DayTypes
from routing.presence import PresencePrior

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("doorstep.api")
access_log = logging.getLogger("doorstep.access")

API_DESCRIPTION = """
The planning API of Doorstep (CONTRACTS.md). Every endpoint under `/v1` needs `Authorization: Bearer <key>`
(an API key of role `system` or `supervisor`, made with `doorstep keys create`), except the officer pages
`/m/{token}`, whose signed token is the credential. Errors are JSON `{"error": {"code", "message", "details"}}`.
POSTs honour `Idempotency-Key` (same key and body within 24 h: the stored answer; another body: 409).
"""


@dataclass
class Metrics:
    """The app's Prometheus metrics, in a registry of its own."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "doorstep_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "doorstep_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.outcomes = Counter("doorstep_outcomes", "Outcomes posted", ["result", "kind"], registry=self.registry)
        self.jobs = Gauge("doorstep_plan_jobs", "Plan jobs by status", ["status"], registry=self.registry)


@dataclass
class Services:
    """Everything a request handler may use; one per app, on ``app.state.services``."""

    settings: ServerSettings
    db: Database
    signer: Signer
    limiter: RateLimiter
    audit: AuditWriter
    metrics: Metrics
    day: DaySettings
    prior: PresencePrior
    presence: LearntPresence
    runner: JobRunner
    outcomes: OutcomeWriter
    day_types: DayTypes
    keys: KeyCache
    pages: PageCache
    links: LinkCache
    base_region: service.Region | None
    analytics: PreparedCache = field(default_factory=PreparedCache)
    regions: dict[tuple[str, ...], service.Region] = field(default_factory=dict)
    region_lock: threading.Lock = field(default_factory=threading.Lock)

    def region_for(self, profiles: Sequence[str]) -> service.Region:
        """The region with the road networks of ``profiles`` (loaded once, then kept)."""
        key = tuple(sorted(set(profiles) or {"car"}))
        with self.region_lock:
            if key not in self.regions:
                assert self.settings.osm is not None
                self.regions[key] = service.Region.load(self.settings.osm, profiles=key)
            return self.regions[key]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "method", "route", "status", "duration_ms", "actor", "client"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    """Structured JSON logs on stderr for the ``doorstep`` loggers."""
    logger = logging.getLogger("doorstep")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _security_headers(settings: ServerSettings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
    ]
    if (settings.public_url or "").startswith("https://"):
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class Guard:
    """The outermost layer: request ids, body size limit (413), rate limits (429), security headers, metrics,
    and one structured access-log line per request (never with an officer token in it)."""

    def __init__(self, app: ASGIApp, settings: ServerSettings, services: Callable[[], Services | None]) -> None:
        self.app = app
        self.settings = settings
        self.services = services
        self._security = _security_headers(settings)
        # Request ids only need to be unique: a random prefix per process and a counter (no urandom per request).
        self._rid_prefix = secrets.token_hex(4)
        self._rid_next = itertools.count().__next__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = headers.get("x-request-id", "")
        if not (0 < len(rid) <= 64 and rid.replace("-", "").isalnum()):
            rid = f"{self._rid_prefix}{self._rid_next() & 0xFFFFFFFF:08x}"
        scope.setdefault("state", {})["request_id"] = rid
        status_holder = {"status": 500}
        path: str = scope["path"]
        services = self.services()

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [(b"x-request-id", rid.encode())]
                extra += self._security
                existing = {k.lower() for k, _ in message.get("headers", [])}
                if b"content-security-policy" not in existing:
                    extra.append((b"content-security-policy", API_CSP))
                if b"cache-control" not in existing:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        async def reply(status: int, code: str, text: str, more: Sequence[tuple[bytes, bytes]] = ()) -> None:
            body = json.dumps(error_body(code, text)).encode()
            await send_wrapped(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *more,
                    ],
                }
            )
            await send_wrapped({"type": "http.response.body", "body": body})

        try:
            if "\x00" in path or b"%00" in scope.get("query_string", b""):
                await reply(400, "bad_request", "NUL characters are not allowed in the path or query")
                return
            client = _client_key(headers, scope)
            allowed, wait = (True, 0.0) if services is None else services.limiter.allow(client)
            if not allowed:
                await reply(
                    429, "rate_limited", "too many requests; retry later", [(b"retry-after", b"%d" % (wait + 1))]
                )
                return
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.settings.max_body):
                if length.isdigit():
                    await reply(413, "too_large", f"request body over {self.settings.max_body} bytes")
                else:
                    await reply(400, "bad_request", "invalid Content-Length")
                return
            if scope["method"] in ("POST", "PUT", "PATCH") and length is None:
                # A chunked body: read it here up to the limit, then hand it on.
                chunks: list[bytes] = []
                size = 0
                more_body = True
                while more_body:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.settings.max_body:
                        await reply(413, "too_large", f"request body over {self.settings.max_body} bytes")
                        return
                    chunks.append(chunk)
                    more_body = message.get("more_body", False)
                body = b"".join(chunks)
                sent = False

                async def replay() -> Message:
                    nonlocal sent
                    if sent:
                        return await receive()
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}

                await self.app(scope, replay, send_wrapped)
            else:
                await self.app(scope, receive, send_wrapped)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/static" if path.startswith("/static/") else "unmatched")
            status = status_holder["status"]
            if services is not None:
                services.metrics.requests.labels(scope["method"], template, str(status)).inc()
                services.metrics.latency.labels(scope["method"], template).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


def _client_key(headers: dict[str, str], scope: Scope) -> str:
    """Whom a rate limit counts: the presented credential (hashed) or, without one, the client address."""
    auth = headers.get("authorization", "")
    if auth:
        import hashlib

        return "cred:" + hashlib.sha256(auth.encode("latin-1")).hexdigest()[:24]
    if scope["path"].startswith("/m/"):
        return "link:" + scope["path"][3:40]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "?")


def create_app(settings: ServerSettings, region: service.Region | None = None) -> FastAPI:
    """The application for ``settings``; pass ``region`` to reuse an already loaded extract (tests)."""
    configure_logging(settings.log_level)
    holder: dict[str, Services] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = _start(settings, region)
        holder["services"] = services
        app.state.services = services
        try:
            yield
        finally:
            services.runner.shutdown()
            services.outcomes.close()
            services.audit.close()
            services.db.dispose()
            holder.pop("services", None)

    app = FastAPI(
        title="Doorstep planning API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # Served by api.docs_pages from this origin (FastAPI's own pages load their scripts from a CDN).
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        responses={
            401: {"model": _error_model(), "description": "missing or wrong credential"},
            403: {"model": _error_model(), "description": "credential of the wrong role or scope"},
            413: {"model": _error_model(), "description": "request body too large"},
            422: {"model": _error_model(), "description": "bad input: which field and why"},
            429: {"model": _error_model(), "description": "rate limited"},
        },
    )
    _install_handlers(app)
    from api import routes_analytics, routes_cases, routes_ops, routes_outcomes, routes_plans

    for module in (routes_cases, routes_plans, routes_outcomes, routes_analytics, routes_ops):
        app.include_router(module.router)
    install_docs(app)
    static_root = Path(str(resources.files("maps").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static_root), name="static")
    # Inside the Guard (and CORS): a read answered by the fast path still gets its headers, rate limit, metrics
    # and log line.
    app.add_middleware(OfficerFastPath, services=lambda: holder.get("services"))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        )
    app.add_middleware(Guard, settings=settings, services=lambda: holder.get("services"))
    return app


def _error_model() -> Any:
    from api.schemas import ErrorResponse

    return ErrorResponse


def _start(settings: ServerSettings, region: service.Region | None) -> Services:
    db = Database(settings.db_url)
    db.migrate()
    if region is None and settings.osm is not None:
        region = service.Region.load(settings.osm)
    if region is None:
        msg = "no extract: set DOORSTEP_OSM or pass --osm"
        raise DoorstepError(msg)
    timezone = resolve_timezone(settings.tz, region.center)
    day = DaySettings(
        timezone=timezone,
        country=resolve_country(settings.country, timezone),
        legal=legal_window(),
        min_p_home=presence_floor(),
        lang=resolve_lang(settings.lang),
    )
    holder: dict[str, Services] = {}
    prior = PresencePrior.load_default()
    learnt = LearntPresence(db, prior, day.timezone)
    env = PlanningEnv(
        region_for=lambda profiles: holder["s"].region_for(profiles),
        settings=day,
        tiles=settings.tiles,
        default_time_limit_s=settings.time_limit_s,
        scheduler=settings.scheduler,
        osm_path=settings.osm,
        presence=learnt,
    )
    day_types = DayTypes(day.country)
    services = Services(
        settings=settings,
        db=db,
        signer=Signer(load_or_create_secret(settings.secret, settings.data_dir)),
        limiter=RateLimiter(settings.rate_limit, settings.rate_burst),
        audit=AuditWriter(db),
        metrics=Metrics(),
        day=day,
        prior=prior,
        presence=learnt,
        runner=JobRunner(db, env, settings.workers, settings.job_attempts),
        outcomes=OutcomeWriter(db, day.timezone, day_types),
        day_types=day_types,
        keys=KeyCache(),
        pages=PageCache(),
        links=LinkCache(),
        base_region=region,
    )
    services.regions[tuple(sorted(region.networks))] = region
    holder["s"] = services
    services.runner.start()
    log.info("doorstep API ready", extra={"route": settings.db_url.split(":")[0]})
    return services


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            details.append({"field": where, "error": e.get("msg", "invalid")})
        message = "; ".join(f"{d['field']}: {d['error']}" for d in details[:10]) or "invalid request"
        return JSONResponse(error_body("invalid", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"request_id": request.scope.get("state", {}).get("request_id")})
        return JSONResponse(error_body("internal", "internal error; it has been logged"), status_code=500)
