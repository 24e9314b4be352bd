"""The inbox: Telegram updates stored before they are acknowledged, handled from here one chat at a time.

Any worker may store an update (unique by update_id: a redelivery is recognised) and any worker may handle it: a
worker claims all pending updates of a chat for a while (`lease`), handles them in order and marks each done; while
its claim is live no other worker takes that chat, so a chat's updates (an album of photos arrives as several) are
never handled by two workers at once. A worker that dies leaves its claim to expire; another then takes the chat.
What a user wrote is stored sealed when a sealer (the report key) is configured, and erased once handled.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, sessionmaker

from db.chat_state import Sealer
from db.enums import InboxStatus
from db.models import InboxUpdate
from db.session import rows_affected

CLAIM_LOCK_SPACE = 4711  # first key of the per-chat advisory lock that serialises claims on PostgreSQL


@dataclass(frozen=True)
class Stored:
    update_id: int
    payload: dict[str, Any] | None  # the update as Telegram sent it; None when it cannot be opened here
    attempts: int  # how often a worker took it (1 the first time)


class InboxRepository:
    def __init__(self, sessions: sessionmaker[Session], sealer: Sealer | None = None):
        self._sessions = sessions
        self._sealer = sealer

    def store(self, update_id: int, chat_id: int, payload: dict[str, Any]) -> bool:
        """Keep an update before it is acknowledged; False when it is already here (a redelivery)."""
        # As ASCII JSON: a message may hold what no UTF-8 can (a lone surrogate), cleaned only when it is handled.
        raw = json.dumps(payload)
        values = {"update_id": update_id, "chat_id": chat_id, "status": InboxStatus.PENDING,
                  "payload": self._sealer.seal({"update": raw}) if self._sealer else raw,
                  "received_at": datetime.now(UTC), "attempts": 0}
        with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            inserted = session.execute(insert(InboxUpdate).values(**values).on_conflict_do_nothing()
                                       .returning(InboxUpdate.update_id)).scalar_one_or_none()
            return inserted is not None

    def claim(self, chat_id: int, worker: str, lease: timedelta, finished: int | None = None) -> list[Stored]:
        """Claim the chat's pending updates for `worker` for `lease` and return the oldest (an empty list when
        there is none, or while another worker's claim on the chat is live). `finished`, the update the worker has
        just handled, is marked done in the same transaction (one round trip fewer per update)."""
        now = datetime.now(UTC)
        other = aliased(InboxUpdate)
        held_elsewhere = exists().where(and_(other.chat_id == chat_id, other.status != InboxStatus.DONE,
                                             other.claimed_by != worker, other.claimed_until > now))
        with self._sessions.begin() as session:
            if finished is not None:
                self._mark_done(session, finished, worker)
            if session.get_bind().dialect.name == "postgresql":  # one claim of a chat at a time (SQLite: the
                # UPDATE below is atomic, the database being locked for writing while it runs)
                session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                                {"space": CLAIM_LOCK_SPACE, "key": chat_id % 2_147_483_647})
            session.execute(update(InboxUpdate)
                            .where(InboxUpdate.chat_id == chat_id, InboxUpdate.status == InboxStatus.PENDING,
                                   ~held_elsewhere)
                            .values(claimed_by=worker, claimed_until=now + lease)
                            .execution_options(synchronize_session=False))
            first = session.scalars(select(InboxUpdate).where(
                InboxUpdate.chat_id == chat_id, InboxUpdate.status == InboxStatus.PENDING,
                InboxUpdate.claimed_by == worker).order_by(InboxUpdate.update_id).limit(1)).first()
            if first is None:
                return []
            first.attempts += 1  # counted when handling starts: an update that kills workers is noticed
            return [Stored(first.update_id, self._payload(first.payload), first.attempts)]

    def _payload(self, stored: str | None) -> dict[str, Any] | None:
        try:
            raw = str(self._sealer.open(stored or "")["update"]) if self._sealer is not None else stored
            loaded: dict[str, Any] = json.loads(raw or "{}")
            return loaded
        except (ValueError, KeyError):  # sealed with another key, or stored in the clear by a worker without one
            return None

    def renew(self, chat_id: int, worker: str, lease: timedelta) -> None:
        """Extend the worker's claim on the chat (while one update takes long)."""
        with self._sessions.begin() as session:
            session.execute(update(InboxUpdate).where(InboxUpdate.chat_id == chat_id,
                                                      InboxUpdate.claimed_by == worker,
                                                      InboxUpdate.status == InboxStatus.PENDING)
                            .values(claimed_until=datetime.now(UTC) + lease))

    def done(self, update_id: int, worker: str) -> None:
        """Handled: what the user wrote is erased; the id stays a day to recognise a redelivery. Only by the
        worker that holds the update (one whose claim was taken over changes nothing)."""
        with self._sessions.begin() as session:
            self._mark_done(session, update_id, worker)

    @staticmethod
    def _mark_done(session: Session, update_id: int, worker: str) -> None:
        session.execute(update(InboxUpdate).where(InboxUpdate.update_id == update_id, InboxUpdate.claimed_by == worker)
                        .values(status=InboxStatus.DONE, payload=None, claimed_by=None, claimed_until=None,
                                done_at=datetime.now(UTC)))

    def release(self, chat_id: int, worker: str) -> None:
        """Give up the worker's claim on a chat (stopping): its pending updates go to the next worker at once."""
        with self._sessions.begin() as session:
            session.execute(update(InboxUpdate).where(InboxUpdate.chat_id == chat_id,
                                                      InboxUpdate.claimed_by == worker,
                                                      InboxUpdate.status == InboxStatus.PENDING)
                            .values(claimed_by=None, claimed_until=None))

    def holders(self, prefix: str) -> list[str]:
        """Workers whose name starts with `prefix` (this host) and that hold live claims."""
        now = datetime.now(UTC)
        with self._sessions() as session:
            return list(session.scalars(select(InboxUpdate.claimed_by).distinct().where(
                InboxUpdate.claimed_by.startswith(prefix, autoescape=True), InboxUpdate.claimed_until > now)))

    def release_holder(self, worker: str) -> int:
        """Free every claim of a worker known to be gone; returns how many updates are free again."""
        with self._sessions.begin() as session:
            return rows_affected(session.execute(
                update(InboxUpdate).where(InboxUpdate.claimed_by == worker, InboxUpdate.status == InboxStatus.PENDING)
                .values(claimed_by=None, claimed_until=None)))

    def waiting_chats(self, limit: int = 50) -> list[int]:
        """Chats with pending updates nobody holds (their worker died, or stored while the chat was held)."""
        now = datetime.now(UTC)
        with self._sessions() as session:
            return list(session.scalars(
                select(InboxUpdate.chat_id)
                .where(InboxUpdate.status == InboxStatus.PENDING,
                       (InboxUpdate.claimed_until.is_(None)) | (InboxUpdate.claimed_until <= now))
                .group_by(InboxUpdate.chat_id).order_by(func.min(InboxUpdate.update_id)).limit(limit)))

    def pending(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(InboxUpdate)
                                  .where(InboxUpdate.status == InboxStatus.PENDING)) or 0

    def purge(self, done_before: datetime) -> int:
        """Forget handled updates older than Telegram's redelivery window."""
        with self._sessions.begin() as session:
            return rows_affected(session.execute(delete(InboxUpdate).where(InboxUpdate.status == InboxStatus.DONE,
                                                                           InboxUpdate.done_at < done_before)))
