"""Seams through which the handoff, appointment and activity flows plug into the conversation.

The conversation (bot.core.conversation) owns the resident's journey: language, menu, topics,
free-text matching. Other flows register with it at bootstrap (bot.bootstrap) and are called:

1. `Interceptor.intercept` first, in registration order, for every event: the handoff flow uses it
   to relay messages while a ticket is open and to catch words that signal risk.
2. A pressed button whose id starts with `"<flow.name>:"` goes to that flow's `handle`.
3. While the resident is inside a flow (`ctx.flow == flow.name`), every event goes to `handle`.
4. `menu_label` adds the flow's button to the main menu; pressing it calls `start`.

Staff events from the staff group go to the `StaffHandler` that owns the command or button
prefix. Periodic work (reminders, re-announcements, retention, broadcasts) is a `Job`.
Flows never import a channel: they return `Outbound`s and the channel delivers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.core.messages import Incoming, Outbound, StaffIncoming


@dataclass(slots=True)
class Ctx:
    """What a flow knows about the resident it is serving, for one event."""

    resident: str
    locale: str  # one of the supported locales: sv en fi ro rmn rmy
    _: Callable[[str], str]  # gettext bound to the resident's locale
    ngettext: Callable[[str, str, int], str]
    now: datetime  # timezone-aware, from the injected clock
    flow: str | None = None  # the flow the resident is in, if any
    data: dict[str, Any] = field(default_factory=dict)  # that flow's JSON-serialisable state

    def enter(self, flow: str, data: dict[str, Any] | None = None) -> None:
        """Make `flow` receive the resident's next events; the conversation persists this."""
        self.flow = flow
        self.data = dict(data or {})

    def leave(self) -> None:
        """Return the resident to the ordinary conversation."""
        self.flow = None
        self.data = {}


class Flow(Protocol):
    name: str  # short, ascii; the prefix of its button ids ("appt:3") and its state name

    def menu_label(self, ctx: Ctx) -> str | None:
        """The main-menu button text in the resident's language, or None for no button."""

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        """Begin the flow (menu button, command, or another flow handing over)."""

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        """An event for this flow: its button was pressed, or the resident is inside it."""


class Interceptor(Protocol):
    def intercept(self, ctx: Ctx, incoming: Incoming) -> list[Outbound] | None:
        """Take the event (return replies, possibly empty) or let it pass (return None)."""


class StaffHandler(Protocol):
    commands: frozenset[str]  # staff commands it owns, without the slash
    prefixes: frozenset[str]  # button id prefixes it owns (before the ':')

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        """A staff event in the staff group (membership is checked by the channel)."""


class Job(Protocol):
    name: str

    def tick(self, now: datetime) -> list[Outbound]:
        """Periodic work; called about once a minute and once at start-up. Must be idempotent."""
