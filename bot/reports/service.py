"""Reports as a service: file a draft, look up a status, change it as staff, and say what the outbox must send.

Channel-neutral: what to send comes out as `Outgoing` values; the Telegram channel turns them into Bot API calls.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import assert_never

from bot.content import Content, ContentStore
from bot.registry.service import AgencyRegistry
from bot.reports import codes
from bot.reports.crypto import ReportCipher, Sealed
from bot.reports.draft import DraftText, ReportDraft
from bot.textformat import TELEGRAM_TEXT_LIMIT, split_utf16, telegram_len, utf16_cut, utf16_len
from db.enums import STAFF_STATUSES, ContactMode, CountedEvent, DeliveryKind, LocationKind, ReportStatus
from db.models import Report, ReportEvidence, ReportStatusChange
from db.reports import CodeTaken, DueDelivery, NewReport, ReportRepository, utc

log = logging.getLogger(__name__)

STAFF_ACTION = "staff"  # button data staff:<report id>_<status>
# How long a claimed message is left to its worker: a crashed worker's claims are sent by another after this. The
# worker renews the claims of a send still in progress (the rate limiter may wait out several 429s) well within it.
DELIVERY_LEASE = timedelta(minutes=1)
MAX_BACKOFF = timedelta(minutes=10)
ALARM_AFTER = 3  # failed attempts of one delivery after which every failure is logged as an ERROR
STATUS_LOOKUP_WINDOW = timedelta(hours=1)
MAX_FAILED_LOOKUPS = 5
# Failed /status guesses from all chats together per window: many accounts guessing codes are slowed down too.
MAX_FAILED_LOOKUPS_GLOBAL = 200
URGENT_PRIORITY_WINDOW = timedelta(days=1)  # an urgent report jumps the queue at most once a day per reporter
REPORT_QUOTA_WINDOW = timedelta(days=1)
KEY_CHECK = "report_key_check"  # bot_meta: a known value sealed with the newest key
TASKFORCE_CHAT = "taskforce_chat_id"  # bot_meta: the group's id after Telegram moved it to a supergroup
STAFF_PART_ROOM = TELEGRAM_TEXT_LIMIT - 96  # a part's text, leaving room for its heading
STAFF_STORY_HEAD = 1500  # UTF-16 units of the story in the first message of a report sent in parts
# A report is sent in parts when its message is within this of the limit: a later status line ("by <name>, <time>")
# or a reminder's heading must still fit when the message is redrawn.
STAFF_GROWTH_RESERVE = 400
CONTINUED = " […]"


class KeyCheckFailed(RuntimeError):
    """The configured REPORT_ENCRYPTION_KEYS cannot open what is stored: wrong or lost key."""


@dataclass(frozen=True)
class Outgoing:
    """One message for the channel to send: text with buttons ((label, data) pairs, one per row), or a file by id
    with `text` as its caption; as a reply to `reply_to` when set."""

    chat_id: int
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    media_kind: str | None = None  # an evidence kind: "photo", "document", "voice", "audio", "video"
    file_id: str | None = None
    reply_to: int | None = None
    to_taskforce: bool = True  # False for a reporter's notice


class StatusResult(StrEnum):
    """What a reporter's /status found."""

    FOUND = "found"  # the report behind the code given
    NOT_FOUND = "not_found"  # no report has that code (a failed guess, counted)
    RATE_LIMITED = "rate_limited"  # too many failed guesses: wait
    MINE = "mine"  # no code given: this chat's own reports
    NONE_MINE = "none_mine"  # no code given, and this chat filed none (that it is linked to)


@dataclass(frozen=True)
class StatusAnswer:
    kind: StatusResult
    reports: tuple[Report, ...] = ()
    wait_minutes: int = 0


@dataclass(frozen=True)
class StaffPress:
    """What a press on a report's status button did: the answer for the presser, and the report to redraw."""

    answer: str
    alert: bool  # shown as an alert the presser must close (a refusal) rather than a passing notice
    report: Report | None = None


