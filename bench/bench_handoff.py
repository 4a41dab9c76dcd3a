"""Handoff latency through the whole core (Conversation + handoff) on a SQLite file.

Prints a table: one row per step (consent, relay resident -> topic, relay staff -> resident,
take, risk check on a message), with median and 95th-percentile latency, and the claim race:
how many concurrent "Take it" presses resolve per second with exactly one winner each.
Run: .venv/bin/python bench/bench_handoff.py [postgresql+psycopg://...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import build_app
from bot.core.messages import Incoming, Kind, StaffIncoming
from bot.core.risk import detect
from bot.db.telegram_store import TelegramStore
from bot.settings import Settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, inside opening hours
RESIDENTS = 100


def _ms(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values) * 1000, values[int(len(values) * 0.95) - 1] * 1000


def main(url: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url or f"sqlite:///{Path(tmp) / 'bench.db'}",
                            _env_file=None)
        app = build_app(settings, clock=lambda: NOW)
        conv, staff, topics = app.conversation, app.handoff, TelegramStore(app.engine)
        rows: dict[str, list[float]] = {k: [] for k in (
            "consent -> ticket + topic", "resident text -> topic", "staff text -> resident",
            "take it", "risk check (no risk)")}
        for i in range(RESIDENTS):
            r = f"bench:{i}"
            conv.handle(Incoming(r, Kind.COMMAND, command="start", language_hint="sv"))
            conv.handle(Incoming(r, Kind.CHOICE, choice="lang:sv"))
            conv.handle(Incoming(r, Kind.CHOICE, choice="nav:human"))
            t = time.perf_counter()
            out = conv.handle(Incoming(r, Kind.CHOICE, choice="handoff:consent"))
            rows["consent -> ticket + topic"].append(time.perf_counter() - t)
            ticket = next(o.target.ticket for o in out if getattr(o.target, "ticket", None))
            topics.set_topic(ticket, chat_id=-1, thread_id=10_000 + ticket)
            t = time.perf_counter()
            staff.handle_staff(StaffIncoming("tg:1", "Eva", Kind.CHOICE,
                                             choice=f"handoff:take:{ticket}"), NOW)
            rows["take it"].append(time.perf_counter() - t)
            for j in range(5):
                t = time.perf_counter()
                conv.handle(Incoming(r, Kind.TEXT, text=f"Fråga nummer {j} om hyran",
                                     event_id=f"b{i}:{j}"))
                rows["resident text -> topic"].append(time.perf_counter() - t)
                t = time.perf_counter()
                staff.handle_staff(StaffIncoming("tg:1", "Eva", Kind.TEXT, text="Svar",
                                                 topic=str(10_000 + ticket),
                                                 message_ref=f"-1:{i}{j}"), NOW)
                rows["staff text -> resident"].append(time.perf_counter() - t)
        sample = "Hur söker jag ekonomiskt bistånd när jag har skulder och tre barn?" * 3
        for _ in range(2000):
            t = time.perf_counter()
            detect(sample)
            rows["risk check (no risk)"].append(time.perf_counter() - t)

        print(f"Handoff latency on {app.engine.dialect.name} ({RESIDENTS} residents)")
        print(f"{'step':<28} {'n':>6} {'median ms':>10} {'p95 ms':>8}")
        for name, values in rows.items():
            med, p95 = _ms(values)
            print(f"{name:<28} {len(values):>6} {med:>10.2f} {p95:>8.2f}")

        store = app.handoff.store
        for contenders in (2, 8):
            rounds, wins = 50, 0
            start = time.perf_counter()
            for k in range(rounds):
                tk, _created = store.open_ticket(resident=f"race:{contenders}:{k}", locale="sv",
                                                 topic_area=None, urgent=False, now=NOW)
                barrier = threading.Barrier(contenders)
                results: list[bool] = []

                def press(i: int, ticket_id: int = tk.id, barrier=barrier, results=results) -> None:
                    barrier.wait()
                    results.append(store.claim(ticket_id, staff_id=f"tg:{i}", name="S", now=NOW))

                threads = [threading.Thread(target=press, args=(i,)) for i in range(contenders)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                wins += results.count(True) == 1
            elapsed = time.perf_counter() - start
            print(f"claim race, {contenders} at once: {rounds / elapsed:.0f} tickets/s, "
                  f"exactly one winner in {wins}/{rounds}")
        app.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
