"""Apply Alembic migrations programmatically (used at start and by `python -m bot db upgrade`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema is, against the migrations this code has."""

    current: frozenset[str]  # the database's revision(s); empty: no schema yet
    heads: frozenset[str]  # what this code's migrations lead to
    known: frozenset[str]  # every revision this code has

    @property
    def newer_than_code(self) -> bool:
        """Migrated by a newer release (a rolling restart in progress)."""
        return bool(self.current - self.known)


def schema_state(connection: Connection, database_url: str) -> SchemaState:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return SchemaState(current=frozenset(MigrationContext.configure(connection).get_current_heads()),
                       heads=frozenset(script.get_heads()),
                       known=frozenset(revision.revision for revision in script.walk_revisions()))
