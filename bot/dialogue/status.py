"""`/status KODE`: the status of one report (never its content), for whoever holds the code or filed it."""
from __future__ import annotations

from bot.content import Content
from bot.dialogue.menu import with_menu
from bot.dialogue.messages import Reply
from bot.reports import codes
from bot.reports.service import ReportService, StatusResult

MAX_SHOWN = 40
# The answers that show no report: what the reporter typed (shortened) or how long to wait.
NOTHING_SHOWN = {
    StatusResult.NOT_FOUND: "status_not_found",
    StatusResult.NONE_MINE: "status_none_mine",
    StatusResult.RATE_LIMITED: "status_rate_limited",
}


def answer(content: Content, service: ReportService | None, chat_id: int, text: str) -> list[Reply]:
    """`text` is what followed /status (or the whole message when NLU heard a status question)."""
    if service is None:
        return [with_menu(content, "status_not_ready")]
    result = service.status_lookup(text, chat_id)
    statuses = content.report_options.statuses
    if result.kind is StatusResult.FOUND:
        report = result.reports[0]
        return [with_menu(content, "status_found", report=report, status=statuses[report.status])]
    if result.kind is StatusResult.MINE:
        rows = [(r, statuses[r.status]) for r in result.reports]
        return [with_menu(content, "status_mine", rows=rows)]
    shown = " ".join(text.split())[:MAX_SHOWN]
    return [with_menu(content, NOTHING_SHOWN[result.kind], shown=shown, wait_minutes=result.wait_minutes)]


def code_or_nothing(text: str) -> str:
    """For a question in words: the code it contains, or "" (then the chat's own reports are listed)."""
    return codes.find_code(text) or ""
