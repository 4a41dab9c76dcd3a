"""Activities: reminders, subscriptions, consultation proposals, announcements and their recipients."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint, delete, select
from sqlmodel import Field, SQLModel

# Proposals are gathered for the next consultation (at least once a term), so they are kept
# this much longer than the general retention time before they are deleted.
PROPOSAL_EXTRA_DAYS = 90


def _when(**kw):
    # Aware timestamps: timestamptz on PostgreSQL; SQLite keeps the UTC wall time.
    return Field(sa_type=DateTime(timezone=True), **kw)


class ActivityReminder(SQLModel, table=True):
    """"Remind me": one message the day before one occurrence of an activity."""

    __tablename__ = "activity_reminder"
    __table_args__ = (UniqueConstraint("resident", "activity_key", name="uq_activity_reminder"),)

    id: int | None = Field(default=None, primary_key=True)
    resident: str = Field(index=True, max_length=64)
    activity_key: str = Field(max_length=80)  # "<activity id>@<UTC yyyymmddHHMM>"
    remind_at: datetime = _when(index=True)
    starts_at: datetime = _when()
    sent_at: datetime | None = _when(default=None)
    created_at: datetime = _when()


class ActivitySubscription(SQLModel, table=True):
    """A resident's opt-in to announcements about one kind of activity."""

    __tablename__ = "activity_subscription"
    __table_args__ = (UniqueConstraint("resident", "kind", name="uq_activity_subscription"),)

    id: int | None = Field(default=None, primary_key=True)
    resident: str = Field(index=True, max_length=64)
    kind: str = Field(index=True, max_length=32)
    created_at: datetime = _when()


class ActivityProposal(SQLModel, table=True):
    """A topic a resident proposed for the next consultation (text scrubbed before storing)."""

    __tablename__ = "activity_proposal"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _when(index=True)
    locale: str = Field(max_length=16)
    theme: str = Field(max_length=32, index=True)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    media_kind: str | None = Field(default=None, max_length=16)  # voice | audio | video_note
    media_ref: str | None = Field(default=None, max_length=64)  # the channel's ref to copy it
    # Only when the resident chose to give their first name; anonymous proposals keep no link.
    first_name: str | None = Field(default=None, max_length=64)
    resident: str | None = Field(default=None, index=True, max_length=64)


class Announcement(SQLModel, table=True):
    """A message from staff to the subscribers of one kind (or of any kind: "all")."""

    __tablename__ = "announcement"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    texts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=16, index=True)  # draft|sending|done|cancelled
    created_by: str = Field(max_length=64)  # staff key
    created_at: datetime = _when()
    confirmed_at: datetime | None = _when(default=None)
    finished_at: datetime | None = _when(default=None)
    reported_at: datetime | None = _when(default=None)


class AnnouncementRecipient(SQLModel, table=True):
    """One subscriber of one announcement; the status makes delivery resumable without duplicates."""

    __tablename__ = "announcement_recipient"
    __table_args__ = (
        UniqueConstraint("announcement_id", "resident", name="uq_announcement_recipient"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(index=True)
    resident: str = Field(max_length=64, index=True)
    locale: str = Field(max_length=16)
    # pending | sending | sent | blocked | failed | unknown (a crash while sending: never resent)
    status: str = Field(default="pending", max_length=16, index=True)
    progress: int = 0  # steps of the message already sent (a long text is several messages)
    attempts: int = 0
    next_at: float = 0.0  # epoch seconds: not before (after a flood-limit answer)
    updated_at: datetime | None = _when(default=None)


def purge_before(session, cutoff: datetime) -> int:
    """Retention hook: old reminders, finished broadcasts' rows and old proposals go."""
    n = 0
    n += session.execute(
        delete(ActivityReminder).where(ActivityReminder.starts_at < cutoff)
    ).rowcount or 0
    old = list(session.execute(select(Announcement.id).where(
        Announcement.created_at < cutoff, Announcement.status.in_(("done", "cancelled", "draft"))
    )).scalars())  # fmt: skip
    if old:
        n += session.execute(
            delete(AnnouncementRecipient).where(AnnouncementRecipient.announcement_id.in_(old))
        ).rowcount or 0
        n += session.execute(delete(Announcement).where(Announcement.id.in_(old))).rowcount or 0
    n += session.execute(
        delete(ActivityProposal).where(
            ActivityProposal.created_at < cutoff - timedelta(days=PROPOSAL_EXTRA_DAYS)
        )
    ).rowcount or 0
    return n
