"""Alembic environment: migrate the connection kapacitet hands over, or a URL from ``-x url=``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from capacity.storage.database import create_database_engine
from capacity.storage.schema import metadata


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the handed-over connection, else on a fresh engine."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = create_database_engine(url)
    try:
        with engine.connect() as fresh:
            _migrate(fresh)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("kapacitet's migrations run online only: pass -x url=URL")
run_migrations_online()
