"""Settings of the HTTP server (`doorstep serve`): options win over environment variables, which win over defaults.

Every variable is listed in `ENV_TABLE` and in the README's "HTTP API settings" table (a test keeps them in step).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from api.errors import ConfigurationError

# (variable, meaning, default as documented): the single source of the README table.
ENV_TABLE: tuple[tuple[str, str, str], ...] = (
    ("DOORSTEP_OSM", "the extract of the server's region (`.osm.pbf`, `.osm`, `.osm.bz2`)", "(required)"),
    ("DOORSTEP_DATA_DIR", "folder of the SQLite file, the signing secret and rendered pages", "`./doorstep-data`"),
    (
        "DOORSTEP_DB",
        "SQLAlchemy URL: `sqlite:///FILE` or `postgresql+psycopg://user@host/db`",
        "SQLite in the data dir",
    ),
    ("DOORSTEP_PUBLIC_URL", "origin officers' phones reach the server at (officer links)", "`http://HOST:PORT`"),
    ("DOORSTEP_SECRET", "key that signs officer links and sessions (≥ 32 characters)", "random, kept in the data dir"),
    ("DOORSTEP_WORKERS", "planning jobs run at the same time", "`1`"),
    (
        "DOORSTEP_SCHEDULER",
        "Dask scheduler (`tcp://HOST:8786`): each job's branches are planned on that cluster (docs/SCALING.md)",
        "none (the job plans in the server)",
    ),
    ("DOORSTEP_JOB_ATTEMPTS", "runs a job gets when restarts interrupt it, then it fails", "`2`"),
    ("DOORSTEP_TIME_LIMIT", "default solver budget of a plan job, seconds", "`10`"),
    ("DOORSTEP_MAX_TIME_LIMIT", "largest `time_limit_s` a client may ask for", "`300`"),
    ("DOORSTEP_LINK_GRACE_H", "hours an officer link stays valid after the end of the plan day", "`6`"),
    ("DOORSTEP_RATE_LIMIT", "requests per second per credential (or per address without one)", "`100`"),
    ("DOORSTEP_RATE_BURST", "burst allowance of that limit", "`500`"),
    ("DOORSTEP_MAX_BODY", "largest request body, bytes (larger: 413)", "`5242880`"),
    ("DOORSTEP_CORS_ORIGINS", "comma-separated origins allowed by CORS", "none (CORS closed)"),
    (
        "DOORSTEP_TILES",
        "map tiles of served pages: `osm`, `amap` (AMap, GCJ-02), `none` (roads drawn from the network) "
        "or an https URL template",
        "`osm`",
    ),
    ("DOORSTEP_LOG_LEVEL", "`DEBUG`, `INFO`, `WARNING`, `ERROR`", "`INFO`"),
)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything the HTTP server is configured with."""

    osm: Path | None
    data_dir: Path
    db_url: str
    public_url: str | None = None
    secret: str | None = None
    workers: int = 1
    job_attempts: int = 2
    time_limit_s: float = 10.0
    max_time_limit_s: float = 300.0
    link_grace_h: float = 6.0
    rate_limit: float = 100.0
    rate_burst: float = 500.0
    max_body: int = 5 * 1024 * 1024
    cors_origins: tuple[str, ...] = ()
    tiles: str = "osm"
    log_level: str = "INFO"
    tz: str | None = None
    country: str | None = None
    lang: str = "en"
    scheduler: str | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        osm: Path | None = None,
        db_url: str | None = None,
        data_dir: Path | None = None,
    ) -> ServerSettings:
        """Settings from options (given here) and the environment; bad values raise ``ConfigurationError``."""
        env = os.environ if env is None else env
        osm_text = str(osm) if osm is not None else env.get("DOORSTEP_OSM")
        data = data_dir or Path(env.get("DOORSTEP_DATA_DIR") or "doorstep-data")
        url = db_url or env.get("DOORSTEP_DB") or f"sqlite:///{(data / 'doorstep.sqlite3').resolve()}"
        if not url.startswith(("sqlite", "postgresql")):
            msg = f"DOORSTEP_DB: only sqlite:/// and postgresql URLs are supported, got {url.split(':')[0]!r}"
            raise ConfigurationError(msg)
        secret = env.get("DOORSTEP_SECRET") or None
        if secret is not None and len(secret) < 32:
            msg = "DOORSTEP_SECRET must be at least 32 characters"
            raise ConfigurationError(msg)
        tiles = env.get("DOORSTEP_TILES") or "osm"
        if tiles not in ("osm", "amap", "none") and not (tiles.startswith("https://") and "{z}" in tiles):
            msg = f"DOORSTEP_TILES: 'osm', 'amap', 'none' or an https URL template with {{z}}/{{x}}/{{y}}; {tiles!r}"
            raise ConfigurationError(msg)
        level = (env.get("DOORSTEP_LOG_LEVEL") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            msg = f"DOORSTEP_LOG_LEVEL: one of DEBUG, INFO, WARNING, ERROR; got {level!r}"
            raise ConfigurationError(msg)
        origins = tuple(o.strip() for o in (env.get("DOORSTEP_CORS_ORIGINS") or "").split(",") if o.strip())
        return cls(
            osm=Path(osm_text) if osm_text else None,
            data_dir=data,
            db_url=url,
            public_url=(env.get("DOORSTEP_PUBLIC_URL") or "").rstrip("/") or None,
            secret=secret,
            workers=_int(env, "DOORSTEP_WORKERS", 1, 1, 64),
            job_attempts=_int(env, "DOORSTEP_JOB_ATTEMPTS", 2, 1, 10),
            time_limit_s=_float(env, "DOORSTEP_TIME_LIMIT", 10.0, 0.1, 3600),
            max_time_limit_s=_float(env, "DOORSTEP_MAX_TIME_LIMIT", 300.0, 0.1, 3600),
            link_grace_h=_float(env, "DOORSTEP_LINK_GRACE_H", 6.0, 0.0, 48.0),
            rate_limit=_float(env, "DOORSTEP_RATE_LIMIT", 100.0, 0.1, 1e6),
            rate_burst=_float(env, "DOORSTEP_RATE_BURST", 500.0, 1.0, 1e7),
            max_body=_int(env, "DOORSTEP_MAX_BODY", 5 * 1024 * 1024, 1024, 1024**3),
            cors_origins=origins,
            tiles=tiles,
            log_level=level,
            tz=env.get("DOORSTEP_TZ") or None,
            country=env.get("DOORSTEP_COUNTRY") or None,
            lang=env.get("DOORSTEP_LANG") or "en",
            scheduler=_scheduler(env.get("DOORSTEP_SCHEDULER")),
        )


def _scheduler(text: str | None) -> str | None:
    if not text:
        return None
    if not text.startswith(("tcp://", "tls://", "inproc://")):
        msg = f"DOORSTEP_SCHEDULER: a Dask scheduler address such as tcp://host:8786, got {text!r}"
        raise ConfigurationError(msg)
    return text


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as err:
        msg = f"{name}: expected a whole number, got {text!r}"
        raise ConfigurationError(msg) from err
    if not low <= value <= high:
        msg = f"{name}: must lie in [{low}, {high}], got {value}"
        raise ConfigurationError(msg)
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError as err:
        msg = f"{name}: expected a number, got {text!r}"
        raise ConfigurationError(msg) from err
    if not low <= value <= high:
        msg = f"{name}: must lie in [{low:g}, {high:g}], got {value:g}"
        raise ConfigurationError(msg)
    return value
