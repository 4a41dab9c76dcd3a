"""The HandoffStore port on SQLModel (SQLite and PostgreSQL); each call is one short transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.handoff import CLOSED, OPEN, WAITING, Held, StaffMember, Ticket
from bot.db.engine import Ahead, ahead_rows, read_session, session_scope, write_later
from bot.db.tables.handoff import HandoffMessage, HandoffTicket, RecentQuestion, StaffLanguages
from bot.db.tables.outbox import STAFF_TARGET, OutboxMessage
from bot.db.tables.telegram import StaffTopic

FORGOTTEN = "forgotten"  # the resident key of an anonymised ticket


def _aware(dt: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


def _ticket(row: HandoffTicket) -> Ticket:
    return Ticket(
        id=row.id or 0,
        resident=row.resident,
        locale=row.locale,
        status=row.status,
        urgent=row.urgent,
        created_at=_aware(row.created_at),  # type: ignore[arg-type]
        topic_area=row.topic_area,
        assignee=row.assignee,
        assignee_name=row.assignee_name,
        taken_at=_aware(row.taken_at),
        closed_at=_aware(row.closed_at),
        reannounced=row.reannounced,
        rating=row.rating,
    )


_ACTIVE = HandoffTicket.status.in_((WAITING, OPEN))  # type: ignore[attr-defined]
_TICKETS = HandoffTicket.__table__  # type: ignore[attr-defined]
_QUESTIONS = RecentQuestion.__table__  # type: ignore[attr-defined]
# Built once (the hot path of every resident event only binds values).
_ACTIVE_FOR = (
    select(_TICKETS)
    # Two comparisons, not IN: an IN list is re-rendered on every execution.
    .where(
        _TICKETS.c.resident == bindparam("key"),
        or_(_TICKETS.c.status == WAITING, _TICKETS.c.status == OPEN),
    )
    .order_by(_TICKETS.c.id)
    .limit(1)
)
_REMEMBER = insert(_QUESTIONS).inline()  # no generated key fetched: nobody reads it


@cache
def _keep_newest(keep: int) -> Any:
    """DELETE of a resident's recent questions but the `keep` newest, in one statement."""
    q = _QUESTIONS
    stmt = delete(q).where(q.c.resident == bindparam("key"))
    if keep > 0:
        oldest_kept = (
            select(q.c.id)
            .where(q.c.resident == bindparam("key"))
            .order_by(q.c.id.desc())
            .offset(keep - 1)
            .limit(1)
            .scalar_subquery()
        )
        stmt = stmt.where(q.c.id < oldest_kept)  # NULL (fewer than keep): none goes
    return stmt


