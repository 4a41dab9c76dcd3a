"""Durable delivery: outbound replies wait in the outbox table until a transport has sent them.

Replies to the chat that sent an update go out directly; everything else (relays to staff,
messages to other residents, job output) is enqueued here in the same process and drained by
`Delivery.run`, so a restart or a network fault loses nothing. Messages to one target keep
their order; a failed one holds back the later ones for that target until it goes through.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from sqlmodel import Session

from bot.core.messages import (
    Attachment,
    Choice,
    Media,
    Outbound,
    Reply,
    Target,
    ToResident,
    ToStaff,
)
from bot.core.privacy import log_id
from bot.db.outbox_store import OutboxStore
from bot.db.tables.outbox import STAFF_TARGET, OutboxMessage

log = logging.getLogger(__name__)


class RetryLater(Exception):  # noqa: N818 - an outcome, not a failure
    """The transport could not send now (flood limit, network, 5xx); try again later."""

    def __init__(self, reason: str, *, progress: int, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.progress, self.after = reason, progress, after


class Undeliverable(Exception):
    """The platform refused the message for good (blocked bot, bad request)."""

    def __init__(self, reason: str, *, blocked: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.blocked = reason, blocked


class Transport(Protocol):
    async def deliver(
        self, target: Target, reply: Reply, *, start: int, on_progress: Callable[[int], None]
    ) -> None:
        """Send `reply` from step `start`; call `on_progress(n)` after each step; raise
        RetryLater or Undeliverable when it cannot."""


def target_key(target: Target) -> str:
    return STAFF_TARGET if isinstance(target, ToStaff) else f"r:{target.resident}"


def reply_to_json(reply: Reply) -> str:
    """A Reply as JSON (attachments base64) for the outbox."""
    doc: dict = {"text": reply.text}
    if reply.choices:
        doc["choices"] = [[[c.id, c.label] for c in row] for row in reply.choices]
    if reply.voice is not None:
        doc["voice"] = str(reply.voice)
    if reply.attachment is not None:
        a = reply.attachment
        doc["attachment"] = [a.filename, base64.b64encode(a.data).decode("ascii"), a.mime]
    if reply.copy is not None:
        doc["copy"] = [reply.copy.kind, reply.copy.ref]
    if reply.request_contact:
        doc["request_contact"] = reply.request_contact
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def reply_from_json(raw: str) -> Reply:
    doc = json.loads(raw)
    reply = Reply(text=doc.get("text", ""))
    reply.choices = [[Choice(i, label) for i, label in row] for row in doc.get("choices", [])]
    if "voice" in doc:
        reply.voice = Path(doc["voice"])
    if "attachment" in doc:
        name, data, mime = doc["attachment"]
        reply.attachment = Attachment(name, base64.b64decode(data), mime)
    if "copy" in doc:
        reply.copy = Media(*doc["copy"])
    reply.request_contact = doc.get("request_contact")
    return reply


def _target_of(row: OutboxMessage) -> Target:
    if row.target == STAFF_TARGET:
        return ToStaff(ticket=row.ticket, urgent=row.urgent, title=row.title)
    return ToResident(row.target[2:])


class Delivery:
    """The outbox and its sender loop."""

    def __init__(
        self,
        store: OutboxStore,
        transport: Transport | None = None,
        *,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 1.0,
        backoff_max: float = 300.0,
        concurrency: int = 32,
    ) -> None:
        self.store = store
        self.transport = transport
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._concurrency = concurrency
        self._wake = asyncio.Event()

    def enqueue(self, outbounds: Iterable[Outbound], *, progress: int = 0) -> int:
        """Store outbound replies durably and wake the sender; the first resumes at `progress`."""
        rows = self.rows(outbounds, progress=progress)
        if not rows:
            return 0
        n = self.store.add(rows)
        self.wake()
        return n

    def stage(self, outbounds: Iterable[Outbound], *, session: Session) -> int:
        """Add outbound replies to the caller's transaction (the event's): they are stored
        exactly when the event's other writes are. Call `wake()` after it commits."""
        rows = self.rows(outbounds)
        return self.store.add(rows, session=session) if rows else 0

    def rows(self, outbounds: Iterable[Outbound], *, progress: int = 0) -> list[OutboxMessage]:
        """Outbox rows for outbound replies; the first resumes at `progress`."""
        now = self.clock()
        rows = [
            OutboxMessage(
                target=target_key(o.target),
                ticket=o.target.ticket if isinstance(o.target, ToStaff) else None,
                urgent=o.target.urgent if isinstance(o.target, ToStaff) else False,
                title=(o.target.title or None) if isinstance(o.target, ToStaff) else None,
                payload=reply_to_json(o.reply),
                next_at=now,
                created_at=now,
            )
            for o in outbounds
        ]
        if rows:
            rows[0].progress = progress
        for row in rows:
            if row.title:
                row.title = row.title[:128]
        return rows

    def wake(self) -> None:
        self._wake.set()

    def _backoff(self, attempts: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2 ** min(attempts, 20)))

    def _due(self) -> dict[str, list[OutboxMessage]]:
        """Pending rows per target, for targets whose oldest message is due."""
        now = self.clock()
        by_target: dict[str, list[OutboxMessage]] = {}
        for row in self.store.pending():
            by_target.setdefault(row.target, []).append(row)
        # Only a target whose oldest message is due may send: later ones keep their place.
        return {t: rows for t, rows in by_target.items() if rows[0].next_at <= now}

    async def _send_target(self, rows: list[OutboxMessage]) -> int:
        sent = 0
        for row in rows:
            if not await self._send_row(row):
                break
            sent += 1
        return sent

    async def drain_once(self) -> int:
        """Send every due message (per target in order); return how many were delivered."""
        if self.transport is None:
            return 0
        sem = asyncio.Semaphore(self._concurrency)

        async def one_target(rows: list[OutboxMessage]) -> int:
            async with sem:
                return await self._send_target(rows)

        results = await asyncio.gather(*(one_target(rows) for rows in self._due().values()))
        return sum(results)

    async def _send_row(self, row: OutboxMessage) -> bool:
        """True when delivered; False when the target must wait (or was dropped)."""
        assert self.transport is not None and row.id is not None
        row_id = row.id

        def on_progress(n: int) -> None:
            self.store.progress(row_id, n)

        target = _target_of(row)
        try:
            await self.transport.deliver(
                target, reply_from_json(row.payload), start=row.progress, on_progress=on_progress
            )
        except RetryLater as e:
            after = e.after if e.after is not None else self._backoff(row.attempts)
            self.store.retry(
                row_id, progress=e.progress, next_at=self.clock() + after, error=e.reason
            )
            log.info("outbox %s: retry in %.1fs (%s)", row_id, after, e.reason)
            return False
        except Undeliverable as e:
            if e.blocked and isinstance(target, ToResident):
                dropped = self.store.drop_target(row.target)
                log.info("outbox: %s blocked the bot; dropped %d", log_id(target.resident), dropped)
            else:
                self.store.fail(row_id, error=e.reason)
                log.warning("outbox %s undeliverable: %s", row_id, e.reason)
            return False
        except Exception:  # a bug in the transport must not stop the loop or lose the row
            log.exception("outbox %s: unexpected error", row_id)
            self.store.retry(
                row_id,
                progress=row.progress,
                next_at=self.clock() + self._backoff(row.attempts),
                error="internal error",
            )
            return False
        self.store.done(row_id)
        return True

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0, grace: float = 5.0) -> None:
        """Drain until `stop` is set: at once when woken, else every `idle` seconds.

        Each target sends in its own task, so a slow one (the staff group at 20 messages a
        minute) never holds up the others; one target has at most one task at a time.
        """
        inflight: dict[str, asyncio.Task] = {}

        def finished(target: str, task: asyncio.Task) -> None:
            inflight.pop(target, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("outbox sender for a target failed: %s", type(task.exception()).__name__)
            self.wake()  # rows may have arrived for it meanwhile

        while not stop.is_set():
            self._wake.clear()
            if self.transport is not None:
                try:
                    for target, rows in self._due().items():
                        if target in inflight or len(inflight) >= self._concurrency:
                            continue
                        task = asyncio.create_task(
                            self._send_target(rows), name=f"outbox:{target[:2]}"
                        )
                        inflight[target] = task
                        task.add_done_callback(lambda t, k=target: finished(k, t))
                except Exception:  # the database may be briefly gone; keep the loop alive
                    log.exception("outbox drain failed")
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
        # Let sends in flight finish; a row cut off here stays pending and goes after a restart.
        if inflight:
            _done, pending = await asyncio.wait(list(inflight.values()), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
