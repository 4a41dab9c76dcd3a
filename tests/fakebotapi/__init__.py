"""A fake Telegram Bot API server for end-to-end tests and benchmarks (see server.py)."""

from .server import BOT_ID, DEFAULT_TOKEN, SECRET_HEADER, Call, FakeBotAPI, User
from .validate import ApiError, parse_html

__all__ = [
    "BOT_ID",
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "ApiError",
    "Call",
    "FakeBotAPI",
    "User",
    "parse_html",
]
