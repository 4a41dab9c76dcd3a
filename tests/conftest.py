"""Shared fixtures: a database engine on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from bot.db.engine import make_engine
from bot.db.schema import create_all

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _pg_engine_in_fresh_schema():
    """An engine whose search_path is a fresh schema, so parallel runs never collide."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    from sqlalchemy import create_engine

    engine = create_engine(
        PG_URL, pool_pre_ping=True, connect_args={"options": f"-csearch_path={schema}"}
    )
    return engine, admin, schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_engine(request, tmp_path):
    """A migrated, empty database: SQLite in a temp file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        create_all(engine)
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine, admin, schema = _pg_engine_in_fresh_schema()
    create_all(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pack_app(tmp_path):
    """Make the whole app on a SQLite file with the test pack, its clock fixed at `now`."""
    from pathlib import Path

    from bot.bootstrap import build_app
    from bot.settings import Settings

    def make(now):
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite:///{tmp_path / 'b.db'}",
            content_dir=Path(__file__).parent / "data" / "pack",
        )
        return build_app(settings, clock=lambda: now)

    return make


@pytest.fixture(scope="session")
def shipped_content():
    """The project's own content/ folder, loaded once for the whole run (read only)."""
    from pathlib import Path

    from bot.content.loader import load_content

    return load_content(Path(__file__).resolve().parents[1] / "content")


@pytest.fixture(scope="session")
def shipped_matcher(shipped_content):
    """A lexical matcher over content/ (no embedding model), built once for the whole run."""
    from bot.core.search import Matcher

    return Matcher(shipped_content)
