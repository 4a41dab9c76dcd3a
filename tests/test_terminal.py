"""`samvag chat` end to end: typed lines in, plain text and numbered buttons out."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from bot.channels.terminal import run_terminal
from bot.cli import app as cli
from bot.settings import DEFAULT_CONTENT_DIR, Settings

PACK = Path(__file__).parent / "data" / "pack"


def chat(tmp_path: Path, lines: list[str], *, lang: str | None = None, content: Path = PACK):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chat.db'}", content_dir=content,
                        _env_file=None)
    stdout = io.StringIO()
    code = run_terminal(lang, stdin=io.StringIO("".join(f"{x}\n" for x in lines)), stdout=stdout,
                        settings=settings)
    return code, stdout.getvalue()


def test_a_conversation_in_the_terminal(tmp_path):
    code, out = chat(tmp_path, ["1", "Hur söker jag ekonomiskt bistånd?", "1", "quit"], lang="sv")
    assert code == 0
    assert "Välkommen" in out
    assert "[1] ✓ Svenska" in out and "[6] Romani (Kelderash)" in out
    assert "integritet" in out  # the privacy note; markdown shown as plain text
    assert "**" not in out
    assert "Du ansöker hos socialtjänsten" in out
    assert "(voice answer:" in out
    assert "Tack! Vad bra att det hjälpte." in out


def test_ctrl_d_ends_the_chat_and_the_next_run_remembers_the_language(tmp_path):
    code, out = chat(tmp_path, ["4"], lang="sv")  # Română, then end of input
    assert code == 0 and "Cu ce vă pot ajuta?" in out
    code, out = chat(tmp_path, ["/meniu", "quit"])
    assert code == 0
    assert "Bine ați venit" not in out  # no second welcome
    assert "Bună ziua! Alegeți un subiect" in out
    assert "Cu ce vă pot ajuta?" in out


def test_numbers_outside_the_buttons_and_odd_lines_are_just_text(tmp_path):
    code, out = chat(tmp_path, ["1", "99", "", "/nonsense", "\x1b[A", "exit"], lang="sv")
    assert code == 0
    assert "Det kommandot känner jag inte till" in out
    assert "Jag fick ingen text" in out


def test_an_unknown_language_is_refused_with_a_clear_message(tmp_path):
    code, out = chat(tmp_path, [], lang="xx")
    assert code == 2 and "sv en fi ro rmn rmy" in out


def test_the_bundled_content_starts_on_a_fresh_checkout(tmp_path):
    code, out = chat(tmp_path, ["2", "quit"], lang="en", content=DEFAULT_CONTENT_DIR)
    assert code == 0
    assert "What can I help you with?" in out
    assert "Social services" in out


def test_samvag_chat_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CONTENT_DIR", str(PACK))
    result = CliRunner().invoke(cli, ["chat", "--lang", "fi"], input="3\nquit\n")
    assert result.exit_code == 0, result.output
    assert "Tervetuloa" in result.output
    assert "Miten voin auttaa?" in result.output
