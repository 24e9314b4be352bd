"""Repository for trafficking reports, their audit log and the delivery outbox.

Rows are returned detached (the session factory does not expire on commit) with their evidence loaded.
Times are UTC; SQLite hands them back without a time zone, so `utc()` puts it back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.models import Delivery, Report, ReportEvidence, ReportStatusChange, StatusLookup

OPEN_STATUSES = ("baru", "diterima", "diproses")
CLOSED_STATUSES = ("selesai", "bukan_tppo")
STAFF_KINDS = ("report", "evidence", "reminder")  # deliveries to the task-force chat; "notice" goes to the reporter


def utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class NewReport:
    code: str
    draft_key: str
    urgent: bool
    category: str | None
    location_kind: str | None
    location: str | None
    agency_id: int | None
    details_secret: str
    contact_mode: str
    reporter_secret: str | None
    reporter_key: str | None
    evidence: tuple[tuple[str, str], ...]  # (kind, Telegram file id)


@dataclass(frozen=True)
class DueDelivery:
    id: int
    kind: str
    ref: int
    attempts: int
    report: Report


class CodeTaken(Exception):
    """The generated code already exists (vanishingly rare); the caller draws another."""


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
                    reporter_secret=new.reporter_secret, reporter_key=new.reporter_key, status="baru",
                )
                report.evidence = [ReportEvidence(position=i, kind=kind, file_id=file_id)
                                   for i, (kind, file_id) in enumerate(new.evidence, start=1)]
                session.add(report)
                session.flush()
                session.add(Delivery(report_id=report.id, kind="report", ref=0))
                session.add_all(Delivery(report_id=report.id, kind="evidence", ref=e.position) for e in report.evidence)
        except IntegrityError:
            existing = self.by_draft_key(new.draft_key)
            if existing is not None:  # the same draft submitted at the same moment elsewhere
                return existing, False
            raise CodeTaken(new.code) from None
        return self.get(report.id), True

    def by_draft_key(self, draft_key: str) -> Report | None:
        return self._one(select(Report).where(Report.draft_key == draft_key))

    def by_code(self, code: str) -> Report | None:
        return self._one(select(Report).where(Report.code == code))

    def get(self, report_id: int) -> Report | None:
        return self._one(select(Report).where(Report.id == report_id))

    def by_reporter(self, reporter_key: str) -> list[Report]:
        return self._all(select(Report).where(Report.reporter_key == reporter_key).order_by(Report.id))

    def listing(self, open_only: bool = False, undelivered_only: bool = False) -> list[Report]:
        query = select(Report).order_by(Report.id)
        if open_only:
            query = query.where(Report.status.in_(OPEN_STATUSES))
        if undelivered_only:
            pending = select(Delivery.report_id).where(Delivery.sent_at.is_(None), Delivery.kind.in_(STAFF_KINDS))
            query = query.where(Report.id.in_(pending))
        return self._all(query)

    # ---- status ------------------------------------------------------------------------------

    def change_status(self, report_id: int, to_status: str, staff_user_id: int, staff_name: str,
                      notify_reporter: bool) -> ReportStatusChange | None:
        """Move the report to `to_status` and write the audit row (and the reporter's notice) with it.

        Returns None when the report does not exist or already has that status."""
        with self._sessions.begin() as session:
            report = session.execute(select(Report).where(Report.id == report_id).with_for_update()).scalar_one_or_none()
            if report is None or report.status == to_status:
                return None
            change = ReportStatusChange(report_id=report.id, from_status=report.status, to_status=to_status,
                                        staff_user_id=staff_user_id, staff_name=staff_name[:200])
            session.add(change)
            report.status = to_status
            report.status_changed_at = datetime.now(timezone.utc)
            session.flush()
            if notify_reporter and report.reporter_secret is not None:
                session.add(Delivery(report_id=report.id, kind="notice", ref=change.id))
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
        """Due deliveries, urgent reports' first, then oldest first; leased for `lease` so no other worker sends them.

        Evidence and reminders wait until the report message itself is delivered (they reply to it)."""
        with self._sessions.begin() as session:
            query = (
                select(Delivery, Report).join(Report, Report.id == Delivery.report_id)
                .where(Delivery.sent_at.is_(None), Delivery.due_at <= now)
                .where((Delivery.kind.in_(("report", "notice"))) | Report.staff_message_id.is_not(None))
                .order_by(Report.urgent.desc(), Delivery.id).limit(limit)
                .options(selectinload(Report.evidence))
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=Delivery, skip_locked=True)
            rows = session.execute(query).all()
            for delivery, _report in rows:
                delivery.due_at = now + lease
            return [DueDelivery(d.id, d.kind, d.ref, d.attempts, r) for d, r in rows]

    def mark_sent(self, delivery_id: int, message_id: int | None) -> None:
        now = datetime.now(timezone.utc)
        with self._sessions.begin() as session:
            delivery = session.get(Delivery, delivery_id)
            delivery.sent_at, delivery.message_id, delivery.last_error = now, message_id, None
            if delivery.kind == "report":
                session.execute(update(Report).where(Report.id == delivery.report_id)
                                .values(staff_message_id=message_id, delivered_at=now))

    def mark_failed(self, delivery_id: int, error: str, retry_at: datetime) -> int:
        """Record a failed attempt and when to try again; returns the number of attempts so far."""
        with self._sessions.begin() as session:
            delivery = session.get(Delivery, delivery_id)
            delivery.attempts += 1
            delivery.last_error = error[:300]
            delivery.due_at = retry_at
            return delivery.attempts

    def pending_deliveries(self, report_id: int) -> list[Delivery]:
        with self._sessions() as session:
            return list(session.scalars(select(Delivery).where(Delivery.report_id == report_id,
                                                               Delivery.sent_at.is_(None))))

    def enqueue_reminders(self, now: datetime, period: timedelta) -> int:
        """A reminder per full `period` a delivered report has waited for acknowledgement; returns how many."""
        added = 0
        with self._sessions.begin() as session:
            reports = session.scalars(select(Report).where(Report.status == "baru", Report.delivered_at.is_not(None)))
            for report in reports:
                sent = session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.report_id == report.id, Delivery.kind == "reminder")) or 0
                if now - utc(report.delivered_at) >= period * (sent + 1):
                    session.add(Delivery(report_id=report.id, kind="reminder", ref=sent + 1))
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

    def failed_lookups(self, chat_key: str, since: datetime) -> list[datetime]:
        with self._sessions() as session:
            return [utc(at) for at in session.scalars(
                select(StatusLookup.at).where(StatusLookup.chat_key == chat_key, StatusLookup.at >= since)
                .order_by(StatusLookup.at))]

    def record_failed_lookup(self, chat_key: str, now: datetime, forget_before: datetime) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(StatusLookup).where(StatusLookup.at < forget_before))
            session.add(StatusLookup(chat_key=chat_key, at=now))

    # ---- helpers -----------------------------------------------------------------------------

    def _one(self, query) -> Report | None:
        with self._sessions() as session:
            return session.scalars(query.options(selectinload(Report.evidence))).first()

    def _all(self, query) -> list[Report]:
        with self._sessions() as session:
            return list(session.scalars(query.options(selectinload(Report.evidence))))
