"""Announcements: how fast a broadcast reaches N subscribers through the fake Bot API server.

The real PTB channel with Telegram's limits on (30 messages a second overall) and the
broadcaster at its default pace; the fake server answers every call. Prints one row per size:
seconds, messages a second, the most messages in any one second, and the database work per
recipient. Run: .venv/bin/python bench/bench_broadcast.py   (TEST_DATABASE_URL adds PostgreSQL)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakebotapi import FakeBotAPI, User  # noqa: E402
from fakebotapi.harness import FAST, STAFF_CHAT, settings_for  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.bootstrap import build_app  # noqa: E402
from bot.channels.telegram_run import running  # noqa: E402
from bot.db.activities_store import SqlActivityStore  # noqa: E402
from bot.db.engine import make_engine  # noqa: E402
from bot.db.schema import create_all  # noqa: E402


def max_per_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def one(n: int, url: str | None, tmp: Path) -> tuple[float, int, int]:
    async with FakeBotAPI() as fake:
        overrides = {"rate_limit": True}
        if url:
            overrides["database_url"] = url
        settings = settings_for(fake, tmp, **overrides)
        create_all(make_engine(settings.database_url))
        app = build_app(settings)
        fake.add_group(STAFF_CHAT)
        store = SqlActivityStore(app.engine)
        now = datetime.now(UTC)
        for i in range(n):
            fake.private_chat(User(200_000 + i))
            store.subscribe(f"tg:{200_000 + i}", "cafe", now=now)
        ann = store.create_announcement(kind="cafe", texts={"sv": "Bench"}, staff="tg:1", now=now)
        store.confirm_announcement(ann, [(r, "sv") for r in store.subscribers("cafe")], now=now)
        try:
            async with running(settings, app, channel_options=FAST):
                start = time.monotonic()
                app.workers[0].wake()
                await fake.wait_for(lambda: not store.sending(), timeout=n / 5 + 30)
                took = time.monotonic() - start
        finally:
            app.close()
        sends = [c.at for c in fake.calls_of("sendMessage") if c.params.get("chat_id") != STAFF_CHAT]
        return took, len(sends), max_per_second(sends)


def main() -> None:
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    pg = os.environ.get("TEST_DATABASE_URL")
    print(f"{'backend':10} {'recipients':>10} {'seconds':>8} {'msg/s':>7} {'max in 1 s':>11}")
    for name, _url in [*backends, *([("postgres", pg)] if pg else [])]:
        for n in (100, 500):
            with tempfile.TemporaryDirectory() as tmp:
                url = None
                if name == "postgres":
                    schema = f"b_{uuid.uuid4().hex[:10]}"
                    admin = make_engine(pg)
                    with admin.begin() as conn:
                        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                    sep = "&" if "?" in pg else "?"
                    url = f"{pg}{sep}options=-csearch_path%3D{schema}"
                took, sent, peak = asyncio.run(one(n, url, Path(tmp)))
                if name == "postgres":
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
                print(f"{name:10} {sent:>10} {took:>8.1f} {sent / took:>7.1f} {peak:>11}")


if __name__ == "__main__":
    main()
