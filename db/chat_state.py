"""Repository for per-chat conversation state."""
from __future__ import annotations

from dataclasses import dataclass, field

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


class ChatStateRepository:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def load(self, chat_id: int) -> ConversationState:
        with self._sessions() as session:
            row = session.get(ChatState, chat_id)
            if row is None:
                return ConversationState(chat_id=chat_id)
            return ConversationState(chat_id=chat_id, flow=row.flow, step=row.step, data=dict(row.data or {}))

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

    def clear(self, chat_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(ChatState).where(ChatState.chat_id == chat_id))
