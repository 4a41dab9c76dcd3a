"""Updates per second one bot process handles end to end, through the fake Bot API on loopback.

The bot runs in a child process (`samvag`'s real Application, real content, real database,
rate limiter off: it would cap sending at Telegram's 30 messages/s). This process hosts the
fake Bot API server and 100 simulated residents: each one finishes onboarding (not timed),
then asks questions one after another, waiting for the answer before the next. Prints a
table of updates/s and the bot's peak RSS, for SQLite and (when it answers) PostgreSQL.

    .venv/bin/python bench/bench_telegram.py [--residents 100] [--questions 20]
        [--no-sqlite | --no-pg] [--mode polling|webhook] [--core-workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
QUESTIONS = [
    "Hur söker jag försörjningsstöd?",
    "Har jag rätt till tolk hos läkaren?",
    "Hur anmäler jag mitt barn till förskolan?",
    "Var hittar jag BVC?",
    "Jag har skulder, vem kan hjälpa mig?",
    "Hur skriver jag in mig på Arbetsförmedlingen?",
    "Vad gör socialtjänsten?",
    "Mitt barn behöver modersmålsundervisning",
    "Hur bokar jag tid hos familjerådgivningen?",
    "Vad kostar förskolan?",
]


# --- the bot (child process) ----------------------------------------------------------------


def run_bot(base_url: str, database_url: str, ready_file: str, webhook_port: int | None, stub: bool) -> None:
    from bot.bootstrap import build_app
    from bot.channels.telegram_run import running
    from bot.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    overrides = {}
    if webhook_port:
        overrides = {
            "webhook_url": f"http://127.0.0.1:{webhook_port}/tg",
            "webhook_listen": "127.0.0.1",
            "webhook_port": webhook_port,
            "webhook_secret": "bench-secret",
        }
    settings = Settings(
        _env_file=None,
        telegram_token="123456:TEST-token",
        telegram_base_url=f"{base_url}/bot",
        telegram_base_file_url=f"{base_url}/file/bot",
        database_url=database_url,
        rate_limit=False,
        log_level="WARNING",
        **overrides,
    )
    if stub:
        # The channel alone: a conversation that answers at once, to show the channel's ceiling.
        from fakebotapi.harness import tiny_app

        from bot.core.messages import Reply, to

        app = tiny_app(settings, lambda inc: to(inc.resident, Reply("Answer to your question.")))
    else:
        app = build_app(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        loop.add_signal_handler(signal.SIGTERM, stop.set)
        options: dict = {"poll_timeout": 5}
        if os.environ.get("BENCH_CORE_WORKERS"):
            options["core_workers"] = int(os.environ["BENCH_CORE_WORKERS"])
        async with running(settings, app, webhook=bool(webhook_port), channel_options=options):
            Path(ready_file).write_text("ready")
            await stop.wait()

    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx("asyncio.run(main())", globals(), locals(), os.environ["BENCH_PROFILE"])
    else:
        asyncio.run(main())
    app.close()


# --- the residents (this process) -------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, kb = line.split()[:2]
            values[key] = int(kb) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


async def one_run(database_url: str, *, residents: int, questions: int, webhook: bool, stub: bool = False) -> dict:
    from fakebotapi import FakeBotAPI, User
    from fakebotapi.harness import free_port

    fake = FakeBotAPI(max_poll_timeout=5.0)
    fake.record_calls = False
    await fake.start()
    ready = Path(tempfile.mkdtemp()) / "ready"
    port = free_port() if webhook else 0
    cmd = [sys.executable, __file__, "--bot", fake.url, database_url, str(ready), str(port), str(int(stub))]
    child = subprocess.Popen(cmd, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bot did not start")
            await asyncio.sleep(0.05)
        users = [User(10_000 + i, f"R{i}", "sv") for i in range(residents)]
        rng = random.Random(7)

        async def onboard(u: User) -> None:
            await fake.push(fake.text_update(u, "Hej"))
            await fake.wait_chat(u.id, 1, timeout=900)
            welcome = fake.sent(u.id)[-1]
            await fake.push(fake.callback_update(u, welcome, "lang:sv"))
            await fake.wait_chat(u.id, 2, timeout=900)

        await asyncio.gather(*(onboard(u) for u in users))
        await asyncio.sleep(0.5)

        async def ask(u: User) -> int:
            n = 0
            for _ in range(questions):
                have = fake.bot_counts.get(u.id, 0)
                await fake.push(fake.text_update(u, rng.choice(QUESTIONS)))
                await fake.wait_chat(u.id, have + 1, timeout=900)
                n += 1
            return n

        start, cpu, own = time.perf_counter(), cpu_seconds(child.pid), cpu_seconds(os.getpid())
        counts = await asyncio.gather(*(ask(u) for u in users))
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds(child.pid) - cpu
        print(f"(fake Bot API and residents: {1000 * (cpu_seconds(os.getpid()) - own) / sum(counts):.2f} "
              f"CPU ms/update)")
        rss, hwm = peak_rss_mb(child.pid)
        return {"updates": sum(counts), "seconds": elapsed, "cpu": cpu, "rss": rss, "hwm": hwm}
    finally:
        child.terminate()
        try:
            await asyncio.to_thread(child.wait, 20)
        except subprocess.TimeoutExpired:
            child.kill()
        await fake.stop()


# Per run, so two benches at once (other work on a shared machine) do not drop each other's.
PG_NAME = f"samvag_bench_{os.getpid()}"


def pg_database() -> str | None:
    """A fresh PostgreSQL database with the schema, or None when no server answers."""
    try:
        from sqlalchemy import create_engine, text

        from bot.db.engine import make_engine
        from bot.db.schema import create_all

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_NAME}"))
            conn.execute(text(f"CREATE DATABASE {PG_NAME}"))
        admin.dispose()
    except Exception as exc:  # no server: SQLite only
        print(f"(PostgreSQL skipped: {type(exc).__name__})")
        return None
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"
    engine = make_engine(url)
    create_all(engine)
    engine.dispose()
    return url


def drop_pg_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_NAME}"))
    admin.dispose()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--bot":
        run_bot(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) or None, sys.argv[6] == "1")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--mode", choices=("polling", "webhook"), help="one mode only (default: both)")
    parser.add_argument("--stub-core", action="store_true", help="measure the channel alone")
    parser.add_argument("--core-workers", type=int, help="the channel's core threads (default: its own)")
    args = parser.parse_args()
    if args.core_workers is not None:
        os.environ["BENCH_CORE_WORKERS"] = str(args.core_workers)  # the bot child inherits it
    tmp = Path(tempfile.mkdtemp())
    dbs = [] if args.no_sqlite else [("SQLite", lambda: f"sqlite:///{tmp / 'bench.db'}")]
    if not args.no_pg:
        dbs.append(("PostgreSQL", pg_database))
    rows = []
    for name, make_url in dbs:
        for webhook in (False, True):
            if args.mode and args.mode != ("webhook" if webhook else "polling"):
                continue
            url = make_url()
            if url is None:
                continue
            if url.startswith("sqlite"):
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            r = asyncio.run(
                one_run(url, residents=args.residents, questions=args.questions, webhook=webhook, stub=args.stub_core)
            )
            rows.append((name, "webhook" if webhook else "polling", r))
            if name == "PostgreSQL":
                drop_pg_database()
    core = "stub conversation (channel only)" if args.stub_core else "real conversation and content"
    print(f"\n{core}")
    print(f"matcher embeddings: {os.environ.get('SAMVAG_EMBEDDINGS', 'default (on when installed)')}")
    print(f"samvag on Telegram (fake Bot API on loopback), {args.residents} residents x "
          f"{args.questions} questions, rate limiter off, {os.cpu_count()} cores\n")
    # CPU ms/update is the bot process's own CPU time per update (both cores, all threads):
    # with the GIL it bounds throughput at about 1000 / that figure, whatever else runs.
    print(f"{'database':<11} {'mode':<8} {'updates':>8} {'seconds':>8} {'updates/s':>10} "
          f"{'CPU ms/upd':>11} {'RSS MB':>7} {'peak MB':>8}")
    for name, mode, r in rows:
        print(f"{name:<11} {mode:<8} {r['updates']:>8} {r['seconds']:>8.2f} "
              f"{r['updates'] / r['seconds']:>10.1f} {1000 * r['cpu'] / r['updates']:>11.2f} "
              f"{r['rss']:>7.1f} {r['hwm']:>8.1f}")
    print("\ntarget: >= 300 updates/s and < 150 MB RSS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
