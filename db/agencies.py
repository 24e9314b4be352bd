"""Repository for the agency (P3MI) registry: lookups, imports with history, seeds."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.models import Agency, AgencyBranch, AgencyStatusChange, RegistrySync, utcnow
from db.session import rows_affected


@dataclass(frozen=True)
class BranchRow:
    regency: str | None
    province: str | None
    address: str | None = None
    registered: bool = True


@dataclass
class AgencyRow:
    """One agency as read from a file, already validated and normalised by the caller."""

    name: str
    normalized_name: str
    status: str
    licence_number: str | None = None
    licence_key: str | None = None
    licence_date: date | None = None
    status_basis: str | None = None
    status_date: date | None = None
    address: str | None = None
    city: str | None = None
    province: str | None = None
    phone: str | None = None
    aliases: list[str] = field(default_factory=list)
    branches: list[BranchRow] = field(default_factory=list)
    source: str | None = None


@dataclass(frozen=True)
class MatchEntry:
    id: int
    normalized_name: str
    aliases: tuple[str, ...]
    licence_number: str | None


@dataclass(frozen=True)
class AgencyRecord:
    id: int
    name: str
    status: str
    licence_number: str | None
    licence_date: date | None
    status_basis: str | None
    status_date: date | None
    city: str | None
    province: str | None
    source: str
    is_demo: bool
    listed: bool
    last_synced_at: datetime
    branches: tuple[BranchRow, ...]


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: list[tuple[str, str | None, str]] = field(default_factory=list)
    no_longer_listed: list[str] = field(default_factory=list)
    demo_removed: int = 0


class AgencyRepository:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def version(self) -> tuple[int | None]:
        """Changes whenever the registry changes (every seed and import writes a sync row); cheap enough to ask on
        every lookup (a primary-key maximum)."""
        with self._sessions() as session:
            return (session.execute(select(func.max(RegistrySync.id))).scalar(),)

    def match_entries(self) -> list[MatchEntry]:
        with self._sessions() as session:
            rows = session.execute(select(Agency.id, Agency.normalized_name, Agency.aliases, Agency.licence_number))
            return [MatchEntry(r.id, r.normalized_name, tuple(r.aliases or ()), r.licence_number) for r in rows]

    def get(self, agency_id: int) -> AgencyRecord | None:
        with self._sessions() as session:
            agency = session.get(Agency, agency_id, options=[selectinload(Agency.branches)])
            if agency is None:
                return None
            return AgencyRecord(
                id=agency.id, name=agency.name, status=agency.status, licence_number=agency.licence_number,
                licence_date=agency.licence_date, status_basis=agency.status_basis, status_date=agency.status_date,
                city=agency.city, province=agency.province, source=agency.source, is_demo=agency.is_demo,
                listed=agency.listed, last_synced_at=agency.last_synced_at,
                branches=tuple(BranchRow(b.regency, b.province, b.address, b.registered) for b in agency.branches),
            )

    def history(self, agency_id: int) -> list[tuple[str | None, str, str | None, str, datetime]]:
        with self._sessions() as session:
            rows = session.execute(
                select(AgencyStatusChange).where(AgencyStatusChange.agency_id == agency_id)
                .order_by(AgencyStatusChange.id)
            ).scalars()
            return [(c.from_status, c.to_status, c.basis, c.source, c.changed_at) for c in rows]

    def latest_sync(self, kinds: tuple[str, ...]) -> tuple[str, datetime] | None:
        with self._sessions() as session:
            row = session.execute(
                select(RegistrySync.source, RegistrySync.synced_at).where(RegistrySync.kind.in_(kinds))
                .order_by(RegistrySync.synced_at.desc(), RegistrySync.id.desc()).limit(1)
            ).first()
            return (row.source, row.synced_at) if row else None

    def seed(self, rows: list[AgencyRow], source: str, kind: str, as_of: date | None = None) -> int:
        """Insert the rows whose name is not in the registry yet (idempotent); returns how many were added.
        `as_of` dates the data (default: now)."""
        with self._sessions.begin() as session:
            known = set(session.execute(select(Agency.normalized_name)).scalars())
            added = [row for row in rows if row.normalized_name not in known]
            for row in added:
                agency = _new_agency(row, row.source or source, is_demo=kind == "demo")
                session.add(agency)
                session.flush()
                session.add(AgencyStatusChange(agency_id=agency.id, from_status=None, to_status=row.status,
                                               basis=row.status_basis, source=row.source or source))
            if added:
                synced_at = datetime.combine(as_of, time(12), UTC) if as_of else utcnow()
                session.add(RegistrySync(source=source, kind=kind, rows=len(added), synced_at=synced_at))
            return len(added)

    def apply_import(self, rows: list[AgencyRow], source: str, dry_run: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> ImportSummary:
        """Apply a full official list in one transaction: add, update, record status changes, mark agencies
        missing from the list as no longer listed (never deleted), drop demo rows. `dry_run` rolls back."""
        summary = ImportSummary()
        now = utcnow()
        with self._sessions() as session, session.begin():
            existing = list(session.execute(
                select(Agency).where(Agency.is_demo.is_(False)).options(selectinload(Agency.branches))
            ).scalars())
            by_licence = {a.licence_key: a for a in existing if a.licence_key}
            by_name = {a.normalized_name: a for a in existing}
            # Rows stored before a change of the normal forms still match the same list by what it says verbatim.
            by_number = {a.licence_number: a for a in existing if a.licence_number}
            by_full_name = {a.name: a for a in existing}
            seen: set[int] = set()
            for number, row in enumerate(rows, start=1):
                agency = by_licence.get(row.licence_key) if row.licence_key else None
                agency = agency or (by_number.get(row.licence_number) if row.licence_number else None)
                agency = agency or by_name.get(row.normalized_name) or by_full_name.get(row.name)
                if agency is None:
                    agency = _new_agency(row, source, is_demo=False, synced_at=now)
                    session.add(agency)
                    session.flush()
                    session.add(AgencyStatusChange(agency_id=agency.id, from_status=None, to_status=row.status,
                                                   basis=row.status_basis, source=source, changed_at=now))
                    summary.added += 1
                else:
                    if agency.status != row.status or not agency.listed:
                        old = agency.status if agency.listed else "tidak_terdaftar"
                        session.add(AgencyStatusChange(agency_id=agency.id, from_status=old, to_status=row.status,
                                                       basis=row.status_basis, source=source, changed_at=now))
                        summary.status_changes.append((row.name, old, row.status))
                    changed = _update_agency(agency, row, source, now)
                    summary.updated += changed
                    summary.unchanged += not changed
                seen.add(agency.id)
                if progress is not None and number % 1000 == 0:
                    progress(number, len(rows))
            for agency in existing:
                if agency.id not in seen and agency.listed:
                    agency.listed = False
                    agency.last_synced_at = now
                    session.add(AgencyStatusChange(agency_id=agency.id, from_status=agency.status,
                                                   to_status="tidak_terdaftar", basis=None, source=source,
                                                   changed_at=now))
                    summary.no_longer_listed.append(agency.name)
            summary.demo_removed = rows_affected(session.execute(delete(Agency).where(Agency.is_demo.is_(True))))
            session.add(RegistrySync(source=source, kind="import", rows=len(rows), synced_at=now))
            if dry_run:
                session.rollback()
        return summary


def _new_agency(row: AgencyRow, source: str, is_demo: bool, synced_at: datetime | None = None) -> Agency:
    agency = Agency(source=source, is_demo=is_demo, listed=True, last_synced_at=synced_at or utcnow())
    _copy_fields(agency, row)
    agency.branches = [_branch(b) for b in row.branches]
    return agency


def _branch(row: BranchRow) -> AgencyBranch:
    return AgencyBranch(regency=row.regency, province=row.province, address=row.address, registered=row.registered)


_FIELDS = ("name", "normalized_name", "aliases", "licence_number", "licence_key", "licence_date", "status",
           "status_basis", "status_date", "address", "city", "province", "phone")


def _copy_fields(agency: Agency, row: AgencyRow) -> None:
    for name in _FIELDS:
        setattr(agency, name, getattr(row, name))


def _update_agency(agency: Agency, row: AgencyRow, source: str, now: datetime) -> bool:
    """Copy the row over the agency; True when anything the user could see changed."""
    before = [getattr(agency, name) for name in _FIELDS] + [agency.listed]
    old_branches = [(b.regency, b.province, b.address, b.registered) for b in agency.branches]
    _copy_fields(agency, row)
    agency.listed = True
    new_branches = [(b.regency, b.province, b.address, b.registered) for b in row.branches]
    if new_branches != old_branches:
        agency.branches = [_branch(b) for b in row.branches]
    agency.source = source
    agency.last_synced_at = now
    return before != [getattr(agency, name) for name in _FIELDS] + [agency.listed] or new_branches != old_branches
