"""The outbox on SQLModel: enqueue replies, take what is due, record progress and faults."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.db.engine import read_session, session_scope
from bot.db.tables.outbox import OutboxMessage


class OutboxStore:
    """Each call is its own short transaction, so the sender never holds a lock while sending."""

    # Delivered rows are deleted at once, so nothing is kept after delivery; purge_before makes
    # this a retention hook for rows never delivered. /forget: telegram_store.TelegramDataHolder.

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, rows: Iterable[OutboxMessage], *, session: Session | None = None) -> int:
        """Store rows (inside the caller's transaction when a session is given)."""
        rows = list(rows)
        if session is not None:
            session.add_all(rows)
            return len(rows)
        with session_scope(self.engine) as s:
            s.add_all(rows)
        return len(rows)

    def pending(self, *, limit: int = 500) -> list[OutboxMessage]:
        """The oldest pending rows, in id order (due or not: order per target matters)."""
        with read_session(self.engine) as s:
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending")
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            return list(s.execute(stmt).scalars())

    def count(self, status: str = "pending") -> int:
        with read_session(self.engine) as s:
            return len(
                s.execute(select(OutboxMessage.id).where(OutboxMessage.status == status)).all()
            )

    def done(self, row_id: int) -> None:
        """Delivered: the row goes (it holds message text)."""
        with session_scope(self.engine) as s:
            s.execute(delete(OutboxMessage).where(OutboxMessage.id == row_id))

    def progress(self, row_id: int, progress: int) -> None:
        with session_scope(self.engine) as s:
            s.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(progress=progress)
            )

    def retry(self, row_id: int, *, progress: int, next_at: float, error: str) -> None:
        with session_scope(self.engine) as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    progress=progress,
                    next_at=next_at,
                    attempts=OutboxMessage.attempts + 1,
                    error=error[:200],
                )
            )

    def fail(self, row_id: int, *, error: str) -> None:
        """Undeliverable (Telegram refused it): kept for an operator, not retried."""
        with session_scope(self.engine) as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(status="failed", error=error[:200], attempts=OutboxMessage.attempts + 1)
            )

    def drop_target(self, target: str) -> int:
        """Forget everything waiting for one target (a resident blocked the bot or was erased)."""
        with session_scope(self.engine) as s:
            result = s.execute(delete(OutboxMessage).where(OutboxMessage.target == target))
            return result.rowcount or 0

    def prune_failed(self, *, before: float) -> int:
        with session_scope(self.engine) as s:
            result = s.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status == "failed", OutboxMessage.created_at < before
                )
            )
            return result.rowcount or 0

    # --- retention -------------------------------------------------------------------

    def purge_before(self, session: Any, cutoff: datetime) -> int:
        """Rows older than the cutoff (failed, or never deliverable) go with the text they hold."""
        stmt = delete(OutboxMessage).where(OutboxMessage.created_at < cutoff.timestamp())
        return session.execute(stmt).rowcount or 0
