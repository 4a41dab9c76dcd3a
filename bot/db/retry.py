"""Which database errors are passing faults (a locked SQLite file, a restarting PostgreSQL)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

try:  # psycopg is a dependency, but SQLite-only installs still import this module
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]

# SQLite says these when another connection holds the lock longer than busy_timeout.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def _transient_dbapi(err: BaseException) -> bool:
    if isinstance(err, sqlite3.OperationalError):
        return any(s in str(err).lower() for s in _SQLITE_BUSY)
    # psycopg's OperationalError covers a refused or dropped connection, an admin shutdown
    # (57P01, pg_terminate_backend), "cannot connect now" (57P03) and serialization failures.
    return psycopg is not None and isinstance(err, psycopg.OperationalError)


def is_transient(error: BaseException | None) -> bool:
    """True when trying again shortly may well succeed (and the resident should be told so)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa_exc.DBAPIError):
            if error.connection_invalidated:
                return True
            if error.orig is not None and _transient_dbapi(error.orig):
                return True
        if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return True  # a dead pooled connection, or the pool exhausted while the DB is slow
        if _transient_dbapi(error):
            return True
        error = error.__cause__ or error.__context__
    return False
