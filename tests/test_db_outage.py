"""A database that is briefly locked or gone: the resident hears "try again shortly", nothing half-done.

SQLite: another connection holds the write lock longer than the busy timeout. PostgreSQL: a
TCP proxy between the bot and the server drops every connection and refuses new ones (a
restart), and pg_terminate_backend kills the bot's idle connections (a restart already over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid

import pytest
from e2e_steps import buttons
from fakebotapi import FakeBotAPI, User
from fakebotapi.harness import FAST, settings_for
from sqlalchemy import create_engine, event, select, text
from sqlalchemy import exc as sa_exc

from bot.bootstrap import build_app
from bot.channels.telegram_run import running
from bot.db.engine import make_engine
from bot.db.retry import is_transient
from bot.db.schema import create_all, load_all_tables
from tests.db_faults import fail_once

ANA = User(4242, "Ana", "sv")
MIHAI = User(4343, "Mihai", "ro")
TRY_AGAIN = {
    "sv": "Försök igen om en liten stund",
    "ro": "încercați din nou peste puțin timp",
}
PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        yield f


async def onboard(fake: FakeBotAPI, user: User, lang: str) -> None:
    await fake.push(fake.text_update(user, "Hej"))
    welcome = await fake.wait_for(
        lambda: [m for m in fake.sent(user.id) if f"lang:{lang}" in buttons(m)]
    )
    await fake.push(fake.callback_update(user, welcome[0], f"lang:{lang}"))
    await fake.wait_for(lambda: [m for m in fake.sent(user.id) if "nav:human" in buttons(m)])
    await asyncio.sleep(0.2)


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a failed event wrote nothing."""
    meta = load_all_tables().metadata
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
            for t in meta.sorted_tables
        }


