"""Reports as a service: file a draft, look up a status, change it as staff, and say what the outbox must send.

Channel-neutral: what to send comes out as `Outgoing` values; the Telegram channel turns them into Bot API calls.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from db.reports import CodeTaken, DueDelivery, NewReport, ReportRepository, utc

from bot.content import Content, ContentStore
from bot.reports import codes
from bot.reports.crypto import ReportCipher
from bot.registry.service import AgencyRegistry

log = logging.getLogger(__name__)

STATUSES = ("baru", "diterima", "diproses", "selesai", "bukan_tppo")
STAFF_STATUSES = ("diterima", "diproses", "selesai", "bukan_tppo")
STAFF_ACTION = "staff"  # button data staff:<report id>_<status>
DELIVERY_LEASE = timedelta(minutes=2)  # a crashed worker's claimed messages are retried after this
MAX_BACKOFF = timedelta(minutes=10)
ALARM_AFTER = 3  # failed attempts of one delivery after which every failure is logged as an ERROR
STATUS_LOOKUP_WINDOW = timedelta(hours=1)
MAX_FAILED_LOOKUPS = 5


@dataclass(frozen=True)
class Outgoing:
    """One message for the channel to send: text with buttons ((label, data) pairs, one per row), or a file by id
    with `text` as its caption; as a reply to `reply_to` when set."""

    chat_id: int
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    media_kind: str | None = None  # "photo", "document", "voice", "audio", "video"
    file_id: str | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class StatusAnswer:
    kind: str  # "found", "not_found", "rate_limited", "mine", "none_mine"
    reports: tuple = ()
    wait_minutes: int = 0


@dataclass(frozen=True)
class StaffPress:
    """What a press on a report's status button did: the answer for the presser, and the report to redraw."""

    answer: str
    alert: bool  # shown as an alert the presser must close (a refusal) rather than a passing notice
    report: object | None = None


_STAFF_DATA_RE = re.compile(rf"^{STAFF_ACTION}:(\d{{1,12}})_([a-z_]{{1,20}})$")


def staff_button_data(report_id: int, status: str) -> str:
    return f"{STAFF_ACTION}:{report_id}_{status}"


def parse_staff_data(data: str | None) -> tuple[int, str] | None:
    """(report id, status) from staff button data, or None when it is forged or from another kind of button."""
    match = _STAFF_DATA_RE.match(data or "")
    if match is None or match.group(2) not in STAFF_STATUSES:
        return None
    return int(match.group(1)), match.group(2)


