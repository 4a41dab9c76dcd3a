"""The resident's own data: opaque ids for logs, `/mydata`, `/forget` and the privacy note.

Every domain that keeps something about a resident implements `DataHolder` and is registered
with `PrivacyFlow` at bootstrap, so `/mydata` lists it and `/forget` erases it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.flows import Ctx
from bot.core.messages import Choice, Incoming, Kind, Outbound, Reply, to
from bot.core.ports import StateStore

log = logging.getLogger(__name__)

# Replaced at bootstrap by a key kept in the database, so ids stay the same across restarts.
_log_key: bytes = secrets.token_bytes(16)


def set_log_key(key: bytes) -> None:
    """Use `key` for `log_id` from now on (bootstrap passes the stored pseudonym key)."""
    global _log_key
    _log_key = bytes(key)


def pseudonym(resident: str, key: bytes) -> str:
    """A keyed hash of the resident key: stable for one key, unguessable from chat ids."""
    return hashlib.blake2b(resident.encode("utf-8"), key=key[:64], digest_size=10).hexdigest()


def log_id(resident: str) -> str:
    """An opaque id to log a resident by; never the chat id, never a name."""
    return "r-" + pseudonym("log:" + resident, _log_key)[:12]


class DataHolder(Protocol):
    """A store that keeps something about residents; registered with PrivacyFlow."""

    def describe(self, resident: str, ctx: Ctx) -> list[str]:
        """One line per kind of data kept about the resident, in ctx's language; [] for none."""

    def forget(self, resident: str, now: datetime) -> list[Outbound]:
        """Erase (or anonymise) the resident's data; may notify staff. Must be idempotent."""


class StateHolder:
    """The conversation state row: the resident's language and place in the conversation."""

    def __init__(
        self, store: StateStore, *, on_forget: Callable[[str], None] | None = None
    ) -> None:
        self.store = store
        # The conversation's Residents.forget, so the event being handled does not write the
        # state back after it was erased.
        self.on_forget = on_forget or store.forget

    def describe(self, resident: str, ctx: Ctx) -> list[str]:
        _ = ctx._
        if self.store.load(resident) is None:
            return []
        return [
            _(
                "Your chosen language and where you are in the conversation, so the bot can "
                "continue after a restart. It is kept until you write /forget."
            )
        ]

    def forget(self, resident: str, now: datetime) -> list[Outbound]:
        self.on_forget(resident)
        return []


# Button ids: "privacy:<payload>", built and parsed only here.
NOTE, MYDATA, FORGET, YES, NO = "note", "mydata", "forget", "yes", "no"
# A confirmation older than this is asked again: an old button must not erase anything.
CONFIRM_WINDOW = timedelta(minutes=15)


def _button(payload: str) -> str:
    return f"privacy:{payload}"


def _payload(incoming: Incoming) -> str | None:
    if incoming.kind is Kind.CHOICE and incoming.choice.startswith("privacy:"):
        return incoming.choice.split(":", 1)[1]
    if incoming.kind is Kind.COMMAND and incoming.command in ("mydata", "forget", "privacy"):
        return {"privacy": NOTE}.get(incoming.command, incoming.command)
    return None


