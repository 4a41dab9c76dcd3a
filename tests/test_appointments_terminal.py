"""The appointment flow inside the real conversation (bootstrap) in the terminal chat."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bot.bootstrap import build_app
from bot.channels.terminal import TerminalChat
from bot.core.messages import Kind
from bot.settings import Settings

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def test_book_a_meeting_from_the_main_menu_in_swedish(tmp_path):
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'chat.db'}")
    app = build_app(settings, clock=lambda: NOW)
    out = io.StringIO()
    chat = TerminalChat(app.conversation.handle, out, hint="sv")

    def press(label: str) -> None:
        index = next(i for i, c in enumerate(chat.buttons) if label in c.label)
        chat.line(str(index + 1))

    try:
        chat.send(kind=Kind.COMMAND, command="start")
        if any(c.id.startswith("lang:") for c in chat.buttons):
            chat.send(kind=Kind.CHOICE, choice="lang:sv")
        press("Boka ett möte")
        press("Förskola och skola")
        press("tors 3 dec. 10:00")
        press("Klar: 1 tid vald")
        press("Tolk")
        chat.line("070-111 11 11")
        press("Inget meddelande")
        assert "Kontrollera din förfrågan" in out.getvalue()
        press("Skicka förfrågan")
        text = out.getvalue()
        assert "Tack! Din förfrågan (nummer 1) har skickats till brobyggarna." in text
        assert "[to the bridge-builders] 📅 Mötesförfrågan 1" in text
        assert "Invånarens språk: Svenska" in text
        chat.line("/moten")
        assert "Nummer 1: 🏫 Förskola och skola, väntar på svar" in out.getvalue()
    finally:
        app.close()
