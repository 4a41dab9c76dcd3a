"""The content loader: any folder in the format loads, and every problem says path:line: what."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.content.loader import ContentError, Problem, load_content, validate
from bot.content.reload import ContentHolder

REPO = Path(__file__).resolve().parents[1]
FOREIGN_PACK = Path(__file__).resolve().parents[2] / "shared" / "eval" / "pack"

CATEGORIES = """\
social:
  emoji: "🤝"
  order: 2
  name:
    sv: Socialtjänst
    en: Social services
school:
  emoji: "🏫"
  order: 1
  name: {sv: Skola, en: School}
"""

ENTRY_SV = """\
---
question: Hur söker jag ekonomiskt bistånd?
alternatives:
  - Jag har inte pengar till hyran
keywords: [bistånd, "1177", försörjningsstöd]
updated: 2026-11-01
---
Du ansöker hos **socialtjänsten**. Ring {municipality.phone}.
"""

ENTRY_EN = """\
---
question: How do I apply for income support?
reviewed: false
---
Apply at social services in {municipality.name}.
"""


def write_pack(
    root: Path, files: dict[str, str | bytes] | None = None, *, only: bool = False
) -> Path:
    """A small valid pack, with `files` added or replaced; `only`: just `files`."""
    base: dict[str, str | bytes] = (
        {}
        if only
        else {
            "categories.yaml": CATEGORIES,
            "municipality.yaml": "name: Exempelby\nphone:\n  sv: 010-1\n  en: +46 10 1\n",
            "social/bistand.sv.md": ENTRY_SV,
            "social/bistand.en.md": ENTRY_EN,
            "school/preschool.sv.md": "---\nquestion: När börjar förskolan?\n---\nVid ett års ålder.\n",
        }
    )
    base.update(files or {})
    for rel, data in base.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.level == "error"]


def test_shipped_content_loads_without_errors():
    content, problems = validate(REPO / "content")
    assert content is not None
    assert errors(problems) == []


@pytest.mark.skipif(
    not FOREIGN_PACK.is_dir(), reason="../shared/eval/pack is not next to this checkout"
)
def test_a_pack_written_by_someone_else_loads():
    content = load_content(FOREIGN_PACK)
    assert len(content.entries) == 24
    assert content.entries["ekonomiskt-bistand"].texts.keys() == {"sv", "en", "fi"}
    assert "1177" in content.entries["feber-barn"].texts["sv"].keywords


def test_a_valid_pack_loads_entries_categories_and_profile(tmp_path):
    content = load_content(write_pack(tmp_path))
    assert list(content.categories) == ["school", "social"]  # menu order
    entry = content.entries["bistand"]
    assert entry.category == "social"
    sv = entry.texts["sv"]
    assert sv.alternatives == ("Jag har inte pengar till hyran",)
    assert sv.keywords == ("bistånd", "1177", "försörjningsstöd")
    assert sv.updated == date(2026, 11, 1)
    assert sv.reviewed is True and entry.texts["en"].reviewed is False
    assert content.municipality["name"] == {"*": "Exempelby"}
    assert content.fill(sv.body, "en").endswith("Ring +46 10 1.")
    assert content.fill(entry.texts["en"].body, "rmy") == "Apply at social services in Exempelby."


def test_romani_locales_load_like_any_other(tmp_path):
    pack = write_pack(
        tmp_path,
        {"social/bistand.rmy.md": "---\nquestion: Sar te mangav love?\n---\nAndo socialo.\n"},
    )
    content = load_content(pack)
    assert "rmy" in content.entries["bistand"].texts


@pytest.mark.parametrize(
    ("rel", "text", "where", "says"),
    [
        (
            "social/a.sv.md",
            "---\nalternatives: [x]\n---\nBody\n",
            "social/a.sv.md:2",
            "'question' is required",
        ),
        (
            "social/a.sv.md",
            "question: no front matter\n",
            "social/a.sv.md:1",
            "must start with a '---'",
        ),
        ("social/a.sv.md", "---\nquestion: Q?\nBody\n", "social/a.sv.md:1", "not closed"),
        (
            "social/a.sv.md",
            "---\nquestion: Q?\nkeywords: [a, b\n---\nBody\n",
            "social/a.sv.md:",
            "invalid front matter",
        ),
        ("social/a.sv.md", "---\nquestion: Q?\n---\n\n", "social/a.sv.md:4", "answer"),
        (
            "social/a.sv.md",
            "---\nquestion: Q?\nupdated: last week\n---\nB\n",
            "social/a.sv.md:3",
            "'updated'",
        ),
        (
            "social/a.sv.md",
            "---\nquestion: Q?\nreviewed: maybe\n---\nB\n",
            "social/a.sv.md:3",
            "'reviewed'",
        ),
        (
            "social/a.sv.md",
            "---\nquestion: Q?\nalternatives: [[x]]\n---\nB\n",
            "social/a.sv.md:3",
            "'alternatives'",
        ),
        ("social/A b.sv.md", "---\nquestion: Q?\n---\nB\n", "social/A b.sv.md:0", "file name"),
        ("health/a.sv.md", "---\nquestion: Q?\n---\nB\n", "health:0", "not a category"),
        (
            "school/bistand.sv.md",
            "---\nquestion: Q?\n---\nB\n",
            "social/bistand.",
            "already used in",
        ),
        (
            "social/b.sv.md",
            "---\nquestion: Q?\n---\nSee\n{municipality.nope}\n",
            "social/b.sv.md:5",
            "{municipality.nope}",
        ),
        ("categories.yaml", "social: [oops\n", "categories.yaml:", "invalid YAML"),
        ("municipality.yaml", "phone: [1, 2]\n", "municipality.yaml:1", "'phone'"),
    ],
)
def test_every_problem_names_path_line_and_what_is_wrong(tmp_path, rel, text, where, says):
    pack = write_pack(tmp_path, {rel: text})
    content, problems = validate(pack)
    found = [e for e in errors(problems) if e.startswith(str(tmp_path / where)) and says in e]
    assert found, errors(problems)
    with pytest.raises(ContentError) as exc:
        load_content(pack)
    assert any(says in str(p) for p in exc.value.problems)


def test_problem_prints_as_path_line_message():
    assert (
        str(Problem(Path("c/a.sv.md"), 3, "'question' is required"))
        == "c/a.sv.md:3: 'question' is required"
    )


def test_unknown_keys_and_stray_files_are_warnings_not_errors(tmp_path):
    pack = write_pack(
        tmp_path,
        {
            "social/c.sv.md": "---\nquestion: Q?\nauthor: me\n---\nB\n",
            "social/notes.txt": "x",
            "README.md": "x",
        },
    )
    content, problems = validate(pack)
    assert errors(problems) == []
    assert any("unknown key 'author'" in str(p) and p.line == 3 for p in problems)
    assert any(p.path.name == "notes.txt" for p in problems)


def test_activities_folder_is_left_to_its_own_loader(tmp_path):
    pack = write_pack(tmp_path, {"activities/2026-12.yaml": "anything: [goes"})
    assert errors(validate(pack)[1]) == []


def test_editors_synonyms_are_loaded(tmp_path):
    pack = write_pack(
        tmp_path, {"synonyms.yaml": "sv:\n  socbidrag: [ekonomiskt bistånd]\n  dagis: förskola\n"}
    )
    content = load_content(pack)
    assert content.synonyms["sv"]["socbidrag"] == ("ekonomiskt bistånd",)
    assert content.synonyms["sv"]["dagis"] == ("förskola",)


OPUS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 40


def test_voice_file_beside_entry_is_attached(tmp_path):
    pack = write_pack(tmp_path, {"social/bistand.sv.ogg": OPUS})
    content, problems = validate(pack)
    assert errors(problems) == []
    assert content.entries["bistand"].texts["sv"].voice == tmp_path / "social/bistand.sv.ogg"
    assert content.entries["bistand"].texts["en"].voice is None


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"ID3\x03not ogg at all", "not an OGG"),
        (b"OggS" + b"\x00" * (1024 * 1024), "limit is 1 MB"),
    ],
)
def test_bad_voice_files_are_errors(tmp_path, data, says):
    content, problems = validate(write_pack(tmp_path, {"social/bistand.sv.ogg": data}))
    assert any(says in e and "bistand.sv.ogg:0" in e for e in errors(problems))


def test_ogg_that_is_not_opus_is_a_warning(tmp_path):
    content, problems = validate(
        write_pack(tmp_path, {"social/bistand.sv.ogg": b"OggS" + b"\x00" * 60})
    )
    assert errors(problems) == []
    assert any("not Opus" in str(p) for p in problems)


def test_missing_folder_is_an_error(tmp_path):
    content, problems = validate(tmp_path / "nope")
    assert content is None and "not found" in errors(problems)[0]


def test_holder_keeps_serving_last_good_content_when_new_files_are_broken(tmp_path):
    pack = write_pack(tmp_path)
    holder = ContentHolder(pack)
    assert holder.matcher.match("ekonomiskt bistånd", "sv").top.entry_id == "bistand"
    (pack / "social/bistand.sv.md").write_text("---\nquestion: [broken\n---\nB\n", encoding="utf-8")
    problems = holder.reload()
    assert any(p.level == "error" for p in problems)
    assert "bistand" in holder.content.entries
    assert holder.matcher.match("ekonomiskt bistånd", "sv").top.entry_id == "bistand"
    (pack / "social/bistand.sv.md").write_text(
        ENTRY_SV.replace("bistånd?", "bistånd nu?"), encoding="utf-8"
    )
    (pack / "social/hyra.sv.md").write_text(
        "---\nquestion: Vad kostar hyran?\n---\nMycket.\n", encoding="utf-8"
    )
    assert [p for p in holder.reload() if p.level == "error"] == []
    assert "hyra" in holder.content.entries
    assert holder.matcher.match("vad kostar hyran", "sv").top.entry_id == "hyra"


def test_holder_refuses_to_start_on_broken_content(tmp_path):
    pack = write_pack(tmp_path, {"social/x.sv.md": "no front matter"})
    with pytest.raises(ContentError):
        ContentHolder(pack)
