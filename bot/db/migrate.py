"""`samvag db upgrade`: apply the Alembic migrations in bot/db/migrations to the configured database.

Regenerating the initial migration (when tables change before the first release), from the
project root, against a throwaway empty SQLite file:

    rm -f bot/db/migrations/versions/0*.py /tmp/samvag-empty.db
    .venv/bin/alembic -x url=sqlite:////tmp/samvag-empty.db revision --autogenerate \
        --rev-id 0001 -m "initial schema"

After the first release, add a new revision instead (same command without the `rm`, a new
--rev-id, and a database upgraded to head). tests/test_migrations.py checks that `upgrade head`
on empty SQLite and PostgreSQL databases gives exactly the tables in bot/db/tables.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db.engine import make_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class MigrationError(RuntimeError):
    """The database cannot be migrated safely; the message says what to do."""


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """A Config that needs no alembic.ini, so it works from an installed package too."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.attributes["url"] = url  # not set_main_option: a password may contain '%'
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _unversioned_tables(url: str) -> set[str]:
    """samvag tables in a database Alembic has never touched (made by create_all on SQLite)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if MigrationContext.configure(conn).get_current_revision() is not None:
                return set()
            return set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def upgrade(revision: str = "head", *, url: str | None = None) -> None:
    """Upgrade the database (Settings().database_url unless `url` is given) to `revision`."""
    if url is None:
        from bot.settings import Settings

        url = Settings().database_url
    existing = _unversioned_tables(url)
    if existing:
        # A SQLite file the local chat created with create_all: mark it as up to date only if it
        # matches the current schema exactly, never guess.
        from alembic.autogenerate import compare_metadata

        from bot.db.schema import load_all_tables

        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), load_all_tables().metadata)
        finally:
            engine.dispose()
        if diff:
            raise MigrationError(
                "the database has samvag tables but no migration history, and they differ from "
                "the current schema; back it up and start from an empty database"
            )
        log.info("existing schema matches; stamping it as %s", revision)
        command.stamp(alembic_config(url), revision)
        return
    command.upgrade(alembic_config(url), revision)
    log.info("database upgraded to %s", revision)
