"""Small protocols the core needs from the outside world; bot.db and bot.bootstrap provide them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

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
