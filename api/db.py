"""The database: tables (SQLAlchemy 2), engines and sessions, and migrations (Alembic, shipped in the package).

SQLite (the default, one file in the data directory) runs in WAL mode. Its writes take the database lock at
``BEGIN IMMEDIATE`` and are serialised by a lock inside the process, so a write transaction never fails
half-way with "database is locked"; reads use their own engine and never wait for writers. PostgreSQL (by URL)
needs neither.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """Now, in UTC (stored timestamps are always UTC)."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetimes are not stored: give a UTC offset"
            raise ValueError(msg)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class ApiKey(Base):
    """An API key: only its SHA-256 is stored; ``key_id`` is the public part used to find the row."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class CaseRow(Base):
    """A case as the loan system sent it (``record``), with its lifecycle state and any address fix."""

    __tablename__ = "cases"
    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), index=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(32), default="open")
    state_until: Mapped[dt.date | None] = mapped_column(Date)
    fix_lat: Mapped[float | None] = mapped_column(Float)
    fix_lon: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TeamRow(Base):
    """A team as a supervisor put it (``record`` holds the team file's columns)."""

    __tablename__ = "teams"
    team_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PlanJob(Base):
    """A planning job and, when done, its plan: the state lives here, never only in a worker's memory."""

    __tablename__ = "plans"
    plan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(40), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approval: Mapped[str] = mapped_column(String(16), default="draft")
    # A supervisor's edits (PATCH /v1/plans/{plan_id}), one entry per accepted request: they stay in force.
    edits: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class PlanPage(Base):
    """A rendered page of a finished plan: ``kind`` is ``overview``, ``map`` or ``officer``."""

    __tablename__ = "plan_pages"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.plan_id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    html: Mapped[str] = mapped_column(Text)
    # The page's own inline scripts, as CSP source expressions ('sha256-...'): only these may run.
    script_hashes: Mapped[str] = mapped_column(Text, default="")


class OfficerLink(Base):
    """An officer link (its token is signed, not stored); a revoked link stops working at once."""

    __tablename__ = "officer_links"
    link_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.plan_id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class OutcomeRow(Base):
    """A visit outcome, unique by the sender's ``client_id``; ``body_hash`` tells a repeat from a conflict."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    customer_id: Mapped[str] = mapped_column(String(200), index=True)
    team_id: Mapped[str] = mapped_column(String(200))
    plan_id: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(32))
    visited_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    day_type: Mapped[str] = mapped_column(String(16))
    hour: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PresenceEvidence(Base):
    """Counts of at-home and not-at-home outcomes per customer, day type and hour (the presence hook's data)."""

    __tablename__ = "presence_evidence"
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    day_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    home: Mapped[int] = mapped_column(Integer, default=0)
    away: Mapped[int] = mapped_column(Integer, default=0)


class AddressCorrection(Base):
    """An officer's GPS fix of where a customer really is (it overrides the geocoder for that case)."""

    __tablename__ = "address_corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class IdempotencyRecord(Base):
    """The stored answer of a POST sent with an ``Idempotency-Key``, scoped to the credential, kept 24 h."""

    __tablename__ = "idempotency"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class AuditEntry(Base):
    """Who read or changed what, and when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(400))
    request_id: Mapped[str | None] = mapped_column(String(64))


Index("ix_audit_object", AuditEntry.object_type, AuditEntry.object_id)


class Database:
    """Engines and sessions of one database URL; ``write()`` and ``read()`` are the only ways in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            # Pooled connections, each used by one thread at a time (so check_same_thread can be off).
            args = {"check_same_thread": False}
            self.write_engine = create_engine(url, pool_size=2, max_overflow=8, connect_args=args)
            self.read_engine = create_engine(url, pool_size=8, max_overflow=56, connect_args=args)
            _sqlite_setup(self.write_engine, immediate=True)
            _sqlite_setup(self.read_engine, immediate=False)
        else:
            self.write_engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.read_engine = self.write_engine
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        if self.is_sqlite:
            with self._write_lock, self._writer.begin() as session:
                yield session
        else:
            with self._writer.begin() as session:
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session."""
        with self._reader() as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        upgrade(self.url)

    def dispose(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()


def _sqlite_setup(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below, so pysqlite's own implicit BEGIN is switched off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged outcome survives a power cut, not only a killed process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(url: str) -> Any:
    """The Alembic configuration of the migrations shipped in ``api/migrations``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(str(resources.files("api").joinpath("migrations")))))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Run every pending migration on ``url`` (creates the SQLite file's folder first)."""
    from alembic import command

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
