"""The durable outbox on SQLite and PostgreSQL: order per target, retries, blocked, restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.messages import Attachment, Choice, Media, Outbound, Reply, ToResident, ToStaff
from bot.db.outbox_store import OutboxStore
from bot.db.telegram_store import TelegramStore
from bot.delivery import Delivery, RetryLater, Undeliverable, reply_from_json, reply_to_json


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


class RecordingTransport:
    """Delivers by recording; `plan` says what happens to each attempt, in order."""

    def __init__(self, plan=()) -> None:
        self.plan = list(plan)
        self.delivered: list[tuple[str, str]] = []

    async def deliver(self, target, reply, *, start, on_progress):
        outcome = self.plan.pop(0) if self.plan else None
        if isinstance(outcome, Exception):
            raise outcome
        who = "staff" if isinstance(target, ToStaff) else target.resident
        self.delivered.append((who, reply.text))
        on_progress(1)


def msg(resident: str, text: str) -> Outbound:
    return Outbound(ToResident(resident), Reply(text))


def test_reply_survives_json_round_trip():
    reply = Reply(
        "Hej **du**",
        [[Choice("a:1", "Ett"), Choice("a:2", "Två")]],
        voice=Path("/tmp/v.ogg"),
        attachment=Attachment("x.ics", b"\x00\xffBEGIN", "text/calendar"),
        copy=Media("voice", "-100:5"),
        request_contact="Dela",
    )
    back = reply_from_json(reply_to_json(reply))
    assert (back.text, back.choices, back.voice, back.attachment, back.copy, back.request_contact) == (
        reply.text, reply.choices, reply.voice, reply.attachment, reply.copy, reply.request_contact,
    )  # fmt: skip


async def test_per_target_order_is_kept_through_a_retry(db_engine):
    clock = Clock()
    transport = RecordingTransport([RetryLater("flood", progress=0, after=5)])
    delivery = Delivery(OutboxStore(db_engine), transport, clock=clock)
    delivery.enqueue([msg("tg:1", "first"), msg("tg:1", "second"), msg("tg:2", "other")])
    await delivery.drain_once()
    # tg:1's first message must wait 5 s, and its second waits behind it; tg:2 is not held up
    assert transport.delivered == [("tg:2", "other")]
    await delivery.drain_once()
    assert transport.delivered == [("tg:2", "other")]
    clock.t += 5
    await delivery.drain_once()
    assert transport.delivered[1:] == [("tg:1", "first"), ("tg:1", "second")]
    assert OutboxStore(db_engine).count() == 0


async def test_backoff_grows_and_nothing_is_lost(db_engine):
    clock = Clock()
    net = [RetryLater("network", progress=0) for _ in range(4)]
    transport = RecordingTransport(net)
    delivery = Delivery(OutboxStore(db_engine), transport, clock=clock, backoff_base=1.0)
    delivery.enqueue([msg("tg:1", "hello")])
    waits = []
    for _ in range(4):
        await delivery.drain_once()
        row = OutboxStore(db_engine).pending()[0]
        waits.append(row.next_at - clock.t)
        clock.t = row.next_at
    assert waits == [1.0, 2.0, 4.0, 8.0]
    await delivery.drain_once()
    assert transport.delivered == [("tg:1", "hello")]


async def test_blocked_target_is_dropped_and_bad_request_kept_as_failed(db_engine):
    transport = RecordingTransport(
        [Undeliverable("forbidden", blocked=True), Undeliverable("bad request")]
    )
    store = OutboxStore(db_engine)
    delivery = Delivery(store, transport, clock=Clock())
    delivery.enqueue([msg("tg:1", "a"), msg("tg:1", "b")])
    await delivery.drain_once()
    assert store.count() == 0 and store.count("failed") == 0
    delivery.enqueue([Outbound(ToStaff(3, title="#3"), Reply("x"))])
    await delivery.drain_once()
    assert store.count("failed") == 1
    assert transport.delivered == []


async def test_a_new_process_resumes_where_the_last_stopped(db_engine):
    clock = Clock()
    Delivery(OutboxStore(db_engine), None, clock=clock).enqueue(
        [Outbound(ToStaff(9, title="#9 Ana"), Reply("relay")), msg("tg:5", "reminder")], progress=0
    )
    transport = RecordingTransport()
    await Delivery(OutboxStore(db_engine), transport, clock=clock).drain_once()
    assert sorted(transport.delivered) == [("staff", "relay"), ("tg:5", "reminder")]


def test_telegram_store(db_engine):
    from datetime import UTC, datetime, timedelta

    store = TelegramStore(db_engine)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert store.claim_update(10**12, now=now) is True
    assert store.claim_update(10**12, now=now) is False
    assert store.prune_updates(before=now + timedelta(seconds=1)) == 1
    store.set_topic(7, chat_id=-1001234567890, thread_id=555)
    assert (store.topic(7), store.ticket_of_topic(555)) == (555, 7)
    store.forget_topic(7)
    assert store.topic(7) is None
    store.mark_blocked("tg:1", now=now)
    store.mark_blocked("tg:1", now=now)
    assert store.is_blocked("tg:1") and store.unblock("tg:1") and not store.is_blocked("tg:1")


@pytest.mark.parametrize("text", ["", "x"])
def test_empty_outbound_list_enqueues_nothing(sqlite_engine, text):
    assert Delivery(OutboxStore(sqlite_engine)).enqueue([]) == 0


async def test_a_slow_target_does_not_hold_up_the_others(db_engine):
    import asyncio

    release = asyncio.Event()

    class SlowStaff(RecordingTransport):
        async def deliver(self, target, reply, *, start, on_progress):
            if isinstance(target, ToStaff):
                await release.wait()  # the staff group's flood budget is spent
            await super().deliver(target, reply, start=start, on_progress=on_progress)

    transport = SlowStaff()
    delivery = Delivery(OutboxStore(db_engine), transport)
    stop = asyncio.Event()
    runner = asyncio.create_task(delivery.run(stop, idle=0.05))
    delivery.enqueue([Outbound(ToStaff(1, title="#1"), Reply("relay")), msg("tg:7", "reminder")])
    for _ in range(100):
        if transport.delivered:
            break
        await asyncio.sleep(0.02)
    assert transport.delivered == [("tg:7", "reminder")]
    release.set()
    for _ in range(100):
        if len(transport.delivered) == 2:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await runner
    assert transport.delivered[1] == ("staff", "relay")
    assert OutboxStore(db_engine).count() == 0


def test_mydata_and_forget_cover_the_outbox_and_blocked_mark(db_engine):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from bot.core.i18n import I18n
    from bot.db.telegram_store import TelegramDataHolder

    holder = TelegramDataHolder(db_engine)
    ctx = SimpleNamespace(_=I18n().gettext_for("sv"))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert holder.describe("tg:1", ctx) == []
    Delivery(OutboxStore(db_engine)).enqueue([msg("tg:1", "reminder"), msg("tg:2", "other")])
    TelegramStore(db_engine).mark_blocked("tg:1", now=now)
    assert holder.describe("tg:1", ctx) == [
        "Meddelanden till dig som väntar på att levereras; vart och ett raderas så snart det har levererats."
    ]
    assert holder.forget("tg:1", now) == []
    assert holder.describe("tg:1", ctx) == []
    assert not TelegramStore(db_engine).is_blocked("tg:1")
    assert [r.target for r in OutboxStore(db_engine).pending()] == ["r:tg:2"]


def test_a_relay_to_staff_is_stored_with_its_event_or_not_at_all(pack_app):
    """The Telegram channel stores an event's outbox rows in the event's own transaction: when
    they cannot be stored, the event is undone too, so its redelivery is handled and no relay
    to staff is lost (nor an urgent ticket left without its announcement)."""
    import sqlite3
    from datetime import UTC, datetime

    from sqlalchemy import exc as sa_exc
    from sqlalchemy import func, select

    from bot.channels.telegram import TelegramChannel
    from bot.core.messages import Incoming, Kind
    from bot.db.tables.handoff import HandoffTicket
    from bot.db.tables.outbox import OutboxMessage
    from bot.db.tables.state import ProcessedEvent
    from tests.db_faults import fail_once

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app = pack_app(now)
    channel = TelegramChannel(app.settings, app, core_workers=0)

    def send(text: str, event_id: str) -> list[Outbound]:
        return channel._handle_resident_sync(
            Incoming(
                resident="tg:1", language_hint="sv", kind=Kind.TEXT, text=text, event_id=event_id
            )
        )

    def count(table) -> int:
        with app.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar()

    try:
        send("Hej", "e1")
        channel._handle_resident_sync(
            Incoming(
                resident="tg:1",
                language_hint="sv",
                kind=Kind.CHOICE,
                choice="lang:sv",
                event_id="e2",
            )
        )
        fail_once(app.engine, "INSERT INTO outbox", sqlite3.OperationalError("disk I/O error"))

        with pytest.raises(sa_exc.OperationalError):
            send("Jag vill ta livet av mig", "e3")
        assert count(HandoffTicket) == 0 and count(OutboxMessage) == 0
        with app.engine.connect() as conn:  # not claimed: Telegram's redelivery is handled
            assert (
                conn.execute(select(ProcessedEvent).where(ProcessedEvent.event_id == "e3")).first()
                is None
            )

        out = send("Jag vill ta livet av mig", "e3")  # the redelivery
        assert any(isinstance(o.target, ToStaff) for o in out)
        assert count(HandoffTicket) == 1
        assert count(OutboxMessage) == sum(1 for o in out if not isinstance(o.target, ToResident))
        assert count(OutboxMessage) >= 1
    finally:
        channel.close()
        app.close()
