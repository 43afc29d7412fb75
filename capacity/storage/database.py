"""Where the database is and how to reach it: URL resolution, engines, migrations to head.

The default is a SQLite file ``var/kapacitet.sqlite`` under the current directory;
``KAPACITET_DB`` (or an explicit URL) points elsewhere, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/kapacitet``. Every public entry point migrates
the database to the newest schema first (:func:`upgrade_database`), so nobody runs Alembic by
hand.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

ENV_VAR = "KAPACITET_DB"
DEFAULT_FILE = Path("var") / "kapacitet.sqlite"
ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_340_100  # PostgreSQL advisory lock id held while migrating


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url`` if given, else ``$KAPACITET_DB``, else the SQLite file."""
    if url:
        return url
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    return f"sqlite:///{(Path.cwd() / DEFAULT_FILE).as_posix()}"


def create_database_engine(url: str | None = None) -> Engine:
    """An engine for the resolved URL; a SQLite file's folder is created when missing.

    SQLite connections get real transactions (pysqlite's own handling would let each SELECT
    see a different state and commit DDL implicitly) and enforced foreign keys.
    """
    resolved = make_url(resolve_url(url))
    if resolved.get_backend_name() != "sqlite":
        return create_engine(resolved)
    if resolved.database and resolved.database != ":memory:":
        Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(resolved)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_sqlite(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def engine_for(url_or_engine: str | Engine | None) -> Iterator[Engine]:
    """The given engine, or a fresh one for a URL that is disposed of on exit."""
    if isinstance(url_or_engine, Engine):
        yield url_or_engine
        return
    engine = create_database_engine(url_or_engine)
    try:
        yield engine
    finally:
        engine.dispose()


def alembic_config() -> Config:
    """The Alembic configuration shipped inside the package (works from an installed wheel)."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the connected database is at (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(url_or_engine: str | Engine | None = None) -> str | None:
    """Migrate the database to the newest schema in one transaction; return the revision.

    Cheap when the database is already at head: one query for the current revision.
    """
    with engine_for(url_or_engine) as engine, engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # two first runs must not both migrate
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
        if current_revision(connection) == head_revision():
            return head_revision()
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return current_revision(connection)
