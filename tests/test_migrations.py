"""`upgrade head` on an empty SQLite or PostgreSQL database gives exactly the tables in bot/db/tables."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, upgrade
from bot.db.schema import create_all, load_all_tables

PG_URL = os.environ.get("TEST_DATABASE_URL")
HOW = (
    "the migrations do not match bot/db/tables; regenerate the initial migration as described "
    "in bot/db/migrate.py (or add a revision)"
)


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _diff(conn) -> list:
    # compare_type: a column whose type changed counts too. Only the default schema is compared.
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(ctx, load_all_tables().metadata)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request, tmp_path):
    """(engine, run) where run(action, revision) applies Alembic to this empty database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        engine = make_engine(url)

        def run(action, revision):
            getattr(command, action)(alembic_config(url), revision)

        yield engine, run
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})

    def run(action, revision):
        with engine.begin() as conn:
            getattr(command, action)(alembic_config(connection=conn), revision)

    yield engine, run
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_upgrade_head_yields_exactly_the_metadata(empty_db):
    engine, run = empty_db
    run("upgrade", "head")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
        diff = _diff(conn)
    assert not diff, f"{HOW}:\n" + "\n".join(map(str, diff))


def test_downgrade_base_removes_every_table(empty_db):
    engine, run = empty_db
    run("upgrade", "head")
    run("downgrade", "base")
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert names == set()


def test_the_booking_constraint_exists_after_migration(empty_db):
    engine, run = empty_db
    run("upgrade", "head")
    uniques = inspect(engine).get_unique_constraints("appointment")
    assert any(set(u["column_names"]) == {"booked_by", "booked_start"} for u in uniques)


def test_samvag_db_upgrade_command(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
    engine.dispose()


def test_a_chat_database_made_by_create_all_is_stamped_not_recreated(tmp_path):
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    engine = make_engine(url)
    create_all(engine)
    upgrade(url=url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
    upgrade(url=url)  # idempotent
    engine.dispose()
