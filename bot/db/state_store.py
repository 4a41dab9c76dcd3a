"""The StateStore port on SQLModel: one row per resident, one row per handled event id.

Every event loads and saves its resident's state and claims its event id, so these are plain
SQL statements (no ORM load-modify-flush, no savepoint): a few per event instead of dozens.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Engine

from bot.core.ports import ResidentState
from bot.db.engine import (
    Ahead,
    ahead_rows,
    dialect_insert,
    insert_new,
    insert_new_statement,
    read_session,
    write_later,
    write_session,
)
from bot.db.tables.state import ProcessedEvent, ResidentStateRow

_STATE = ResidentStateRow.__table__  # type: ignore[attr-defined]
_EVENTS = ProcessedEvent.__table__  # type: ignore[attr-defined]
# Built once: the hot path only binds values (building a statement costs more than running it).
_LOAD = select(_STATE.c.locale, _STATE.c.step, _STATE.c.flow, _STATE.c.data, _STATE.c.memo).where(
    _STATE.c.resident == bindparam("key")
)
_SAVED = ("locale", "step", "flow", "data", "memo", "updated_at")


@cache
def _upsert(dialect: str) -> Any:
    """One INSERT ... ON CONFLICT DO UPDATE of a resident's state (SQLite and PostgreSQL)."""
    ins = dialect_insert(dialect)(_STATE)
    return ins.on_conflict_do_update(
        index_elements=[_STATE.c.resident], set_={c: ins.excluded[c] for c in _SAVED}
    )


class SqlStateStore:
    """Residents' state in SQLite or PostgreSQL; inside a unit of work, part of its transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ahead(self, resident: str, event_id: str | None, *, now: datetime) -> list[Ahead]:
        """What a resident event asks first, for `unit_of_work(ahead=...)`: its claim, then
        the resident's state (in this order, as `Conversation.handle` asks)."""
        reads: list[Ahead] = []
        if event_id:
            claim = insert_new_statement(self.engine.dialect.name, _EVENTS)
            reads.append((("claim", event_id[:64]), claim, {"event_id": event_id[:64], "at": now}))
        reads.append((("state", resident), _LOAD, {"key": resident}))
        return reads

    def load(self, resident: str) -> ResidentState | None:
        rows = ahead_rows(self.engine, ("state", resident))
        if rows is not None:  # read ahead, at the start of this unit of work
            row = rows[0] if rows else None
        else:
            with read_session(self.engine) as session:
                row = session.execute(_LOAD, {"key": resident}).first()
        if row is None:
            return None
        return ResidentState(
            resident=resident,
            locale=row.locale,
            step=row.step,
            flow=row.flow,
            data=dict(row.data or {}),
            memo=dict(row.memo or {}),
        )

    def save(self, state: ResidentState, *, now: datetime) -> None:
        values = {
            "locale": state.locale,
            "step": state.step,
            "flow": state.flow,
            "data": dict(state.data),
            "memo": dict(state.memo),
            "updated_at": now,
        }
        # A write nobody reads: on PostgreSQL it goes with the commit's round trip.
        write_later(
            self.engine, _upsert(self.engine.dialect.name), {"resident": state.resident, **values}
        )

    def forget(self, resident: str) -> None:
        with write_session(self.engine) as session:
            session.execute(delete(_STATE).where(_STATE.c.resident == resident))

    def claim_event(self, event_id: str, *, now: datetime) -> bool:
        rows = ahead_rows(self.engine, ("claim", event_id[:64]))
        if rows is not None:  # claimed ahead, at the start of this unit of work
            return bool(rows)
        with write_session(self.engine) as session:
            return insert_new(session, _EVENTS, {"event_id": event_id[:64], "at": now})

    def release_event(self, event_id: str) -> None:
        with write_session(self.engine) as session:
            session.execute(delete(_EVENTS).where(_EVENTS.c.event_id == event_id[:64]))

    def prune_events(self, *, before: datetime) -> int:
        with write_session(self.engine) as session:
            return session.execute(delete(_EVENTS).where(_EVENTS.c.at < before)).rowcount or 0
