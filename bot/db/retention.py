"""Retention: transcripts and free text older than RETENTION_DAYS are deleted; counts remain.

A domain whose tables hold resident text exposes a `RetentionHook`: either a module-level
`purge_before(session, cutoff)` function in its `bot/db/tables/<domain>.py` (found automatically)
or an object passed to `RetentionJob(hooks=...)` at bootstrap.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine

import bot.db.tables as _tables
from bot.core.messages import Outbound
from bot.db.engine import session_scope

log = logging.getLogger(__name__)


class RetentionHook(Protocol):
    def purge_before(self, session: Any, cutoff: datetime) -> int:
        """Delete or blank resident text older than `cutoff` in this session; return rows touched."""


def discover_hooks() -> list[RetentionHook]:
    """Every bot.db.tables module that defines `purge_before`."""
    found: list[RetentionHook] = []
    for info in pkgutil.iter_modules(_tables.__path__):
        module = importlib.import_module(f"{_tables.__name__}.{info.name}")
        if callable(getattr(module, "purge_before", None)):
            found.append(module)  # type: ignore[arg-type] - a module with the function is a hook
    return found


class RetentionJob:
    """Deletes old text through every hook: at start-up, then once per `every`."""

    name = "retention"

    def __init__(
        self,
        engine: Engine,
        *,
        days: int = 90,
        hooks: Iterable[RetentionHook] = (),
        discover: bool = True,
        every: timedelta = timedelta(hours=1),
    ) -> None:
        self.engine = engine
        self.days = days
        self.every = every
        self.hooks: list[RetentionHook] = [*(discover_hooks() if discover else []), *hooks]
        self._last: datetime | None = None

    def register(self, hook: RetentionHook) -> None:
        self.hooks.append(hook)

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days)

    def purge(self, now: datetime) -> int:
        """Run every hook, each in its own transaction; returns the rows touched."""
        cutoff = self.cutoff(now)
        total = 0
        for hook in self.hooks:
            name = getattr(hook, "__name__", type(hook).__name__)
            try:
                with session_scope(self.engine) as session:
                    total += int(hook.purge_before(session, cutoff) or 0)
            except Exception as exc:  # one broken domain must not keep the others' text forever
                # No traceback: database errors quote parameters, which may be resident text.
                log.error(
                    "retention hook %s failed (%s); it runs again next time",
                    name,
                    type(exc).__name__,
                )
        if total:
            log.info("retention removed text from %s rows older than %s days", total, self.days)
        return total

    def tick(self, now: datetime) -> list[Outbound]:
        if self._last is None or now - self._last >= self.every:
            self.purge(now)
            self._last = now
        return []
