"""Leadership: the one process of a deployment that runs a job (the delivery leader: outbox sends and reminders).

Call `try_acquire()` every couple of seconds: it takes the lead when it is free and keeps it while held; `leading`
says what the last call found; `release()` hands the lead over at once (a graceful stop).

PostgreSQL: a session-level advisory lock on a connection kept open while leading. The server releases it the moment
the leader's connection ends (the process exits or is killed; a hung leader's session after 10 s without renewal, a
vanished host's within about 25 s), so another process takes the lead at its next attempt. SQLite (one machine): the
`lease` row, held until `expires_at`, renewed by its holder, taken over once it has expired or its holder has exited;
`token` grows with every new holder.
"""
from __future__ import annotations

import logging
import time
import zlib
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Lease
from db.processes import gone, process_name
from db.reports import utc
from db.session import lock_sqlite_for_writing

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(seconds=10)  # SQLite: how long the lead lasts unless renewed (renew every few seconds)
LOCK_SPACE = 4712  # PostgreSQL: first key of the leases' advisory locks (db/inbox.py uses 4711)
# PostgreSQL: the server ends the leader's session, and so frees the lead, when the leader stops renewing it for 10 s
# (a hung process; PostgreSQL 14 and later, the versions still supported) or its host vanishes (TCP keepalives: after
# 10 s idle, 3 unanswered probes 5 s apart).
SESSION_SETTINGS = {"idle_session_timeout": "'10s'", "tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
                    "tcp_keepalives_count": "3"}


class _Backend(Protocol):
    def acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class Leadership:
    def __init__(self, sessions: sessionmaker[Session], name: str, holder: str | None = None,
                 ttl: timedelta = LEASE_TTL):
        with sessions() as session:
            bind = session.get_bind()
        assert isinstance(bind, Engine)  # the session factories of db/session.py are bound to an engine
        self.name = name
        self.holder = holder or process_name()
        self._backend: _Backend = (_AdvisoryLock(bind, name) if bind.dialect.name == "postgresql"
                                   else _LeaseRow(sessions, name, self.holder, ttl))

    @property
    def leading(self) -> bool:
        """True while this process holds the lead (SQLite: and its lease has not run out since the last renewal)."""
        return self._backend.held()

    def try_acquire(self) -> bool:
        """Take the lead when it is free, keep it when held; returns whether this process leads now. When the
        database cannot be reached, PostgreSQL's lead is dropped at once and SQLite's lasts until its lease runs out
        (nobody else can take it before)."""
        try:
            return self._backend.acquire()
        except SQLAlchemyError as exc:
            log.warning("lease %s: database error (%s)", self.name, type(exc).__name__)
            return self.leading

    def release(self) -> None:
        """Hand the lead over now (another process takes it at its next attempt)."""
        try:
            self._backend.release()
        except SQLAlchemyError as exc:  # it runs out by itself
            log.warning("lease %s: could not release it (%s)", self.name, type(exc).__name__)


class _AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` on a connection of its own, held open (in autocommit: no transaction stays
    open) while leading, and closed, never returned to the pool, when the lead is given up or the connection fails."""

    def __init__(self, engine: Engine, name: str):
        self._engine = engine
        self._key = {"space": LOCK_SPACE, "key": zlib.crc32(name.encode()) & 0x7FFF_FFFF}
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            try:
                if self._still_locked(self._connection):
                    return True
            except SQLAlchemyError:
                self.release()
                raise
            self.release()  # the lock is gone (its server session ended): seek it again
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:space, :key)"), self._key):
                connection.close()
                return False
            for setting, value in SESSION_SETTINGS.items():
                connection.exec_driver_sql(f"SET {setting} = {value}")
        except SQLAlchemyError:
            connection.invalidate()
            connection.close()
            raise
        self._connection = connection
        return True

    def _still_locked(self, connection: Connection) -> bool:
        return bool(connection.scalar(text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND granted AND classid = :space AND objid = :key AND objsubid = 2)"), self._key))

    def held(self) -> bool:
        return self._connection is not None

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()  # the server session ends, and with it the lock
            connection.close()


class _LeaseRow:
    """SQLite: the `lease` row, read and written under the database's write lock (`BEGIN IMMEDIATE`), so two
    processes never both take it. Renewed while its token is still ours; taken over (token + 1) once it expired, or
    at once when its holder is a process of this host that has exited (a crashed leader restarted)."""

    def __init__(self, sessions: sessionmaker[Session], name: str, holder: str, ttl: timedelta):
        self._sessions = sessions
        self._name = name
        self._holder = holder
        self._ttl = ttl
        self._token: int | None = None
        self._valid_until = 0.0  # time.monotonic() when the lease we wrote runs out

    def acquire(self) -> bool:
        started = time.monotonic()
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            lock_sqlite_for_writing(session)
            lease = session.get(Lease, self._name)
            if lease is None:
                lease = Lease(name=self._name, holder=self._holder, token=1)
                session.add(lease)
            elif lease.holder != self._holder or lease.token != self._token:
                if utc(lease.expires_at) > now and not gone(lease.holder):
                    self._token = None
                    return False
                lease.holder, lease.token = self._holder, lease.token + 1
            lease.expires_at = now + self._ttl
            self._token = lease.token
        self._valid_until = started + self._ttl.total_seconds()
        return True

    def held(self) -> bool:
        return self._token is not None and time.monotonic() < self._valid_until

    def release(self) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        with self._sessions.begin() as session:
            session.execute(update(Lease).where(Lease.name == self._name, Lease.holder == self._holder,
                                                Lease.token == token)
                            .values(expires_at=datetime.now(UTC)).execution_options(synchronize_session=False))