class ReportService:
    def __init__(self, repository: ReportRepository, cipher: ReportCipher, content: ContentStore,
                 registry: AgencyRegistry, taskforce_chat_id: int, staff_user_ids: frozenset[int],
                 reminder_after: timedelta):
        self.repository = repository
        self._staff_user_ids = staff_user_ids
        self._registry = registry
        self.cipher = cipher
        self._content = content
        self.taskforce_chat_id = taskforce_chat_id
        self.reminder_after = reminder_after

    # ---- filing ------------------------------------------------------------------------------

    def submit(self, draft: dict, chat_id: int):
        """Commit the draft as a report (once: the same draft again returns the same report)."""
        secret = self.open_draft(draft)
        contact_mode = draft.get("contact") or "anonymous"
        reporter = None
        if contact_mode != "anonymous":
            reporter = self.cipher.seal({"chat_id": chat_id, "phone": secret.get("phone")})
        for _attempt in range(5):
            new = NewReport(
                code=codes.new_code(datetime.now(timezone.utc).year), draft_key=draft["key"],
                urgent=bool(draft.get("urgent")), category=draft.get("category"),
                location_kind=draft.get("where"), location=draft.get("place_code"),
                agency_id=draft.get("agency_id"),
                details_secret=self.cipher.seal({**{k: secret.get(k) for k in ("what", "who", "when", "place")},
                                                 "voice_story": bool(draft.get("story_by_voice"))}),
                contact_mode=contact_mode, reporter_secret=reporter,
                reporter_key=self.cipher.chat_key(chat_id) if reporter else None,
                evidence=tuple((kind, file_id) for kind, file_id in draft.get("evidence") or ()),
            )
            try:
                report, created = self.repository.create(new)
            except CodeTaken:
                continue
            if created:
                log.info("report %s filed (urgent: %s, evidence: %d)", report.code, report.urgent,
                         len(report.evidence))
            return report
        raise RuntimeError("could not draw an unused report code")

    def open_draft(self, draft: dict) -> dict:
        return self.cipher.open(draft["secret"]) if draft.get("secret") else {}

    def seal_draft(self, draft: dict, secret: dict) -> None:
        draft["secret"] = self.cipher.seal(secret)

    def details(self, report) -> dict:
        return self.cipher.open(report.details_secret)

    def reporter(self, report) -> dict:
        """{"chat_id", "phone"} of the reporter, or {} for an anonymous report."""
        return self.cipher.open(report.reporter_secret) if report.reporter_secret else {}

    # ---- the reporter's /status --------------------------------------------------------------

    def status_lookup(self, text: str, chat_id: int, now: datetime | None = None) -> StatusAnswer:
        """The status behind a code (for anyone holding it), or this chat's own reports when no code is given."""
        now = now or datetime.now(timezone.utc)
        chat_key = self.cipher.chat_key(chat_id)
        failures = self.repository.failed_lookups(chat_key, now - STATUS_LOOKUP_WINDOW)
        if len(failures) >= MAX_FAILED_LOOKUPS:
            wait = failures[-MAX_FAILED_LOOKUPS] + STATUS_LOOKUP_WINDOW - now
            return StatusAnswer("rate_limited", wait_minutes=max(1, int(wait.total_seconds() // 60) + 1))
        code = codes.find_code(text)
        if code is None and not text.strip():
            mine = tuple(self.repository.by_reporter(chat_key))
            return StatusAnswer("mine" if mine else "none_mine", mine)
        report = self.repository.by_code(code) if code else None
        if report is None:
            self.repository.record_failed_lookup(chat_key, now, now - STATUS_LOOKUP_WINDOW)
            return StatusAnswer("not_found")
        return StatusAnswer("found", (report,))

    # ---- the staff side ----------------------------------------------------------------------

    def is_listed_staff(self, user_id: int) -> bool:
        """In STAFF_USER_IDS; anyone else must be a member of the task-force group (the channel asks Telegram)."""
        return user_id in self._staff_user_ids

    def staff_press(self, data: str, user_id: int, user_name: str, is_member: bool) -> StaffPress:
        """A status button pressed in the task-force group: change the status when the presser is staff."""
        content = self._content.current()
        parsed = parse_staff_data(data)
        if parsed is None:
            return StaffPress(content.render("button_expired"), alert=True)
        if not (self.is_listed_staff(user_id) or is_member):
            log.info("status button pressed by a non-staff user; nothing changed")
            return StaffPress(content.render("staff_not_staff"), alert=True)
        report_id, to_status = parsed
        change = self.change_status(report_id, to_status, user_id, user_name)
        report = self.repository.get(report_id)
        if report is None:
            return StaffPress(content.render("staff_report_unknown"), alert=True)
        label = content.report_options["statuses"][report.status]
        template = "staff_status_same" if change is None else "staff_status_changed"
        return StaffPress(content.render(template, status=label), alert=False, report=report)

    def change_status(self, report_id: int, to_status: str, staff_user_id: int, staff_name: str):
        change = self.repository.change_status(report_id, to_status, staff_user_id, staff_name, notify_reporter=True)
        if change is not None:
            log.info("report #%d: %s -> %s by staff user %d", report_id, change.from_status, to_status,
                     staff_user_id)
        return change

    def staff_text(self, report, content: Content | None = None, reminder: bool = False) -> str:
        content = content or self._content.current()
        return content.render(
            "staff_report", report=report, details=self.details(report), reporter=self.reporter(report),
            agency=self._registry.get(report.agency_id) if report.agency_id else None, last_change=self.repository.last_change(report.id),
            reminder=reminder, place=place_name(content, report.location_kind, report.location),
        )

    def staff_buttons(self, report, content: Content | None = None) -> tuple[tuple[str, str], ...]:
        content = content or self._content.current()
        return tuple((content.label(f"staff_{status}"), staff_button_data(report.id, status))
                     for status in STAFF_STATUSES)

    def open_reports_text(self, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        reports = self.repository.listing(open_only=True)
        rows = [(r, now - utc(r.created_at)) for r in reports]
        return self._content.current().render("staff_open_reports", rows=rows)

    # ---- the outbox --------------------------------------------------------------------------

    def claim_due(self, limit: int = 5) -> list[DueDelivery]:
        return self.repository.claim_due(datetime.now(timezone.utc), limit, DELIVERY_LEASE)

    def outgoing(self, due: DueDelivery) -> Outgoing | None:
        """What to send for a due delivery; None when there is nothing to send any more (mark it done)."""
        content = self._content.current()
        report = due.report
        if due.kind == "report":
            return Outgoing(self.taskforce_chat_id, self.staff_text(report, content),
                            self.staff_buttons(report, content))
        if due.kind == "reminder":
            return Outgoing(self.taskforce_chat_id, self.staff_text(report, content, reminder=True),
                            self.staff_buttons(report, content), reply_to=report.staff_message_id)
        if due.kind == "evidence":
            item = next((e for e in report.evidence if e.position == due.ref), None)
            if item is None:
                return None
            caption = content.render("staff_evidence", report=report, position=item.position,
                                     total=len(report.evidence))
            return Outgoing(self.taskforce_chat_id, caption, media_kind=item.kind, file_id=item.file_id,
                            reply_to=report.staff_message_id)
        if due.kind == "notice":
            chat_id = self.reporter(report).get("chat_id")
            if chat_id is None:
                return None
            return Outgoing(int(chat_id), content.render("report_status_notice", report=report,
                                                           status=content.report_options["statuses"][report.status]))
        return None

    def delivered(self, due: DueDelivery, message_id: int | None) -> None:
        self.repository.mark_sent(due.id, message_id)
        if due.kind == "report":
            log.info("report %s delivered to the task force", due.report.code)

    def failed(self, due: DueDelivery, error: str, retry_after: float | None = None) -> None:
        """Schedule another attempt with exponential backoff (or after Telegram's retry_after)."""
        backoff = min(timedelta(seconds=2 * 2 ** due.attempts), MAX_BACKOFF)
        if retry_after is not None:
            backoff = max(timedelta(seconds=retry_after), timedelta(seconds=1))
        attempts = self.repository.mark_failed(due.id, error, datetime.now(timezone.utc) + backoff)
        level = logging.ERROR if attempts >= ALARM_AFTER else logging.WARNING
        log.log(level, "delivery of %s for report %s failed (attempt %d, next in %ds): %s%s", due.kind,
                due.report.code, attempts, backoff.total_seconds(), error,
                "; still queued, see `python -m bot reports list --undelivered`" if level == logging.ERROR else "")

    def enqueue_reminders(self, now: datetime | None = None) -> int:
        return self.repository.enqueue_reminders(now or datetime.now(timezone.utc), self.reminder_after)


def place_name(content: Content, kind: str | None, code: str | None) -> str | None:
    """The regency or country a report names by code, as people say it."""
    if code is None:
        return None
    if kind == "ntt":
        return content.report_options["regencies"].get(code)
    if kind == "abroad":
        country = content.countries.get(code)
        return country["name"] if country else None
    return None

