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
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rows_affected(result: Result[Any]) -> int:
    """How many rows a bulk UPDATE or DELETE run by `Session.execute` touched (0 when the driver cannot say)."""
    # Session.execute is typed to return a plain Result, but for DML it is always a CursorResult.
    assert isinstance(result, CursorResult)
    return result.rowcount or 0
