"""`python -m bot reports ...`: for staff and operators working outside Telegram."""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session, sessionmaker

from bot.content import Content
from bot.reports.crypto import ReportCipher, new_key
from bot.reports.service import ReportService, place_name
from bot.settings import PROJECT_ROOT, Settings
from db.enums import STAFF_STATUSES, ReportStatus
from db.models import Report
from db.reports import ReportRepository, utc

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
CONSOLE_STAFF_ID = 0  # status changes from the command line are recorded as by this user id


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`reports` and its subcommands (called by bot.cli)."""
    reports = commands.add_parser("reports", help="trafficking reports (for staff and operators)")
    report_commands = reports.add_subparsers(dest="reports_command", required=True)
    listing = report_commands.add_parser("list", help="list reports")
    listing.add_argument("--undelivered", action="store_true",
                         help="only reports with messages not yet delivered to the group (or given up)")
    listing.add_argument("--open", action="store_true", help="only reports not closed")
    report_commands.add_parser("show", help="show one report in full").add_argument("code")
    export = report_commands.add_parser("export", help="export every report (decrypted)")
    export.add_argument("--format", choices=["csv"], default="csv")
    export.add_argument("--output", type=Path, help="file to write, mode 0600 (default: standard output)")
    purge = report_commands.add_parser("purge", help="delete reports closed long ago")
    purge.add_argument("--closed-older-than", required=True, metavar="DAYS", help="e.g. 365d")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    report_commands.add_parser("init-key", help="write a new REPORT_ENCRYPTION_KEYS into .env if none is set "
                               "(refused while reports exist)")
    report_commands.add_parser("rotate-key", help="re-encrypt every report with the newest of "
                               "REPORT_ENCRYPTION_KEYS (put a new key first, run this, then drop the old one)")
    status = report_commands.add_parser("set-status", help="change a report's status as staff (e.g. without "
                                        "Telegram); the reporter is told as from the group")
    status.add_argument("code")
    status.add_argument("status", choices=STAFF_STATUSES)
    status.add_argument("--by", default="operator", help="name recorded in the audit log")
    report_commands.add_parser("retry", help="queue again the messages Telegram refused for good, once the "
                               "cause is fixed (bot added back to the group, ...)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import prepare_database

    if args.reports_command == "init-key":
        return init_key(settings)
    db_engine, sessions = prepare_database(settings.database_url)
    try:
        cli = ReportsCli(settings, sessions)
        command = args.reports_command
        if command == "list":
            return cli.list(args.undelivered, args.open)
        if command == "show":
            return cli.show(args.code)
        if command == "export":
            return cli.export_csv(args.output)
        if command == "rotate-key":
            return cli.rotate_key()
        if command == "set-status":
            return cli.set_status(args.code, ReportStatus(args.status), args.by)
        if command == "retry":
            return cli.retry()
        return cli.purge(args.closed_older_than, args.dry_run)
    finally:
        db_engine.dispose()

EXPORT_FIELDS = ("code", "created_at", "status", "status_changed_at", "urgent", "category", "where", "place",
                 "what", "who", "when", "agency_id", "evidence", "contact_mode", "phone", "delivered_at")


def init_key(settings: Settings, env_file: Path = PROJECT_ROOT / ".env") -> int:
    """Write a new REPORT_ENCRYPTION_KEYS into .env unless a key is configured; refuse while reports exist
    (a new key would make them unreadable for good: the lost key must be put back instead)."""
    if settings.report_encryption_keys:
        print("REPORT_ENCRYPTION_KEYS is already set; keeping it.")
        return 0
    stored = _stored_reports(settings.database_url)
    if stored:
        print(f"Error: REPORT_ENCRYPTION_KEYS is not set, but the database holds {stored} report(s) sealed with a "
              "key. Not creating a new one: those reports could never be read again. Put the key they were "
              "written with back in .env (REPORT_ENCRYPTION_KEYS=...), or restore .env from its backup.",
              file=sys.stderr)
        return 1
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    existing = re.sub(r"^REPORT_ENCRYPTION_KEYS?=.*\n?", "", existing, flags=re.MULTILINE)
    separator = "" if not existing or existing.endswith("\n") else "\n"
    env_file.write_text(f"{existing}{separator}REPORT_ENCRYPTION_KEYS={new_key()}\n", encoding="utf-8")
    env_file.chmod(0o600)
    print(f"Wrote a new REPORT_ENCRYPTION_KEYS to {env_file}. Back it up: reports cannot be read without it.")
    return 0


def _stored_reports(database_url: str) -> int:
    """Reports in the database (0 when there is no database or no report table yet), without migrating it."""
    from sqlalchemy import create_engine, inspect, text

    if database_url.startswith("sqlite:///") and not Path(database_url.removeprefix("sqlite:///")).exists():
        return 0
    engine = create_engine(database_url)
    try:
        if not inspect(engine).has_table("report"):
            return 0
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM report")).scalar() or 0)
    finally:
        engine.dispose()


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that spreadsheet programs show as text, never run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class ReportsCli:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], out: TextIO | None = None):
        if settings.report_encryption_key is None:
            raise SystemExit("Error: REPORT_ENCRYPTION_KEY is not set; reports cannot be read without it.")
        self._settings = settings
        self._sessions = sessions
        self._repository = ReportRepository(sessions)
        self._cipher = ReportCipher(settings.report_encryption_keys)
        self._content = Content(settings.content_dir)
        self._out = out or sys.stdout

    def _service(self) -> ReportService:
        from bot.app import report_service
        from bot.content import ContentStore
        from bot.registry.service import AgencyRegistry
        from db.agencies import AgencyRepository

        service = report_service(self._settings, self._sessions, ContentStore(self._settings.content_dir),
                                 AgencyRegistry(AgencyRepository(self._sessions)), check=False, console=True)
        if service is None:
            raise SystemExit("Error: set REPORT_ENCRYPTION_KEYS first.")
        return service

    def rotate_key(self) -> int:
        """Re-encrypt everything with the newest key; the older keys may be removed from .env afterwards."""
        service = self._service()
        try:
            count = service.rotate_key()
        except ValueError:
            print("Error: some reports cannot be opened with any key in REPORT_ENCRYPTION_KEYS; nothing changed. "
                  "List the key they were written with after the new one.", file=sys.stderr)
            return 1
        print(f"Re-encrypted {count} report(s) with the newest key. Once every running bot uses the new "
              "REPORT_ENCRYPTION_KEYS, the older keys may be removed from it (keep a backup until then).",
              file=self._out)
        return 0

    def set_status(self, code: str, status: ReportStatus, by: str) -> int:
        """Staff action from the command line (e.g. with the console demo, or Telegram down)."""
        report = self._repository.by_code(code.strip().upper())
        if report is None:
            print(f"No report with code {code!r}.", file=sys.stderr)
            return 1
        change = self._service().change_status(report.id, status, CONSOLE_STAFF_ID, by)
        if change is None:
            print(f"{report.code} already has status {status}.", file=self._out)
        else:
            print(f"{report.code}: {change.from_status} -> {status} (by {by}); the reporter is told if they asked "
                  "to be.", file=self._out)
        return 0

    def retry(self) -> int:
        count = self._repository.retry_given_up(datetime.now(UTC))
        print(f"Queued {count} message(s) again; the running bot sends them within a few seconds.", file=self._out)
        return 0

    def list(self, undelivered: bool, open_only: bool) -> int:
        reports = self._repository.listing(open_only=open_only, undelivered_only=undelivered)
        for report in reports:
            pending = self._repository.pending_deliveries(report.id) if undelivered else []
            errors = sorted({d.last_error for d in pending if d.last_error})
            gave_up = [d for d in pending if d.gave_up_at is not None]
            line = (f"{report.code}  {report.status:<10}  filed {utc(report.created_at):%Y-%m-%d %H:%M} UTC"
                    f"{'  URGENT' if report.urgent else ''}"
                    f"{'  delivered' if report.delivered_at else '  NOT DELIVERED'}")
            if pending:
                attempts = max(d.attempts for d in pending)
                line += f"  ({len(pending)} message(s) queued, {attempts} attempt(s); last error: "
                line += f"{errors[-1] if errors else 'none yet'})"
            if gave_up:
                line += f"  GAVE UP on {len(gave_up)}: {gave_up[0].kind}: {gave_up[0].last_error}"
            print(line, file=self._out)
        print(f"{len(reports)} report(s)", file=self._out)
        return 0

    def show(self, code: str) -> int:
        report = self._repository.by_code(code.strip().upper())
        if report is None:
            print(f"No report with code {code!r}.", file=sys.stderr)
            return 1
        for field, value in self._row(report).items():
            print(f"{field:>17}: {value if value not in (None, '') else '-'}", file=self._out)
        for change in self._repository.audit(report.id):
            print(f"{'status change':>17}: {utc(change.changed_at):%Y-%m-%d %H:%M} UTC {change.from_status} -> "
                  f"{change.to_status} by {change.staff_name} ({change.staff_user_id})", file=self._out)
        return 0

    def export_csv(self, output: Path | None) -> int:
        reports = self._repository.listing()
        if output:  # created 0600 from the start: never readable by other local users, not even for a moment
            if output.exists():
                output.chmod(0o600)
            handle: TextIO = os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="",
                               encoding="utf-8")
        else:
            handle = self._out
        try:
            writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            for report in reports:
                writer.writerow({key: spreadsheet_safe(value) for key, value in self._row(report).items()})
        finally:
            if output:
                handle.close()
        print(f"Exported {len(reports)} report(s). The file holds personal data: keep it safe, delete it after use.",
              file=sys.stderr)
        return 0

    def purge(self, older_than: str, dry_run: bool) -> int:
        match = re.fullmatch(r"(\d+)d", older_than.strip())
        if match is None:
            print("Error: give the age in days, like 365d.", file=sys.stderr)
            return 2
        cutoff = datetime.now(UTC) - timedelta(days=int(match.group(1)))
        reports = self._repository.closed_before(cutoff)
        verb = "Would delete" if dry_run else "Deleted"
        if reports and not dry_run:
            self._repository.delete([r.id for r in reports])
        print(f"{verb} {len(reports)} report(s) closed before {cutoff:%Y-%m-%d}"
              f"{': ' + ', '.join(r.code for r in reports) if reports else ''}.", file=self._out)
        return 0

    def _row(self, report: Report) -> dict[str, Any]:
        details = self._cipher.open(report.details_secret)
        reporter = self._cipher.open(report.reporter_secret) if report.reporter_secret else {}
        return {
            "code": report.code, "created_at": utc(report.created_at).isoformat(), "status": report.status,
            "status_changed_at": utc(report.status_changed_at).isoformat(), "urgent": report.urgent,
            "category": report.category, "where": report.location_kind,
            "place": place_name(self._content, report.location_kind, report.location) or details.get("place"),
            "what": details.get("what"), "who": details.get("who"), "when": details.get("when"),
            "agency_id": report.agency_id, "evidence": len(report.evidence), "contact_mode": report.contact_mode,
            "phone": reporter.get("phone"),
            "delivered_at": utc(report.delivered_at).isoformat() if report.delivered_at else None,
        }
