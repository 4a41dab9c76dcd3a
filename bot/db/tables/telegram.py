"""Telegram channel state: handled update ids, staff forum topics per ticket, blocked chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime
from sqlmodel import Field, SQLModel


class TelegramUpdate(SQLModel, table=True):
    """An update id already taken for handling; polling and webhooks may deliver one twice."""

    __tablename__ = "telegram_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class StaffTopic(SQLModel, table=True):
    """The staff group's forum topic (message_thread_id) that carries a ticket."""

    __tablename__ = "telegram_staff_topic"

    ticket: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    thread_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class BlockedChat(SQLModel, table=True):
    """A resident who blocked the bot: nothing is sent until they write again."""

    __tablename__ = "telegram_blocked"

    resident: str = Field(primary_key=True, max_length=64)
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
