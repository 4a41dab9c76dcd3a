"""Appointments: latency of each step through the real conversation, and the reminder query.

Prints two tables: per-event latency (median, 95th percentile) for a whole request and a staff
confirmation; and how long one reminder tick takes with many confirmed appointments stored.
Run: .venv/bin/python bench/bench_appointments.py   (TEST_DATABASE_URL adds PostgreSQL)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.bootstrap import build_app
from bot.core.appointments import NewRequest, button, stamp
from bot.core.messages import Incoming, Kind, StaffIncoming
from bot.db.appointments_store import SqlAppointmentStore
from bot.db.engine import make_engine
from bot.db.schema import create_all
from bot.settings import Settings

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
THU_10 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"{statistics.median(values) * 1000:8.2f} {p95 * 1000:8.2f}"


def flow_latency() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", _env_file=None)
        app = build_app(settings, clock=lambda: NOW)
        conv, staff = app.conversation, app.staff_handlers
        steps = ["appt:new", "appt:t:school", button("appt", "s", stamp(THU_10)), "appt:sd",
                 "appt:l:i", "appt:c:chat", "appt:n:-"]
        rows: dict[str, list[float]] = {s.split(":")[1]: [] for s in steps}
        rows["ok (store + staff card)"] = []
        rows["staff confirm (+ .ics)"] = []
        handler = next(h for h in staff if "appts" in h.prefixes)
        for i in range(200):
            resident = f"bench:{i}"
            for s in steps:
                t = time.perf_counter()
                outs = conv.handle(Incoming(resident, Kind.CHOICE, choice=s, language_hint="sv"))
                rows[s.split(":")[1]].append(time.perf_counter() - t)
            ok = next(c.id for o in outs for r in o.reply.choices for c in r if c.id.startswith("appt:ok:"))
            t = time.perf_counter()
            outs = conv.handle(Incoming(resident, Kind.CHOICE, choice=ok))
            rows["ok (store + staff card)"].append(time.perf_counter() - t)
            appt_id = next(c.id for o in outs for r in o.reply.choices for c in r if c.id.startswith("appts:p:")).split(":")[2]
            t = time.perf_counter()
            handler.handle_staff(StaffIncoming(f"tg:{i}", "Eva", Kind.CHOICE, choice=button("appts", "c", appt_id, stamp(THU_10))), NOW)
            rows["staff confirm (+ .ics)"].append(time.perf_counter() - t)
        app.close()
    print("Appointment flow on SQLite, 200 residents (ms)")
    print(f"{'event':28} {'median':>8} {'p95':>8}")
    for name, values in rows.items():
        print(f"{name:28} {_ms(values)}")


def _engines():
    tmp = tempfile.TemporaryDirectory()
    yield "sqlite", make_engine(f"sqlite:///{Path(tmp.name) / 'r.db'}"), lambda: tmp.cleanup()
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        schema = f"b_{uuid.uuid4().hex[:10]}"
        admin = make_engine(url)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(f"{url}?options=-csearch_path%3D{schema}")

        def drop():
            engine.dispose()
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        yield "postgresql", engine, drop


def reminder_tick(n: int = 10_000) -> None:
    print(f"\nReminder tick with {n} confirmed appointments (ms)")
    print(f"{'database':12} {'idle tick':>10} {'due tick':>10}")
    for name, engine, cleanup in _engines():
        create_all(engine)
        store = SqlAppointmentStore(engine)
        for i in range(n):
            start = NOW + timedelta(days=2 + i // 50, minutes=(i % 50) * 10)
            a = store.create(NewRequest(f"r:{i}", "sv", "other", (start,), False, False, False, "chat", None, None), now=NOW)
            store.confirm(a.id, start=start, handler=f"s:{i % 7}", handler_name="S", place=None,
                          remind_at=start - timedelta(hours=24), now=NOW)
        t = time.perf_counter()
        assert store.take_due_reminders(NOW) == []
        idle = time.perf_counter() - t
        t = time.perf_counter()
        due = store.take_due_reminders(NOW + timedelta(days=1, hours=16, minutes=30))
        busy = time.perf_counter() - t
        print(f"{name:12} {idle * 1000:10.2f} {busy * 1000:10.2f}   ({len(due)} reminders taken)")
        cleanup()


if __name__ == "__main__":
    flow_latency()
    reminder_tick()