class PrivacyFlow:
    """`/privacy` (menu button), `/mydata` and `/forget` with a confirmation step."""

    name = "privacy"
    commands = frozenset({"privacy", "mydata", "forget"})

    def __init__(self, holders: Iterable[DataHolder] = (), *, retention_days: int = 90) -> None:
        self.holders: list[DataHolder] = list(holders)
        self.retention_days = retention_days

    def register(self, holder: DataHolder) -> None:
        """Add a domain's store so /mydata lists it and /forget erases it."""
        self.holders.append(holder)

    def menu_label(self, ctx: Ctx) -> str | None:
        return "🔒 " + ctx._("Privacy and my data")

    def note(self, ctx: Ctx) -> str:
        """The short privacy note, also shown at first contact."""
        _ = ctx._
        return _(
            "**About your privacy**\n\nsamvag is a service of the municipality. We keep as little as "
            "possible: your language and where you are in the conversation; questions the bot "
            "could not answer, with personal identity numbers, phone numbers and e-mail "
            "addresses removed; messages you send to a bridge-builder; appointment requests. "
            "Messages and questions are deleted after {days} days. Statistics never show who "
            "you are. Write /mydata to see what is kept about you and /forget to erase it."
        ).format(days=self.retention_days) + "\n\n" + _(
            "Activity reminders, subscriptions and consultation proposals sent with your first "
            "name are also kept, and /forget erases them; a proposal sent anonymously is not "
            "linked to you, so it cannot be erased."
        )

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        return self.handle(ctx, incoming)

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        payload = _payload(incoming)
        if payload == MYDATA:
            ctx.leave()
            return self._mydata(ctx)
        if payload == FORGET:
            return self._ask(ctx)
        if payload == YES:
            return self._forget(ctx)
        if payload == NO:
            ctx.leave()
            return to(ctx.resident, Reply(ctx._("Nothing was erased."), edit=True))
        if ctx.flow == self.name and ctx.data.get("asked"):
            # Anything else while the question is open: ask again rather than guess.
            return self._ask(ctx)
        ctx.leave()
        return to(ctx.resident, Reply(self.note(ctx), choices=self._menu(ctx)))

    def _menu(self, ctx: Ctx) -> list[list[Choice]]:
        _ = ctx._
        return [
            [Choice(_button(MYDATA), _("What is kept about me"))],
            [Choice(_button(FORGET), _("Erase my data"))],
        ]

    def _mydata(self, ctx: Ctx) -> list[Outbound]:
        _ = ctx._
        lines: list[str] = []
        for holder in self.holders:
            lines.extend(holder.describe(ctx.resident, ctx))
        if not lines:
            text = _("samvag keeps nothing about you right now.")
        else:
            text = "\n".join(
                [
                    _("This is what samvag keeps about you:"),
                    *(f"- {line}" for line in lines),
                    "",
                    _("Write /forget to erase it."),
                ]
            )
        return to(
            ctx.resident, Reply(text, choices=[[Choice(_button(FORGET), _("Erase my data"))]])
        )

    def _ask(self, ctx: Ctx) -> list[Outbound]:
        _ = ctx._
        ctx.enter(self.name, {"asked": ctx.now.isoformat()})
        text = _(
            "Do you want samvag to erase everything it keeps about you? Your questions, your "
            "messages to the bridge-builders and your language choice are deleted, open "
            "appointment requests are cancelled and an open conversation with a bridge-builder "
            "is closed. This cannot be undone."
        )
        choices = [
            [Choice(_button(YES), _("Yes, erase everything"))],
            [Choice(_button(NO), _("No, keep it"))],
        ]
        return to(ctx.resident, Reply(text, choices=choices))

    def _forget(self, ctx: Ctx) -> list[Outbound]:
        _ = ctx._
        asked = ctx.data.get("asked") if ctx.flow == self.name else None
        try:
            fresh = asked is not None and ctx.now - datetime.fromisoformat(asked) <= CONFIRM_WINDOW
        except (TypeError, ValueError):
            fresh = False
        if not fresh:
            return self._ask(ctx)
        out: list[Outbound] = []
        failed = False
        # The conversation state goes last, and only when everything else is gone: after a
        # failure the resident is still asked, and "Try again" finishes the job.
        others = [h for h in self.holders if not isinstance(h, StateHolder)]
        for holder in others:
            try:
                out.extend(holder.forget(ctx.resident, ctx.now))
            except Exception as exc:  # one broken store must not stop the others; a retry finishes
                # No traceback: database errors quote parameters such as the chat id.
                log.error(
                    "forget failed in %s for %s (%s)",
                    type(holder).__name__,
                    log_id(ctx.resident),
                    type(exc).__name__,
                )
                failed = True
        if not failed:
            for holder in self.holders:
                if isinstance(holder, StateHolder):
                    out.extend(holder.forget(ctx.resident, ctx.now))
        if failed:
            return out + to(
                ctx.resident,
                Reply(
                    _(
                        "Something went wrong and not everything was erased. Please try again shortly."
                    ),
                    choices=[[Choice(_button(YES), _("Try again"))]],
                ),
            )
        ctx.leave()
        log.info("resident %s erased their data", log_id(ctx.resident))
        done = _(
            "Everything samvag kept about you has been erased. If you write again, the bot "
            "starts from the beginning. Take care!"
        )
        return out + to(ctx.resident, Reply(done, edit=True))
