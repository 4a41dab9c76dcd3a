"""Alembic environment: the metadata of every table module, on SQLite or PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import String

from bot.db.engine import make_engine
from bot.db.schema import load_all_tables

config = context.config
target_metadata = load_all_tables().metadata


def _url() -> str:
    """`-x url=...`, then the caller's config attribute, then sqlalchemy.url, then Settings."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.settings import Settings

    return Settings().database_url


def render_item(type_, obj, autogen_context):
    """Write SQLModel's AutoString as a plain sa.String, so migrations never import sqlmodel."""
    if type_ == "type" and type(obj).__module__.startswith("sqlmodel"):
        impl = getattr(obj, "impl", obj)
        if isinstance(impl, String):
            return f"sa.String(length={impl.length})" if impl.length else "sa.String()"
    return False


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later migrations copy-and-move tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Tests (and callers with a special search_path) hand over an open connection.
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
