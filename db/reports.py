"""Repository for trafficking reports, their audit log and the delivery outbox.

Rows are returned detached (the session factory does not expire on commit) with their evidence loaded.
Times are UTC; SQLite hands them back without a time zone, so `utc()` puts it back.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.enums import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    TASKFORCE_KINDS,
    ContactMode,
    CountedEvent,
    DeliveryKind,
    LocationKind,
    ReportStatus,
)
from db.models import BotMeta, Delivery, Report, ReportEvidence, ReportStatusChange, StatusLookup
from db.session import lock_sqlite_for_writing, rows_affected

# Within one report, what is sent first (evidence and parts reply to the report message, so wait for it anyway).
SEND_ORDER = (DeliveryKind.REPORT, DeliveryKind.PART, DeliveryKind.EVIDENCE, DeliveryKind.NOTICE,
              DeliveryKind.REMINDER)
CLAIM_WINDOW = 500  # due deliveries looked at when choosing the next ones fairly
DueRow = tuple[Delivery, Report]


@overload
def utc(value: datetime) -> datetime: ...


@overload
def utc(value: None) -> None: ...


def utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewReport:
    code: str
    draft_key: str
    urgent: bool
    category: str | None
    location_kind: LocationKind | None
    location: str | None
    agency_id: int | None
    details_secret: str
    contact_mode: ContactMode
    reporter_secret: str | None
    reporter_key: str | None
    evidence: tuple[tuple[str, str], ...]  # (kind, sealed Telegram file id)
    prioritized: bool = False  # jumps the delivery queue (urgent, and the reporter's first urgent one today)
    sender_key: str | None = None  # groups a sender's deliveries for round-robin; erased once delivered


@dataclass(frozen=True)
class DueDelivery:
    id: int
    kind: DeliveryKind
    ref: int
    attempts: int
    report: Report
    token: str  # this claim's fencing token: only its holder may renew it or record the outcome


class CodeTaken(Exception):
    """The generated code already exists (vanishingly rare); the caller draws another."""


class ClaimLost(Exception):
    """The delivery is no longer claimed with the caller's token (its lease ran out and another worker claimed it,
    or its outcome is recorded already): nothing was changed."""

    def __init__(self, delivery_id: int):
        super().__init__(f"delivery {delivery_id} is not claimed by the caller any more")
        self.delivery_id = delivery_id


class ReportRepository:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    # ---- filing ------------------------------------------------------------------------------

    def create(self, new: NewReport) -> tuple[Report, bool]:
        """Store the report with its evidence and its deliveries in one transaction.

        Returns (report, created). A draft submitted before returns its existing report (created False)."""
        existing = self.by_draft_key(new.draft_key)
        if existing is not None:
            return existing, False
        try:
            with self._sessions.begin() as session:
                report = Report(
                    code=new.code, draft_key=new.draft_key, urgent=new.urgent, category=new.category,
                    location_kind=new.location_kind, location=new.location, agency_id=new.agency_id,
                    details_secret=new.details_secret, contact_mode=new.contact_mode,
                    reporter_secret=new.reporter_secret, reporter_key=new.reporter_key, status=ReportStatus.NEW,
                    prioritized=new.prioritized, sender_key=new.sender_key,
                )
                report.evidence = [ReportEvidence(position=i, kind=kind, file_id=file_id)
                                   for i, (kind, file_id) in enumerate(new.evidence, start=1)]
                session.add(report)
                session.flush()
                session.add(Delivery(report_id=report.id, kind=DeliveryKind.REPORT, ref=0))
                session.add_all(Delivery(report_id=report.id, kind=DeliveryKind.EVIDENCE, ref=e.position)
                                for e in report.evidence)
        except IntegrityError:
            existing = self.by_draft_key(new.draft_key)
            if existing is not None:  # the same draft submitted at the same moment elsewhere
                return existing, False
            raise CodeTaken(new.code) from None
        created = self.get(report.id)
        assert created is not None  # committed just above
        return created, True

    def by_draft_key(self, draft_key: str) -> Report | None:
        return self._one(select(Report).where(Report.draft_key == draft_key))

    def by_code(self, code: str) -> Report | None:
        return self._one(select(Report).where(Report.code == code))

    def get(self, report_id: int) -> Report | None:
        return self._one(select(Report).where(Report.id == report_id))

    def by_reporter(self, reporter_keys: str | list[str]) -> list[Report]:
        keys = [reporter_keys] if isinstance(reporter_keys, str) else list(reporter_keys)
        return self._all(select(Report).where(Report.reporter_key.in_(keys)).order_by(Report.id))

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(Report)) or 0

    def listing(self, open_only: bool = False, undelivered_only: bool = False) -> list[Report]:
        query = select(Report).order_by(Report.id)
        if open_only:
            query = query.where(Report.status.in_(OPEN_STATUSES))
        if undelivered_only:
            pending = select(Delivery.report_id).where(Delivery.sent_at.is_(None), Delivery.kind.in_(TASKFORCE_KINDS))
            query = query.where(Report.id.in_(pending))
        return self._all(query)

    # ---- status ------------------------------------------------------------------------------

    def change_status(self, report_id: int, to_status: ReportStatus, staff_user_id: int, staff_name: str,
                      notify_reporter: bool) -> ReportStatusChange | None:
        """Move the report to `to_status` and write the audit row (and the reporter's notice) with it.

        Returns None when the report does not exist or already has that status."""
        with self._sessions.begin() as session:
            report = session.scalars(select(Report).where(Report.id == report_id).with_for_update()).one_or_none()
            if report is None or report.status == to_status:
                return None
            change = ReportStatusChange(report_id=report.id, from_status=report.status, to_status=to_status,
                                        staff_user_id=staff_user_id, staff_name=staff_name[:200])
            session.add(change)
            report.status = to_status
            report.status_changed_at = datetime.now(UTC)
            session.flush()
            if notify_reporter and report.reporter_secret is not None:
                session.add(Delivery(report_id=report.id, kind=DeliveryKind.NOTICE, ref=change.id))
            return change

    def audit(self, report_id: int) -> list[ReportStatusChange]:
        with self._sessions() as session:
            return list(session.scalars(select(ReportStatusChange).where(ReportStatusChange.report_id == report_id)
                                        .order_by(ReportStatusChange.id)))

    def last_change(self, report_id: int) -> ReportStatusChange | None:
        changes = self.audit(report_id)
        return changes[-1] if changes else None

    # ---- the outbox --------------------------------------------------------------------------

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[DueDelivery]:
        """The next due deliveries, chosen fairly; leased for `lease` so no other worker sends them.

        Prioritized (urgent) reports' messages first; among the rest, and among those, one message per sender in
        turn (round-robin by `sender_key`), so a sender who queued hundreds of messages delays another sender's
        first report by at most one message each. Within a report: the report itself, its parts, then evidence.
        Evidence, parts and reminders wait until the report message itself is delivered (they reply to it).
        Deliveries Telegram refused for good (`gave_up_at`) are never claimed again.

        Each claim gets a fresh random token (its fencing token); one claim excludes every other: PostgreSQL locks
        the rows it looks at (`SKIP LOCKED`: a concurrent claim skips them), SQLite takes the database's write lock
        before it reads (`BEGIN IMMEDIATE`: a concurrent claim waits, then sees these leased)."""
        with self._sessions.begin() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            if not postgres:
                lock_sqlite_for_writing(session)
            query = (
                select(Delivery, Report).join(Report, Report.id == Delivery.report_id)
                .where(Delivery.sent_at.is_(None), Delivery.gave_up_at.is_(None), Delivery.due_at <= now)
                .where(Delivery.kind.in_((DeliveryKind.REPORT, DeliveryKind.NOTICE))
                       | Report.staff_message_id.is_not(None))
                .order_by(Report.prioritized.desc(), Delivery.id).limit(CLAIM_WINDOW)
                .options(selectinload(Report.evidence))
            )
            if postgres:
                query = query.with_for_update(of=Delivery, skip_locked=True)
            rows: list[DueRow] = [(delivery, report) for delivery, report in session.execute(query)]
            claimed = []
            for delivery, report in fair_order(rows, limit):
                token = secrets.token_hex(16)
                delivery.due_at, delivery.claim_token = now + lease, token
                claimed.append(DueDelivery(delivery.id, DeliveryKind(delivery.kind), delivery.ref, delivery.attempts,
                                           report, token))
            return claimed

    def renew_claims(self, claims: Sequence[DueDelivery], until: datetime) -> set[int]:
        """Extend the lease of the deliveries still claimed with these tokens to `until` (a send still being
        retried keeps its claim); returns the ids still held. Those missing were claimed by another worker since."""
        held = set()
        with self._sessions.begin() as session:
            for due in claims:
                result = session.execute(update(Delivery)
                                         .where(Delivery.id == due.id, Delivery.claim_token == due.token)
                                         .values(due_at=until).execution_options(synchronize_session=False))
                if rows_affected(result):
                    held.add(due.id)
        return held

    def mark_sent(self, delivery_id: int, token: str, message_id: int | None) -> None:
        """Record the delivery as sent (ending the claim); ClaimLost when `token` is not its claim any more."""
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            delivery = _finish_claim(session, delivery_id, token, sent_at=now, message_id=message_id,
                                     last_error=None)
            if delivery.kind == DeliveryKind.REPORT:
                session.execute(update(Report).where(Report.id == delivery.report_id)
                                .values(staff_message_id=message_id, delivered_at=now))
            pending = session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.report_id == delivery.report_id, Delivery.sent_at.is_(None),
                Delivery.kind.in_(TASKFORCE_KINDS))) or 0
            if not pending:  # everything is with the task force: the sender grouping is no longer needed
                session.execute(update(Report).where(Report.id == delivery.report_id).values(sender_key=None))

    def add_parts(self, report_id: int, parts: int) -> None:
        """Queue parts 2..`parts` of a report too long for one message (once; repeated calls add nothing)."""
        with self._sessions.begin() as session:
            have = set(session.scalars(select(Delivery.ref).where(Delivery.report_id == report_id,
                                                                  Delivery.kind == DeliveryKind.PART)))
            session.add_all(Delivery(report_id=report_id, kind=DeliveryKind.PART, ref=ref)
                            for ref in range(2, parts + 1) if ref not in have)

    def has_parts(self, report_id: int) -> bool:
        """True when the report was sent in parts (its first message shows the start of the story only)."""
        with self._sessions() as session:
            return (session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.report_id == report_id, Delivery.kind == DeliveryKind.PART)) or 0) > 0

    def give_up(self, delivery_id: int, token: str, error: str, now: datetime) -> int:
        """Telegram refused for good: stop retrying, keep the error for `reports list --undelivered`. Returns the
        attempts so far; ClaimLost when `token` is not the delivery's claim any more."""
        with self._sessions.begin() as session:
            return _finish_claim(session, delivery_id, token, attempts=Delivery.attempts + 1,
                                 last_error=f"GAVE UP: {error}"[:300], gave_up_at=now).attempts

    def retry_given_up(self, now: datetime) -> int:
        """Queue every given-up delivery again (after the cause was fixed); returns how many."""
        with self._sessions.begin() as session:
            return rows_affected(session.execute(update(Delivery).where(Delivery.gave_up_at.is_not(None),
                                                                        Delivery.sent_at.is_(None))
                                                 .values(gave_up_at=None, due_at=now)))

    def mark_failed(self, delivery_id: int, token: str, error: str, retry_at: datetime) -> int:
        """Record a failed attempt and when to try again; returns the number of attempts so far. ClaimLost when
        `token` is not the delivery's claim any more."""
        with self._sessions.begin() as session:
            return _finish_claim(session, delivery_id, token, attempts=Delivery.attempts + 1,
                                 last_error=error[:300], due_at=retry_at).attempts

    def staff_message_ids(self, report_id: int) -> list[int]:
        """Message ids of the report's message and its reminders in the task-force chat, oldest first."""
        with self._sessions() as session:
            return [m for m in session.scalars(
                select(Delivery.message_id).where(Delivery.report_id == report_id,
                                                  Delivery.kind.in_((DeliveryKind.REPORT, DeliveryKind.REMINDER)),
                                                  Delivery.message_id.is_not(None)).order_by(Delivery.id))
                    if m is not None]

    def pending_deliveries(self, report_id: int) -> list[Delivery]:
        with self._sessions() as session:
            return list(session.scalars(select(Delivery).where(Delivery.report_id == report_id,
                                                               Delivery.sent_at.is_(None))))

    def enqueue_reminders(self, now: datetime, period: timedelta) -> int:
        """A reminder per full `period` a delivered report has waited for acknowledgement; returns how many."""
        added = 0
        with self._sessions.begin() as session:
            reports = session.scalars(select(Report).where(Report.status == ReportStatus.NEW,
                                                           Report.delivered_at.is_not(None)))
            for report in reports:
                sent = session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.report_id == report.id, Delivery.kind == DeliveryKind.REMINDER)) or 0
                delivered_at = report.delivered_at
                assert delivered_at is not None  # selected so
                if now - utc(delivered_at) >= period * (sent + 1):
                    session.add(Delivery(report_id=report.id, kind=DeliveryKind.REMINDER, ref=sent + 1))
                    added += 1
        return added

    # ---- retention and rate limiting ---------------------------------------------------------

    def closed_before(self, cutoff: datetime) -> list[Report]:
        return self._all(select(Report).where(Report.status.in_(CLOSED_STATUSES), Report.status_changed_at < cutoff)
                         .order_by(Report.id))

    def delete(self, report_ids: list[int]) -> None:
        with self._sessions.begin() as session:
            for table in (Delivery, ReportStatusChange, ReportEvidence):
                session.execute(delete(table).where(table.report_id.in_(report_ids)))
            session.execute(delete(Report).where(Report.id.in_(report_ids)))

    def recorded(self, kind: CountedEvent, chat_key: str | None, since: datetime) -> list[datetime]:
        """When this chat (every chat, for None) did `kind` since `since`, oldest first."""
        query = select(StatusLookup.at).where(StatusLookup.kind == kind, StatusLookup.at >= since)
        if chat_key is not None:
            query = query.where(StatusLookup.chat_key == chat_key)
        with self._sessions() as session:
            return [utc(at) for at in session.scalars(query.order_by(StatusLookup.at))]

    def record(self, kind: CountedEvent, chat_key: str, now: datetime, forget_before: datetime) -> None:
        """Record that the chat did `kind` now; rows of `kind` older than `forget_before` are deleted."""
        with self._sessions.begin() as session:
            session.execute(delete(StatusLookup).where(StatusLookup.kind == kind, StatusLookup.at < forget_before))
            session.add(StatusLookup(chat_key=chat_key, at=now, kind=kind))

    def forget_chat(self, chat_keys: list[str], reseal: Callable[[str], str | None]) -> int:
        """Unlink a chat from everything kept about it: its filed reports stay with the task force, but without
        the chat id (`reseal(reporter_secret) -> new secret or None`), its hash and its queued notices. The
        rate-limit rows (a keyed hash and a time, gone within 24 hours) stay, so erasing cannot reset the limits.
        Returns how many reports were unlinked."""
        with self._sessions.begin() as session:
            reports = list(session.scalars(select(Report).where(
                Report.reporter_key.in_(chat_keys) | Report.sender_key.in_(chat_keys))))
            for report in reports:
                if report.reporter_secret is not None:
                    report.reporter_secret = reseal(report.reporter_secret)
                    if report.reporter_secret is None:
                        report.contact_mode = ContactMode.ANONYMOUS
                report.reporter_key = None
                report.sender_key = None
                session.execute(delete(Delivery).where(Delivery.report_id == report.id,
                                                       Delivery.kind == DeliveryKind.NOTICE,
                                                       Delivery.sent_at.is_(None)))
            return len(reports)

    # ---- keys ------------------------------------------------------------------------------------

    def reseal_all(self, reseal: Callable[[str], str]) -> int:
        """Re-encrypt every secret (`reseal(token) -> token`); one transaction. Returns the reports touched."""
        with self._sessions.begin() as session:
            reports = list(session.scalars(select(Report).options(selectinload(Report.evidence))))
            for report in reports:
                report.details_secret = reseal(report.details_secret)
                if report.reporter_secret is not None:
                    report.reporter_secret = reseal(report.reporter_secret)
                for evidence in report.evidence:
                    evidence.file_id = reseal(evidence.file_id)
            return len(reports)

    def rekey_reporters(self, chat_key_of: Callable[[Report], str | None]) -> None:
        """Recompute `reporter_key` from each report's sealed reporter (`chat_key_of(report) -> key or None`)."""
        with self._sessions.begin() as session:
            for report in session.scalars(select(Report).where(Report.reporter_secret.is_not(None))):
                report.reporter_key = chat_key_of(report)

    def get_meta(self, key: str) -> str | None:
        with self._sessions() as session:
            row = session.get(BotMeta, key)
            return row.value if row is not None else None

    def add_meta(self, key: str, value: str) -> str:
        """Store `value` under `key` unless a value is there already (workers starting together race for it);
        returns the value stored."""
        try:
            with self._sessions.begin() as session:
                session.add(BotMeta(key=key, value=value))
        except IntegrityError:
            pass
        return self.get_meta(key) or value

    def set_meta(self, key: str, value: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(BotMeta, key)
            if row is None:
                session.add(BotMeta(key=key, value=value))
            else:
                row.value = value

    # ---- helpers -----------------------------------------------------------------------------

    def _one(self, query: Select[Report]) -> Report | None:
        with self._sessions() as session:
            return session.scalars(query.options(selectinload(Report.evidence))).first()

    def _all(self, query: Select[Report]) -> list[Report]:
        with self._sessions() as session:
            return list(session.scalars(query.options(selectinload(Report.evidence))))


def _finish_claim(session: Session, delivery_id: int, token: str, **values: object) -> Delivery:
    """Record the outcome of a claim and end it (the token is cleared, so nothing more can be recorded with it);
    ClaimLost, changing nothing, when the delivery is not claimed with `token`. Returns the updated row."""
    result = session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.claim_token == token)
                             .values(claim_token=None, **values).execution_options(synchronize_session=False))
    if not rows_affected(result):
        raise ClaimLost(delivery_id)
    return session.get_one(Delivery, delivery_id)


def fair_order(rows: Sequence[DueRow], limit: int) -> list[DueRow]:
    """Up to `limit` of (delivery, report) rows: prioritized ones first, then round-robin across senders (a
    report without a sender key is its own sender), each sender's messages in their queue order."""
    chosen: list[DueRow] = []
    for prioritized in (True, False):
        queues: dict[str, list[DueRow]] = {}
        for delivery, report in rows:
            if bool(report.prioritized) == prioritized:
                sender = report.sender_key or f"report:{report.id}"
                queues.setdefault(sender, []).append((delivery, report))
        for queue in queues.values():
            queue.sort(key=lambda row: (row[1].id, SEND_ORDER.index(DeliveryKind(row[0].kind)), row[0].ref,
                                        row[0].id))
        while queues and len(chosen) < limit:
            for sender in list(queues):
                chosen.append(queues[sender].pop(0))
                if not queues[sender]:
                    del queues[sender]
                if len(chosen) >= limit:
                    break
    return chosen
