"""Conversation throughput: events per second through Conversation.handle on a SQLite file.

Prints a table: one row per kind of event, with median and 95th-percentile latency.
Run: .venv/bin/python bench/bench_conversation.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build_app
from bot.core.messages import Incoming, Kind
from bot.settings import Settings

QUESTIONS = [
    "Hur söker jag ekonomiskt bistånd?",
    "skulder",
    "När börjar mitt barn skolan?",
    "xyzzy plopp",
    "hej",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", _env_file=None)
        app = build_app(settings)
        conv = app.conversation
        rows: dict[str, list[float]] = {"start+language": [], "free text": [], "button": []}
        for i in range(200):
            resident = f"bench:{i}"
            t = time.perf_counter()
            conv.handle(Incoming(resident, Kind.COMMAND, command="start", language_hint="sv"))
            conv.handle(Incoming(resident, Kind.CHOICE, choice="lang:sv"))
            rows["start+language"].append((time.perf_counter() - t) / 2)
            for q in QUESTIONS:
                t = time.perf_counter()
                conv.handle(Incoming(resident, Kind.TEXT, text=q, event_id=f"{resident}:{q}"))
                rows["free text"].append(time.perf_counter() - t)
            t = time.perf_counter()
            conv.handle(Incoming(resident, Kind.CHOICE, choice="nav:menu"))
            rows["button"].append(time.perf_counter() - t)
        app.close()
    print(f"{'event':<16}{'n':>6}{'median ms':>12}{'p95 ms':>10}")
    for name, values in rows.items():
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1]
        print(f"{name:<16}{len(values):>6}{statistics.median(values) * 1000:>12.2f}{p95 * 1000:>10.2f}")


if __name__ == "__main__":
    main()