_STAFF_DATA_RE = re.compile(rf"^{STAFF_ACTION}:(\d{{1,12}})_([a-z_]{{1,20}})$")


def staff_button_data(report_id: int, status: ReportStatus) -> str:
    return f"{STAFF_ACTION}:{report_id}_{status}"


def parse_staff_data(data: str | None) -> tuple[int, ReportStatus] | None:
    """(report id, status) from staff button data, or None when it is forged or from another kind of button."""
    match = _STAFF_DATA_RE.match(data or "")
    if match is None or match.group(2) not in STAFF_STATUSES:
        return None
    return int(match.group(1)), ReportStatus(match.group(2))


class ReportService:
    delivery_lease = DELIVERY_LEASE  # per instance, so a test can shorten it

    def __init__(self, repository: ReportRepository, cipher: ReportCipher, content: ContentStore,
                 registry: AgencyRegistry, taskforce_chat_id: int, staff_user_ids: frozenset[int],
                 reminder_after: timedelta, reports_per_day: int = 3) -> None:
        self.repository = repository
        self._staff_user_ids = staff_user_ids
        self._registry = registry
        self.cipher = cipher
        self._content = content
        self.configured_taskforce_chat_id = taskforce_chat_id
        self.taskforce_chat_id = taskforce_chat_id
        migrated = repository.get_meta(f"{TASKFORCE_CHAT}:{taskforce_chat_id}")
        if migrated is not None:  # Telegram moved the group; follow it (and say so: .env should be updated)
            self.taskforce_chat_id = int(migrated)
            log.warning("the task-force group %s became supergroup %s: sending there; set TASKFORCE_CHAT_ID=%s",
                        taskforce_chat_id, migrated, migrated)
        self.reminder_after = reminder_after
        self.reports_per_day = reports_per_day

    # ---- keys --------------------------------------------------------------------------------

    def check_key(self) -> None:
        """Stop start-up when the configured keys cannot read what is stored (wrong or lost key); store the check
        value when there is none yet. Raises KeyCheckFailed with a message for the operator."""
        stored = self.repository.get_meta(KEY_CHECK)
        if stored is None:
            sample = self.repository.listing()[:1]
            if sample:
                try:
                    self.details(sample[0])
                except ValueError:
                    raise KeyCheckFailed(_KEY_HELP) from None
            stored = self.repository.add_meta(KEY_CHECK, self.cipher.key_check())
        if not self.cipher.opens_key_check(stored):
            raise KeyCheckFailed(_KEY_HELP)
        if not self.cipher.sealed_with_newest(stored):
            log.warning("reports are still sealed with an older key: run `python -m bot reports rotate-key`")

    def rotate_key(self) -> int:
        """Re-encrypt every stored secret with the newest key (and re-derive the chat hashes); returns reports."""
        count = self.repository.reseal_all(self._reseal)

        def chat_key_of(report: Report) -> str | None:
            chat_id = self.reporter(report).get("chat_id")
            return self.cipher.chat_key(int(chat_id)) if chat_id is not None else None

        self.repository.rekey_reporters(chat_key_of)
        self.repository.set_meta(KEY_CHECK, self.cipher.key_check())
        return count

    def _reseal(self, token: str) -> str:
        if not token.startswith("gAAAAA"):  # an evidence file id stored before file ids were encrypted
            return self.cipher.seal({"v": token})
        return self.cipher.rotate(token)

    def follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """The task-force group became a supergroup with a new id: send there from now on, also after restarts."""
        if old_chat_id != self.taskforce_chat_id or new_chat_id == old_chat_id:
            return
        self.repository.set_meta(f"{TASKFORCE_CHAT}:{self.configured_taskforce_chat_id}", str(new_chat_id))
        self.taskforce_chat_id = new_chat_id
        log.error("the task-force group %s was upgraded to a supergroup with id %s: sending there from now on; "
                  "set TASKFORCE_CHAT_ID=%s in .env", old_chat_id, new_chat_id, new_chat_id)

    def file_id(self, evidence: ReportEvidence) -> str:
        """The Telegram file id of an evidence item (sealed; plain in reports filed before it was)."""
        if evidence.file_id.startswith("gAAAAA"):
            return str(self.cipher.open(evidence.file_id)["v"])
        return evidence.file_id

    # ---- filing ------------------------------------------------------------------------------

    def submit(self, draft: ReportDraft, chat_id: int) -> Report:
        """Commit the draft as a report (once: the same draft again returns the same report)."""
        text = self.open_draft(draft)
        reporter = None
        if draft.contact != ContactMode.ANONYMOUS:
            reporter = self.cipher.seal({"chat_id": chat_id, "phone": text.phone})
        now = datetime.now(UTC)
        chat_key = self.cipher.chat_key(chat_id)
        prioritized = draft.urgent and not self.repository.recorded(CountedEvent.URGENT_PRIORITY, chat_key,
                                                                    now - URGENT_PRIORITY_WINDOW)
        evidence = tuple((item.kind, self.cipher.seal({"v": item.file_id})) for item in draft.evidence)
        details = {"what": text.what, "who": text.who, "when": text.when, "place": text.place,
                   "voice_story": draft.story_by_voice}
        for _attempt in range(5):
            new = NewReport(
                code=codes.new_code(datetime.now(UTC).year), draft_key=draft.key,
                urgent=draft.urgent, category=draft.category, location_kind=draft.where, location=draft.place_code,
                agency_id=draft.agency_id, details_secret=self.cipher.seal(details),
                contact_mode=draft.contact, reporter_secret=reporter,
                reporter_key=self.cipher.chat_key(chat_id) if reporter else None,
                evidence=evidence, prioritized=prioritized, sender_key=chat_key,
            )
            try:
                report, created = self.repository.create(new)
            except CodeTaken:
                continue
            if created:
                log.info("report %s filed (urgent: %s, queue priority: %s, evidence: %d)", report.code,
                         report.urgent, report.prioritized, len(report.evidence))
                self.repository.record(CountedEvent.REPORT_FILED, chat_key, now, now - REPORT_QUOTA_WINDOW)
                if prioritized:
                    self.repository.record(CountedEvent.URGENT_PRIORITY, chat_key, now, now - URGENT_PRIORITY_WINDOW)
            return report
        raise RuntimeError("could not draw an unused report code")

    def reports_left_today(self, chat_id: int, now: datetime | None = None) -> int:
        """How many more reports this chat may file in the quota window (REPORTS_PER_DAY)."""
        now = now or datetime.now(UTC)
        filed = self.repository.recorded(CountedEvent.REPORT_FILED, self.cipher.chat_key(chat_id),
                                         now - REPORT_QUOTA_WINDOW)
        return max(0, self.reports_per_day - len(filed))

    def forget_chat(self, chat_id: int) -> int:
        """/hapus: unlink the chat from its filed reports (they stay with the task force, without the chat id)."""

        def reseal(token: str) -> str | None:
            phone = self.cipher.open(token).get("phone")
            return self.cipher.seal({"chat_id": None, "phone": phone}) if phone else None

        return self.repository.forget_chat(self.cipher.chat_keys(chat_id), reseal)

    def open_draft(self, draft: ReportDraft) -> DraftText:
        """What the reporter typed into the draft so far."""
        return DraftText.from_dict(self.cipher.open(draft.secret)) if draft.secret else DraftText()

    def seal_draft(self, draft: ReportDraft, text: DraftText) -> None:
        draft.secret = self.cipher.seal(text.to_dict())

    def details(self, report: Report) -> Sealed:
        return self.cipher.open(report.details_secret)

    def reporter(self, report: Report) -> Sealed:
        """{"chat_id", "phone"} of the reporter, or {} for an anonymous report."""
        return self.cipher.open(report.reporter_secret) if report.reporter_secret else {}

    # ---- the reporter's /status --------------------------------------------------------------

    def status_lookup(self, text: str, chat_id: int, now: datetime | None = None) -> StatusAnswer:
        """The status behind a code (for anyone holding it), or this chat's own reports when no code is given."""
        now = now or datetime.now(UTC)
        chat_key = self.cipher.chat_key(chat_id)
        failures = self.repository.recorded(CountedEvent.FAILED_LOOKUP, chat_key, now - STATUS_LOOKUP_WINDOW)
        if len(failures) >= MAX_FAILED_LOOKUPS:
            wait = failures[-MAX_FAILED_LOOKUPS] + STATUS_LOOKUP_WINDOW - now
            return StatusAnswer(StatusResult.RATE_LIMITED, wait_minutes=max(1, int(wait.total_seconds() // 60) + 1))
        everyone = self.repository.recorded(CountedEvent.FAILED_LOOKUP, None, now - STATUS_LOOKUP_WINDOW)
        if len(everyone) >= MAX_FAILED_LOOKUPS_GLOBAL:  # many chats guessing codes together
            log.warning("failed /status lookups from all chats reached %d in an hour: lookups paused", len(everyone))
            wait = everyone[-MAX_FAILED_LOOKUPS_GLOBAL] + STATUS_LOOKUP_WINDOW - now
            return StatusAnswer(StatusResult.RATE_LIMITED, wait_minutes=max(1, int(wait.total_seconds() // 60) + 1))
        code = codes.find_code(text)
        if code is None and not text.strip():
            mine = tuple(self.repository.by_reporter(self.cipher.chat_keys(chat_id)))
            return StatusAnswer(StatusResult.MINE if mine else StatusResult.NONE_MINE, mine)
        report = self.repository.by_code(code) if code else None
        if report is None:
            self.repository.record(CountedEvent.FAILED_LOOKUP, chat_key, now, now - STATUS_LOOKUP_WINDOW)
            return StatusAnswer(StatusResult.NOT_FOUND)
        return StatusAnswer(StatusResult.FOUND, (report,))

    # ---- the staff side ----------------------------------------------------------------------

    def is_listed_staff(self, user_id: int) -> bool:
        """In STAFF_USER_IDS; anyone else must be a member of the task-force group (the channel asks Telegram)."""
        return user_id in self._staff_user_ids

    @staticmethod
    def parse_press(data: str | None) -> tuple[int, ReportStatus] | None:
        return parse_staff_data(data)

    def staff_message_ids(self, report: Report) -> list[int]:
        """The group's messages showing this report's status: the report itself and its reminders."""
        return self.repository.staff_message_ids(report.id)

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
        label = content.report_options.statuses[report.status]
        template = "staff_status_same" if change is None else "staff_status_changed"
        return StaffPress(content.render(template, status=label), alert=False, report=report)

    def change_status(self, report_id: int, to_status: ReportStatus, staff_user_id: int,
                      staff_name: str) -> ReportStatusChange | None:
        change = self.repository.change_status(report_id, to_status, staff_user_id, staff_name, notify_reporter=True)
        if change is not None:
            log.info("report #%d: %s -> %s by staff user %d", report_id, change.from_status, to_status,
                     staff_user_id)
        return change

    def staff_text(self, report: Report, content: Content | None = None, reminder: bool = False) -> str:
        """The report's message for the task force (within Telegram's limit; see staff_parts for the rest), cut the
        same way as when it was first sent (so a redraw never drops what only the first message showed)."""
        return self.staff_parts(report, content, reminder, split=self.repository.has_parts(report.id))[0]

    def staff_parts(self, report: Report, content: Content | None = None, reminder: bool = False,
                    split: bool | None = None) -> list[str]:
        """The report for the task force as messages within Telegram's 4096 UTF-16 units: the first carries the
        status and buttons; when the story does not fit, the first shows its start and numbered parts the rest.

        `split`: None decides (when the whole message would come within STAFF_GROWTH_RESERVE of the limit); the
        parts depend on the story alone, so they are the same whatever the status when they are sent."""
        content = content or self._content.current()
        details = self.details(report)
        context = dict(report=report, reporter=self.reporter(report), reminder=reminder,
                       agency=self._registry.get(report.agency_id) if report.agency_id else None,
                       last_change=self.repository.last_change(report.id),
                       place=place_name(content, report.location_kind, report.location))
        text = content.render("staff_report", details=details, **context)
        story = details.get("what") or ""
        if split is None:
            split = telegram_len(text) > TELEGRAM_TEXT_LIMIT - STAFF_GROWTH_RESERVE
        if not split or utf16_len(story) <= STAFF_STORY_HEAD:
            return [text]
        head = split_utf16(story, STAFF_STORY_HEAD)[0]
        rest = story[len(head):].lstrip()
        pieces = [piece for piece in split_utf16(rest, STAFF_PART_ROOM) if piece] if rest else []
        total = 1 + len(pieces)

        def first_message(shown: str) -> str:
            return content.render("staff_report", details={**details, "what": f"{shown}{CONTINUED} (bersambung di "
                                                                         f"bagian 2/{total})"}, **context)

        first = first_message(head)
        while telegram_len(first) > TELEGRAM_TEXT_LIMIT and head:  # very long other fields: show less of the start
            head = utf16_cut(head, utf16_len(head) - 200)
            first = first_message(head)
        parts = [first]
        for number, piece in enumerate(pieces, start=2):
            parts.append(content.render("staff_report_part", report=report, number=number, total=total, text=piece))
        return parts

    def staff_buttons(self, report: Report, content: Content | None = None) -> tuple[tuple[str, str], ...]:
        content = content or self._content.current()
        return tuple((content.label(f"staff_{status}"), staff_button_data(report.id, status))
                     for status in STAFF_STATUSES)

    def open_reports_text(self, now: datetime | None = None) -> str:
        return self.open_reports_pages(now)[0]

    def open_reports_pages(self, now: datetime | None = None) -> list[str]:
        """`/laporan` as messages within Telegram's limit (numbered pages when the list is long)."""
        now = now or datetime.now(UTC)
        content = self._content.current()
        reports = self.repository.listing(open_only=True)
        rows = [(r, now - utc(r.created_at)) for r in reports]
        if not rows:
            return [content.render("staff_open_reports", rows=rows)]
        pages: list[list[tuple[Report, timedelta]]] = [[]]
        for row in rows:
            candidate = pages[-1] + [row]
            if pages[-1] and telegram_len(content.render("staff_open_reports", rows=candidate, page=99,
                                                         pages=99)) > TELEGRAM_TEXT_LIMIT:
                pages.append([row])
            else:
                pages[-1] = candidate
        return [content.render("staff_open_reports", rows=page, page=number, pages=len(pages), total=len(rows))
                for number, page in enumerate(pages, start=1)]

    # ---- the outbox --------------------------------------------------------------------------

    def claim_due(self, limit: int = 5) -> list[DueDelivery]:
        """The next messages to send, claimed for `delivery_lease`; each carries its claim's token, and only that
        claim may record the outcome (`delivered`, `failed`, `gave_up` raise ClaimLost otherwise)."""
        return self.repository.claim_due(datetime.now(UTC), limit, self.delivery_lease)

    def renew_claims(self, claims: list[DueDelivery]) -> set[int]:
        """Keep claims a little longer (a send still in progress); returns the ids still held by these claims."""
        return self.repository.renew_claims(claims, datetime.now(UTC) + self.delivery_lease)

    def outgoing(self, due: DueDelivery) -> Outgoing | None:
        """What to send for a due delivery; None when there is nothing to send any more (mark it done)."""
        content = self._content.current()
        report = due.report
        if due.kind == DeliveryKind.REPORT:
            return Outgoing(self.taskforce_chat_id, self.staff_parts(report, content)[0],
                            self.staff_buttons(report, content))
        if due.kind == DeliveryKind.REMINDER:
            return Outgoing(self.taskforce_chat_id, self.staff_text(report, content, reminder=True),
                            self.staff_buttons(report, content), reply_to=report.staff_message_id)
        if due.kind == DeliveryKind.PART:
            parts = self.staff_parts(report, content, split=True)
            if due.ref > len(parts):
                return None
            return Outgoing(self.taskforce_chat_id, parts[due.ref - 1], reply_to=report.staff_message_id)
        if due.kind == DeliveryKind.EVIDENCE:
            item = next((e for e in report.evidence if e.position == due.ref), None)
            if item is None:
                return None
            caption = content.render("staff_evidence", report=report, position=item.position,
                                     total=len(report.evidence))
            return Outgoing(self.taskforce_chat_id, caption, media_kind=item.kind, file_id=self.file_id(item),
                            reply_to=report.staff_message_id)
        if due.kind == DeliveryKind.NOTICE:
            chat_id = self.reporter(report).get("chat_id")
            if chat_id is None:
                return None
            return Outgoing(int(chat_id), content.render("report_status_notice", report=report,
                                                           status=content.report_options.statuses[report.status]),
                            to_taskforce=False)
        assert_never(due.kind)

    def delivered(self, due: DueDelivery, message_id: int | None) -> None:
        if due.kind == DeliveryKind.REPORT:
            parts = len(self.staff_parts(due.report))
            if parts > 1:  # queued before the report is marked sent, so the sender grouping outlives them
                self.repository.add_parts(due.report.id, parts)
        self.repository.mark_sent(due.id, due.token, message_id)
        if due.kind == DeliveryKind.REPORT:
            log.info("report %s delivered to the task force", due.report.code)

    def gave_up(self, due: DueDelivery, error: str) -> None:
        """Telegram refused for good (too long, bot blocked or removed, chat not found): no more retries."""
        self.repository.give_up(due.id, due.token, error, datetime.now(UTC))
        log.error("delivery of %s for report %s refused for good, not retried: %s; see `python -m bot reports "
                  "list --undelivered`, fix the cause, then `python -m bot reports retry`", due.kind,
                  due.report.code, error)

    def failed(self, due: DueDelivery, error: str, retry_after: float | None = None) -> None:
        """Schedule another attempt with exponential backoff (or after Telegram's retry_after)."""
        backoff = min(timedelta(seconds=2 * 2 ** due.attempts), MAX_BACKOFF)
        if retry_after is not None:
            backoff = max(timedelta(seconds=retry_after), timedelta(seconds=1))
        attempts = self.repository.mark_failed(due.id, due.token, error, datetime.now(UTC) + backoff)
        level = logging.ERROR if attempts >= ALARM_AFTER else logging.WARNING
        log.log(level, "delivery of %s for report %s failed (attempt %d, next in %ds): %s%s", due.kind,
                due.report.code, attempts, backoff.total_seconds(), error,
                "; still queued, see `python -m bot reports list --undelivered`" if level == logging.ERROR else "")

    def enqueue_reminders(self, now: datetime | None = None) -> int:
        return self.repository.enqueue_reminders(now or datetime.now(UTC), self.reminder_after)


def place_name(content: Content, kind: str | None, code: str | None) -> str | None:
    """The regency or country a report names by code, as people say it."""
    if code is None:
        return None
    if kind == LocationKind.NTT:
        return content.report_options.regencies.get(code)
    if kind == LocationKind.ABROAD:
        country = content.countries.get(code)
        return country.name if country else None
    return None


_KEY_HELP = ("REPORT_ENCRYPTION_KEYS cannot open the reports stored in the database: the key is wrong or was lost. "
             "Put the key the reports were written with back in .env (REPORT_ENCRYPTION_KEYS=newest,older). "
             "Do not create a new key while reports exist: they could never be read again.")
