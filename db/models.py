"""SQLAlchemy 2 ORM models."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.enums import CountedEvent, ReportStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ChatState(Base):
    """Where one chat is in the conversation; saved after every step."""

    __tablename__ = "chat_state"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the chat state: JSON, see db/chat_state.py
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The chat's Telegram updates handled lately (ids, newest last): a redelivered update is recognised and ignored,
    # and one that arrives late through another worker is still handled.
    recent_updates: Mapped[list[int] | None] = mapped_column(JSON)
    # The last handled update's replies (sealed with the report key when set): sent again if the worker that
    # handled it died before sending them (db/chat_state.py).
    last_replies: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Agency(Base):
    """A recruiting agency (P3MI) as seen in an imported list, a seed file or the demo list."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    licence_number: Mapped[str | None] = mapped_column(String(100))
    licence_key: Mapped[str | None] = mapped_column(String(100), index=True)
    licence_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    status_basis: Mapped[str | None] = mapped_column(Text)
    status_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    last_synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    branches: Mapped[list[AgencyBranch]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyBranch.id"
    )


class AgencyBranch(Base):
    __tablename__ = "agency_branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    regency: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship(back_populates="branches")


class AgencyStatusChange(Base):
    """History: what changed in an agency's status, when, and from which import or decree."""

    __tablename__ = "agency_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RegistrySync(Base):
    """One import or seed of the agency registry: what the "Data per <date>, sumber ..." line rests on."""

    __tablename__ = "registry_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # "import", "seed" or "demo"
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)


class Report(Base):
    """A suspected-trafficking report. Free text and the reporter's details are Fernet tokens (encrypted at rest)."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # The reporter's draft id: submitting the same draft twice (a redelivered press) finds this report again.
    draft_key: Mapped[str] = mapped_column(String(40), unique=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str | None] = mapped_column(String(40))
    location_kind: Mapped[str | None] = mapped_column(String(20))  # a LocationKind
    location: Mapped[str | None] = mapped_column(String(100))  # regency code or country code; free text is secret
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    details_secret: Mapped[str] = mapped_column(Text)  # what happened, who, when, typed places
    contact_mode: Mapped[str] = mapped_column(String(20))  # a ContactMode
    reporter_secret: Mapped[str | None] = mapped_column(Text)  # chat id and phone; None when anonymous
    reporter_key: Mapped[str | None] = mapped_column(String(64), index=True)  # keyed hash of the chat id
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.NEW)  # a ReportStatus
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Queue fairness: urgent reports jump the delivery queue only once a day per reporter (`prioritized`), and
    # due messages are taken round-robin across senders. `sender_key` (a keyed hash of the chat, also for anonymous
    # reports) is erased as soon as everything for the task force is sent, so it cannot link reports later.
    prioritized: Mapped[bool] = mapped_column(Boolean, default=False)
    sender_key: Mapped[str | None] = mapped_column(String(64))

    evidence: Mapped[list[ReportEvidence]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportEvidence.position"
    )


class ReportEvidence(Base):
    """A photo, document or voice note, kept as Telegram's file id (the file stays on Telegram's servers)."""

    __tablename__ = "report_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[str] = mapped_column(Text)  # encrypted (Fernet token of the Telegram file id)

    report: Mapped[Report] = relationship(back_populates="evidence")


class ReportStatusChange(Base):
    """Audit log: who moved a report from which status to which, and when."""

    __tablename__ = "report_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))  # a ReportStatus
    to_status: Mapped[str] = mapped_column(String(20))
    staff_user_id: Mapped[int] = mapped_column(BigInteger)
    staff_name: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Delivery(Base):
    """Outbox: one message to send (report, evidence, reminder, notice). Unique per report, kind and ref."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("report_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # a DeliveryKind
    ref: Mapped[int] = mapped_column(Integer, default=0)  # evidence position, reminder number, status change id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set when Telegram refused for good (message too long, bot blocked, chat not found): no more retries;
    # `reports list --undelivered` shows it. Cleared when an operator retries it.
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by each claim: only the holder of the current claim may record the outcome (a worker whose lease ran out
    # while it was still retrying cannot mark a delivery another worker has claimed since).
    claim_token: Mapped[str | None] = mapped_column(String(32))


class StatusLookup(Base):
    """Something a chat did that is limited per period (a failed `/status` guess, a filed report, an urgent report's
    priority), kept as a keyed hash of the chat and a time, briefly."""

    __tablename__ = "status_lookup"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default=CountedEvent.FAILED_LOOKUP)  # a CountedEvent


class BotMeta(Base):
    """Small facts the bot keeps about itself: the report key check, the task-force chat id after a migration."""

    __tablename__ = "bot_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class InsightCount(Base):
    """An anonymous counter of one day: what was asked (`kind` "topic", "button"), how it went ("outcome"),
    agency checks ("agency": registry id, "?" or "choose"; "agency_unknown": a name not in the registry) and job
    offers ("offer", "offer_sign"). No chat or user id, no time finer than the day."""

    __tablename__ = "insight_count"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class InsightMissed(Base):
    """A message the bot did not understand, asked about, or answered unsure: normalised, digits, e-mail addresses
    and capitalised unknown words removed, counted per day; kept 90 days. `guess` is NLU's nearest label or ""."""

    __tablename__ = "insight_missed"
    __table_args__ = (UniqueConstraint("day", "text", "outcome", "guess"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    text: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20))  # "not_understood", "clarify", "unsure"
    guess: Mapped[str] = mapped_column(String(80), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class InboxUpdate(Base):
    """A Telegram update stored before it is acknowledged (unique by update_id, so a redelivery is recognised), then
    handled from here by whichever worker holds the chat (db/inbox.py): "pending" -> "done" (payload erased, the row
    kept a day to recognise redeliveries)."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # an InboxStatus
    payload: Mapped[str | None] = mapped_column(Text)  # the update as JSON, sealed when a report key is set
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class Lease(Base):
    """A job one process runs at a time (the delivery leader): held until `expires_at`, renewed by its holder, taken
    over when it expires; `token` grows with every new holder (a fencing token)."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    token: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
