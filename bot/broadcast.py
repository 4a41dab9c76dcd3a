"""Announcement delivery: every subscriber once, paced under Telegram's limit, resumable.

A confirmed announcement has one `announcement_recipient` row per subscriber. The broadcaster
claims a row (pending -> sending) right before sending, and records the outcome (sent, blocked,
failed) right after. A flood-limit answer means Telegram delivered nothing, so the row goes back
to pending and the whole broadcast pauses. After a restart, rows left in 'sending' are marked
'unknown' and never sent again: a resident may miss one announcement, but no one gets it twice.
A graceful stop finishes the sends in flight and claims no more, so nothing is left unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.core.messages import Outbound, Reply, ToResident
from bot.core.privacy import log_id
from bot.db.activities_store import SqlActivityStore
from bot.delivery import RetryLater, Transport, Undeliverable

log = logging.getLogger(__name__)

# Telegram allows about 30 messages a second overall; a broadcast keeps a third of that free, so
# residents chatting meanwhile (and Telegram's own retries after a 429) still fit under it.
DEFAULT_RATE = 20.0
MAX_ATTEMPTS = 6  # network trouble for one resident: give up on them after this many tries

Render = Callable[[str, dict[str, str], str], Reply]  # (kind, texts, locale) -> the message
Enqueue = Callable[[Iterable[Outbound]], object]


class Pacer:
    """Evenly spaced starts: at most `rate` a second in any window, with a shared pause."""

    def __init__(self, rate: float) -> None:
        # 2% wider than 1/rate: scheduling jitter of a few milliseconds can then never put
        # rate + 1 sends into one second.
        self.interval = 1.02 / rate
        self._next = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(self._next, now)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Telegram asked us to wait: no broadcast message starts before then."""
        self._next = max(self._next, asyncio.get_running_loop().time() + seconds)


class Broadcaster:
    """Runs beside the channel: `run(stop, transport, enqueue)` until stop is set."""

    name = "broadcast"

    def __init__(
        self,
        store: SqlActivityStore,
        render: Render,
        *,
        rate: float = DEFAULT_RATE,
        concurrency: int = 8,
        batch: int = 100,
        idle: float = 2.0,
        backoff: float = 1.0,
        on_finished: Callable[[datetime], list[Outbound]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        epoch: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.render = render
        self.rate = rate
        self.concurrency = concurrency
        self.batch = batch
        self.idle = idle
        self.backoff = backoff
        self.on_finished = on_finished
        self.clock = clock
        self.epoch = epoch
        self._wake: asyncio.Event | None = None

    def wake(self) -> None:
        """A new announcement was confirmed: start at once instead of at the next poll."""
        if self._wake is not None:
            self._wake.set()

    async def run(
        self, stop: asyncio.Event, transport: Transport, enqueue: Enqueue | None = None
    ) -> None:
        self._wake = asyncio.Event()
        recovered = self.store.recover(now=self.clock())
        if recovered:
            log.warning("broadcast: %d recipients were being sent to at a restart; not resent",
                        recovered)  # fmt: skip
        pacer = Pacer(self.rate)
        while not stop.is_set():
            self._wake.clear()
            delay = self.idle
            try:
                delay = await self.run_once(stop, transport, pacer, enqueue)
            except Exception:  # the database may be briefly gone: keep the loop alive
                log.exception("broadcast round failed")
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=max(0.05, delay), return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()

    async def run_once(
        self,
        stop: asyncio.Event,
        transport: Transport,
        pacer: Pacer | None = None,
        enqueue: Enqueue | None = None,
    ) -> float:
        """Send what is due in every announcement being sent; returns how long to rest."""
        pacer = pacer or Pacer(self.rate)
        rest = self.idle
        for ann in self.store.sending():
            while not stop.is_set():
                rows = self.store.due_recipients(
                    ann.id, ann.kind, limit=self.batch, now=self.clock(), epoch=self.epoch()
                )
                if not rows:
                    break
                await self._send_rows(ann, rows, stop, transport, pacer)
            if stop.is_set():
                break
            if self.store.finish_if_done(ann.id, now=self.clock()):
                log.info("announcement %s delivered", ann.id)
                if self.on_finished is not None and enqueue is not None:
                    enqueue(self.on_finished(self.clock()))
                continue
            due = self.store.next_due(ann.id)
            if due is not None:
                rest = min(rest, max(0.05, due - self.epoch()))
        return rest

    async def _send_rows(self, ann, rows, stop, transport, pacer) -> None:
        sem = asyncio.Semaphore(self.concurrency)
        tasks: list[asyncio.Task] = []
        try:
            for row in rows:
                await sem.acquire()
                if stop.is_set():
                    sem.release()
                    break
                if not self.store.claim(row.id, now=self.clock()):
                    sem.release()
                    continue
                await pacer.wait()  # last, so database latency never bunches two sends
                tasks.append(asyncio.create_task(self._send_one(ann, row, transport, pacer, sem)))
                await asyncio.sleep(0)  # let it start now, not after the next (blocking) claim
        except asyncio.CancelledError:
            for task in tasks:  # killed, not stopped: what is in flight stays 'sending'
                task.cancel()
            raise
        # A graceful stop lets the sends in flight finish, so none is left half-known.
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_one(self, ann, row, transport, pacer: Pacer, sem: asyncio.Semaphore) -> None:
        try:
            reply = self.render(ann.kind, ann.texts, row.locale)

            def on_progress(n: int, row_id: int = row.id) -> None:
                self.store.progress(row_id, n)

            try:
                await transport.deliver(
                    ToResident(row.resident), reply, start=row.progress, on_progress=on_progress
                )
            except RetryLater as exc:
                after = exc.after if exc.after is not None else min(60.0, self.backoff * 2.0**row.attempts)
                if exc.after is not None:
                    pacer.pause(after)
                if row.attempts + 1 >= MAX_ATTEMPTS and exc.after is None:
                    self.store.settle(row.id, "failed", now=self.clock(), progress=exc.progress)
                    return
                self.store.release(row.id, progress=exc.progress, next_at=self.epoch() + after,
                                   now=self.clock())  # fmt: skip
                log.info("broadcast %s: retry %s in %.1fs (%s)", ann.id, log_id(row.resident),
                         after, exc.reason)  # fmt: skip
                return
            except Undeliverable as exc:
                status = "blocked" if exc.blocked else "failed"
                self.store.settle(row.id, status, now=self.clock(), progress=row.progress)
                log.info("broadcast %s: %s %s", ann.id, log_id(row.resident), status)
                return
            except Exception:
                log.exception("broadcast %s: sending failed", ann.id)
                self.store.settle(row.id, "failed", now=self.clock(), progress=row.progress)
                return
            self.store.settle(row.id, "sent", now=self.clock(), progress=0)
        finally:
            sem.release()


async def run_until(broadcaster: Broadcaster, transport: Transport, *, timeout: float) -> None:
    """Run one broadcaster until nothing is left to send (tests and `samvag` tooling)."""
    stop = asyncio.Event()
    task = asyncio.create_task(broadcaster.run(stop, transport))
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while asyncio.get_running_loop().time() < deadline:
            if not broadcaster.store.sending():
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("broadcast did not finish in time")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
