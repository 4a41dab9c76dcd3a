"""`samvag chat`: the conversation core in a terminal; buttons become numbered choices."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TextIO

from bot.core.i18n import supported_locale
from bot.core.messages import Choice, Incoming, Kind, Outbound, ToResident
from bot.markup import to_plain
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

RESIDENT = "term:local"  # one local resident per database file
QUIT_WORDS = {"quit", "exit", ":q"}


class TerminalChat:
    """One terminal session: prints replies, reads lines, maps numbers to the last buttons."""

    def __init__(
        self, handle: Callable[[Incoming], list[Outbound]], stdout: TextIO, *, hint: str | None
    ) -> None:
        self.handle = handle
        self.out = stdout
        self.hint = hint
        self.buttons: list[Choice] = []

    def send(self, **fields) -> None:
        incoming = Incoming(resident=RESIDENT, language_hint=self.hint, event_id=None, **fields)
        self.show(self.handle(incoming))

    def show(self, outbound: list[Outbound]) -> None:
        buttons: list[Choice] = []
        for item in outbound:
            reply = item.reply
            staff = not isinstance(item.target, ToResident)
            prefix = "[to the bridge-builders] " if staff else ""
            if reply.text:
                self.out.write("\n" + prefix + to_plain(reply.text) + "\n")
            if reply.copy is not None:
                self.out.write(f"{prefix}({reply.copy.kind})\n")
            if reply.voice is not None:
                self.out.write(f"{prefix}(voice answer: {reply.voice})\n")
            if reply.attachment is not None:
                self.out.write(f"{prefix}(attachment: {reply.attachment.filename})\n")
            if staff:
                continue  # staff buttons belong to the staff group, not to this resident
            if reply.request_contact:
                self.out.write(f"({reply.request_contact}: type your phone number)\n")
            for row in reply.choices:
                for choice in row:
                    buttons.append(choice)
                    self.out.write(f"  [{len(buttons)}] {choice.label}\n")
        if buttons:
            self.buttons = buttons
        self.out.flush()

    def line(self, text: str) -> None:
        """One typed line: a number presses a button, /word is a command, else text."""
        stripped = text.strip()
        if stripped.isdigit() and self.buttons:
            index = int(stripped) - 1
            if 0 <= index < len(self.buttons):
                self.send(kind=Kind.CHOICE, choice=self.buttons[index].id)
                return
        if stripped.startswith("/") and len(stripped) > 1:
            name, _sep, args = stripped[1:].partition(" ")
            self.send(kind=Kind.COMMAND, command=name.lower(), args=args.strip())
            return
        self.send(kind=Kind.TEXT, text=text.rstrip("\n"))


def _env_language() -> str | None:
    """The terminal's language (LANG=sv_SE.UTF-8 -> sv), like a Telegram client's."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value.split(".", 1)[0]
    return None


def run_terminal(
    lang: str | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    settings: Settings | None = None,
    clock=None,
) -> int:
    """Chat until Ctrl-D or 'quit'; returns the exit code."""
    from bot.bootstrap import build_app
    from bot.content.loader import ContentError

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if lang is not None and supported_locale(lang) is None:
        stdout.write(f"Unknown language {lang!r}; choose one of: sv en fi ro rmn rmy\n")
        return 2
    settings = settings or load_settings()
    try:
        app = build_app(settings, clock=clock)
    except ContentError as exc:
        stdout.write(f"{exc}\n")
        return 1
    try:
        chat = TerminalChat(app.conversation.handle, stdout, hint=lang or _env_language())
        stdout.write(
            "samvag chat: type a question, a number to press a button, "
            "or 'quit' (Ctrl-D) to leave.\n"
        )
        chat.send(kind=Kind.COMMAND, command="start")
        if lang is not None and app.states.load(RESIDENT) is not None:
            locale = supported_locale(lang)
            state = app.states.load(RESIDENT)
            if state is not None and state.locale != locale and state.step != "language":
                chat.send(kind=Kind.CHOICE, choice=f"lang:{locale}")
        while True:
            stdout.write("> ")
            stdout.flush()
            text = stdin.readline()
            if not text:  # Ctrl-D
                stdout.write("\n")
                break
            if text.strip().lower() in QUIT_WORDS:
                break
            chat.line(text)
        return 0
    finally:
        app.close()
