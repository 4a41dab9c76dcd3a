"""The StateStore port on SQLModel: one row per resident, one row per handled event id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.ports import ResidentState
from bot.db.engine import read_session, session_scope
from bot.db.tables.state import ProcessedEvent, ResidentStateRow


class SqlStateStore:
    """Residents' state in SQLite or PostgreSQL; each call is its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, resident: str) -> ResidentState | None:
        with read_session(self.engine) as session:
            row = session.get(ResidentStateRow, resident)
            if row is None:
                return None
            return ResidentState(
                resident=row.resident,
                locale=row.locale,
                step=row.step,
                flow=row.flow,
                data=dict(row.data or {}),
                memo=dict(row.memo or {}),
            )

    def save(self, state: ResidentState, *, now: datetime) -> None:
        with session_scope(self.engine) as session:
            row = session.get(ResidentStateRow, state.resident)
            if row is None:
                row = ResidentStateRow(resident=state.resident, updated_at=now)
            row.locale = state.locale
            row.step = state.step
            row.flow = state.flow
            # New dict objects, so SQLAlchemy sees the JSON columns changed.
            row.data = dict(state.data)
            row.memo = dict(state.memo)
            row.updated_at = now
            session.add(row)

    def forget(self, resident: str) -> None:
        with session_scope(self.engine) as session:
            session.exec(delete(ResidentStateRow).where(ResidentStateRow.resident == resident))

    def claim_event(self, event_id: str, *, now: datetime) -> bool:
        try:
            with session_scope(self.engine) as session:
                session.add(ProcessedEvent(event_id=event_id[:64], at=now))
        except IntegrityError:
            return False
        return True

    def release_event(self, event_id: str) -> None:
        with session_scope(self.engine) as session:
            session.exec(delete(ProcessedEvent).where(ProcessedEvent.event_id == event_id[:64]))

    def prune_events(self, *, before: datetime) -> int:
        with session_scope(self.engine) as session:
            result = session.exec(delete(ProcessedEvent).where(ProcessedEvent.at < before))
            return result.rowcount or 0
