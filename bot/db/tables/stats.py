"""Usage events for statistics: no chat id, no name; text only where an editor needs it, scrubbed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


class UsageEvent(SQLModel, table=True):
    __tablename__ = "usage_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=32)  # answered | suggested | not_found | feedback ...
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    locale: str = Field(max_length=16)
    # Keyed hash of the resident (bot.core.privacy.pseudonym), only for distinct counts.
    resident_hash: str | None = Field(default=None, index=True, max_length=32)
    entry_id: str | None = Field(default=None, max_length=128)
    category: str | None = Field(default=None, max_length=64)
    helpful: bool | None = None
    # Scrubbed question text; only for not_found, suggested and unhelpful feedback, and cleared
    # after the retention period (bot.db.retention).
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class PseudonymKey(SQLModel, table=True):
    """The secret that makes resident hashes unguessable from chat ids; one row."""

    __tablename__ = "pseudonym_key"

    id: int = Field(default=1, primary_key=True)
    secret: str = Field(max_length=64)


def purge_before(session, cutoff: datetime) -> int:
    """Retention hook: clear question texts older than `cutoff`; the counted events remain."""
    from sqlalchemy import update

    result = session.exec(
        update(UsageEvent)
        .where(UsageEvent.at < cutoff, UsageEvent.text.is_not(None))
        .values(text=None)
    )
    return result.rowcount or 0
