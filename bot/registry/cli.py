"""`python -m bot agencies import FILE [--dry-run] [--source TEXT]` for the operator who receives the official list."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from bot.registry.importer import ImportFileError, parse_rows, read_table
from bot.settings import Settings
from db.agencies import AgencyRepository
from db.migrate import upgrade
from db.session import make_engine, make_session_factory


def import_agencies(settings: Settings, path: Path, source: str, dry_run: bool, out: TextIO = sys.stdout) -> int:
    started = time.monotonic()
    try:
        table = read_table(path)
        print(f"Read {max(len(table) - 1, 0)} rows from {path}; validating...", file=out, flush=True)
        rows, problems = parse_rows(table)
    except (ImportFileError, OSError) as exc:
        print(f"Error: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    if problems:
        for problem in problems:
            print(f"ERROR {problem}", file=sys.stderr)
        print(f"{len(problems)} problem(s) in {path}; nothing was changed.", file=sys.stderr)
        return 1
    upgrade(settings.database_url)

    def progress(done: int, total: int) -> None:
        print(f"  {done}/{total} rows applied", file=out, flush=True)

    engine = make_engine(settings.database_url)
    try:
        repository = AgencyRepository(make_session_factory(engine))
        summary = repository.apply_import(rows, source, dry_run=dry_run, progress=progress)
    finally:
        engine.dispose()
    verb = "Would change (dry run, nothing saved)" if dry_run else "Imported"
    print(f"{verb}: {summary.added} added, {summary.updated} updated, {summary.unchanged} unchanged, "
          f"{len(summary.status_changes)} status changes, {len(summary.no_longer_listed)} no longer listed, "
          f"{summary.demo_removed} demo rows removed ({time.monotonic() - started:.1f} s).", file=out)
    for name, old, new in summary.status_changes:
        print(f"  status: {name}: {old} -> {new}", file=out)
    for name in summary.no_longer_listed:
        print(f"  no longer listed: {name}", file=out)
    return 0
