"""`python -m bot insights missed|report`: for editors and the task force (heavy imports only when run)."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    insights = commands.add_parser("insights", help="what people ask, what the bot missed, reports (anonymous)")
    sub = insights.add_subparsers(dest="insights_command", required=True)
    missed = sub.add_parser("missed", help="messages the bot did not understand, asked back on, or answered unsure, "
                                           "grouped by nearest topic")
    missed.add_argument("--since", default="30d", help="e.g. 7d, 30d (at most 90d are kept) or 2026-11-01")
    missed.add_argument("--csv", type=Path, metavar="FILE", help="write every message to this CSV file")
    report = sub.add_parser("report", help="PNG charts and a one-page HTML summary")
    report.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (default: 30 days ago)")
    report.add_argument("--to", dest="end", type=date.fromisoformat, help="last day, inclusive (default: today)")
    report.add_argument("--output", type=Path, required=True, metavar="DIR", help="folder for the PNGs and index.html")
    post = sub.add_parser("post", help="post a month's summary and charts to the task-force group (for a monthly "
                                       "cron job; once per month however often it runs)")
    post.add_argument("--month", help="YYYY-MM (default: the previous month)")
    post.add_argument("--force", action="store_true", help="post even if this month was posted already")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import prepare_database
    from bot.content import Content
    from bot.insights import missed as missed_messages
    from bot.insights.publish import last_days, month_of, period_summary, post_once, write_report
    from bot.insights.recorder import MISSED_KEEP, today_wita
    from bot.insights.summary import parse_since
    from bot.nlu.training import NLU_DATA_DIR
    from db.insights import InsightRepository

    try:
        content = Content(settings.content_dir)
        if args.insights_command == "missed":
            today = today_wita()
            try:
                since = parse_since(args.since, today)
            except ValueError:
                print(f"Error: --since {args.since!r} is not like 30d or 2026-11-01", file=sys.stderr)
                return 2
            if today - since > MISSED_KEEP:
                print(f"Note: missed messages are kept {MISSED_KEEP.days} days; older ones are gone.", file=sys.stderr)
        elif args.insights_command == "post":
            if not settings.telegram_bot_token or settings.taskforce_chat_id is None:
                print("Error: set TELEGRAM_BOT_TOKEN and TASKFORCE_CHAT_ID to post to the task-force group",
                      file=sys.stderr)
                return 2
            start, end = month_of(args.month)
        else:
            default_start, default_end = last_days()
            start, end = args.start or default_start, args.end or default_end
            if start > end:
                print("Error: --from is after --to", file=sys.stderr)
                return 2
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    db_engine, sessions = prepare_database(settings.database_url)
    try:
        repository = InsightRepository(sessions)
        if args.insights_command == "missed":
            groups = missed_messages.group_missed(repository.missed(since), content, NLU_DATA_DIR)
            missed_messages.print_groups(groups, sys.stdout)
            if args.csv:
                lines = missed_messages.write_csv(groups, args.csv)
                print(f"wrote {lines} messages to {args.csv}")
            return 0
        if args.insights_command == "post":
            from bot.channels.telegram_staff import post_statistics

            token, chat_id = settings.telegram_bot_token, settings.taskforce_chat_id
            assert token and chat_id is not None  # checked with the arguments above
            base = settings.telegram_api_base_url
            posted = post_once(repository, content, start, end,
                               lambda text, charts: post_statistics(token, chat_id, base, text, charts),
                               force=args.force)
            print(f"posted the summary of {start} to {end}" if posted else
                  f"the summary of {start} to {end} was posted already (use --force to post again)")
            return 0
        summary, charts = period_summary(repository, content, start, end)
        paths = write_report(content, summary, charts, args.output)
        print(f"{summary.questions} questions, {summary.agency_checks} agency checks, {summary.offers_checked} offers "
              f"checked, {summary.reports} reports from {start} to {end}")
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0
    finally:
        db_engine.dispose()
