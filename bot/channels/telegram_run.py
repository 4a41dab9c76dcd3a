"""`samvag run`: the Telegram bot by long polling, or behind a webhook with a health check."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from telegram import Update

from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

NO_TOKEN = """samvag run needs a Telegram bot token.

Set TELEGRAM_TOKEN in the environment or in .env (create a bot with @BotFather), and
STAFF_CHAT_ID for the bridge-builders' forum group. To try samvag without Telegram, run:

    samvag chat
"""


def webhook_app(channel: TelegramChannel, *, path: str, secret: str) -> Any:
    """Our own small webhook server: secret checked, /healthz for the load balancer."""
    from aiohttp import web  # only webhook mode pays for the server (about 11 MB)

    application = channel.application
    assert application is not None

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request without the right secret token refused")
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="bad update")
        if update is None:
            return web.Response(status=400, text="bad update")
        # Answered before handling (as PTB does); duplicates are caught by update id.
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    return app


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    app: Any,
    *,
    webhook: bool = False,
    channel_options: dict | None = None,
) -> AsyncIterator[TelegramChannel]:
    """The bot running inside the current event loop until the block ends."""
    channel = TelegramChannel(settings, app, **(channel_options or {}))
    application = channel.build_application(polling=not webhook)
    stop = asyncio.Event()
    runner: Any = None
    await application.initialize()
    tasks: list[asyncio.Task] = []
    try:
        await channel.post_init(application)
        await application.start()
        if webhook:
            url = settings.webhook_url or ""
            path = urlparse(url).path or "/telegram"
            secret = (
                settings.webhook_secret.get_secret_value()
                if settings.webhook_secret
                else secrets.token_urlsafe(32)
            )
            from aiohttp import web

            runner = web.AppRunner(webhook_app(channel, path=path, secret=secret), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
            await site.start()
            await application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=40
            )
            log.info("webhook serving on %s:%s", settings.webhook_listen, settings.webhook_port)
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0,
                timeout=channel.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("long polling started")
        tasks.append(asyncio.create_task(channel.delivery.run(stop), name="outbox"))
        tasks.append(asyncio.create_task(channel.run_jobs(stop), name="jobs"))
        # Async workers from bootstrap (the announcement broadcaster): they send through the
        # channel's sender and queue anything else in the outbox.
        for worker in getattr(app, "workers", None) or []:
            run = worker.run(stop, channel.sender, channel.delivery.enqueue)
            tasks.append(asyncio.create_task(run, name=getattr(worker, "name", "worker")))
        yield channel
    finally:
        stop.set()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if runner is not None:
            await runner.cleanup()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(t, 10)
        if application.running:
            await application.stop()
        await application.shutdown()
        channel.close()


async def serve(settings: Settings, app: Any, *, webhook: bool) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    holder = getattr(app, "content_holder", None)
    if holder is not None:
        from bot.reload import install_sighup

        install_sighup(holder)  # SIGHUP reloads content; broken files keep the old content
    async with running(settings, app, webhook=webhook):
        await stop.wait()
    log.info("stopped")


def run_telegram(webhook: bool = False) -> int:
    """Entry point of `samvag run`; returns the exit code."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from bot.redact import install as install_redaction
    from bot.redact import redact

    secrets_ = install_redaction(settings)  # no token or password in any log line
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value().strip():
        sys.stderr.write(NO_TOKEN)
        return 2
    webhook = webhook or bool(settings.webhook_url)
    if webhook and not settings.webhook_url:
        sys.stderr.write(
            "samvag run --webhook needs WEBHOOK_URL (the public https URL Telegram posts to).\n"
        )
        return 2
    from bot.bootstrap import build_app

    try:
        app = build_app(settings)
    except Exception as exc:  # a clear line instead of a traceback for a bad setup
        sys.stderr.write(redact(f"samvag could not start: {type(exc).__name__}: {exc}\n", secrets_))
        return 1
    try:
        asyncio.run(serve(settings, app, webhook=webhook))
    except Exception as exc:  # e.g. a rejected token: PTB's message names the token itself
        sys.stderr.write(redact(f"samvag stopped: {type(exc).__name__}: {exc}\n", secrets_))
        return 1
    finally:
        app.close()
    return 0
