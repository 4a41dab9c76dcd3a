"""Engine creation for SQLite (embedded default) and PostgreSQL (server deployments)."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import cache
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the pragmas and pool settings each backend needs."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 15}}
        if memory:
            kwargs["poolclass"] = StaticPool
        # hide_parameters: error messages and logs never carry residents' words or keys.
        engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # SQLAlchemy, not pysqlite, begins transactions (below): savepoints then work.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                # WAL lets the chat, the bot and a report read while one writes.
                cur.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of
                # the bot loses nothing committed (the WAL survives it) and the file never
                # corrupts; only an OS crash or power loss may drop the last few commits.
                # It saves an fsync per resident event (about 3 ms on the dev machine).
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # A unit of work takes the write lock up front: no deadlock or stale-snapshot
            # failure when its first read is later followed by a write.
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    engine = create_engine(url, echo=echo, hide_parameters=True)
    event.listen(engine, "checkout", _closed_by_server)
    return engine


def _closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed is replaced before it is used.

    Instead of `pool_pre_ping` (a `SELECT 1` round trip at every checkout, one in six of a
    resident event's round trips): an idle connection has nothing to read, and a server that
    restarts or terminates the backend says so and closes the socket, so a readable socket
    (or one psycopg already knows is broken) is a stale connection. DisconnectionError makes
    the pool drop it and check out another (or open a new one).
    """
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("connection closed")
    poller = select.poll()  # not select.select: it fails on descriptors above 1023
    poller.register(dbapi_conn.fileno(), select.POLLIN)
    if poller.poll(0):  # readable, or hung up
        raise DisconnectionError("connection closed by the server")


class _Unit:
    """The unit of work of the event being handled in this thread: its session, and on
    PostgreSQL the writes `write_later` holds back until the next read or the commit."""

    __slots__ = ("ahead", "engine", "pending", "session")

    def __init__(self, engine: Engine, session: Session) -> None:
        self.engine = engine
        self.session = session
        self.pending: list[tuple[Any, dict[str, Any]]] = []
        # Answers read ahead (see `read_ahead`), by the key their store gave; None once
        # anything may have written.
        self.ahead: dict[Any, list[Any]] | None = None

    def read_ahead(self, reads: list[Ahead]) -> None:
        """Run `reads` now, as one query (one round trip after psycopg's BEGIN), and keep
        their rows for the stores that will ask (`ahead_rows`).

        A resident event's first statements (its claim, its state, the resident's open
        ticket) are known before the core runs; one at a time they were three round trips,
        each a wait on the core thread and a GIL hand-off with the event loop. They go as
        one query of several statements (`_script`: the simple query protocol; a psycopg
        pipeline did the same in one round trip but polled the socket, giving the GIL away,
        for every statement) and are read back result by result. They are prebuilt Core
        statements (compiled once, values bound as SQLAlchemy binds them) over plain columns,
        whose rows psycopg returns as SQLAlchemy would (timestamps aware, JSON decoded), with
        the columns as attributes.
        """
        from psycopg import ClientCursor  # PostgreSQL only: SQLite never imports it
        from psycopg.rows import namedtuple_row

        raw = self.session.connection().connection.driver_connection
        dialect = self.engine.dialect
        cur = ClientCursor(raw, row_factory=namedtuple_row)  # type: ignore[arg-type]
        try:
            cur.execute(_script(cur, [(stmt, params) for _k, stmt, params in reads], dialect))
            ahead = {}
            for i, (key, _s, _p) in enumerate(reads):
                if i:
                    cur.nextset()
                ahead[key] = cur.fetchall()
            self.ahead = ahead
        finally:
            cur.close()

    def rollback(self) -> None:
        """Drop the held-back writes and the answers read ahead; roll the transaction back."""
        self.pending.clear()
        self.ahead = None
        self.session.rollback()

    def flush(self, *, commit: bool = False) -> None:
        """Send the held-back writes (and the COMMIT, when asked) in one round trip.

        They go as one query of several statements (`_script`), so the writes whose result
        nobody reads cost one round trip together instead of one each. Statements run in the
        order they were held back; an error in any of them fails the event, as it would have
        run alone (PostgreSQL skips the rest of the query, the COMMIT too, and the
        transaction is rolled back). When something watches the engine's statements (tests'
        fault injection), they go through the session in a psycopg pipeline instead.
        """
        pending, self.pending = self.pending, []
        if not pending:
            if commit:
                self.session.commit()
            return
        self.session.flush()  # ORM objects, if any, go first (not in the query below)
        raw = self.session.connection().connection.driver_connection
        dialect = self.engine.dialect
        try:
            if _plain(self.engine):
                from psycopg import ClientCursor

                # One query of several statements (and the COMMIT): one send and one wait
                # for the answer. psycopg's pipeline mode polled the socket (releasing the
                # GIL) for every statement, 29 polls a question event in all, and each
                # release on a core thread let the event loop take the GIL away.
                with ClientCursor(raw) as cur:  # type: ignore[arg-type]
                    cur.execute(_script(cur, pending, dialect, commit=commit))
            else:
                with raw.pipeline():  # type: ignore[union-attr]
                    for stmt, params in pending:
                        self.session.execute(stmt, params)
                    if commit:
                        # psycopg's own COMMIT, in the pipeline: the session's commit below
                        # then finds no transaction open and only releases the connection,
                        # after the pipeline has ended.
                        raw.commit()  # type: ignore[union-attr]
        except BaseException:
            # Leave the connection clean for the pool whatever state it ended in. (On a
            # dropped connection this fails too: the first error is the one to raise, and the
            # checkout check replaces the connection.)
            with suppress(Exception):
                if raw.pgconn.transaction_status != 0:  # type: ignore[union-attr]  # not IDLE
                    raw.rollback()  # type: ignore[union-attr]
            raise
        if commit:
            self.session.commit()


