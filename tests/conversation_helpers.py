"""A resident talking to the conversation core, written so tests read as dialogues."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.content.loader import load_content
from bot.core.conversation import Conversation
from bot.core.i18n import I18n
from bot.core.messages import Choice, Incoming, Kind, Media, Outbound, Reply, ToResident
from bot.core.search import Matcher
from bot.db.state_store import SqlStateStore
from bot.markup import to_plain

PACK = Path(__file__).parent / "data" / "pack"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_I18N = I18n()
_CONTENT = load_content(PACK)
_MATCHER = Matcher(_CONTENT)


class RecordingAnalytics:
    """The Analytics port, remembering each event instead of storing it."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def record(self, **event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]


def make_conversation(engine, analytics=None, *, flows=(), interceptors=(), clock=None):
    """A conversation over the test pack and a real state store on `engine`."""
    return Conversation(
        content=_CONTENT,
        matcher=_MATCHER,
        i18n=_I18N,
        states=SqlStateStore(engine),
        analytics=analytics if analytics is not None else RecordingAnalytics(),
        clock=clock or (lambda: NOW),
        flows=flows,
        interceptors=interceptors,
    )


class Resident:
    """One resident: says things, presses buttons; `said` is what the bot answered last."""

    def __init__(self, conversation: Conversation, resident: str = "tg:100", hint: str | None = None):
        self.conversation = conversation
        self.resident = resident
        self.hint = hint
        self.outbound: list[Outbound] = []
        self.replies: list[Reply] = []
        self.buttons: list[Choice] = []
        self._event = 0

    def _send(self, **fields) -> Resident:
        self._event += 1
        incoming = Incoming(
            resident=self.resident,
            language_hint=self.hint,
            event_id=f"{self.resident}:{self._event}:{id(self)}",
            **fields,
        )
        self.outbound = self.conversation.handle(incoming)
        self.replies = [o.reply for o in self.outbound if isinstance(o.target, ToResident)]
        found = [c for r in self.replies for row in r.choices for c in row]
        if found:
            self.buttons = found
        return self

    def says(self, text: str) -> Resident:
        return self._send(kind=Kind.TEXT, text=text)

    def command(self, name: str, args: str = "") -> Resident:
        return self._send(kind=Kind.COMMAND, command=name, args=args)

    def sends_media(self, kind: str = "voice") -> Resident:
        return self._send(kind=Kind.MEDIA, media=Media(kind=kind, ref="1:2"))

    def presses(self, label: str) -> Resident:
        """Press the button of the last replies whose label contains `label`."""
        matching = [c for c in self.buttons if label in c.label]
        assert matching, f"no button {label!r} among {[c.label for c in self.buttons]}"
        return self._send(kind=Kind.CHOICE, choice=matching[0].id)

    def presses_id(self, choice: str) -> Resident:
        return self._send(kind=Kind.CHOICE, choice=choice)

    @property
    def said(self) -> str:
        """Everything the bot just said to the resident, as plain text."""
        return "\n\n".join(to_plain(r.text) for r in self.replies if r.text)

    @property
    def labels(self) -> list[str]:
        return [c.label for r in self.replies for row in r.choices for c in row]
