"""Engine and session factory for a database URL; the row count of a bulk UPDATE or DELETE."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the file's folder and enable WAL for concurrent readers.

    Statement parameters are kept out of error messages: they can hold what users typed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: DBAPIConnection,
                            _record: ConnectionPoolEntry) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # A turn holds a connection (and the chat's row lock) while the engine works, and may need a second one for a
    # filed report; with up to 8 chats handled at once per worker (bot/channels/telegram_inbox.py), 20 are enough.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=10, max_overflow=10)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rows_affected(result: Result[Any]) -> int:
    """How many rows a bulk UPDATE or DELETE run by `Session.execute` touched (0 when the driver cannot say)."""
    # Session.execute is typed to return a plain Result, but for DML it is always a CursorResult.
    assert isinstance(result, CursorResult)
    return result.rowcount or 0


def lock_sqlite_for_writing(session: Session) -> None:
    """SQLite: take the database's write lock now (`BEGIN IMMEDIATE`), before this transaction reads, so what it
    reads cannot change before it writes (another process's transaction waits). Call first in a transaction."""
    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
