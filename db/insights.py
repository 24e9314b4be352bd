"""Repository for insights: anonymous daily counters, missed messages, and read-only figures from reports.

Nothing here reads an encrypted column: reports are counted by category, place code, status and times only.
Counters are added to (upsert), so several bot processes flushing the same day and key add up.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Agency, InsightCount, InsightMissed, Report, ReportStatusChange
from db.session import rows_affected

CounterModel = TypeVar("CounterModel", InsightCount, InsightMissed)  # a table whose rows count up by upsert


@dataclass(frozen=True)
class CountRow:
    day: date
    kind: str
    key: str
    count: int


@dataclass(frozen=True)
class MissedRow:
    text: str
    outcome: str
    guess: str
    count: int
    last_day: date


@dataclass(frozen=True)
class ReportFacts:
    """What insights may know about one report: no text, no reporter, no names."""

    created_at: datetime
    category: str | None
    location_kind: str | None
    location: str | None
    status: str
    urgent: bool
    first_response_at: datetime | None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class InsightRepository:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    # ---- writing (from the recorder's background flush) ---------------------------------------

    def add(self, counts: dict[tuple[date, str, str], int],
            missed: dict[tuple[date, str, str, str], int]) -> None:
        """Add these counts (keys (day, kind, key)) and missed messages (keys (day, text, outcome, guess))."""
        if not counts and not missed:
            return
        with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            for (day, kind, key), n in counts.items():
                self._upsert(session, dialect, InsightCount, {"day": day, "kind": kind, "key": key[:120]}, n,
                             ("day", "kind", "key"))
            for (day, text, outcome, guess), n in missed.items():
                self._upsert(session, dialect, InsightMissed,
                             {"day": day, "text": text[:500], "outcome": outcome, "guess": guess[:80]}, n,
                             ("day", "text", "outcome", "guess"))

    @staticmethod
    def _upsert(session: Session, dialect: str, model: type[CounterModel],
                keys: dict[str, object], n: int, conflict: tuple[str, ...]) -> None:
        if dialect in ("sqlite", "postgresql"):
            insert = sqlite.insert(model) if dialect == "sqlite" else postgresql.insert(model)
            statement = insert.values(**keys, count=n)
            statement = statement.on_conflict_do_update(index_elements=list(conflict),
                                                        set_={"count": model.count + statement.excluded.count})
            session.execute(statement)
            return
        row = session.scalars(select(model).filter_by(**keys).with_for_update()).first()
        if row is None:
            session.add(model(**keys, count=n))
        else:
            row.count += n

    def claim(self, day: date, key: str) -> bool:
        """Mark a one-off job (e.g. the monthly post) done for `day`; False when it was already marked.
        Atomic across processes: the counter row's primary key decides."""
        try:
            with self._sessions.begin() as session:
                session.add(InsightCount(day=day, kind="done", key=key[:120], count=1))
        except IntegrityError:
            return False
        return True

    def unclaim(self, day: date, key: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(InsightCount).where(InsightCount.day == day, InsightCount.kind == "done",
                                                       InsightCount.key == key))

    def forget_missed_before(self, day: date) -> int:
        """Delete missed messages older than `day` (retention); returns how many rows went."""
        with self._sessions.begin() as session:
            return rows_affected(session.execute(delete(InsightMissed).where(InsightMissed.day < day)))

    # ---- reading ------------------------------------------------------------------------------

    def counts(self, start: date, end: date, kinds: Iterable[str] | None = None) -> list[CountRow]:
        """Counters with start <= day <= end."""
        query = select(InsightCount).where(InsightCount.day >= start, InsightCount.day <= end)
        if kinds is not None:
            query = query.where(InsightCount.kind.in_(tuple(kinds)))
        with self._sessions() as session:
            return [CountRow(r.day, r.kind, r.key, r.count)
                    for r in session.scalars(query.order_by(InsightCount.day, InsightCount.kind, InsightCount.key))]

    def missed(self, since: date) -> list[MissedRow]:
        """Missed messages since `since`, summed over days, most frequent first."""
        query = (select(InsightMissed.text, InsightMissed.outcome, InsightMissed.guess,
                        func.sum(InsightMissed.count), func.max(InsightMissed.day))
                 .where(InsightMissed.day >= since)
                 .group_by(InsightMissed.text, InsightMissed.outcome, InsightMissed.guess))
        with self._sessions() as session:
            rows = [MissedRow(text, outcome, guess, int(n), last) for text, outcome, guess, n, last
                    in session.execute(query)]
        return sorted(rows, key=lambda row: (-row.count, row.text))

    def agency_statuses(self, agency_ids: Iterable[int]) -> dict[int, str]:
        """The current registry status of these agencies (listed ones; others are "tidak_terdaftar_lagi")."""
        ids = tuple(agency_ids)
        if not ids:
            return {}
        with self._sessions() as session:
            return {agency_id: (status if listed else "tidak_terdaftar_lagi") for agency_id, status, listed
                    in session.execute(select(Agency.id, Agency.status, Agency.listed).where(Agency.id.in_(ids)))}

    def reports(self, start: datetime, end: datetime) -> list[ReportFacts]:
        """Reports filed with start <= created_at < end, with the time of the first staff status change."""
        first = (select(ReportStatusChange.report_id, func.min(ReportStatusChange.changed_at).label("first_at"))
                 .group_by(ReportStatusChange.report_id).subquery())
        query = (select(Report.created_at, Report.category, Report.location_kind, Report.location, Report.status,
                        Report.urgent, first.c.first_at)
                 .outerjoin(first, first.c.report_id == Report.id)
                 .where(Report.created_at >= start, Report.created_at < end)
                 .order_by(Report.created_at))
        with self._sessions() as session:
            return [ReportFacts(_utc(created), category, kind, location, status, bool(urgent),
                                _utc(first_at) if first_at is not None else None)
                    for created, category, kind, location, status, urgent, first_at in session.execute(query)]