# A read the unit of work may run ahead: (the key its store asks by, statement, values).
Ahead = tuple[Any, Any, dict[str, Any]]


def _script(
    cur: Any, statements: list[tuple[Any, dict[str, Any]]], dialect: Any, *, commit: bool = False
) -> str:
    """Prebuilt statements as one PostgreSQL query string, values merged by psycopg's
    client-side binding (`ClientCursor.mogrify`: the driver's own quoting of each type), for
    the simple query protocol, which runs several statements in one round trip."""
    parts = [cur.mogrify(*_bound(stmt, params, dialect)) for stmt, params in statements]
    if commit:
        parts.append("COMMIT")
    return ";\n".join(parts)


def _plain(engine: Engine) -> bool:
    """True when nothing watches the engine's statements (cursor events, echo), so running one
    with the driver's cursor is all SQLAlchemy would do; else SQLAlchemy runs it, events and
    all (tests inject faults with before_cursor_execute)."""
    d = engine.dispatch
    return not (d.before_cursor_execute or d.after_cursor_execute or engine.echo)


def _bound(stmt: Any, params: dict[str, Any], dialect: Any) -> tuple[str, Any]:
    """A prebuilt Core statement's SQL and values for psycopg, as SQLAlchemy would send them:
    compiled once per statement and set of value names (an INSERT names only the columns
    given), with the statement's own bound values and each type's bind processing (JSON)."""
    compiled = _compiled(dialect, stmt, tuple(params))
    values = compiled.construct_params(params)
    for name, process in compiled._bind_processors.items():
        if name in values:
            values[name] = process(values[name])
    if compiled.positional:  # SQLite's qmark style
        return compiled.string, tuple(values[name] for name in compiled.positiontup)
    return compiled.string, values


@cache  # prebuilt statements only: each is compiled once per dialect and set of value names
def _compiled(dialect: Any, stmt: Any, keys: tuple[str, ...]) -> Any:
    return stmt.compile(dialect=dialect, column_keys=list(keys))


# The unit of work of the event being handled in this thread, if any.
_ambient: ContextVar[_Unit | None] = ContextVar("samvag_unit_of_work", default=None)


def _joined(engine: Engine, *, writes: bool = False) -> Session | None:
    """The unit of work's session, its held-back writes sent (so whoever uses it sees them).

    `writes`: the caller may write, so answers read ahead may be stale from now on.
    """
    current = _ambient.get()
    if current is None or current.engine is not engine:
        return None
    if writes:
        current.ahead = None
    if current.pending:
        current.flush()
    return current.session


def ahead_rows(engine: Engine, key: Any) -> list[Any] | None:
    """The rows of the read `key` if the unit of work read it ahead (once: a second ask goes
    to the database), else None. Nothing written in the event since, so they are current."""
    current = _ambient.get()
    if current is None or current.engine is not engine or not current.ahead:
        return None
    return current.ahead.pop(key, None)


