"""Appointment requests: what the resident asked for, and what the bridge-builders decided."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def _when(**kw):
    # Aware timestamps: PostgreSQL stores timestamptz, SQLite the UTC wall time (the store
    # always writes UTC and reads naive values back as UTC).
    return Field(sa_type=DateTime(timezone=True), **kw)


class AppointmentRow(SQLModel, table=True):
    __tablename__ = "appointment"
    # One bridge-builder cannot be booked twice at the same start. booked_* are cleared when an
    # appointment is cancelled, so the time becomes free again (NULLs never collide).
    __table_args__ = (UniqueConstraint("booked_by", "booked_start", name="uq_appointment_booking"),)

    id: int | None = Field(default=None, primary_key=True)
    resident: str = Field(index=True, max_length=64)  # opaque channel key, e.g. "tg:123"
    locale: str = Field(max_length=16)
    topic: str = Field(max_length=64)  # a content category id, or "other"
    preferred: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    any_time: bool = False
    interpreter: bool = False
    romani_speaker: bool = False
    contact: str = Field(default="chat", max_length=8)  # chat | phone
    phone: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=500)
    status: str = Field(default="requested", index=True, max_length=16)
    proposed_start: datetime | None = _when(default=None)
    confirmed_start: datetime | None = _when(default=None, index=True)
    minutes: int = 60
    place: str | None = Field(default=None, max_length=300)
    handler: str | None = Field(default=None, max_length=64)  # staff key, e.g. "tg:777"
    handler_name: str | None = Field(default=None, max_length=64)
    decline_reason: str | None = Field(default=None, max_length=500)
    booked_by: str | None = Field(default=None, max_length=64)
    booked_start: datetime | None = _when(default=None)
    remind_at: datetime | None = _when(default=None, index=True)
    reminder_sent_at: datetime | None = _when(default=None)
    created_at: datetime = _when(index=True)
    updated_at: datetime = _when()


FORGOTTEN = "forgotten"  # the resident key of requests whose resident is no longer known
CLOSED = ("declined", "cancelled", "done", "no_show")


def purge_before(session, cutoff: datetime) -> int:
    """Retention: strip who and how-to-reach from requests closed (or met) before `cutoff`."""
    from sqlalchemy import and_, or_, update

    table = AppointmentRow.__table__
    stmt = (
        update(table)
        .where(
            table.c.resident != FORGOTTEN,
            or_(
                and_(table.c.status.in_(CLOSED), table.c.updated_at < cutoff),
                and_(table.c.status == "confirmed", table.c.confirmed_start < cutoff),
            ),
        )
        .values(resident=FORGOTTEN, phone=None, note=None, decline_reason=None, contact="chat")
    )
    return session.execute(stmt).rowcount or 0
