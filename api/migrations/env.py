"""Alembic environment: runs the migrations of ``api/migrations/versions`` on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from api.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate over a connection of its own (``render_as_batch`` lets SQLite alter tables)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
