"""What people see of a summary: the Telegram text (/statistik), the charts, and the one-page HTML report."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from markupsafe import Markup

from bot.content import Content
from bot.insights.charts import Chart, charts_for, write_charts
from bot.insights.recorder import today_wita
from bot.insights.summary import SMALL, Summary, build_summary, shown
from db.insights import InsightRepository

MIN_FOR_SHARE = 20  # a share of questions is shown only from this many questions
DEFAULT_DAYS = 30


def hours_text(hours: float) -> str:
    if hours < 1:
        return "kurang dari 1 jam"
    if hours < 48:
        return f"{hours:.0f} jam"
    return f"{hours / 24:.1f} hari".replace(".", ",")


def summary_text(content: Content, summary: Summary) -> str:
    """The summary as Telegram HTML (also the top of the HTML page)."""
    share = summary.missed_share
    enough = summary.responded >= SMALL
    median, p90 = summary.response_median_hours, summary.response_p90_hours  # None only when nobody responded
    return content.render(
        "insights_summary", s=summary, shown=shown,
        missed_share=f"{share:.0%}" if share is not None and summary.questions >= MIN_FOR_SHARE else None,
        median=hours_text(median) if enough and median is not None else None,
        p90=hours_text(p90) if enough and p90 is not None else None,
    )


def last_days(days: int = DEFAULT_DAYS, today: date | None = None) -> tuple[date, date]:
    """The `days` days up to and including today (WITA)."""
    today = today or today_wita()
    return today - timedelta(days=days - 1), today


def period_summary(repository: InsightRepository, content: Content, start: date, end: date) -> tuple[Summary,
                                                                                                      list[Chart]]:
    summary = build_summary(repository, content, start, end)
    return summary, charts_for(summary)


def write_report(content: Content, summary: Summary, charts: list[Chart], folder: Path) -> list[Path]:
    """Charts as PNG files and index.html (one page, Indonesian) in `folder`."""
    paths = write_charts(charts, folder)
    text = summary_text(content, summary)
    by_month = bool(summary.buckets) and (summary.buckets[0].end - summary.buckets[0].start).days > 7
    page = content.render("insights_page", s=summary, shown=shown, charts=charts, by_month=by_month,
                          made=datetime.now(UTC), summary_html=Markup(text.replace("\n", "<br>\n")))
    index = folder / "index.html"
    index.write_text(page + "\n", encoding="utf-8")
    return [*paths, index]


def month_of(text: str | None, today: date | None = None) -> tuple[date, date]:
    """'2026-11' -> (1 Nov, 30 Nov); None -> the previous month (WITA)."""
    if text:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    else:
        first = ((today or today_wita()).replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def post_once(repository: InsightRepository, content: Content, start: date, end: date,
              send: Callable[[str, list[Chart]], None], force: bool = False) -> bool:
    """Build the period's summary and `send(text, charts)` it, once per period across processes and re-runs
    (a cron job may run twice); False when it was already posted. A failed send can be retried."""
    key = f"post:{end.isoformat()}"
    claimed = repository.claim(start, key)
    if not claimed and not force:
        return False
    try:
        summary, charts = period_summary(repository, content, start, end)
        send(summary_text(content, summary), charts)
    except BaseException:
        if claimed:
            repository.unclaim(start, key)
        raise
    return True
