"""Steps a resident or a bridge-builder takes through the fake Bot API, and a real bot process.

Used by the security and fault tests: onboarding, asking for a person, booking a meeting, and
`BotProcess`, which runs `python -m bot run` against the fake server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from fakebotapi import DEFAULT_TOKEN, FakeBotAPI, User
from fakebotapi.harness import STAFF_CHAT

ROOT = Path(__file__).resolve().parent.parent


def buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


def with_button(fake: FakeBotAPI, chat: int, prefix: str) -> list[dict]:
    return [m for m in fake.sent(chat) if any(b.startswith(prefix) for b in buttons(m))]


def in_topic(fake: FakeBotAPI, thread: int) -> list[dict]:
    return [m for m in fake.sent(STAFF_CHAT) if m.get("message_thread_id") == thread]


async def press(fake: FakeBotAPI, user: User, prefix: str, *, timeout: float = 10) -> str:
    """Press the newest button whose id starts with `prefix`; returns the id pressed."""
    found = await fake.wait_for(lambda: with_button(fake, user.id, prefix), timeout=timeout)
    message = found[-1]
    data = next(b for b in buttons(message) if b.startswith(prefix))
    await fake.push(fake.callback_update(user, message, data))
    return data


async def onboard(fake: FakeBotAPI, user: User, lang: str) -> None:
    """First contact, the language, then the main menu."""
    await fake.push(fake.text_update(user, "Hej"))
    await press(fake, user, f"lang:{lang}")
    await fake.wait_for(lambda: with_button(fake, user.id, "nav:human"), timeout=10)


async def ask_for_person(fake: FakeBotAPI, user: User) -> dict:
    """Talk to a bridge-builder: consent, then the announcement in a new topic (returned)."""
    before = set(fake.topics[STAFF_CHAT])
    await press(fake, user, "nav:human")
    await press(fake, user, "handoff:consent")
    await fake.wait_for(lambda: set(fake.topics[STAFF_CHAT]) - before, timeout=10)
    thread = (set(fake.topics[STAFF_CHAT]) - before).pop()
    found = await fake.wait_for(lambda: [m for m in in_topic(fake, thread) if buttons(m)], timeout=10)
    return found[0]


def ticket_of(announce: dict) -> int:
    return int(buttons(announce)[0].rsplit(":", 1)[1])


async def book_until_summary(fake: FakeBotAPI, user: User) -> None:
    """The appointment form up to its summary: a topic, one preferred time, no needs, chat."""
    await press(fake, user, "go:appt")
    await press(fake, user, "appt:t:")
    await press(fake, user, "appt:s:")
    await press(fake, user, "appt:sd")
    await press(fake, user, "appt:l:n")
    await press(fake, user, "appt:c:chat")
    await press(fake, user, "appt:n:-")
    await fake.wait_for(lambda: with_button(fake, user.id, "appt:ok:"), timeout=10)


class BotProcess:
    """`python -m bot run` in a subprocess, pointed at the fake Bot API server."""

    def __init__(self, fake: FakeBotAPI, workdir: Path, **env: str) -> None:
        self.fake = fake
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "STAFF_CHAT_ID": str(STAFF_CHAT),
            "RATE_LIMIT": "false",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task | None = None

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def start(self, *, wait_ready: bool = True) -> BotProcess:
        polls = len(self.fake.calls_of("getUpdates"))
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=self.workdir, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        if wait_ready:
            webhook = bool(self.env.get("WEBHOOK_URL"))
            await self.fake.wait_for(
                lambda: (self.fake.webhook if webhook
                         else len(self.fake.calls_of("getUpdates")) > polls)
                or self.proc.returncode is not None,
                timeout=60,
            )
            assert self.proc.returncode is None, self.output
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode("utf-8", "replace"))

    async def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)
        return code

    async def kill(self) -> None:
        """SIGKILL: no clean-up at all, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.wait()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait()

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            await self.wait()
