"""`samvag report unanswered`: what residents asked that the bot could not answer, grouped.

Reads the scrubbed texts kept for not_found, suggested (and not taken) and unhelpful events,
groups similar ones per language with rapidfuzz, and with `--suggest` proposes each group as
new `alternatives:` of the nearest entry (or a new entry stub) in a copy of the content folder
plus a patch. Nothing is ever applied to the content folder itself.
"""

from __future__ import annotations

import difflib
import re
import shutil
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.content.model import Content
from bot.core.i18n import language_name
from bot.core.normalize import Stemmer, words
from bot.db.tables.stats import UsageEvent
from bot.reports import ReportError, as_utc, report_engine

THRESHOLD = 85  # rapidfuzz WRatio (0-100) from which two questions are grouped
TAKEN_WITHIN = timedelta(minutes=30)  # a suggestion taken this soon answered the question
REASONS = {"not_found": "not found", "suggested": "suggestion not taken", "feedback": "not helpful"}


@dataclass(slots=True)
class Item:
    text: str
    locale: str
    kind: str
    category: str | None
    at: datetime
    entry_id: str | None = None  # the entry shown and judged unhelpful, or suggested and not taken


@dataclass(slots=True)
class Group:
    locale: str
    items: list[Item] = field(default_factory=list)
    nearest: str | None = None  # entry id the matcher thinks is closest
    score: float = 0.0

    @property
    def count(self) -> int:
        return len(self.items)

    def examples(self, n: int = 3) -> list[str]:
        """The most frequent distinct wordings, most frequent first."""
        seen = Counter(" ".join(i.text.split()) for i in self.items)
        return [text for text, _ in seen.most_common(n)]

    @property
    def representative(self) -> str:
        return self.examples(1)[0]

    def reasons(self) -> Counter:
        return Counter(REASONS.get(i.kind, i.kind) for i in self.items)

    def category(self) -> str | None:
        found = Counter(i.category for i in self.items if i.category)
        return found.most_common(1)[0][0] if found else None


def collect(engine: Engine, *, since: datetime, until: datetime) -> list[Item]:
    """Unanswered questions with their kept (scrubbed) text in [since, until)."""
    e = UsageEvent.__table__.c
    with engine.connect() as conn:
        rows = [
            r._mapping
            for r in conn.execute(
                select(
                    e.kind,
                    e.text,
                    e.locale,
                    e.category,
                    e.at,
                    e.resident_hash,
                    e.helpful,
                    e.entry_id,
                ).where(
                    e.at >= since,
                    e.at < until,
                    e.kind.in_(["not_found", "suggested", "feedback", "suggestion_taken"]),
                )
            )
        ]
    taken: dict[str, list[datetime]] = {}
    for r in rows:
        if r["kind"] == "suggestion_taken" and r["resident_hash"]:
            taken.setdefault(r["resident_hash"], []).append(as_utc(r["at"]))
    items = []
    for r in rows:
        if not r["text"] or r["kind"] == "suggestion_taken":
            continue
        if r["kind"] == "feedback" and r["helpful"] is not False:
            continue
        at = as_utc(r["at"])
        if r["kind"] == "suggested" and any(
            at <= t <= at + TAKEN_WITHIN for t in taken.get(r["resident_hash"] or "", [])
        ):
            continue  # the resident found their answer among the suggestions
        # No control characters: the text is printed to a terminal (escape sequences) and
        # written into YAML.
        text = "".join(c if unicodedata.category(c) != "Cc" else " " for c in r["text"])
        items.append(Item(text, r["locale"], r["kind"], r["category"], at, r["entry_id"]))
    return items


def _key(text: str, stem: Stemmer) -> str:
    return " ".join(stem(w) for w in words(text))


def cluster(items: list[Item], *, threshold: float = THRESHOLD) -> list[Group]:
    """Group similar questions per language, biggest group first."""
    groups: list[Group] = []
    by_locale: dict[str, list[Item]] = {}
    for item in items:
        by_locale.setdefault(item.locale, []).append(item)
    for locale, its in by_locale.items():
        stem = Stemmer(locale)
        by_key: dict[str, list[Item]] = {}
        for item in its:
            by_key.setdefault(_key(item.text, stem) or item.text.casefold(), []).append(item)
        leaders: list[str] = []
        local: list[Group] = []
        # Most frequent wordings first, so they lead their groups.
        for key, members in sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            best = (
                process.extractOne(key, leaders, scorer=fuzz.WRatio, score_cutoff=threshold)
                if leaders
                else None
            )
            if best is None:
                leaders.append(key)
                local.append(Group(locale, list(members)))
            else:
                local[best[2]].items.extend(members)
        groups.extend(local)
    groups.sort(key=lambda g: (-g.count, g.locale, g.representative))
    return groups


