"""Engines, sessions and migrations.

SQLite gets WAL, a 30 s busy timeout and ``BEGIN IMMEDIATE`` for writing transactions:
a read-then-write transaction under a plain BEGIN is what produces "database is locked"
when two writers meet. Reading sessions use a plain deferred BEGIN so ``status`` never
waits for a writer.

A database that cannot be opened (a corrupted or read-only file, a server that refuses
the connection, a schema newer than this code) is a DatabaseUnavailable naming the
database and the cause in one line, raised by ``migrate``, the first contact of every
command.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

if TYPE_CHECKING:  # the SQLite driver's connection, named in an annotation only
    import sqlite3

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_READ_OPTION = "straitwatch_read_only"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened or brought to the schema: which one, and why."""


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(_READ_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@lru_cache(maxsize=8)
def make_engine(url: str) -> Engine:
    """Return the (process-wide, cached) engine for a database URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            # A URI file name ("file:path?mode=ro&uri=true") names a path after "file:".
            if parsed.query.get("uri") == "true":
                database = database.removeprefix("file:")
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"database {database}: {exc.strerror or exc}") from exc
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """Yield a session in one writing transaction, committed on success."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """Yield a session for reading only; it never takes the write lock."""
    reader = engine.execution_options(**{_READ_OPTION: True})
    with Session(reader, expire_on_commit=False) as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic config bound to this engine's URL and the bundled migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser reads "%" as interpolation: a quoted character in the URL must stay one.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


_MIGRATION_LOCK = threading.Lock()
_MIGRATED: set[str] = set()
# Any fixed number: the PostgreSQL advisory lock that serialises migrating processes.
_PG_MIGRATION_LOCK_ID = 0x5357_4D49


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent, safe to race).

    Alembic's context is process-global, so threads take turns; processes take turns too:
    on PostgreSQL through an advisory lock, on SQLite through the write lock that
    ``BEGIN IMMEDIATE`` takes. The first run on a fresh database creates the schema and
    the others find it done.
    """
    key = engine.url.render_as_string(hide_password=False)
    with _MIGRATION_LOCK:
        if key in _MIGRATED:
            return
        config = alembic_config(engine)
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK_ID}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (SQLAlchemyError, CommandError, OSError) as exc:
            raise DatabaseUnavailable(f"database {database_name(key)}: {_cause(exc)}") from exc
        _MIGRATED.add(key)


def database_name(url: str) -> str:
    """Return what names a database to a person: a SQLite file's path, else the URL masked."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown masked by redact_url
        return redact_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database.removeprefix("file:") if parsed.query.get("uri") else parsed.database
    return redact_url(url)


def _cause(exc: BaseException) -> str:
    """Return the driver's own words for an error, on one line."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    words = " ".join(str(original).split())
    if isinstance(original, OSError) and original.strerror:
        words = original.strerror
    return words or type(original).__name__


def redact_url(url: str) -> str:
    """Return a database URL with its password masked, fit for logs and status output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as its scheme only
        return url.split(":", 1)[0] + ":***"
