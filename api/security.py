"""Credentials: API keys (stored hashed, compared in constant time), signed officer tokens, session cookies,
and the per-credential rate limiter.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROLES = ("system", "supervisor")
KEY_PREFIX = "dsk"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly made API key: ``secret`` is shown once and never stored."""

    key_id: str
    secret: str
    key_hash: str


def make_api_key() -> NewKey:
    """A new random key ``dsk_<key_id>_<random>``; the key id finds its row, the hash proves it."""
    key_id = secrets.token_hex(8)
    secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, secret, hash_key(secret))


def hash_key(secret: str) -> str:
    """SHA-256 of a key.

    The keys carry 256 random bits, so a fast hash cannot be brute-forced; a slow password hash would only cost
    every request its latency.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_id_of(secret: str) -> str | None:
    """The key id inside a presented key, or ``None`` when it is not shaped like one of ours."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 16:
        return None
    return parts[1]


def key_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with the stored hash."""
    return hmac.compare_digest(hash_key(secret).encode("ascii"), stored_hash.encode("ascii"))


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The signing key: ``DOORSTEP_SECRET``, else one made once and kept (mode 600) in the data directory."""
    if configured:
        return configured.encode("utf-8")
    path = data_dir / "signing.key"
    if path.is_file():
        return path.read_text(encoding="ascii").strip().encode("ascii")
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value, encoding="ascii")
    tmp.chmod(0o600)
    tmp.replace(path)
    return value.encode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class OfficerClaims:
    """What an officer token grants: one team's day of one plan, until ``expires`` (Unix seconds)."""

    link_id: str
    plan_id: str
    team_id: str
    expires: int


class Signer:
    """HMAC-SHA256 signatures of small JSON payloads, with a purpose so a token of one kind is never another."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, purpose: str, payload: dict[str, object]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{body}.{self._mac(purpose, body)}"

    def verify(self, purpose: str, token: str) -> dict[str, object] | None:
        """The payload of a token signed for ``purpose``, or ``None`` when it is malformed or tampered with."""
        body, sep, mac = token.partition(".")
        if not sep or not body or len(token) > 2048:
            return None
        if not hmac.compare_digest(self._mac(purpose, body).encode("ascii"), mac.encode("ascii", "replace")):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, UnicodeDecodeError):
            return None
        return payload if isinstance(payload, dict) else None

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{body}".encode(), hashlib.sha256).digest())

    def officer_token(self, claims: OfficerClaims) -> str:
        payload: dict[str, object] = {
            "l": claims.link_id,
            "p": claims.plan_id,
            "t": claims.team_id,
            "e": claims.expires,
        }
        return self.sign("officer", payload)

    def officer_claims(self, token: str, now: float | None = None) -> OfficerClaims | None:
        """The claims of a valid, unexpired officer token, else ``None``."""
        payload = self.verify("officer", token)
        if payload is None:
            return None
        try:
            claims = OfficerClaims(str(payload["l"]), str(payload["p"]), str(payload["t"]), int(str(payload["e"])))
        except (KeyError, ValueError):
            return None
        if claims.expires <= (time.time() if now is None else now):
            return None
        return claims


def link_expiry(plan_date: dt.date, timezone: str, grace_h: float) -> dt.datetime:
    """End of the plan day in the plan's zone plus the grace period (an aware UTC datetime)."""
    end = dt.datetime.combine(plan_date + dt.timedelta(days=1), dt.time(0, 0), tzinfo=ZoneInfo(timezone))
    return (end + dt.timedelta(hours=grace_h)).astimezone(dt.UTC)


class RateLimiter:
    """Token buckets per client: ``rate`` requests per second with a ``burst`` allowance."""

    def __init__(self, rate: float, burst: float, max_clients: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._max_clients = max_clients

    def allow(self, client: str, now: float | None = None) -> tuple[bool, float]:
        """Whether ``client`` may make a request now, and the seconds to wait when it may not."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, t))
            tokens = min(self.burst, tokens + (t - last) * self.rate)
            if len(self._buckets) >= self._max_clients and client not in self._buckets:
                # Bound the memory an address-spraying client can take: start over rather than grow forever.
                self._buckets.clear()
            if tokens < 1.0:
                self._buckets[client] = (tokens, t)
                return False, (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0, t)
            return True, 0.0


class KeyCache:
    """Recently checked API keys, by the SHA-256 of the key, for ``ttl`` seconds.

    A request then costs no database read for its key; a revoked key keeps working for at most ``ttl``.
    """

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, secret: str) -> object | None:
        digest = hash_key(secret)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, secret: str, value: object) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[hash_key(secret)] = (time.monotonic() + self.ttl, value)


class LinkCache:
    """Officer links the database found good (unrevoked, plan approved), by link id, for at most ``ttl`` seconds.

    A map read or an officer's post then costs no database read for its link. ``revoke`` forgets a team's links
    at once, and bumps a generation: a check that read the database before the revocation cannot put its
    (now stale) answer back afterwards. Only good answers are kept, so a refused link is checked every time.
    """

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, str, str]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._max = max_entries

    @property
    def generation(self) -> int:
        """Take this before reading the database; hand it to `put` with the answer."""
        return self._generation

    def good(self, claims: OfficerClaims, now: float | None = None) -> bool:
        """Whether the link of ``claims`` was found good less than ``ttl`` seconds ago and not revoked since."""
        entry = self._entries.get(claims.link_id)
        return (
            entry is not None
            and entry[0] > (time.monotonic() if now is None else now)
            and entry[1] == claims.plan_id
            and entry[2] == claims.team_id
        )

    def put(self, claims: OfficerClaims, generation: int, now: float | None = None) -> None:
        """Remember a link found good by a check that began at ``generation``."""
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self._max:
                self._entries.clear()
            t = time.monotonic() if now is None else now
            self._entries[claims.link_id] = (t + self.ttl, claims.plan_id, claims.team_id)

    def revoke(self, plan_id: str, team_id: str | None = None) -> None:
        """Forget the links of a plan's team (or of the whole plan) now."""
        with self._lock:
            self._generation += 1
            for link_id, (_, plan, team) in list(self._entries.items()):
                if plan == plan_id and team_id in (None, team):
                    del self._entries[link_id]


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A page ready to send: its bytes, its strong ETag and its response headers."""

    body: bytes
    etag: str
    headers: dict[str, str]


class PageCache:
    """Officer pages by (plan, team), ready to send; dropped when a page is re-rendered."""

    def __init__(self, max_entries: int = 2_000) -> None:
        self._pages: dict[tuple[str, str], CachedPage] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: tuple[str, str]) -> CachedPage | None:
        return self._pages.get(key)

    def put(self, key: tuple[str, str], page: CachedPage) -> CachedPage:
        with self._lock:
            if len(self._pages) >= self._max:
                self._pages.clear()
            self._pages[key] = page
            return page

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._pages.pop(key, None)