def attach_nearest(groups: list[Group], matcher, *, floor: float = 0.3) -> None:
    """Ask the matcher which entry each group is closest to (bot.core.search.Matcher.rank)."""
    for g in groups:
        # Entries that at least half the group already saw and found not to answer it.
        shown_to = Counter(i.entry_id for i in g.items if i.entry_id)
        rejected = {e for e, n in shown_to.items() if 2 * n >= g.count}
        votes: Counter = Counter()
        best_score: dict[str, float] = {}
        for text in g.examples(5):
            ranked = [m for m in matcher.rank(text, g.locale) if m.entry_id not in rejected]
            if ranked and ranked[0].score >= floor:
                top = ranked[0]
                votes[top.entry_id] += 1
                best_score[top.entry_id] = max(best_score.get(top.entry_id, 0.0), top.score)
        if votes:
            g.nearest = votes.most_common(1)[0][0]
            g.score = best_score[g.nearest]


def render(groups: list[Group], *, days: int, limit: int, content: Content | None = None) -> str:
    total = sum(g.count for g in groups)
    out = [
        f"Unanswered questions, last {days} days: {total} in {len(groups)} groups"
        + (f" (the {limit} largest)" if len(groups) > limit else ""),
        "Identity, phone, e-mail and card numbers are removed, but a resident may have written "
        "a name: keep this list among the editors.",
        "",
    ]
    if not groups:
        out.append("Nothing to show: every question found an answer, or none were asked.")
    for n, g in enumerate(groups[:limit], 1):
        out.append(f'{n:>3}. {g.count:>4}×  {g.locale:<3}  "{g.representative}"')
        for example in g.examples(4)[1:]:
            out.append(f'{"":15}"{example}"')
        reasons = ", ".join(f"{why} {k}" for why, k in g.reasons().most_common())
        out.append(f"{'':15}{reasons}")
        if g.nearest:
            where = ""
            if content is not None and g.nearest in content.entries:
                where = f" ({content.entries[g.nearest].category})"
            out.append(f"{'':15}nearest entry: {g.nearest}{where}, score {g.score:.2f}")
        out.append("")
    return "\n".join(out)


# -- proposals ---------------------------------------------------------------------------------------

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*$", re.S | re.M)


def _slug(text: str) -> str:
    slug = "-".join(words(text))[:40].strip("-")
    return re.sub(r"[^a-z0-9-]", "", slug) or "question"


def _same(text: str) -> str:
    """What two wordings share when they differ only in case, accents or punctuation."""
    return " ".join(words(text)) or text.casefold().strip()


def _yaml_item(text: str, indent: str) -> str:
    dumped = yaml.safe_dump([text], allow_unicode=True, default_flow_style=False, width=10_000)
    return indent + dumped.strip() + "\n"


def add_alternatives(source: str, texts: list[str]) -> str:
    """The entry file with `texts` appended to its `alternatives:` (created if missing)."""
    m = _FRONT.match(source)
    if m is None:
        raise ValueError("no front matter")
    meta = yaml.safe_load(m.group(1)) or {}
    have = {_same(str(x)) for x in [meta.get("question", ""), *(meta.get("alternatives") or [])]}
    new = []
    for t in texts:
        if _same(t) not in have:
            new.append(t)
            have.add(_same(t))
    if not new:
        return source
    lines = m.group(1).splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"alternatives\s*:", line)), None)
    if start is not None and re.match(r"alternatives\s*:\s*(#.*)?$", lines[start].rstrip("\r\n")):
        end, indent = start + 1, "  "
        # The list's items (at any indent, "- " at column 0 included) and their continuations.
        while end < len(lines) and lines[end].strip() and lines[end].startswith((" ", "\t", "-")):
            if item := re.match(r"(\s*)-\s", lines[end]):
                indent = item.group(1)
            end += 1
        lines[end:end] = [_yaml_item(t, indent) for t in new]
    else:
        existing = list(meta.get("alternatives") or [])
        block = "alternatives:\n" + "".join(_yaml_item(str(t), "  ") for t in [*existing, *new])
        if start is not None:  # a flow list: rewrite it as a block list
            lines[start] = block
        else:
            lines.append(block)
    front = "".join(lines)
    return source[: m.start(1)] + front + source[m.end(1) :]


def _stub(question: str, alternatives: list[str], locale: str) -> str:
    meta = {"question": question, "alternatives": alternatives, "reviewed": False}
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    return (
        f"---\n{head}---\nPROPOSAL from `samvag report unanswered --suggest`: write the answer "
        f"in {language_name(locale)} here, or delete this file.\n"
    )


