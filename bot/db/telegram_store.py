"""Telegram channel state on SQLModel: update dedup, staff topics, blocked residents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.db.engine import read_session, session_scope
from bot.db.tables.outbox import OutboxMessage
from bot.db.tables.telegram import BlockedChat, StaffTopic, TelegramUpdate


class TelegramStore:
    """Each call is its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim_update(self, update_id: int, *, now: datetime) -> bool:
        """True the first time an update id is seen; False for a redelivery."""
        try:
            with session_scope(self.engine) as s:
                s.add(TelegramUpdate(update_id=update_id, at=now))
        except IntegrityError:
            return False
        return True

    def prune_updates(self, *, before: datetime) -> int:
        with session_scope(self.engine) as s:
            return s.execute(delete(TelegramUpdate).where(TelegramUpdate.at < before)).rowcount or 0

    def topic(self, ticket: int) -> int | None:
        with read_session(self.engine) as s:
            row = s.get(StaffTopic, ticket)
            return row.thread_id if row else None

    def ticket_of_topic(self, thread_id: int) -> int | None:
        with read_session(self.engine) as s:
            stmt = select(StaffTopic.ticket).where(StaffTopic.thread_id == thread_id)
            return s.execute(stmt).scalars().first()

    def set_topic(self, ticket: int, *, chat_id: int, thread_id: int) -> None:
        with session_scope(self.engine) as s:
            row = s.get(StaffTopic, ticket) or StaffTopic(
                ticket=ticket, chat_id=chat_id, thread_id=0
            )
            row.chat_id, row.thread_id = chat_id, thread_id
            s.add(row)

    def forget_topic(self, ticket: int) -> None:
        with session_scope(self.engine) as s:
            s.execute(delete(StaffTopic).where(StaffTopic.ticket == ticket))

    def is_blocked(self, resident: str) -> bool:
        with read_session(self.engine) as s:
            return s.get(BlockedChat, resident) is not None

    def mark_blocked(self, resident: str, *, now: datetime) -> None:
        with session_scope(self.engine) as s:
            if s.get(BlockedChat, resident) is None:
                s.add(BlockedChat(resident=resident, since=now))

    def unblock(self, resident: str) -> bool:
        with session_scope(self.engine) as s:
            return bool(
                s.execute(delete(BlockedChat).where(BlockedChat.resident == resident)).rowcount
            )


class TelegramDataHolder:
    """For /mydata and /forget: messages still waiting in the outbox, and the blocked mark."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _waiting(self, resident: str) -> int:
        with read_session(self.engine) as s:
            stmt = select(OutboxMessage.id).where(OutboxMessage.target == f"r:{resident}")
            return len(s.execute(stmt).all())

    def describe(self, resident: str, ctx: Any) -> list[str]:
        _ = ctx._
        if not self._waiting(resident):
            return []
        return [
            _(
                "Messages to you that are waiting to be delivered; each is deleted as soon as "
                "it has been delivered."
            )
        ]

    def forget(self, resident: str, now: datetime) -> list[Any]:
        with session_scope(self.engine) as s:
            s.execute(delete(OutboxMessage).where(OutboxMessage.target == f"r:{resident}"))
            s.execute(delete(BlockedChat).where(BlockedChat.resident == resident))
        return []
