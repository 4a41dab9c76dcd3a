"""The broadcaster on both databases: outcomes per recipient, pacing, pauses, crashes, reports."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.broadcast import MAX_ATTEMPTS, Broadcaster, Pacer
from bot.core.activities import AnnouncementReportJob, announcement_reply
from bot.core.i18n import I18n
from bot.core.messages import Reply, ToResident
from bot.db.activities_store import SqlActivityStore
from bot.db.tables.activities import purge_before
from bot.delivery import RetryLater, Undeliverable

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
I18N = I18n()


class Transport:
    """A hand-written stand-in for the Telegram sender: records and answers as told."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.starts: list[float] = []
        self.blocked: set[str] = set()
        self.flood: Counter = Counter()  # resident -> 429 answers still to give
        self.broken: set[str] = set()  # network trouble for good
        self.hang: asyncio.Event | None = None  # sends wait for this (a process about to die)
        self.hung = 0

    async def deliver(self, target, reply: Reply, *, start, on_progress) -> None:
        assert isinstance(target, ToResident)
        self.starts.append(asyncio.get_running_loop().time())
        r = target.resident
        if self.hang is not None:
            self.hung += 1
            await self.hang.wait()
        if self.flood[r]:
            self.flood[r] -= 1
            raise RetryLater("flood limit", progress=0, after=0.2)
        if r in self.blocked:
            raise Undeliverable("forbidden", blocked=True)
        if r in self.broken:
            raise RetryLater("network: TimedOut", progress=0)
        self.received.append((r, reply.text))
        on_progress(1)


def render(kind, texts, locale):
    return announcement_reply(kind, texts, locale, I18N.gettext_for(locale))


def announce(store: SqlActivityStore, n: int, kind: str = "cafe") -> int:
    residents = [f"tg:{i}" for i in range(n)]
    for r in residents:
        store.subscribe(r, kind, now=NOW)
    ann = store.create_announcement(kind=kind, texts={"sv": "Hej alla", "en": "Hello all"},
                                    staff="tg:777", now=NOW)  # fmt: skip
    locales = ["sv", "en"]
    assert store.confirm_announcement(ann, [(r, locales[i % 2]) for i, r in enumerate(residents)], now=NOW)
    return ann