@dataclass(slots=True)
class Proposal:
    path: Path  # relative to the content folder
    before: str | None  # None for a new file
    after: str
    reason: str


def propose(groups: list[Group], content: Content, *, min_count: int = 2) -> list[Proposal]:
    """One change per touched file: new alternatives for the nearest entry, or a new stub."""
    root = content.root
    changes: dict[Path, Proposal] = {}
    fallback_category = next(iter(content.categories), "uncategorised")
    for g in groups:
        if g.count < min_count:
            continue
        texts = g.examples(5)
        entry = content.entries.get(g.nearest or "")
        if entry is not None:
            text = entry.texts.get(g.locale)
            if text is not None and text.path is not None:
                rel = text.path.resolve().relative_to(root.resolve())
                current = (
                    changes[rel].after if rel in changes else text.path.read_text(encoding="utf-8")
                )
                after = add_alternatives(current, texts)
                if after != current:
                    before = changes[rel].before if rel in changes else current
                    changes[rel] = Proposal(
                        rel, before, after, f"{g.count} unanswered questions near '{entry.id}'"
                    )
                continue
            rel = Path(entry.category) / f"{entry.id}.{g.locale}.md"
            reason = (
                f"{g.count} questions in {g.locale} near '{entry.id}', which has no {g.locale} text"
            )
        else:
            category = g.category() or fallback_category
            rel = Path(category) / f"new-{_slug(g.representative)}.{g.locale}.md"
            reason = f"{g.count} unanswered questions with no entry near them"
        if rel not in changes and not (root / rel).exists():
            distinct = list({_same(t): t for t in reversed(texts)}.values())[::-1]
            changes[rel] = Proposal(rel, None, _stub(distinct[0], distinct[1:], g.locale), reason)
    return list(changes.values())


def write_proposals(proposals: list[Proposal], content: Content, out_dir: Path) -> Path:
    """A full copy of the content folder with the proposals applied, and a patch; returns the patch."""
    copy, root = out_dir / "content", content.root.resolve()
    target = copy.resolve()
    if target == root or target.is_relative_to(root) or root.is_relative_to(target):
        raise ValueError(f"{out_dir} overlaps the content folder; choose another --out")
    if copy.exists():
        # Only ever replace our own earlier copy, never a folder someone else keeps there.
        if not (out_dir / "proposals.patch").exists():
            raise ValueError(f"{copy} exists and is not an earlier proposal; choose another --out")
        shutil.rmtree(copy)
    shutil.copytree(content.root, copy)
    diff: list[str] = []
    for p in sorted(proposals, key=lambda p: str(p.path)):
        (copy / p.path).parent.mkdir(parents=True, exist_ok=True)
        (copy / p.path).write_text(p.after, encoding="utf-8")
        before = (p.before or "").splitlines(keepends=True)
        for line in difflib.unified_diff(
            before,
            p.after.splitlines(keepends=True),
            fromfile="/dev/null" if p.before is None else f"a/{p.path.as_posix()}",
            tofile=f"b/{p.path.as_posix()}",
        ):
            # A file without a final newline needs the marker, or `patch` rejects the hunk.
            diff.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    patch = out_dir / "proposals.patch"
    patch.write_text("".join(diff), encoding="utf-8")
    return patch


def run_unanswered(
    *,
    days: int = 30,
    limit: int = 20,
    suggest: bool = False,
    out_dir: Path | None = None,
    content_dir: Path | None = None,
    now: datetime | None = None,
) -> int:
    """The CLI command."""
    from bot.content.loader import ContentError, load_content
    from bot.core.search import Matcher
    from bot.settings import load_settings

    settings = load_settings()
    now = now or datetime.now(UTC)
    try:
        with report_engine(settings.database_url) as engine:
            items = collect(engine, since=now - timedelta(days=days), until=now)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    groups = cluster(items)
    content = None
    try:
        content = load_content(content_dir or settings.content_dir)
    except ContentError as exc:
        print(f"warning: content not loaded, so no nearest entries: {exc}", file=sys.stderr)
    if content is not None:
        attach_nearest(groups, Matcher(content))
    print(render(groups, days=days, limit=limit, content=content))
    if suggest:
        if content is None:
            return 1
        proposals = propose(groups[:limit], content)
        target = out_dir or Path(f"samvag-proposals-{now.strftime('%Y%m%d')}")
        target.mkdir(parents=True, exist_ok=True)
        try:
            patch = write_proposals(proposals, content, target)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(
            f"{len(proposals)} proposed file changes, nothing applied. Review them in "
            f"{target / 'content'} (a full copy; `samvag content check {target / 'content'}`) "
            f"or apply the patch from the content folder: patch -p1 < {patch.resolve()}"
        )
    return 0
