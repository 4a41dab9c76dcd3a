"""The `samvag report` commands from the command line, on a seeded SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.db.analytics_store import SqlAnalytics
from bot.db.engine import make_engine
from bot.db.schema import create_all

PACK = Path(__file__).parent / "data" / "pack"


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "samvag.db"
    engine = make_engine(f"sqlite:///{db}")
    create_all(engine)
    analytics = SqlAnalytics(engine)
    recent = datetime.now(UTC) - timedelta(days=1)
    for i in range(6):
        analytics.record(kind="conversation_start", resident=f"tg:{i}", locale="sv", now=recent)
        analytics.record(
            kind="not_found",
            resident=f"tg:{i}",
            locale="sv",
            now=recent,
            text="var ligger simhallen, ring 070-123 45 67",
        )
    engine.dispose()
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("CONTENT_DIR", str(PACK))
    return tmp_path, recent.date()


def test_usage_command_writes_each_format(env):
    tmp, day = env
    runner = CliRunner()
    for fmt in ("md", "csv", "html"):
        out = tmp / f"report.{fmt}"
        result = runner.invoke(
            app,
            [
                "report",
                "usage",
                "--from",
                day.isoformat(),
                "--to",
                day.isoformat(),
                "--format",
                fmt,
                "--output",
                str(out),
                "--no-eval",
            ],
        )
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert "6" in text and "simhallen" not in text and "tg:" not in text


def test_usage_command_rejects_bad_input(env):
    _tmp, day = env
    runner = CliRunner()
    wrong_order = runner.invoke(
        app,
        [
            "report",
            "usage",
            "--from",
            day.isoformat(),
            "--to",
            (day - timedelta(days=3)).isoformat(),
        ],
    )
    assert wrong_order.exit_code == 2
    bad_format = runner.invoke(
        app,
        ["report", "usage", "--from", day.isoformat(), "--to", day.isoformat(), "--format", "pdf"],
    )
    assert bad_format.exit_code == 2
    bad_date = runner.invoke(app, ["report", "usage", "--from", "1 May", "--to", "2026-05-31"])
    assert bad_date.exit_code == 2


def test_unanswered_command_groups_and_suggests(env):
    tmp, _day = env
    result = CliRunner().invoke(
        app, ["report", "unanswered", "--days", "7", "--suggest", "--out", str(tmp / "p")]
    )
    assert result.exit_code == 0, result.output
    assert '6×  sv   "var ligger simhallen, ring [telefon]"' in result.output
    assert "nothing applied" in result.output
    assert (tmp / "p" / "proposals.patch").exists()


@pytest.mark.parametrize(
    "command", [["unanswered"], ["usage", "--from", "2026-01-01", "--to", "2026-01-31"]]
)
def test_a_missing_or_unreachable_database_is_a_plain_error(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    empty = runner.invoke(app, ["report", *command])
    assert empty.exit_code == 1 and "no samvag tables" in empty.output
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    gone = runner.invoke(app, ["report", *command])
    assert gone.exit_code == 1 and "cannot open the database" in gone.output
    assert "secret" not in gone.output


def test_usage_in_swedish(env):
    _tmp, day = env
    result = CliRunner().invoke(
        app,
        [
            "report",
            "usage",
            "--from",
            day.isoformat(),
            "--to",
            day.isoformat(),
            "--lang",
            "sv",
            "--no-eval",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "## Sammanfattning" in result.output and "| Samtal | 6 |" in result.output
    assert "Utvärderingen hoppades över" in result.output
