"""Activity files: the shipped examples load, mistakes are reported with path:line, past ones vanish."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.content.activities import ActivityFolder, check_activities, validate_activities
from bot.content.check import run_check
from bot.content.model import SUPPORTED_LOCALES
from bot.settings import DEFAULT_CONTENT_DIR

DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

GOOD = """\
kind: cafe
when:
  - 2026-12-10 17:00
  - 2027-01-14 17:00
minutes: 120
title:
  sv: Romskt kafé
  en: Roma café
place: Storgatan 5
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_examples_load_with_titles_in_all_six_languages_and_are_in_the_future():
    activities, problems = validate_activities(DEFAULT_CONTENT_DIR / "activities")
    assert [p for p in problems if p.is_error] == []
    upcoming = activities.upcoming(DEC_1)
    kinds = {a.kind for a in upcoming}
    assert {"cafe", "mothers", "information", "consultation"} <= kinds
    for a in upcoming:
        assert set(SUPPORTED_LOCALES) <= set(a.title), a.id
        assert {"sv", "en"} <= set(a.description), a.id


def test_times_are_local_and_a_file_with_several_dates_gives_several_occurrences(tmp_path):
    write(tmp_path, "kafe.yaml", GOOD)
    activities, problems = validate_activities(tmp_path)
    assert problems == []
    first, second = activities.items
    assert first.starts == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # 17:00 in Stockholm (CET)
    assert first.key == "kafe@202612101600" and second.key == "kafe@202701141600"
    assert first.place == {loc: "Storgatan 5" for loc in SUPPORTED_LOCALES}  # one text for all


def test_past_activities_disappear_by_themselves(tmp_path):
    write(tmp_path, "kafe.yaml", GOOD)
    activities, _ = validate_activities(tmp_path)
    during = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # the first café is on
    assert len(activities.upcoming(during)) == 2
    after = datetime(2026, 12, 10, 18, 1, tzinfo=UTC)
    assert [a.key for a in activities.upcoming(after)] == ["kafe@202701141600"]
    assert activities.upcoming(datetime(2027, 2, 1, tzinfo=UTC)) == []
    assert activities.upcoming(DEC_1, within=timedelta(days=7)) == []


def test_mistakes_are_reported_with_path_and_line(tmp_path):
    write(tmp_path, "bad-kind.yaml", GOOD.replace("kind: cafe", "kind: party"))
    write(tmp_path, "bad-date.yaml", GOOD.replace("2027-01-14 17:00", "next thursday"))
    write(tmp_path, "no-time.yaml", GOOD.replace("  - 2026-12-10 17:00\n", "  - 2026-12-10\n"))
    write(tmp_path, "no-swedish.yaml", GOOD.replace("  sv: Romskt kafé\n", ""))
    write(tmp_path, "Bad Name.yaml", GOOD)
    write(tmp_path, "broken.yaml", "kind: cafe\ntitle: [unclosed\n")
    write(tmp_path, "minutes.yaml", GOOD.replace("minutes: 120", "minutes: lots"))
    write(tmp_path, "extra.yaml", GOOD + "colour: red\n")
    _, problems = validate_activities(tmp_path)
    text = {f"{p.path.name}:{p.line}: {p.message}" for p in problems}
    assert "bad-kind.yaml:1: 'kind' must be one of: cafe, women, mothers, girls, boys, information, consultation, other" in text
    assert any(t.startswith("bad-date.yaml:2: 'when' has 'next thursday'") for t in text)
    assert any(t.startswith("no-time.yaml:2: 'when' needs a time") for t in text)
    assert any(t.startswith("no-swedish.yaml:6: 'title' needs Swedish") for t in text)
    assert any(t.startswith("Bad Name.yaml:1: file name must be a short id") for t in text)
    assert any(t.startswith("broken.yaml:") and "invalid YAML" in t for t in text)
    assert any(t.startswith("minutes.yaml:5: 'minutes'") for t in text)
    warnings = [p for p in problems if not p.is_error]
    assert [f"{p.path.name}:{p.line}" for p in warnings] == ["extra.yaml:10"]


def test_content_check_validates_activity_files_like_the_faq(tmp_path):
    out = io.StringIO()
    errors = check_activities(DEFAULT_CONTENT_DIR, out, now=DEC_1)
    assert errors == 0 and "upcoming" in out.getvalue()
    pack = tmp_path / "pack"
    write(pack / "activities", "kafe.yaml", GOOD.replace("kind: cafe", "kind: party"))
    out = io.StringIO()
    assert check_activities(pack, out, now=DEC_1) == 1
    assert "kafe.yaml:1: 'kind' must be one of" in out.getvalue()


def test_samvag_content_check_fails_on_a_broken_activity_file(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(Path(__file__).parent / "data" / "pack", pack)
    write(pack / "activities", "kafe.yaml", GOOD.replace("2027-01-14 17:00", "soon"))
    out = io.StringIO()
    assert run_check(pack, out=out) == 1
    assert "kafe.yaml:2: 'when' has 'soon'" in out.getvalue()


def test_the_folder_reloads_on_change_and_keeps_the_last_good_on_errors(tmp_path):
    path = write(tmp_path, "kafe.yaml", GOOD)
    folder = ActivityFolder(tmp_path)
    assert len(folder.refresh().items) == 2
    path.write_text(GOOD.replace("  - 2027-01-14 17:00\n", ""), encoding="utf-8")
    assert len(folder.refresh().items) == 1
    path.write_text("kind: [broken", encoding="utf-8")
    assert len(folder.refresh().items) == 1  # last good kept
    assert folder.problems and folder.problems[0].is_error
