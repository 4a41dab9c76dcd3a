"""Handoff tables: tickets, their relay transcript, bridge-builders' languages, recent questions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, delete, text
from sqlmodel import Field, SQLModel


def _ts(**kw) -> Column:
    return Column(DateTime(timezone=True), **kw)


class HandoffTicket(SQLModel, table=True):
    __tablename__ = "handoff_ticket"
    # At most one waiting or open ticket per resident, even when two events race.
    __table_args__ = (
        Index("uq_handoff_ticket_active", "resident", unique=True,
              sqlite_where=text("status != 'closed'"),
              postgresql_where=text("status != 'closed'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident: str = Field(index=True, max_length=64)
    locale: str = Field(max_length=8)
    topic_area: str | None = Field(default=None, max_length=120)
    status: str = Field(default="waiting", index=True, max_length=8)  # waiting | open | closed
    urgent: bool = False
    assignee: str | None = Field(default=None, max_length=64)
    assignee_name: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    taken_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_by: str | None = Field(default=None, max_length=16)  # resident | staff | blocked | forget
    reannounced: bool = False
    notice_day: str | None = Field(default=None, max_length=10)  # local ISO date of the last hours notice
    rating: int | None = None


class HandoffMessage(SQLModel, table=True):
    """One relayed (or held, or internal) message of a ticket; text is deleted by retention."""

    __tablename__ = "handoff_message"
    __table_args__ = (UniqueConstraint("ticket_id", "direction", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="handoff_ticket.id", index=True, ondelete="CASCADE")
    direction: str = Field(max_length=8)  # in (resident) | out (staff) | note (internal)
    kind: str = Field(max_length=16)  # text | voice | photo | document | ...
    text: str | None = None
    ref: str | None = Field(default=None, max_length=64)  # the channel's message to copy
    event_id: str | None = Field(default=None, max_length=64)  # for at-most-once handling
    at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    relayed: bool = True  # False while held back by the per-resident rate limit


class StaffLanguages(SQLModel, table=True):
    __tablename__ = "handoff_staff_languages"

    staff_id: str = Field(primary_key=True, max_length=64)
    first_name: str = Field(max_length=64)
    languages: str = Field(default="", max_length=120)  # space separated codes
    updated_at: datetime = Field(sa_column=_ts(nullable=False))


class RecentQuestion(SQLModel, table=True):
    """The resident's last few questions (scrubbed), shown to staff when they ask for a person."""

    __tablename__ = "handoff_recent_question"

    id: int | None = Field(default=None, primary_key=True)
    resident: str = Field(index=True, max_length=64)
    text: str = Field(max_length=300)
    at: datetime = Field(sa_column=_ts(nullable=False, index=True))


def purge_before(session, cutoff: datetime) -> int:
    """Retention hook: delete relay transcripts and recent questions older than `cutoff`."""
    done = session.execute(delete(HandoffMessage).where(HandoffMessage.at < cutoff)).rowcount or 0
    done += session.execute(delete(RecentQuestion).where(RecentQuestion.at < cutoff)).rowcount or 0
    return done