class SqlHandoffStore:
    """Tickets, relay transcript, staff languages and recent questions in the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _update(self, stmt) -> bool:
        with session_scope(self.engine) as s:
            return (s.execute(stmt).rowcount or 0) == 1

    # -- tickets --------------------------------------------------------------------------------

    def open_ticket(
        self, *, resident: str, locale: str, topic_area: str | None, urgent: bool, now: datetime
    ) -> tuple[Ticket, bool]:
        try:
            return self._open(
                resident=resident, locale=locale, topic_area=topic_area, urgent=urgent, now=now
            )
        except IntegrityError:
            # Another event of the same resident opened one at the same moment: use it.
            return self._open(
                resident=resident, locale=locale, topic_area=topic_area, urgent=urgent, now=now
            )

    def _open(
        self, *, resident: str, locale: str, topic_area: str | None, urgent: bool, now: datetime
    ) -> tuple[Ticket, bool]:
        with session_scope(self.engine) as s:
            found = (
                s.execute(
                    select(HandoffTicket)
                    .where(HandoffTicket.resident == resident, _ACTIVE)
                    .order_by(HandoffTicket.id)
                    .limit(1)
                )
                .scalars()
                .first()
            )
            if found is not None:
                if urgent and not found.urgent:
                    found.urgent = True
                    s.add(found)
                return _ticket(found), False
            row = HandoffTicket(
                resident=resident,
                locale=locale,
                topic_area=topic_area,
                urgent=urgent,
                status=WAITING,
                created_at=now,
            )
            s.add(row)
            s.flush()
            return _ticket(row), True

    def get(self, ticket_id: int) -> Ticket | None:
        with read_session(self.engine) as s:
            row = s.get(HandoffTicket, ticket_id)
            return _ticket(row) if row else None

    def ahead(self, resident: str) -> list[Ahead]:
        """The read a resident event makes first (the open ticket), for `unit_of_work(ahead=)`."""
        return [(("ticket", resident), _ACTIVE_FOR, {"key": resident})]

    def active_for(self, resident: str) -> Ticket | None:
        # Every resident event asks this: a plain SELECT, no ORM objects.
        rows = ahead_rows(self.engine, ("ticket", resident))
        if rows is not None:
            return _ticket(rows[0]) if rows else None  # type: ignore[arg-type]
        with read_session(self.engine) as s:
            row = s.execute(_ACTIVE_FOR, {"key": resident}).first()
            return _ticket(row) if row else None  # type: ignore[arg-type]

    def ticket_of_topic(self, topic: str) -> int | None:
        # The Telegram channel keeps the ticket -> forum topic map (bot.db.tables.telegram).
        try:
            thread = int(topic)
        except ValueError:
            return None
        with read_session(self.engine) as s:
            return (
                s.execute(select(StaffTopic.ticket).where(StaffTopic.thread_id == thread))
                .scalars()
                .first()
            )

    def claim(self, ticket_id: int, *, staff_id: str, name: str, now: datetime) -> bool:
        # One conditional UPDATE: the database decides which of two simultaneous takers wins
        # (PostgreSQL re-checks the WHERE after the row lock; SQLite serialises writers).
        return self._update(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.assignee.is_(None), _ACTIVE)  # type: ignore[union-attr]
            .values(assignee=staff_id, assignee_name=name, status=OPEN, taken_at=now)
        )

    def release(self, ticket_id: int) -> bool:
        return self._update(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.status == OPEN)
            # Releasing announces the ticket again at once; the job does not repeat that.
            .values(
                assignee=None, assignee_name=None, status=WAITING, taken_at=None, reannounced=True
            )
        )

    def close(self, ticket_id: int, *, now: datetime, by: str) -> bool:
        return self._update(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, _ACTIVE)
            .values(status=CLOSED, closed_at=now, closed_by=by)
        )

    def make_urgent(self, ticket_id: int) -> bool:
        return self._update(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.urgent.is_(False))  # type: ignore[attr-defined]
            .values(urgent=True)
        )

    def mark_notice(self, ticket_id: int, day: str) -> bool:
        col = HandoffTicket.notice_day
        return self._update(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, (col.is_(None)) | (col != day))  # type: ignore[union-attr]
            .values(notice_day=day)
        )

    def mark_reannounced(self, ticket_id: int) -> bool:
        return self._update(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, HandoffTicket.reannounced.is_(False))  # type: ignore[attr-defined]
            .values(reannounced=True)
        )

    def active_tickets(self) -> list[Ticket]:
        with read_session(self.engine) as s:
            rows = (
                s.execute(select(HandoffTicket).where(_ACTIVE).order_by(HandoffTicket.id))
                .scalars()
                .all()
            )
            return [_ticket(r) for r in rows]

    def last_helper(self, resident: str, *, before: int) -> StaffMember | None:
        with read_session(self.engine) as s:
            row = (
                s.execute(
                    select(HandoffTicket)
                    .where(
                        HandoffTicket.resident == resident,
                        HandoffTicket.id < before,
                        HandoffTicket.assignee.is_not(None),
                    )  # type: ignore[union-attr]
                    .order_by(HandoffTicket.id.desc())
                    .limit(1)  # type: ignore[union-attr]
                )
                .scalars()
                .first()
            )
            if row is None or row.assignee is None:
                return None
            return StaffMember(row.assignee, row.assignee_name or "")

    def rate(self, ticket_id: int, *, resident: str, rating: int) -> bool:
        return self._update(
            update(HandoffTicket)
            .where(
                HandoffTicket.id == ticket_id,
                HandoffTicket.resident == resident,
                HandoffTicket.status == CLOSED,
                HandoffTicket.rating.is_(None),
            )  # type: ignore[union-attr]
            .values(rating=rating)
        )

    # -- transcript -------------------------------------------------------------------------------

    def record(
        self,
        *,
        ticket_id: int,
        direction: str,
        kind: str,
        text: str | None,
        ref: str | None,
        event_id: str | None,
        now: datetime,
        relayed: bool = True,
    ) -> bool:
        try:
            with session_scope(self.engine) as s:
                s.add(
                    HandoffMessage(
                        ticket_id=ticket_id,
                        direction=direction,
                        kind=kind[:16],
                        text=text,
                        ref=(ref or None) and ref[:64],
                        event_id=(event_id or None) and event_id[:64],
                        at=now,
                        relayed=relayed,
                    )
                )
        except IntegrityError:
            return False
        return True

    def relayed_since(self, ticket_id: int, *, direction: str, since: datetime) -> int:
        with read_session(self.engine) as s:
            return s.execute(
                select(func.count())
                .select_from(HandoffMessage)
                .where(
                    HandoffMessage.ticket_id == ticket_id,
                    HandoffMessage.direction == direction,
                    HandoffMessage.relayed.is_(True),
                    HandoffMessage.at >= since,
                )  # type: ignore[attr-defined]
            ).scalar_one()

    def held(self, ticket_id: int) -> list[Held]:
        with read_session(self.engine) as s:
            rows = (
                s.execute(
                    select(HandoffMessage)
                    .where(HandoffMessage.ticket_id == ticket_id, HandoffMessage.relayed.is_(False))  # type: ignore[attr-defined]
                    .order_by(HandoffMessage.id)
                )
                .scalars()
                .all()
            )
            return [Held(r.id or 0, r.kind, r.text, r.ref) for r in rows]

    def tickets_with_held(self) -> list[int]:
        with read_session(self.engine) as s:
            return list(
                s.execute(
                    select(HandoffMessage.ticket_id)
                    .where(HandoffMessage.relayed.is_(False))  # type: ignore[attr-defined]
                    .distinct()
                    .order_by(HandoffMessage.ticket_id)
                )
                .scalars()
                .all()
            )

    def mark_relayed(self, message_ids: list[int]) -> None:
        if not message_ids:
            return
        with session_scope(self.engine) as s:
            s.execute(
                update(HandoffMessage)
                .where(HandoffMessage.id.in_(message_ids))  # type: ignore[union-attr]
                .values(relayed=True)
            )

    # -- staff languages ----------------------------------------------------------------------------

    def set_languages(
        self, staff_id: str, *, first_name: str, languages: list[str], now: datetime
    ) -> None:
        with session_scope(self.engine) as s:
            row = s.get(StaffLanguages, staff_id) or StaffLanguages(
                staff_id=staff_id, first_name=first_name, updated_at=now
            )
            row.first_name = first_name[:64]
            row.languages = " ".join(languages)[:120]
            row.updated_at = now
            s.add(row)

    def languages_of(self, staff_id: str) -> list[str]:
        with read_session(self.engine) as s:
            row = s.get(StaffLanguages, staff_id)
            return row.languages.split() if row else []

    def speakers(self, language: str) -> list[StaffMember]:
        with read_session(self.engine) as s:
            rows = (
                s.execute(
                    select(StaffLanguages)
                    .where((" " + StaffLanguages.languages + " ").contains(f" {language} "))
                    .order_by(StaffLanguages.first_name)
                )
                .scalars()
                .all()
            )
            return [StaffMember(r.staff_id, r.first_name) for r in rows]

    # -- recent questions -------------------------------------------------------------------------

    def remember_question(self, resident: str, text: str, *, now: datetime, keep: int) -> None:
        # Most resident questions pass here: two plain statements, no savepoint, no ORM flush;
        # on PostgreSQL they wait for the commit's round trip (`write_later`).
        write_later(self.engine, _REMEMBER, {"resident": resident, "text": text[:300], "at": now})
        write_later(self.engine, _keep_newest(keep), {"key": resident})

    def recent_questions(self, resident: str, *, since: datetime) -> list[str]:
        with read_session(self.engine) as s:
            return list(
                s.execute(
                    select(RecentQuestion.text)
                    .where(RecentQuestion.resident == resident, RecentQuestion.at >= since)
                    .order_by(RecentQuestion.id)
                )
                .scalars()
                .all()
            )

    def prune_questions(self, *, before: datetime) -> int:
        with session_scope(self.engine) as s:
            return s.execute(delete(RecentQuestion).where(RecentQuestion.at < before)).rowcount or 0

    # -- privacy ----------------------------------------------------------------------------------

    def count_for(self, resident: str) -> tuple[int, int]:
        with read_session(self.engine) as s:
            tickets = s.execute(
                select(func.count())
                .select_from(HandoffTicket)
                .where(HandoffTicket.resident == resident)
            ).scalar_one()
            questions = s.execute(
                select(func.count())
                .select_from(RecentQuestion)
                .where(RecentQuestion.resident == resident)
            ).scalar_one()
            return tickets, questions

    def forget(self, resident: str) -> None:
        with session_scope(self.engine) as s:
            ids = select(HandoffTicket.id).where(HandoffTicket.resident == resident)
            s.execute(delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(ids)))  # type: ignore[attr-defined]
            s.execute(delete(RecentQuestion).where(RecentQuestion.resident == resident))
            # Relays of the resident's words still waiting for the staff group go too.
            s.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.target == STAFF_TARGET,
                    OutboxMessage.ticket.in_(ids),  # type: ignore[union-attr]
                )
            )
            # Tickets stay, anonymised, so counts and ratings remain for statistics.
            s.execute(
                update(HandoffTicket)
                .where(HandoffTicket.resident == resident)
                .values(resident=FORGOTTEN, topic_area=None)
            )
