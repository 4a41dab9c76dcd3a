"""Helpers for end-to-end tests: settings pointing at the fake server, a scripted core."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.i18n import I18n
from bot.core.messages import Incoming, Outbound, Reply, StaffIncoming, to
from bot.db.engine import make_engine
from bot.db.schema import create_all
from bot.settings import Settings

from .server import DEFAULT_TOKEN, FakeBotAPI

STAFF_CHAT = -1001234567890
FAST = {"request_timeout": 2.0, "poll_timeout": 1, "outbox_backoff": 0.05}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(fake: FakeBotAPI, tmp_path: Path, **overrides: Any) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "telegram_token": DEFAULT_TOKEN,
        "telegram_base_url": fake.base_url,
        "telegram_base_file_url": fake.base_file_url,
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "staff_chat_id": STAFF_CHAT,
        "rate_limit": False,
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
        "webhook_url": f"http://127.0.0.1:{port}/tg/hook",
        "webhook_secret": "s3cret-token",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class ScriptedConversation:
    """A stand-in conversation: `script(incoming)` returns the outbound messages."""

    script: Callable[[Incoming], list[Outbound]]
    seen: list[Incoming] = field(default_factory=list)
    flows: dict = field(default_factory=dict)

    def handle(self, incoming: Incoming) -> list[Outbound]:
        self.seen.append(incoming)
        return self.script(incoming)


@dataclass
class StaffRecorder:
    commands: frozenset[str] = frozenset({"tickets"})
    prefixes: frozenset[str] = frozenset({"ho"})
    seen: list[StaffIncoming] = field(default_factory=list)
    answer: Callable[[StaffIncoming], list[Outbound]] = lambda s: []

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        self.seen.append(incoming)
        return self.answer(incoming)


@dataclass
class TinyApp:
    """What the channel needs from bootstrap's App, with a scripted core."""

    engine: Any
    conversation: ScriptedConversation
    staff_handlers: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    i18n: I18n = field(default_factory=I18n)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    states: Any = None

    def close(self) -> None:
        self.engine.dispose()


def tiny_app(settings: Settings, script: Callable[[Incoming], list[Outbound]] | None = None) -> TinyApp:
    engine = make_engine(settings.database_url)
    create_all(engine)
    script = script or (lambda inc: to(inc.resident, Reply("ok")))
    return TinyApp(engine=engine, conversation=ScriptedConversation(script), staff_handlers=[StaffRecorder()])
