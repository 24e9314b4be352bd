"""Repository for per-chat conversation state.

With a sealer (the report cipher), a report draft (`data["report"]`: its category, place, agency, urgency,
evidence file ids and the already encrypted text) is stored encrypted as a whole, so nothing of a report being
written sits readable next to the chat id.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker

from db.models import ChatState
from db.session import rows_affected

log = logging.getLogger(__name__)
SEALED_KEYS = ("report",)  # parts of the state stored encrypted when a sealer is given
RECENT_UPDATES = 100
# What a chat keeps between steps, stored as JSON: each flow owns its keys and their shapes (a report draft, the
# options offered, ...), so the values stay open to the flow that reads them.
StateData = dict[str, Any]


class Sealer(Protocol):
    def seal(self, data: StateData) -> str: ...

    def open(self, token: str) -> StateData: ...


@dataclass
class ConversationState:
    """A plain copy of one chat's state, detached from the database."""

    chat_id: int
    flow: str | None = None
    step: str | None = None
    data: StateData = field(default_factory=dict)
    recent_updates: list[int] = field(default_factory=list)  # Telegram update ids handled lately, newest last
    # The replies of the last update handled, kept with the state: a worker killed after saving a turn but before
    # sending its replies leaves the update to another worker, which sends these instead of handling it again.
    last_replies: list[StateData] = field(default_factory=list)
    updated_at: datetime | None = None
    erased: bool = False  # set by erase(): the turn deletes the chat's row instead of saving it

    def handled(self, update_id: int) -> bool:
        return update_id in self.recent_updates

    def remember(self, update_id: int) -> None:
        """Note an update as handled (the last RECENT_UPDATES are kept: redeliveries come within minutes)."""
        self.recent_updates = [*self.recent_updates, update_id][-RECENT_UPDATES:]

    def erase(self) -> None:
        """Nothing about this chat is kept, not even an empty row (/hapus)."""
        self.reset()
        self.erased = True

    def enter(self, flow: str, step: str, data: StateData | None = None) -> None:
        """Move the chat to `step` of `flow`, replacing whatever the previous step kept."""
        self.flow, self.step, self.data = flow, step, dict(data or {})

    def reset(self, data: StateData | None = None) -> None:
        """Leave every flow; `data` is what the chat keeps outside a flow (usually nothing)."""
        self.flow, self.step, self.data = None, None, dict(data or {})


class ChatStateRepository:
    def __init__(self, sessions: sessionmaker[Session], sealer: Sealer | None = None):
        self._sessions = sessions
        self._sealer = sealer

    def load(self, chat_id: int) -> ConversationState:
        with self._sessions() as session:
            row = session.get(ChatState, chat_id)
            if row is None:
                return ConversationState(chat_id=chat_id)
            return self._state(row)

    def _state(self, row: ChatState) -> ConversationState:
        return ConversationState(chat_id=row.chat_id, flow=row.flow, step=row.step, data=self._open(row.data),
                                 recent_updates=list(row.recent_updates or []),
                                 last_replies=self._open_replies(row.last_replies), updated_at=row.updated_at)

    def _open_replies(self, stored: StateData | None) -> list[StateData]:
        """The last turn's replies; sealed with the report key when one is set (they may quote a report)."""
        if not stored:
            return []
        try:
            opened = self._sealer.open(stored["sealed"]) if self._sealer and "sealed" in stored else stored
        except ValueError:
            return []
        replies: list[StateData] = opened.get("replies") or []
        return replies

    def _open(self, stored: StateData | None) -> StateData:
        data = dict(stored or {})
        for key in SEALED_KEYS:
            value = data.get(key)
            if isinstance(value, dict) and set(value) == {"sealed"}:
                if self._sealer is None:
                    data.pop(key)
                    continue
                try:
                    data[key] = self._sealer.open(value["sealed"])
                except ValueError:  # sealed with a key no longer configured: the draft is lost, the chat goes on
                    log.warning("a chat's draft could not be decrypted (key changed?); it is dropped")
                    data.pop(key)
        return data

    def _seal(self, data: StateData) -> StateData:
        data = dict(data)
        if self._sealer is not None:
            for key in SEALED_KEYS:
                if isinstance(data.get(key), dict):
                    data[key] = {"sealed": self._sealer.seal(data[key])}
        return data

    @contextmanager
    def turn(self, chat_id: int) -> Iterator[ConversationState]:
        """The chat's state for one turn: loaded, changed by the caller, saved (or deleted when erased) as one
        transaction; nothing is saved when the caller raises.

        On PostgreSQL the chat's row is locked from load to save (`SELECT ... FOR UPDATE`; a chat's first message
        inserts the row first, so two first messages cannot clash): a second worker with an update of the same chat
        waits, then sees the first one's result. SQLite locks the whole file for writing, so the turn there takes
        no lock while the engine works (its other writes, a filed report, go through other connections and would
        wait for it); a chat's updates are kept to one worker at a time by the inbox (db/inbox.py) instead."""
        with self._sessions.begin() as session:
            row = self._locked_row(session, chat_id) if _locks_rows(session) else session.get(ChatState, chat_id)
            state = self._state(row) if row is not None else ConversationState(chat_id=chat_id)
            yield state
            if state.erased:
                session.execute(delete(ChatState).where(ChatState.chat_id == chat_id))
                return
            if row is None:
                row = ChatState(chat_id=chat_id)
                session.add(row)
            self._write(row, state)

    @staticmethod
    def _locked_row(session: Session, chat_id: int) -> ChatState:
        session.execute(pg_insert(ChatState).values(chat_id=chat_id, data={}).on_conflict_do_nothing())
        return session.execute(select(ChatState).where(ChatState.chat_id == chat_id).with_for_update()).scalar_one()

    def _write(self, row: ChatState, state: ConversationState) -> None:
        row.flow = state.flow
        row.step = state.step
        row.data = self._seal(state.data)
        row.recent_updates = state.recent_updates
        replies = {"replies": state.last_replies}
        row.last_replies = {"sealed": self._sealer.seal(replies)} if self._sealer else replies

    def in_flow(self, flow: str, idle_since: datetime) -> list[ConversationState]:
        """Chats in `flow` whose state has not changed since `idle_since`."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatState).where(ChatState.flow == flow, ChatState.updated_at < idle_since)
            ).all()
            return [self._state(r) for r in rows]

    def expire(self, idle_since: datetime) -> int:
        """Delete the state of chats inactive since `idle_since` (CHAT_STATE_RETENTION_DAYS); returns how many."""
        with self._sessions.begin() as session:
            return rows_affected(session.execute(delete(ChatState).where(ChatState.updated_at < idle_since)))

    def clear(self, chat_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(ChatState).where(ChatState.chat_id == chat_id))


def _locks_rows(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