async def run_until_done(b: Broadcaster, transport: Transport, timeout: float = 10.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(b.run(stop, transport))
    try:
        async with asyncio.timeout(timeout):
            while b.store.sending():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


@pytest.fixture
def store(db_engine):
    return SqlActivityStore(db_engine)


async def test_everyone_once_with_flood_answers_blocked_and_broken(store):
    ann = announce(store, 60)
    t = Transport()
    t.blocked = {"tg:3", "tg:4"}
    t.flood.update({"tg:10": 2, "tg:11": 1})
    t.broken = {"tg:20"}
    b = Broadcaster(store, render, rate=400, idle=0.02, backoff=0.01)
    await run_until_done(b, t, timeout=30)
    got = Counter(r for r, _text in t.received)
    assert set(got.values()) == {1} and len(got) == 57
    assert "tg:10" in got and "tg:11" in got  # retried after the pause
    texts = dict(t.received)
    assert "Hej alla" in texts["tg:0"] and "Hello all" in texts["tg:1"]
    assert store.counts(ann) == {"sent": 57, "blocked": 2, "failed": 1}
    assert t.starts.count(t.starts[0]) == 1
    (report,) = AnnouncementReportJob(store=store, i18n=I18N).tick(NOW)
    assert "57 av 60" in report.reply.text and "blockerat boten: 2" in report.reply.text
    assert "kunde inte nås: 1" in report.reply.text.lower()
    assert AnnouncementReportJob(store=store, i18n=I18N).tick(NOW) == []  # reported once


async def test_a_broken_recipient_is_given_up_after_a_few_tries(store):
    announce(store, 1)
    t = Transport()
    t.broken = {"tg:0"}
    b = Broadcaster(store, render, rate=400, idle=0.02)
    clock = [0.0]
    b.epoch = lambda: clock[0]
    stop = asyncio.Event()
    for _ in range(MAX_ATTEMPTS + 2):
        clock[0] += 100  # always past any back-off
        await b.run_once(stop, t)
    assert len(t.starts) == MAX_ATTEMPTS
    assert store.counts(1) == {"failed": 1}


async def test_pacing_never_exceeds_the_rate_in_any_second(store):
    announce(store, 120)
    t = Transport()
    b = Broadcaster(store, render, rate=50, concurrency=8)
    stop = asyncio.Event()
    await b.run_once(stop, t)
    starts = sorted(t.starts)
    worst = max(sum(1 for s in starts if a <= s < a + 1.0) for a in starts)
    assert len(starts) == 120 and worst <= 50


async def test_a_crash_while_sending_never_sends_twice(store):
    ann = announce(store, 30)
    t = Transport()
    t.hang = asyncio.Event()
    b = Broadcaster(store, render, rate=400, concurrency=5)
    task = asyncio.create_task(b.run(asyncio.Event(), t))
    while t.hung < 5:
        await asyncio.sleep(0.01)
    task.cancel()  # the process dies with five sends in flight
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.counts(ann).get("sending") == 5
    t2 = Transport()
    await run_until_done(Broadcaster(store, render, rate=400, idle=0.05), t2)
    counts = store.counts(ann)
    assert counts == {"sent": 25, "unknown": 5}
    assert len({r for r, _ in t2.received}) == 25 and len(t2.received) == 25
    (report,) = AnnouncementReportJob(store=store, i18n=I18N).tick(NOW)
    assert "startade om" in report.reply.text and "5" in report.reply.text


async def test_a_graceful_stop_finishes_sends_in_flight_and_claims_no_more(store):
    ann = announce(store, 30)
    t = Transport()
    t.hang = asyncio.Event()
    b = Broadcaster(store, render, rate=400, concurrency=5)
    stop = asyncio.Event()
    task = asyncio.create_task(b.run(stop, t))
    while t.hung < 5:
        await asyncio.sleep(0.01)
    stop.set()
    t.hang.set()
    await task
    counts = store.counts(ann)
    assert counts.get("sending", 0) == 0 and counts["sent"] >= 5 and counts["sent"] + counts["pending"] == 30


async def test_unsubscribed_and_forgotten_residents_are_skipped(store):
    ann = announce(store, 5)
    store.unsubscribe("tg:1")
    store.forget("tg:2", NOW)
    t = Transport()
    await run_until_done(Broadcaster(store, render, rate=400, idle=0.05), t)
    assert sorted(r for r, _ in t.received) == ["tg:0", "tg:3", "tg:4"]
    assert store.counts(ann) == {"sent": 3, "skipped": 2}


async def test_announcement_to_all_reaches_every_kind_once(store):
    store.subscribe("tg:1", "cafe", now=NOW)
    store.subscribe("tg:1", "mothers", now=NOW)
    store.subscribe("tg:2", "consultation", now=NOW)
    ann = store.create_announcement(kind="all", texts={"sv": "Till alla"}, staff="tg:777", now=NOW)
    store.confirm_announcement(ann, [(r, "sv") for r in store.subscribers("all")], now=NOW)
    t = Transport()
    await run_until_done(Broadcaster(store, render, rate=400, idle=0.05), t)
    assert sorted(r for r, _ in t.received) == ["tg:1", "tg:2"]


def test_pacer_spaces_starts():
    async def go():
        p = Pacer(100)
        loop = asyncio.get_running_loop()
        times = []
        for _ in range(20):
            await p.wait()
            times.append(loop.time())
        p.pause(0.1)
        await p.wait()
        times.append(loop.time())
        return times

    times = asyncio.run(go())
    # the k-th start is never early (asyncio may wake a clock tick before its time)
    assert all(t - times[0] >= k * 0.0102 - 0.002 for k, t in enumerate(times[:-1]))
    assert times[-1] - times[-2] >= 0.098


def test_retention_removes_old_broadcast_rows_and_reminders(store, db_engine):
    from bot.db.engine import session_scope

    ann = announce(store, 3)
    store.add_reminder("tg:1", "kafe@202612101600", remind_at=NOW, starts_at=NOW, now=NOW)
    with session_scope(db_engine) as s:
        assert purge_before(s, datetime(2027, 1, 1, tzinfo=UTC)) == 1  # the reminder; still sending
    from sqlalchemy import update

    from bot.db.tables.activities import Announcement

    with session_scope(db_engine) as s:
        s.execute(update(Announcement).values(status="done"))
    with session_scope(db_engine) as s:
        assert purge_before(s, datetime(2027, 1, 1, tzinfo=UTC)) == 4  # 3 recipients + 1 announcement
    assert store.announcement(ann) is None
