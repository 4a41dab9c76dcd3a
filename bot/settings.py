"""One Settings object built from the environment and `.env`; nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443

    database_url: str = "sqlite:///samvag.db"
    content_dir: Path = DEFAULT_CONTENT_DIR
    staff_chat_id: int | None = None
    timezone: str = "Europe/Stockholm"
    default_locale: str = "sv"

    # Bridge-builders' guidance hours, e.g. "tue 09:00-12:00; thu 09:00-12:00".
    opening_hours: str = "tue 09:00-12:00; thu 09:00-12:00"
    # Days without guidance hours (ISO dates, comma separated), on top of Swedish public holidays.
    closed_days: str = ""
    # Minutes a waiting ticket may go untaken during opening hours before it is announced again.
    reannounce_after_minutes: int = Field(default=30, ge=1)

    retention_days: int = Field(default=90, ge=1)
    rate_limit: bool = True  # Telegram's flood limits; off only in benchmarks
    log_level: str = "INFO"


def load_settings(**overrides) -> Settings:
    """Build settings from the environment, `.env` and explicit overrides."""
    return Settings(**overrides)
