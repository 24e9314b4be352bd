"""Repository for per-chat conversation state."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import ChatState


@dataclass
class ConversationState:
    """A plain copy of one chat's state, detached from the database."""

    chat_id: int
    flow: str | None = None
    step: str | None = None
    data: dict = field(default_factory=dict)
    last_update_id: int | None = None
    updated_at: datetime | None = None


class ChatStateRepository:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def load(self, chat_id: int) -> ConversationState:
        with self._sessions() as session:
            row = session.get(ChatState, chat_id)
            if row is None:
                return ConversationState(chat_id=chat_id)
            return ConversationState(chat_id=chat_id, flow=row.flow, step=row.step, data=dict(row.data or {}),
                                     last_update_id=row.last_update_id, updated_at=row.updated_at)

    def save(self, state: ConversationState) -> None:
        """Upsert the state; the row is locked while written so concurrent workers serialise per chat."""
        with self._sessions.begin() as session:
            row = session.execute(
                select(ChatState).where(ChatState.chat_id == state.chat_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                row = ChatState(chat_id=state.chat_id)
                session.add(row)
            row.flow = state.flow
            row.step = state.step
            row.data = dict(state.data)
            row.last_update_id = state.last_update_id

    def in_flow(self, flow: str, idle_since: datetime) -> list[ConversationState]:
        """Chats in `flow` whose state has not changed since `idle_since`."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatState).where(ChatState.flow == flow, ChatState.updated_at < idle_since)
            ).all()
            return [ConversationState(chat_id=r.chat_id, flow=r.flow, step=r.step, data=dict(r.data or {}),
                                      last_update_id=r.last_update_id, updated_at=r.updated_at) for r in rows]

    def clear(self, chat_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(ChatState).where(ChatState.chat_id == chat_id))
