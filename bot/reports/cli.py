"""`python -m bot reports ...`: for staff and operators working outside Telegram."""
from __future__ import annotations

import csv
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from db.reports import ReportRepository, utc

from bot.content import Content
from bot.reports.crypto import ReportCipher, new_key
from bot.reports.service import place_name
from bot.settings import PROJECT_ROOT, Settings

EXPORT_FIELDS = ("code", "created_at", "status", "status_changed_at", "urgent", "category", "where", "place",
                 "what", "who", "when", "agency_id", "evidence", "contact_mode", "phone", "delivered_at")


def init_key(settings: Settings, env_file: Path = PROJECT_ROOT / ".env") -> int:
    """Write a new REPORT_ENCRYPTION_KEY into .env unless one is already configured."""
    if settings.report_encryption_key:
        print("REPORT_ENCRYPTION_KEY is already set; keeping it.")
        return 0
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    if re.search(r"^REPORT_ENCRYPTION_KEY=", existing, re.MULTILINE):
        existing = re.sub(r"^REPORT_ENCRYPTION_KEY=.*\n?", "", existing, flags=re.MULTILINE)
    separator = "" if not existing or existing.endswith("\n") else "\n"
    env_file.write_text(f"{existing}{separator}REPORT_ENCRYPTION_KEY={new_key()}\n", encoding="utf-8")
    env_file.chmod(0o600)
    print(f"Wrote a new REPORT_ENCRYPTION_KEY to {env_file}. Back it up: reports cannot be read without it.")
    return 0


class ReportsCli:
    def __init__(self, settings: Settings, sessions, out=None):
        if settings.report_encryption_key is None:
            raise SystemExit("Error: REPORT_ENCRYPTION_KEY is not set; reports cannot be read without it.")
        self._repository = ReportRepository(sessions)
        self._cipher = ReportCipher(settings.report_encryption_key)
        self._content = Content(settings.content_dir)
        self._out = out or sys.stdout

    def list(self, undelivered: bool, open_only: bool) -> int:
        reports = self._repository.listing(open_only=open_only, undelivered_only=undelivered)
        for report in reports:
            pending = self._repository.pending_deliveries(report.id) if undelivered else []
            errors = sorted({d.last_error for d in pending if d.last_error})
            line = (f"{report.code}  {report.status:<10}  filed {utc(report.created_at):%Y-%m-%d %H:%M} UTC"
                    f"{'  URGENT' if report.urgent else ''}"
                    f"{'  delivered' if report.delivered_at else '  NOT DELIVERED'}")
            if pending:
                attempts = max(d.attempts for d in pending)
                line += f"  ({len(pending)} message(s) queued, {attempts} attempt(s); last error: "
                line += f"{errors[-1] if errors else 'none yet'})"
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
        handle = output.open("w", newline="", encoding="utf-8") if output else self._out
        try:
            writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            for report in reports:
                writer.writerow(self._row(report))
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
        cutoff = datetime.now(timezone.utc) - timedelta(days=int(match.group(1)))
        reports = self._repository.closed_before(cutoff)
        verb = "Would delete" if dry_run else "Deleted"
        if reports and not dry_run:
            self._repository.delete([r.id for r in reports])
        print(f"{verb} {len(reports)} report(s) closed before {cutoff:%Y-%m-%d}"
              f"{': ' + ', '.join(r.code for r in reports) if reports else ''}.", file=self._out)
        return 0

    def _row(self, report) -> dict:
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