def _begin(session: Session) -> None:
    """Start the unit of work's transaction; on SQLite take the write lock at once, so two
    events never both read and then fail to upgrade to writing."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@contextmanager
def unit_of_work(engine: Engine, *, ahead: list[Ahead] | None = None) -> Iterator[Session]:
    """One transaction for everything the stores do inside it: all of it commits, or none.

    Inside another unit of work it joins that one (no savepoint): it commits with the outermost,
    and an error in it fails the whole. A part that may fail alone uses `savepoint`.
    `ahead`: reads the event will make first, run at once as one query on PostgreSQL
    (see `_Unit.read_ahead`); elsewhere they run when asked, as always.
    """
    joined = _joined(engine)
    if joined is not None:
        yield joined
        return
    with Session(engine, expire_on_commit=False) as session:
        _begin(session)
        unit = _Unit(engine, session)
        token = _ambient.set(unit)
        try:
            if ahead and engine.dialect.name == "postgresql" and _plain(engine):
                unit.read_ahead(ahead)
            yield session
            unit.flush(commit=True)
        except BaseException:
            unit.rollback()
            raise
        finally:
            _ambient.reset(token)


def write_later(engine: Engine, stmt: Any, params: dict[str, Any]) -> None:
    """A write whose result nobody reads: inside a unit of work on PostgreSQL it is held back
    and sent with the next read or the commit, in one round trip with the other held-back
    writes (see `_Unit.flush`); anywhere else it runs now, as `write_session` would run it.

    An INSERT given here is `.inline()`: it fetches no generated key (RETURNING would wait
    for an answer). Any use of the unit of work's session through this module (a read, another
    write, a savepoint) sends the held-back writes first, so the event always sees its own writes.
    A write run now fails with SQLAlchemy's error, as through a session.
    """
    current = _ambient.get()
    if current is not None and current.engine is engine:
        current.ahead = None
        if engine.dialect.name == "postgresql":
            current.pending.append((stmt, params))
            return
        if _plain(engine):
            # SQLite: now, on the unit's connection, with sqlite3's cursor (as `_Unit.flush`
            # does on PostgreSQL: SQLAlchemy's machinery cost more than the statement).
            raw = current.session.connection().connection.driver_connection
            sql, values = _bound(stmt, params, engine.dialect)
            try:
                raw.execute(sql, values)  # type: ignore[union-attr]
            except engine.dialect.loaded_dbapi.Error as err:
                # sqlite3's error wrapped as SQLAlchemy would (callers catch SQLAlchemyError).
                raise DBAPIError.instance(
                    sql,
                    values,
                    err,
                    engine.dialect.loaded_dbapi.Error,
                    hide_parameters=engine.hide_parameters,
                    dialect=engine.dialect,
                ) from err
            return
    with write_session(engine) as session:
        session.execute(stmt, params)


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading: the unit of work's (it sees its own writes), else a fresh one."""
    joined = _joined(engine)
    if joined is not None:
        yield joined
        return
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def _own_transaction(engine: Engine) -> Iterator[Session]:
    """A new session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for writes that expect no error: the unit of work's as is, else its own.

    Inside a unit of work there is no savepoint (a savepoint costs two statements, and the hot
    path of an event writes several times): an error fails the whole event, which is what any
    unexpected database error should do. Writes that expect an error (a duplicate key) and
    carry on use `session_scope`. Alone, it commits on success and rolls back on any error.
    """
    joined = _joined(engine, writes=True)
    if joined is not None:
        yield joined
        return
    with _own_transaction(engine) as session:
        yield session


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    Inside a unit of work it is a savepoint of that transaction: an error (say a duplicate key
    a store expects) undoes only this part, and the outer transaction commits the rest.
    """
    joined = _joined(engine, writes=True)
    if joined is not None:
        with joined.begin_nested():
            yield joined
        return
    with _own_transaction(engine) as session:
        yield session


def insert_new(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists: True when inserted. One statement, no savepoint.

    `INSERT ... ON CONFLICT DO NOTHING` (SQLite and PostgreSQL): a duplicate is no error, so
    it needs no savepoint inside a unit of work. On PostgreSQL a concurrent insert of the same
    key waits for the other transaction and then does nothing, as a unique violation would.
    """
    stmt = insert_new_statement(session.get_bind().dialect.name, table)
    return session.execute(stmt, values).first() is not None


@cache  # built once per table and dialect: the hot path only binds values
def insert_new_statement(dialect: str, table: Table) -> Any:
    """`insert_new`'s statement: a row comes back when it inserted (for `read_ahead` too)."""
    # RETURNING, not rowcount: read ahead (`_Unit.read_ahead`), the claim answers by its rows.
    stmt = dialect_insert(dialect)(table).on_conflict_do_nothing()
    return stmt.returning(*table.primary_key.columns)


def dialect_insert(dialect: str) -> Any:
    """The INSERT construct with ON CONFLICT of `dialect` (SQLite or PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - samvag runs on SQLite and PostgreSQL
        raise NotImplementedError(dialect)
    return insert


def undo(engine: Engine) -> None:
    """Roll back everything the current unit of work wrote so far; it goes on afresh.

    For the rare failure (a flow with a bug) that must leave no half records while the event
    still counts: cheaper than a savepoint around every event's flow, which costs two
    statements each time.
    """
    current = _ambient.get()
    if current is None or current.engine is not engine:
        return
    current.rollback()
    _begin(current.session)
