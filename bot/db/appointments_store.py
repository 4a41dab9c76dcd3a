"""The appointment store: implements bot.core.appointments.AppointmentStore with SQLModel."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.appointments import (
    OPEN,
    AlreadyBooked,
    Appointment,
    NewRequest,
    NotFound,
    Status,
    WrongStatus,
)
from bot.db.engine import session_scope
from bot.db.tables.appointments import FORGOTTEN, AppointmentRow


def utc(dt: datetime | None) -> datetime | None:
    """Aware UTC; SQLite hands timestamps back naive (they were written as UTC)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _to_core(row: AppointmentRow) -> Appointment:
    assert row.id is not None
    return Appointment(
        id=row.id,
        resident=row.resident,
        locale=row.locale,
        topic=row.topic,
        preferred=tuple(sorted(utc(datetime.fromisoformat(s)) for s in row.preferred)),
        any_time=row.any_time,
        interpreter=row.interpreter,
        romani_speaker=row.romani_speaker,
        contact=row.contact,
        phone=row.phone,
        note=row.note,
        status=Status(row.status),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        proposed_start=utc(row.proposed_start),
        confirmed_start=utc(row.confirmed_start),
        minutes=row.minutes,
        place=row.place,
        handler=row.handler,
        handler_name=row.handler_name,
        decline_reason=row.decline_reason,
        reminder_sent_at=utc(row.reminder_sent_at),
    )


# -- keyword-only database functions ------------------------------------------------------------


def create_request(request: NewRequest, *, now: datetime, session: Session) -> AppointmentRow:
    row = AppointmentRow(
        resident=request.resident,
        locale=request.locale,
        topic=request.topic,
        preferred=[utc(t).isoformat() for t in sorted(request.preferred)],
        any_time=request.any_time,
        interpreter=request.interpreter,
        romani_speaker=request.romani_speaker,
        contact=request.contact,
        phone=request.phone,
        note=request.note[:500] if request.note else None,
        status=Status.REQUESTED,
        created_at=utc(now),
        updated_at=utc(now),
    )
    session.add(row)
    session.flush()
    return row


def _locked(appointment_id: int, *, session: Session) -> AppointmentRow:
    stmt = select(AppointmentRow).where(AppointmentRow.id == appointment_id).with_for_update()
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound(appointment_id)
    return row


def _expect(row: AppointmentRow, *statuses: Status) -> None:
    if row.status not in statuses:
        raise WrongStatus(Status(row.status))


def confirm_request(
    appointment_id: int,
    *,
    start: datetime,
    handler: str,
    handler_name: str,
    place: str | None,
    remind_at: datetime | None,
    now: datetime,
    session: Session,
) -> AppointmentRow:
    row = _locked(appointment_id, session=session)
    _expect(row, Status.REQUESTED)
    row.status = Status.CONFIRMED
    row.confirmed_start = row.booked_start = utc(start)
    row.handler = row.booked_by = handler
    row.handler_name = handler_name
    row.place = place
    row.proposed_start = None
    row.remind_at = utc(remind_at)
    row.updated_at = utc(now)
    session.add(row)
    try:
        # The unique (booked_by, booked_start) constraint decides races between two confirmations;
        # the caller's transaction is rolled back, so nothing changes.
        session.flush()
    except IntegrityError as exc:
        raise AlreadyBooked(appointment_id) from exc
    return row


def resident_appointments(resident: str, *, session: Session) -> list[AppointmentRow]:
    stmt = select(AppointmentRow).where(AppointmentRow.resident == resident).order_by(AppointmentRow.id)
    return list(session.exec(stmt))


def staff_appointments(*, session: Session) -> list[AppointmentRow]:
    stmt = (
        select(AppointmentRow)
        .where(or_(AppointmentRow.status == Status.REQUESTED, AppointmentRow.status == Status.CONFIRMED))
        .order_by(AppointmentRow.confirmed_start, AppointmentRow.id)
    )
    return list(session.exec(stmt))


def rows_between(start: datetime, end: datetime, *, session: Session) -> list[AppointmentRow]:
    """Requests created in [start, end), oldest first (the export)."""
    stmt = (
        select(AppointmentRow)
        .where(AppointmentRow.created_at >= utc(start), AppointmentRow.created_at < utc(end))
        .order_by(AppointmentRow.created_at, AppointmentRow.id)
    )
    return list(session.exec(stmt))


