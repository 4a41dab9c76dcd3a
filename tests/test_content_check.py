"""`samvag content check`: problems first, then a coverage table editors can act on."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.content.check import run_check
from tests.test_content_loader import write_pack


def check(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run_check(path, out=out)
    return code, out.getvalue()


def test_clean_pack_exits_zero_and_prints_coverage_per_category_and_locale(tmp_path):
    code, out = check(write_pack(tmp_path))
    assert code == 0
    assert "0 error(s)" in out
    social = next(line for line in out.splitlines() if line.strip().startswith("social"))
    assert social.split()[1:] == ["1", "1"]  # sv, en
    assert "missing in en (1): preschool" in out
    assert "unreviewed translations (1):" in out and "bistand.en" in out


def test_errors_exit_one_and_are_listed_with_path_and_line(tmp_path):
    code, out = check(write_pack(tmp_path, {"social/x.sv.md": "---\nkeywords: [a]\n---\nB\n"}))
    assert code == 1
    assert f"error: {tmp_path / 'social/x.sv.md'}:2: 'question' is required" in out


def test_warnings_alone_exit_zero(tmp_path):
    code, out = check(write_pack(tmp_path, {"social/notes.txt": "x"}))
    assert code == 0
    assert "warning:" in out and "1 warning(s)" in out


def test_the_same_question_in_two_entries_is_reported(tmp_path):
    dup = "---\nquestion: hur söker jag EKONOMISKT bistand\n---\nB\n"
    code, out = check(write_pack(tmp_path, {"school/other.sv.md": dup}))
    assert "the same question in two entries (1):" in out
    assert "other and bistand" in out


def test_translation_older_than_the_swedish_source_is_outdated(tmp_path):
    en = "---\nquestion: How do I apply?\nupdated: 2026-01-01\n---\nB\n"
    code, out = check(write_pack(tmp_path, {"social/bistand.en.md": en}))
    assert code == 0
    assert "OUTDATED translations (1)" in out
    assert "bistand.en: updated 2026-01-01, Swedish 2026-11-01" in out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_translation_committed_before_the_swedish_change_is_outdated(tmp_path):
    pack = write_pack(tmp_path / "pack")
    en = pack / "social/bistand.en.md"
    sv = pack / "social/bistand.sv.md"
    # No `updated:` dates, so only git history can tell.
    en.write_text("---\nquestion: How do I apply?\n---\nB\n", encoding="utf-8")
    sv.write_text("---\nquestion: Hur söker jag?\n---\nB\n", encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }

    def git(*args: str, date: str | None = None) -> None:
        e = dict(env)
        if date:
            e["GIT_AUTHOR_DATE"] = e["GIT_COMMITTER_DATE"] = date
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, env=e)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first", date="2026-01-01T10:00:00+00:00")
    assert "OUTDATED" not in check(pack)[1]
    # Tuning the Swedish keywords for matching does not make the translation wrong.
    original = sv.read_text(encoding="utf-8")
    sv.write_text(original.replace("---\n", "---\nkeywords: [pengar]\n", 1), encoding="utf-8")
    git("commit", "-qam", "keywords", date="2026-01-15T10:00:00+00:00")
    assert "OUTDATED" not in check(pack)[1]
    sv.write_text("---\nquestion: Hur söker jag nu?\n---\nNew facts.\n", encoding="utf-8")
    git("commit", "-qam", "facts changed", date="2026-02-01T10:00:00+00:00")
    out = check(pack)[1]
    assert "bistand.en: last changed before the Swedish text (git)" in out


def test_cli_command_uses_the_same_exit_codes(tmp_path):
    good = write_pack(tmp_path / "good")
    bad = write_pack(tmp_path / "bad", {"social/x.sv.md": "nope"})
    runner = CliRunner()
    assert runner.invoke(app, ["content", "check", str(good)]).exit_code == 0
    result = runner.invoke(app, ["content", "check", str(bad)])
    assert result.exit_code == 1
    assert "x.sv.md:1:" in result.output
