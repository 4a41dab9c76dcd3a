"""A one-shot database fault for tests: the next matching statement fails, later ones run."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def fail_once(engine: Engine, prefixes: str | tuple[str, ...], error: Exception) -> None:
    """The next statement on `engine` that starts with one of `prefixes` raises `error`."""
    armed = {"on": True}

    def hook(conn, cursor, statement, params, context, executemany) -> None:  # noqa: ANN001
        if armed["on"] and statement.startswith(prefixes):
            armed["on"] = False
            raise error

    event.listen(engine, "before_cursor_execute", hook)
