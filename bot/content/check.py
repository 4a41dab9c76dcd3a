"""`samvag content check`: validate a content folder and print its coverage for editors."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.content.loader import Problem, validate
from bot.content.model import SUPPORTED_LOCALES, Content
from bot.core.normalize import words

SOURCE_LOCALE = "sv"


@dataclass
class Coverage:
    """What an editor needs to see about a folder beyond its errors."""

    locales: list[str]
    per_category: dict[str, dict[str, int]]  # category -> locale -> entries
    unreviewed: list[tuple[str, str]]  # (entry id, locale)
    missing: dict[str, list[str]]  # locale -> entry ids without it
    duplicates: list[tuple[str, str, str, str]]  # (locale, question, entry a, entry b)
    outdated: list[tuple[str, str, str]] = field(default_factory=list)  # (entry, locale, why)


@dataclass(frozen=True)
class _Commit:
    time: int
    sha: str
    top: Path


def _git_times(root: Path) -> dict[Path, _Commit]:
    """Last commit (time, sha) of every file under `root`, if it is in a git checkout."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        log = subprocess.run(
            ["git", "-C", str(root), "log", "--format=@%ct %H", "--name-only", "--", "."],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    times: dict[Path, _Commit] = {}
    current = _Commit(0, "", Path(top))
    for line in log.splitlines():
        if line.startswith("@"):
            stamp, sha = line[1:].split()
            current = _Commit(int(stamp), sha, Path(top))
        elif line.strip():
            path = (Path(top) / line.strip()).resolve()
            times.setdefault(path, current)  # newest commit comes first
    return times


def _answer_part(text: str) -> str:
    """The question line and the answer body of an entry file: what a translation follows.

    Alternatives and keywords are left out on purpose: editors tune them for matching, and
    such a change does not make a translation wrong.
    """
    parts = text.split("---", 2)
    front, body = (parts[1], parts[2]) if len(parts) == 3 else ("", text)
    question = next((ln for ln in front.splitlines() if ln.startswith("question:")), "")
    return question.strip() + "\n" + body.strip()


def _source_changed_since(source: Path, when: _Commit) -> bool:
    """Whether the Swedish question or answer differs from what it was at commit `when`."""
    try:
        rel = source.resolve().relative_to(when.top)
        old = subprocess.run(
            ["git", "-C", str(when.top), "show", f"{when.sha}:{rel.as_posix()}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, ValueError, subprocess.SubprocessError):
        return True  # the Swedish file is newer than the translation and cannot be compared
    return _answer_part(old) != _answer_part(source.read_text(encoding="utf-8"))


def coverage(content: Content) -> Coverage:
    """Entries per category and locale, gaps, unreviewed and outdated translations, duplicates."""
    present = set(content.locales())
    locales = [loc for loc in SUPPORTED_LOCALES if loc in present] + sorted(
        present - set(SUPPORTED_LOCALES)
    )
    per_category: dict[str, dict[str, int]] = {c: defaultdict(int) for c in content.categories}
    unreviewed: list[tuple[str, str]] = []
    missing: dict[str, list[str]] = defaultdict(list)
    seen: dict[tuple[str, str], str] = {}
    duplicates: list[tuple[str, str, str, str]] = []
    outdated: list[tuple[str, str, str]] = []
    times = _git_times(content.root)
    for entry in content.entries.values():
        for loc in locales:
            if loc not in entry.texts:
                missing[loc].append(entry.id)
        for loc, text in entry.texts.items():
            per_category.setdefault(entry.category, defaultdict(int))[loc] += 1
            if not text.reviewed:
                unreviewed.append((entry.id, loc))
            for q in (text.question, *text.alternatives):
                key = (loc, " ".join(words(q)))
                other = seen.get(key)
                if other is not None and other != entry.id:
                    duplicates.append((loc, q, other, entry.id))
                seen.setdefault(key, entry.id)
        source = entry.texts.get(SOURCE_LOCALE)
        if source is None:
            continue
        for loc, text in entry.texts.items():
            if loc == SOURCE_LOCALE:
                continue
            if source.updated and text.updated and text.updated < source.updated:
                outdated.append(
                    (entry.id, loc, f"updated {text.updated}, Swedish {source.updated}")
                )
                continue
            t_src = times.get(source.path.resolve()) if source.path else None
            t_tr = times.get(text.path.resolve()) if text.path else None
            if (
                t_src
                and t_tr
                and t_tr.time < t_src.time
                and _source_changed_since(source.path, t_tr)
            ):
                outdated.append((entry.id, loc, "last changed before the Swedish text (git)"))
    return Coverage(
        locales, per_category, sorted(unreviewed), dict(missing), duplicates, sorted(outdated)
    )


def print_coverage(content: Content, cov: Coverage, out: TextIO) -> None:
    width = max([len(c) for c in content.categories] + [8]) + 2
    print(f"\n{len(content.entries)} entries in {len(content.categories)} categories", file=out)
    print("entries per category and language:", file=out)
    print("  " + "category".ljust(width) + "".join(f"{loc:>6}" for loc in cov.locales), file=out)
    for cat, counts in cov.per_category.items():
        print(
            "  " + cat.ljust(width) + "".join(f"{counts.get(loc, 0):>6}" for loc in cov.locales),
            file=out,
        )
    totals = defaultdict(int)
    for counts in cov.per_category.values():
        for loc, n in counts.items():
            totals[loc] += n
    print(
        "  " + "total".ljust(width) + "".join(f"{totals.get(loc, 0):>6}" for loc in cov.locales),
        file=out,
    )
    for loc in cov.locales:
        gaps = cov.missing.get(loc, [])
        if gaps:
            print(f"missing in {loc} ({len(gaps)}): {', '.join(sorted(gaps))}", file=out)
    if cov.unreviewed:
        print(f"unreviewed translations ({len(cov.unreviewed)}):", file=out)
        for entry_id, loc in cov.unreviewed:
            print(f"  {entry_id}.{loc}", file=out)
    if cov.outdated:
        print(f"OUTDATED translations ({len(cov.outdated)}): older than the Swedish text", file=out)
        for entry_id, loc, why in cov.outdated:
            print(f"  {entry_id}.{loc}: {why}", file=out)
    if cov.duplicates:
        print(f"the same question in two entries ({len(cov.duplicates)}):", file=out)
        for loc, q, a, b in cov.duplicates:
            print(f"  [{loc}] {q!r}: {a} and {b}", file=out)


def run_check(directory: Path | None, *, out: TextIO | None = None) -> int:
    """Validate and print problems and coverage; 1 if there are errors, else 0."""
    out = out or sys.stdout
    if directory is None:
        from bot.settings import Settings

        directory = Settings().content_dir
    content, problems = validate(Path(directory))
    for p in sorted(problems, key=_order):
        print(f"{p.level}: {p}", file=out)
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    if content is not None and content.entries:
        print_coverage(content, coverage(content), out)
    from bot.content.activities import check_activities  # issue 10: content/activities/*.yaml

    errors += check_activities(Path(directory), out)
    print(f"\n{errors} error(s), {warnings} warning(s)", file=out)
    return 1 if errors else 0


def _order(p: Problem) -> tuple[str, int]:
    return (str(p.path), p.line)
