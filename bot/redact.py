"""Keep secrets (bot token, webhook secret, database password) out of logs and error output.

Libraries put them in texts we do not control: PTB's InvalidToken names the token, httpx logs
request URLs (which contain it), a database error may quote its URL. Every log line and every
start-up error goes through `redact`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.settings import Settings

MASK = "***"
MIN_SECRET = 6  # shorter values would mask ordinary words


def secrets_of(settings: Settings) -> list[str]:
    """The secret values in the settings, and the parts of them that appear on their own."""
    found: list[str] = []
    if settings.telegram_token is not None:
        token = settings.telegram_token.get_secret_value().strip()
        found += [token, token.partition(":")[2]]  # "<bot id>:<secret>"; the id is public
    if settings.webhook_secret is not None:
        found.append(settings.webhook_secret.get_secret_value())
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL is reported elsewhere
        password = None
    if password:
        found.append(str(password))
    return sorted({s for s in found if len(s) >= MIN_SECRET}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats with the wrapped formatter, then masks every secret (tracebacks included)."""

    def __init__(self, inner: logging.Formatter | None, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def install(settings: Settings, logger: logging.Logger | None = None) -> list[str]:
    """Wrap the formatter of every handler on `logger` (the root logger by default)."""
    secrets = secrets_of(settings)
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter, secrets))
    # httpx logs each request URL at INFO, and Telegram URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # PTB logs whole updates (residents' words and names) and API parameters at DEBUG;
    # LOG_LEVEL=DEBUG is for samvag's own loggers only.
    logging.getLogger("telegram").setLevel(logging.INFO)
    return secrets
