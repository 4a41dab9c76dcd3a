"""Residents' conversation state and the channel event ids already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, Session, SQLModel, select


class ResidentStateRow(SQLModel, table=True):
    __tablename__ = "resident_state"

    resident: str = Field(primary_key=True, max_length=64)  # opaque key such as "tg:12345"
    locale: str | None = Field(default=None, max_length=16)
    step: str = Field(default="new", max_length=32)
    flow: str | None = Field(default=None, max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    memo: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)  # e.g. "tg:u:123456"
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


# Memo keys holding a resident's own words (the last question, a question asked before the
# language was chosen): kept only for feedback, and blanked by the retention job.
TEXT_MEMO_KEYS = ("q", "pending")


def purge_before(session: Session, cutoff: datetime) -> int:
    """Retention hook: drop residents' words from state not touched since `cutoff`."""
    touched = 0
    rows = session.exec(select(ResidentStateRow).where(ResidentStateRow.updated_at < cutoff))
    for row in rows:
        if any(k in (row.memo or {}) for k in TEXT_MEMO_KEYS):
            row.memo = {k: v for k, v in row.memo.items() if k not in TEXT_MEMO_KEYS}
            session.add(row)
            touched += 1
    return touched