class SqlAppointmentStore:
    """Each call is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, request: NewRequest, *, now: datetime) -> Appointment:
        with session_scope(self.engine) as s:
            return _to_core(create_request(request, now=now, session=s))

    def get(self, appointment_id: int) -> Appointment | None:
        with session_scope(self.engine) as s:
            row = s.get(AppointmentRow, appointment_id)
            return _to_core(row) if row else None

    def for_resident(self, resident: str) -> list[Appointment]:
        with session_scope(self.engine) as s:
            return [_to_core(r) for r in resident_appointments(resident, session=s)]

    def for_staff(self, now: datetime) -> list[Appointment]:
        with session_scope(self.engine) as s:
            return [_to_core(r) for r in staff_appointments(session=s)]

    def confirm(
        self,
        appointment_id: int,
        *,
        start: datetime,
        handler: str,
        handler_name: str,
        place: str | None,
        remind_at: datetime | None,
        now: datetime,
    ) -> Appointment:
        with session_scope(self.engine) as s:
            row = confirm_request(
                appointment_id, start=start, handler=handler, handler_name=handler_name,
                place=place, remind_at=remind_at, now=now, session=s,
            )
            return _to_core(row)

    def propose(
        self, appointment_id: int, *, start: datetime, handler: str, handler_name: str, now: datetime
    ) -> Appointment:
        with session_scope(self.engine) as s:
            row = _locked(appointment_id, session=s)
            _expect(row, Status.REQUESTED)
            row.proposed_start = utc(start)
            row.handler, row.handler_name = handler, handler_name
            row.updated_at = utc(now)
            s.add(row)
            return _to_core(row)

    def reject_proposal(self, appointment_id: int, *, now: datetime) -> Appointment:
        with session_scope(self.engine) as s:
            row = _locked(appointment_id, session=s)
            _expect(row, Status.REQUESTED)
            row.proposed_start = None
            row.updated_at = utc(now)
            s.add(row)
            return _to_core(row)

    def decline(
        self, appointment_id: int, *, reason: str, handler: str, handler_name: str, now: datetime
    ) -> Appointment:
        with session_scope(self.engine) as s:
            row = _locked(appointment_id, session=s)
            _expect(row, Status.REQUESTED)
            row.status = Status.DECLINED
            row.decline_reason = reason[:500]
            row.handler, row.handler_name = handler, handler_name
            row.proposed_start = None
            row.updated_at = utc(now)
            s.add(row)
            return _to_core(row)

    def cancel(self, appointment_id: int, *, resident: str, now: datetime) -> Appointment:
        with session_scope(self.engine) as s:
            row = _locked(appointment_id, session=s)
            if row.resident != resident:
                raise NotFound(appointment_id)
            _expect(row, *OPEN)
            row.status = Status.CANCELLED
            # Free the bridge-builder's time; confirmed_start and handler stay for the record.
            row.booked_by = row.booked_start = None
            row.proposed_start = row.remind_at = None
            row.updated_at = utc(now)
            s.add(row)
            return _to_core(row)

    def finish(self, appointment_id: int, *, status: Status, handler: str, now: datetime) -> Appointment:
        if status not in (Status.DONE, Status.NO_SHOW):
            raise ValueError(status)
        with session_scope(self.engine) as s:
            row = _locked(appointment_id, session=s)
            _expect(row, Status.CONFIRMED)
            row.status = status
            row.updated_at = utc(now)
            s.add(row)
            return _to_core(row)

    def booked_starts(self, handler: str, *, start: datetime, end: datetime) -> set[datetime]:
        with session_scope(self.engine) as s:
            stmt = select(AppointmentRow.booked_start).where(
                AppointmentRow.booked_by == handler,
                AppointmentRow.booked_start >= utc(start),
                AppointmentRow.booked_start < utc(end),
            )
            return {utc(t) for t in s.exec(stmt) if t is not None}

    def take_due_reminders(self, now: datetime) -> list[Appointment]:
        with session_scope(self.engine) as s:
            stmt = (
                select(AppointmentRow)
                .where(
                    AppointmentRow.status == Status.CONFIRMED,
                    AppointmentRow.remind_at <= utc(now),
                    AppointmentRow.reminder_sent_at.is_(None),
                    AppointmentRow.confirmed_start > utc(now),
                )
                .order_by(AppointmentRow.confirmed_start)
                # Two bot processes on PostgreSQL never take the same reminder.
                .with_for_update(skip_locked=True)
            )
            rows = list(s.exec(stmt))
            for row in rows:
                row.reminder_sent_at = utc(now)
                s.add(row)
            return [_to_core(r) for r in rows]

    def forget(self, resident: str, *, now: datetime) -> list[Appointment]:
        with session_scope(self.engine) as s:
            stmt = select(AppointmentRow).where(AppointmentRow.resident == resident).with_for_update()
            cancelled = []
            for row in s.exec(stmt):
                if row.status in OPEN:
                    cancelled.append(_to_core(row))
                    row.status = Status.CANCELLED
                    row.booked_by = row.booked_start = None
                    row.proposed_start = row.remind_at = None
                # Keep only what the municipality's statistics need: topic, times, status.
                row.resident = FORGOTTEN
                row.phone = row.note = None
                row.contact = "chat"
                row.updated_at = utc(now)
                s.add(row)
            return cancelled
