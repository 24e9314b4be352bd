"""Command line: `python -m bot <command>`. Operator messages are English; users' replies come from content/."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Safe-migration bot for NTT")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="serve Telegram (TELEGRAM_BOT_TOKEN set) or open the console chat")

    chat = commands.add_parser("chat", help="chat with the bot in the terminal")
    chat.add_argument("--jsonl", action="store_true", help='one conversation over JSON lines ({"text"} / {"press"})')
    chat.add_argument("--fallback-only", action="store_true", help="do not use Rasa; fuzzy matching only")

    ask = commands.add_parser("ask", help="print the bot's reply to one question, or to JSON lines")
    ask.add_argument("text", nargs="?", help="the question")
    ask.add_argument("--jsonl", action="store_true", help='read {"id", "text"} lines; each is a fresh conversation')
    ask.add_argument("--fallback-only", action="store_true", help="do not use Rasa; fuzzy matching only")

    train = commands.add_parser("train", help="train the NLU model when its training data changed")
    train.add_argument("--force", action="store_true", help="train even when the model is up to date")

    nlu = commands.add_parser("nlu", help="NLU quality")
    evaluate = nlu.add_subparsers(dest="nlu_command", required=True).add_parser(
        "eval", help="evaluate the NLU on tests/nlu/heldout.yml; report under var/nlu-eval/")
    evaluate.add_argument("--fallback-only", action="store_true", help="evaluate the fallback matcher instead")
    evaluate.add_argument("--check", action="store_true", help="exit 1 when a target is missed")

    agencies = commands.add_parser("agencies", help="the agency (P3MI) registry")
    agency_import = agencies.add_subparsers(dest="agencies_command", required=True).add_parser(
        "import", help="import an official list (CSV or XLSX); all or nothing")
    agency_import.add_argument("file", type=Path)
    agency_import.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    agency_import.add_argument("--source", help="where the list comes from (default: the file name)")

    reports = commands.add_parser("reports", help="trafficking reports (for staff and operators)")
    report_commands = reports.add_subparsers(dest="reports_command", required=True)
    listing = report_commands.add_parser("list", help="list reports")
    listing.add_argument("--undelivered", action="store_true", help="only reports not yet delivered to the group")
    listing.add_argument("--open", action="store_true", help="only reports not closed")
    report_commands.add_parser("show", help="show one report in full").add_argument("code")
    export = report_commands.add_parser("export", help="export every report (decrypted)")
    export.add_argument("--format", choices=["csv"], default="csv")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    purge = report_commands.add_parser("purge", help="delete reports closed long ago")
    purge.add_argument("--closed-older-than", required=True, metavar="DAYS", help="e.g. 365d")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    report_commands.add_parser("init-key", help="write a new REPORT_ENCRYPTION_KEY into .env if none is set")

    db = commands.add_parser("db", help="database maintenance")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply migrations")

    content = commands.add_parser("content", help="content maintenance")
    content.add_subparsers(dest="content_command", required=True).add_parser("check", help="validate content/")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2

    from bot.app import build_app, configure_logging

    configure_logging(settings)
    if args.command == "db":
        from bot.app import prepare_database

        prepare_database(settings.database_url)[0].dispose()
        print("Database is up to date (migrations applied, seed data loaded).")
        return 0
    if args.command == "content":
        from bot.content_check import check_content

        return check_content(settings.content_dir, settings.var_dir)
    if args.command == "train":
        from bot.content import Content
        from bot.nlu.training import train

        try:
            train(Content(settings.content_dir), settings.var_dir, force=args.force)
        except RuntimeError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "agencies":
        from bot.registry.cli import import_agencies

        return import_agencies(settings, args.file, args.source or args.file.name, args.dry_run)
    if args.command == "reports":
        return _reports(settings, args)
    if args.command == "nlu":
        return _evaluate_nlu(settings, args.fallback_only, args.check)
    if args.command == "run" and settings.telegram_bot_token:
        from bot.channels.telegram import serve

        return serve(settings)

    from bot.channels import console

    if args.command == "ask" and not args.jsonl and not args.text:
        print('Error: give a question (python -m bot ask "syarat jadi PMI apa?") or --jsonl', file=sys.stderr)
        return 2
    fallback_only = getattr(args, "fallback_only", False)
    with build_app(settings, fallback_only=fallback_only, wait_for_nlu=True) as app:
        if args.command == "run":
            print("No TELEGRAM_BOT_TOKEN set: opening the console chat. To serve Telegram, put the token from "
                  "@BotFather in .env as TELEGRAM_BOT_TOKEN=... and run `make run` again.", file=sys.stderr)
        if args.command == "ask":
            if args.jsonl:
                console.ask_jsonl(app.engine)
            else:
                console.ask_once(app.engine, args.text)
        elif getattr(args, "jsonl", False):
            console.chat_jsonl(app.engine)
        else:
            console.chat_interactive(app.engine)
    return 0


def _reports(settings, args) -> int:
    from bot.app import prepare_database
    from bot.reports.cli import ReportsCli, init_key

    if args.reports_command == "init-key":
        return init_key(settings)
    db_engine, sessions = prepare_database(settings.database_url)
    try:
        cli = ReportsCli(settings, sessions)
        if args.reports_command == "list":
            return cli.list(args.undelivered, args.open)
        if args.reports_command == "show":
            return cli.show(args.code)
        if args.reports_command == "export":
            return cli.export_csv(args.output)
        return cli.purge(args.closed_older_than, args.dry_run)
    finally:
        db_engine.dispose()


def _evaluate_nlu(settings, fallback_only: bool, check: bool) -> int:
    from bot.app import build_app
    from bot.dialogue.engine import THRESHOLDS
    from bot.nlu import evaluation

    with build_app(settings, fallback_only=fallback_only, wait_for_nlu=True) as app:
        if not fallback_only and app.nlu_mode == "fallback-only":
            print("Error: no Rasa model or server to evaluate; run `python -m bot train` first", file=sys.stderr)
            return 1
        source = "fallback" if fallback_only else "rasa"
        report = evaluation.evaluate(app.nlu.understand, evaluation.load_heldout(), THRESHOLDS[source][0])
        if not fallback_only and any(p.source == "fallback" for p in report.predictions):
            print("Error: the Rasa server stopped answering during the evaluation", file=sys.stderr)
            return 1
    out_dir = settings.var_dir / "nlu-eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    name = "fallback matcher" if fallback_only else "Rasa"
    (out_dir / "report.md").write_text(evaluation.render_markdown(report, name), encoding="utf-8")
    evaluation.write_confusion_png(report, out_dir / "confusion.png")
    evaluation.print_summary(report, sys.stdout)
    print(f"\nreport: {out_dir / 'report.md'}  confusion matrix: {out_dir / 'confusion.png'}")
    failures = report.failures()
    for failure in failures:
        print(f"TARGET MISSED: {failure}", file=sys.stderr)
    return 1 if check and failures else 0
