"""Privacy and reports: scrubbing latency, analytics writes, retention and the two reports.

Prints two tables: scrub() latency per message shape (median, 95th percentile), and how long
recording events, one retention pass and each report take with many events stored (SQLite file).
Run: .venv/bin/python bench/bench_privacy.py
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.core.privacy import pseudonym
from bot.core.scrub import scrub
from bot.db.analytics_store import SqlAnalytics
from bot.db.engine import make_engine
from bot.db.retention import RetentionJob
from bot.db.schema import create_all
from bot.db.tables.stats import UsageEvent
from bot.reports import unanswered, usage

MESSAGES = {
    "short question": "hur söker jag försörjningsstöd?",
    "story, no numbers": "hej jag är ensamstående mamma med tre barn och lönen räcker inte "
    "till hyra och mat, hur ansöker man och vad ska jag ta med mig till mötet" * 2,
    "story with identifiers": "mitt personnummer är 19850312-1231, ring mig på 070-123 45 67 "
    "eller maila anna@example.se, jag fick 10 000 kr men hyran är 12 500 kr den 2026-05-12",
    "1000 characters": ("vi har fått brev från hyresvärden om 3 500 kr " * 25)[:1000],
}
EVENTS = 100_000


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, ms: list[float]) -> None:
    p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
    print(f"{name:<34} {statistics.median(ms):>9.3f} {p95:>9.3f}")


def main() -> None:
    print(f"{'scrub(text)':<34} {'median ms':>9} {'p95 ms':>9}")
    for name, text in MESSAGES.items():
        row(name, timed(lambda text=text: scrub(text), 300))

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        create_all(engine)
        analytics = SqlAnalytics(engine)
        now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        print(
            f"\n{'with ' + format(EVENTS, ',') + ' events stored':<34} {'median ms':>9} {'p95 ms':>9}"
        )
        row(
            "record one not_found event",
            timed(
                lambda: analytics.record(
                    kind="not_found",
                    resident="tg:1",
                    locale="sv",
                    now=now,
                    text=MESSAGES["story with identifiers"],
                ),
                200,
            ),
        )
        rng = random.Random(7)
        kinds = ["conversation_start", "answered", "answered", "suggested", "not_found", "feedback"]
        words = ["bostadsbidrag", "hyra", "skola", "bvc", "tandläkare", "simhall", "busskort"]
        rows = []
        for i in range(EVENTS):
            kind = rng.choice(kinds)
            keep = kind in ("suggested", "not_found")
            rows.append(
                {
                    "kind": kind,
                    "at": now - timedelta(minutes=rng.randrange(0, 180 * 24 * 60)),
                    "locale": rng.choice(["sv", "sv", "en", "ro", "fi", "rmn", "rmy"]),
                    "resident_hash": pseudonym(f"tg:{rng.randrange(3000)}", b"k" * 32),
                    "category": rng.choice(["school", "child-health", "social-services"]),
                    "helpful": rng.choice([True, False]) if kind == "feedback" else None,
                    "text": f"hur gör jag med {rng.choice(words)} {i % 50}" if keep else None,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(UsageEvent), rows)
        start, end = date(2026, 6, 1), date(2026, 11, 30)
        row(
            "usage report, 6 months, html",
            timed(lambda: usage.render_html(usage.collect(engine, start, end)), 3),
        )
        row(
            "unanswered report, 30 days",
            timed(
                lambda: unanswered.cluster(
                    unanswered.collect(engine, since=now - timedelta(days=30), until=now)
                ),
                3,
            ),
        )
        row(
            "retention pass (first, clears text)",
            timed(lambda: RetentionJob(engine, days=90).purge(now), 1),
        )
        row(
            "retention pass (nothing left)",
            timed(lambda: RetentionJob(engine, days=90).purge(now), 3),
        )
        engine.dispose()


if __name__ == "__main__":
    main()
