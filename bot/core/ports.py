"""Small protocols the core needs from the outside world; bot.db and bot.bootstrap provide them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock: aware UTC."""
    return datetime.now(UTC)


class Analytics(Protocol):
    """Usage events for statistics. The implementation scrubs `text` before storing it and keeps
    the resident only as an opaque hash; text is kept only where an editor needs it
    (not_found, suggested, unhelpful feedback)."""

    def record(
        self,
        *,
        kind: str,  # conversation_start | answered | suggested | suggestion_taken | not_found
        # | feedback | handoff_requested | appointment_requested | ...
        resident: str,
        locale: str,
        now: datetime,
        text: str | None = None,
        entry_id: str | None = None,
        category: str | None = None,
        helpful: bool | None = None,
    ) -> None: ...


@dataclass(slots=True)
class ResidentState:
    """What the conversation remembers about one resident between events."""

    resident: str
    locale: str | None = None
    step: str = "new"  # the conversation's own place: new | language | privacy | menu | ask
    flow: str | None = None  # the registered flow the resident is in, if any
    data: dict[str, Any] = field(default_factory=dict)  # that flow's JSON state
    memo: dict[str, Any] = field(default_factory=dict)  # the conversation's own JSON state


class StateStore(Protocol):
    """Residents' conversation state, kept in the database so restarts lose nothing."""

    def load(self, resident: str) -> ResidentState | None:
        """The stored state, or None for a resident never seen (or forgotten)."""

    def save(self, state: ResidentState, *, now: datetime) -> None:
        """Insert or replace the resident's state."""

    def forget(self, resident: str) -> None:
        """Delete everything this store keeps about the resident."""

    def claim_event(self, event_id: str, *, now: datetime) -> bool:
        """Record a channel event id; False if it was already claimed (a redelivery)."""

    def release_event(self, event_id: str) -> None:
        """Undo a claim, so a redelivery of an event that failed is handled."""

    def prune_events(self, *, before: datetime) -> int:
        """Delete claimed event ids older than `before`; returns how many."""