def short_busy_timeout(engine, ms: int = 300) -> None:
    """The bot waits 15 s for a lock; the test holds it longer than a shorter wait."""

    @event.listens_for(engine, "connect")
    def _busy(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA busy_timeout={ms}")

    engine.dispose()


# --- classification --------------------------------------------------------------------------


def test_transient_errors_are_told_apart_from_bugs(tmp_path):
    db = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{db}")
    create_all(engine)
    short_busy_timeout(engine, 50)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sa_exc.OperationalError) as locked, engine.begin() as conn:
            conn.execute(
                text("INSERT INTO processed_event (event_id, at) VALUES ('e', '2026-01-01')")
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_transient(locked.value)
    assert "[parameters" not in str(locked.value) or "hidden" in str(locked.value)
    with pytest.raises(sa_exc.OperationalError) as missing, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_transient(missing.value)  # a bug, not a passing fault
    assert not is_transient(ValueError("x"))
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = locked.value
    assert is_transient(wrapped)
    engine.dispose()


# --- SQLite: a lock held by another process ----------------------------------------------------


async def test_sqlite_locked_gives_a_kind_try_again_and_writes_nothing(fake, tmp_path, caplog):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    short_busy_timeout(app.engine)
    try:
        async with running(settings, app, channel_options=FAST):
            await onboard(fake, ANA, "sv")
            before_rows = snapshot(app.engine)
            before = len(fake.sent(ANA.id))
            holder = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # e.g. a backup or a report holding the write lock
            try:
                with caplog.at_level(logging.INFO):
                    await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
                    told = await fake.wait_for(lambda: fake.texts(ANA.id)[before:], timeout=10)
                    await asyncio.sleep(0.5)
                assert len(fake.texts(ANA.id)) == before + 1
                assert TRY_AGAIN["sv"] in told[0]
                holder.execute("ROLLBACK")
            finally:
                holder.close()
            assert snapshot(app.engine) == before_rows  # no half-handled event left behind
            # the resident tries again a moment later and is answered normally, once
            await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
            answer = await fake.wait_for(
                lambda: [
                    t for t in fake.texts(ANA.id)[before + 1 :] if "försörjningsstöd" in t.lower()
                ]
            )
            assert len(answer) == 1
        logged = caplog.text
        assert "försörjningsstöd" not in logged  # neither the text nor SQL parameters
        assert "Traceback" not in logged  # a passing fault is a warning, not a crash report
        assert "database unavailable" in logged
    finally:
        app.close()


async def test_sqlite_locked_mid_handoff_consent_then_retry_opens_one_ticket(fake, tmp_path):
    """The lock comes when the resident agrees to talk to a person; a retry opens exactly one."""
    from fakebotapi.harness import STAFF_CHAT

    from bot.db.tables.handoff import HandoffTicket

    fake.add_group(STAFF_CHAT)
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    short_busy_timeout(app.engine)
    try:
        async with running(settings, app, channel_options=FAST):
            await onboard(fake, MIHAI, "ro")
            menu = [m for m in fake.sent(MIHAI.id) if "nav:human" in buttons(m)][-1]
            await fake.push(fake.callback_update(MIHAI, menu, "nav:human"))
            consent = await fake.wait_for(
                lambda: [m for m in fake.sent(MIHAI.id) if "handoff:consent" in buttons(m)]
            )
            before = len(fake.sent(MIHAI.id))
            holder = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            try:
                await fake.push(fake.callback_update(MIHAI, consent[-1], "handoff:consent"))
                told = await fake.wait_for(lambda: fake.texts(MIHAI.id)[before:], timeout=10)
                assert TRY_AGAIN["ro"] in told[0]
                holder.execute("ROLLBACK")
            finally:
                holder.close()
            with app.engine.connect() as conn:
                assert conn.execute(select(HandoffTicket)).all() == []
            await fake.push(fake.callback_update(MIHAI, consent[-1], "handoff:consent"))
            await fake.wait_for(lambda: fake.sent(STAFF_CHAT))
            await asyncio.sleep(0.3)
            with app.engine.connect() as conn:
                assert len(conn.execute(select(HandoffTicket)).all()) == 1
            assert len([m for m in fake.sent(STAFF_CHAT) if buttons(m)]) == 1  # announced once
    finally:
        app.close()


async def test_an_update_whose_id_cannot_be_claimed_is_not_handled_at_all(fake, tmp_path):
    """The claim fails, the database is back a moment later: the update must not slip through."""
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await onboard(fake, ANA, "sv")
            fail_once(
                app.engine,
                ("INSERT INTO telegram_update", "INSERT INTO processed_event"),
                sqlite3.OperationalError("database is locked"),
            )

            rows = snapshot(app.engine)
            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
            told = await fake.wait_for(lambda: fake.texts(ANA.id)[before:])
            await asyncio.sleep(0.7)
            assert len(fake.texts(ANA.id)) == before + 1 and TRY_AGAIN["sv"] in told[0]
            assert snapshot(app.engine) == rows  # the conversation never saw it
    finally:
        app.close()


# --- PostgreSQL: a restart ---------------------------------------------------------------------


class CuttableProxy:
    """A loopback TCP proxy to PostgreSQL that can drop every connection and refuse new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()  # the server is "restarting": the connection drops at once
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._socks |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self._lock:
            socks, self._socks = self._socks, set()
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.listener.close()


@pytest.fixture
def pg_schema():
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    create_all(engine)
    engine.dispose()
    yield schema, admin
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def pg_url_via(port: int, schema: str, app_name: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(host="127.0.0.1", port=port)
    url = url.update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": app_name}
    )
    return url.render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_postgres_restart_gives_try_again_then_recovers(fake, tmp_path, pg_schema):
    from sqlalchemy.engine import make_url

    schema, admin = pg_schema
    real = make_url(PG_URL)
    proxy = CuttableProxy((real.host or "127.0.0.1", real.port or 5432))
    app_name = f"samvag_{schema}"
    settings = settings_for(fake, tmp_path, database_url=pg_url_via(proxy.port, schema, app_name))
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await onboard(fake, ANA, "sv")
            # 1. a restart that is already over: idle connections were killed; checkout notices
            with admin.begin() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": app_name},
                ).scalar()
            assert killed >= 1
            # ...and over: pg_terminate_backend only signals; wait until the backends have
            # gone (they say so on their sockets as they exit) and the proxy passed that on.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with admin.connect() as conn:
                    left = conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                        {"n": app_name},
                    ).scalar()
                if not left:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "/menu"))
            menu = await fake.wait_for(lambda: fake.sent(ANA.id)[before:])
            assert "nav:human" in buttons(menu[0])  # served as if nothing happened

            # 2. the server is down right now: a kind "try again shortly", nothing written
            rows = snapshot(app.engine)
            proxy.cut()
            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
            told = await fake.wait_for(lambda: fake.texts(ANA.id)[before:], timeout=10)
            assert TRY_AGAIN["sv"] in told[0]
            proxy.restore()
            assert snapshot(app.engine) == rows

            # 3. back up: the same question is answered, once
            await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
            answer = await fake.wait_for(
                lambda: [
                    t for t in fake.texts(ANA.id)[before + 1 :] if "försörjningsstöd" in t.lower()
                ]
            )
            assert len(answer) == 1
    finally:
        app.close()
        proxy.close()


# --- a fault in the middle of one event -----------------------------------------------------------


def test_a_fault_between_a_flows_write_and_the_state_save_leaves_no_half_event(pack_app):
    """The request is stored, then the resident's state cannot be saved: a retry must not duplicate it."""
    from datetime import UTC, datetime

    from sqlalchemy import func

    from bot.core.messages import Incoming, Kind
    from bot.db.tables.appointments import AppointmentRow

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app = pack_app(now)
    seq = iter(range(1, 999))

    def press(choice: str) -> list:
        return app.conversation.handle(
            Incoming(
                resident="tg:1",
                language_hint="sv",
                kind=Kind.CHOICE,
                choice=choice,
                event_id=f"e{next(seq)}",
            )
        )

    try:
        app.conversation.handle(
            Incoming(resident="tg:1", language_hint="sv", kind=Kind.TEXT, text="Hej", event_id="e0")
        )
        for choice in ("lang:sv", "go:appt", "appt:t:-", "appt:any", "appt:l:n", "appt:c:chat"):
            press(choice)
        out = press("appt:n:-")
        ok = next(
            c.id for o in out for row in o.reply.choices for c in row if c.id.startswith("appt:ok:")
        )
        fail_once(
            app.engine, "INSERT INTO resident_state", sqlite3.OperationalError("database is locked")
        )

        with pytest.raises(sa_exc.OperationalError):
            press(ok)  # the channel answers "try again shortly"
        press(ok)  # and the resident does
        with app.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(AppointmentRow)).scalar()
        assert count == 1, f"{count} requests: one of them was never announced to staff"
    finally:
        app.close()
