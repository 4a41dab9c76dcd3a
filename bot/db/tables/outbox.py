"""The durable outbox: messages waiting to be delivered, so a restart or a fault loses none."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

STAFF_TARGET = "staff"  # the staff group's target key; a resident's is "r:<resident key>"


class OutboxMessage(SQLModel, table=True):
    """One Reply for one target; deleted once delivered (it holds message text)."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    # "r:<resident key>" or "staff": messages to one target go out in id order
    target: str = Field(max_length=80, index=True)
    ticket: int | None = None
    urgent: bool = False
    title: str | None = Field(default=None, max_length=128)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the Reply as JSON
    status: str = Field(default="pending", max_length=16, index=True)  # pending | failed
    progress: int = 0  # Telegram calls of this Reply already done (resume after a fault)
    attempts: int = 0
    next_at: float = Field(default=0.0, index=True)  # epoch seconds
    created_at: float = 0.0
    error: str | None = Field(default=None, max_length=200)  # Telegram's reason; never text
