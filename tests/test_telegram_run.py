"""`samvag run` without a token explains what to set and points to `samvag chat`."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.channels.telegram_run import run_telegram
from bot.cli import app


def test_run_without_token_says_what_to_set(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    assert run_telegram(webhook=False) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_TOKEN" in err and "samvag chat" in err


def test_cli_exit_code_is_2_without_token(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2


def test_webhook_mode_needs_a_public_url(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:x")
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    assert run_telegram(webhook=True) == 2
    assert "WEBHOOK_URL" in capsys.readouterr().err
