"""`samvag report unanswered`: grouping, and proposals that are written but never applied."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.content.loader import load_content
from bot.core.search import Match, Matcher
from bot.db.analytics_store import SqlAnalytics
from bot.reports.unanswered import (
    Item,
    add_alternatives,
    attach_nearest,
    cluster,
    collect,
    propose,
    render,
    write_proposals,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUSING = """---
question: Hur får jag bostadsbidrag?
alternatives:
  - Kan jag få hjälp med hyran från Försäkringskassan?
keywords: [bostadsbidrag, hyra]
---
Bostadsbidrag söker du hos **Försäkringskassan**.
"""
SCHOOL = """---
question: När börjar skolan?
keywords: [skolstart, skola]
---
Skolan börjar i augusti.
"""


@pytest.fixture
def content_dir(tmp_path) -> Path:
    root = tmp_path / "content"
    (root / "money").mkdir(parents=True)
    (root / "school").mkdir()
    (root / "categories.yaml").write_text(
        "money:\n  emoji: '💰'\n  order: 1\n  name:\n    sv: Pengar\n    en: Money\n"
        "school:\n  emoji: '🏫'\n  order: 2\n  name:\n    sv: Skola\n    en: School\n",
        encoding="utf-8",
    )
    # No final newline: the patch must still apply.
    (root / "money" / "housing-allowance.sv.md").write_text(HOUSING.rstrip("\n"), encoding="utf-8")
    (root / "school" / "school-start.sv.md").write_text(SCHOOL, encoding="utf-8")
    return root


def seed(engine) -> None:
    a = SqlAnalytics(engine)

    def ask(text, resident="tg:1", locale="sv", kind="not_found", at=NOW - timedelta(days=2), **kw):
        a.record(kind=kind, resident=resident, locale=locale, now=at, text=text, **kw)

    for i in range(3):
        ask("hur söker jag bostadsbidrag", resident=f"tg:{i}")
    ask("Hur söker man bostadsbidrag?", resident="tg:10")
    ask("hur soker man bostadsbidrag", resident="tg:11")
    ask("bostadsbidrag, hur söker jag det", resident="tg:12", kind="suggested")
    ask(
        "hur söker jag bostadsbidragen",
        resident="tg:13",
        kind="feedback",
        helpful=False,
        entry_id="housing-allowance",
        category="money",
    )
    ask("var ligger simhallen", resident="tg:20", category="school")
    ask("vart ligger simhallen", resident="tg:21")
    ask("var ligger simhallen i stan ring mig 070-123 45 67", resident="tg:22")
    # Taken from the suggestions within minutes: answered after all, so not listed.
    ask("när börjar skolan efter lovet", resident="tg:30", kind="suggested")
    a.record(
        kind="suggestion_taken",
        resident="tg:30",
        locale="sv",
        now=NOW - timedelta(days=2, minutes=-1),
        entry_id="school-start",
        category="school",
    )
    # Helpful feedback and answered questions keep no text at all.
    ask("tack", resident="tg:31", kind="feedback", helpful=True, entry_id="school-start")
    ask("när börjar skolan", resident="tg:32", kind="answered", entry_id="school-start")
    # Too old for --days 30.
    ask("gammal fråga om bostadsbidrag", resident="tg:40", at=NOW - timedelta(days=40))
    ask("how do I get money for rent\x1b[2J", resident="tg:50", locale="en")


def test_collect_and_cluster(db_engine):
    seed(db_engine)
    items = collect(db_engine, since=NOW - timedelta(days=30), until=NOW)
    assert len(items) == 11
    assert all("070" not in i.text for i in items)
    groups = cluster(items)
    assert [(g.locale, g.count) for g in groups] == [("sv", 7), ("sv", 3), ("en", 1)]
    housing, swim, english = groups
    assert housing.representative == "hur söker jag bostadsbidrag"
    assert housing.reasons() == {"not found": 5, "suggestion not taken": 1, "not helpful": 1}
    assert "var ligger simhallen i stan ring mig [telefon]" in swim.examples()
    assert swim.category() == "school"
    assert english.representative == "how do I get money for rent [2J"  # no escape sequence


def test_render_and_nearest_entry(db_engine, content_dir):
    seed(db_engine)
    groups = cluster(collect(db_engine, since=NOW - timedelta(days=30), until=NOW))
    content = load_content(content_dir)
    attach_nearest(groups, Matcher(content))
    assert groups[0].nearest == "housing-allowance"
    assert groups[1].nearest is None
    text = render(groups, days=30, limit=2, content=content)
    assert text.startswith("Unanswered questions, last 30 days: 11 in 3 groups (the 2 largest)")
    assert '7×  sv   "hur söker jag bostadsbidrag"' in text
    assert "nearest entry: housing-allowance (money)" in text
    assert "tg:" not in text and "070" not in text


def test_suggest_writes_a_copy_and_a_patch_and_applies_nothing(db_engine, content_dir, tmp_path):
    seed(db_engine)
    groups = cluster(collect(db_engine, since=NOW - timedelta(days=30), until=NOW))
    content = load_content(content_dir)
    attach_nearest(groups, Matcher(content))
    original = {p: p.read_bytes() for p in content_dir.rglob("*") if p.is_file()}

    proposals = propose(groups, content)
    out = tmp_path / "proposals"
    patch = write_proposals(proposals, content, out)

    # The content folder is untouched.
    assert {p: p.read_bytes() for p in content_dir.rglob("*") if p.is_file()} == original
    # The copy loads, with the group's wordings as new alternatives of the nearest entry.
    proposed = load_content(out / "content")
    alts = proposed.entries["housing-allowance"].texts["sv"].alternatives
    assert alts[0] == "Kan jag få hjälp med hyran från Försäkringskassan?"
    assert "hur söker jag bostadsbidrag" in alts and "Hur söker man bostadsbidrag?" in alts
    # The swimming-pool group had no entry near it: a new stub in the guessed category.
    stub = out / "content" / "school" / "new-var-ligger-simhallen.sv.md"
    assert stub.exists()
    meta = yaml.safe_load(stub.read_text(encoding="utf-8").split("---")[1])
    assert meta["question"] == "var ligger simhallen" and meta["reviewed"] is False
    # A single question is not worth a proposal.
    assert not any("money" in str(p.path) and p.before is None for p in proposals)
    # The patch applies cleanly to a copy of the original folder.
    trial = tmp_path / "trial"
    shutil.copytree(content_dir, trial)
    subprocess.run(["patch", "-p1", "-i", str(patch)], cwd=trial, check=True, capture_output=True)
    assert (trial / "money" / "housing-allowance.sv.md").read_text(encoding="utf-8") == (
        out / "content" / "money" / "housing-allowance.sv.md"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "source",
    [
        HOUSING,
        "---\nquestion: Q?\nalternatives: [a, b]\n---\nBody\n",
        "---\nquestion: Q?\nkeywords: [x]\n---\nBody\n",
        "---\nquestion: Q?\nalternatives:\n- a\n- b\nkeywords: [x]\n---\nBody\n",
    ],
)
def test_add_alternatives_keeps_the_file_valid(source):
    after = add_alternatives(source, ["ny fråga: med kolon"])
    meta = yaml.safe_load(after.split("---")[1])
    old = yaml.safe_load(source.split("---")[1])
    assert meta["alternatives"] == [*(old.get("alternatives") or []), "ny fråga: med kolon"]
    assert after.endswith(source.split("---", 2)[2])  # the body is untouched
    # Wordings it already has (any case), and the question itself, are not added twice.
    assert add_alternatives(after, ["NY FRÅGA: med kolon", meta["question"]]) == after


def test_an_entry_most_of_the_group_found_unhelpful_is_not_proposed():
    class Ranker:
        def rank(self, text, locale):
            return [Match("eviction-risk", 0.7), Match("swimming-pool", 0.5)]

    def item(kind, entry_id=None):
        return Item("var ligger simhallen", "sv", kind, None, NOW, entry_id)

    rejected = cluster(
        [item("feedback", "eviction-risk"), item("feedback", "eviction-risk"), item("not_found")]
    )
    once = cluster([item("feedback", "eviction-risk"), item("not_found"), item("not_found")])
    attach_nearest(rejected, Ranker())
    attach_nearest(once, Ranker())
    assert rejected[0].nearest == "swimming-pool"
    assert once[0].nearest == "eviction-risk"  # one unhappy resident is not the group's verdict


def test_proposals_never_overwrite_the_content_folder_or_a_stranger(content_dir, tmp_path):
    content = load_content(content_dir)
    with pytest.raises(ValueError, match="overlaps"):
        write_proposals([], content, content_dir.parent)  # its "content" is the real folder
    with pytest.raises(ValueError, match="overlaps"):
        write_proposals([], content, content_dir / "money")
    stranger = tmp_path / "elsewhere"
    (stranger / "content").mkdir(parents=True)
    (stranger / "content" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="not an earlier proposal"):
        write_proposals([], content, stranger)
    assert (stranger / "content" / "keep.txt").read_text(encoding="utf-8") == "mine"
    # An earlier proposal of ours is replaced.
    ours = tmp_path / "ours"
    write_proposals([], content, ours)
    write_proposals([], content, ours)
    assert (ours / "content" / "categories.yaml").exists()
