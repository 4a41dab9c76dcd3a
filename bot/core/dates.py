"""Dates and times in the resident's language with Babel; Swedish formats where CLDR has none."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time

FALLBACK = "sv"

# CLDR's "atTime" date-time patterns ("{1} 'kl'. {0}"), which Babel does not expose.
# https://github.com/unicode-org/cldr/blob/main/common/main/sv.xml (dateTimeFormat type="atTime")
_AT_TIME = {
    "sv": "{date} kl. {time}",
    "en": "{date} at {time}",
    "fi": "{date} klo {time}",
    "ro": "{date}, la {time}",
}

# Residents live in Sweden: English speakers see the 24-hour clock and day-month order used on
# Swedish letters and signs, not the US format.
_BABEL_NAME = {"en": "en_GB"}


@lru_cache(maxsize=64)
def babel_locale(locale: str) -> Locale:
    """The Babel locale for `locale`, or Swedish when CLDR lacks it (rmn, rmy)."""
    name = _BABEL_NAME.get(locale, locale)
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


def _local(dt: datetime, tz: str | ZoneInfo) -> datetime:
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(zone)


def format_datetime_local(dt: datetime, locale: str, tz: str | ZoneInfo) -> str:
    """A full date and time for a message, e.g. sv "tisdag 1 december 2026 kl. 10:00"."""
    loc = babel_locale(locale)
    local = _local(dt, tz)
    date_text = format_date(local, "full", locale=loc)
    time_text = format_time(local, "short", locale=loc)
    pattern = _AT_TIME.get(loc.language) or "{date} {time}"
    return pattern.format(date=date_text, time=time_text)


def format_slot_local(dt: datetime, locale: str, tz: str | ZoneInfo) -> str:
    """A short date and time for a button, e.g. sv "tis 1 dec. 10:00"."""
    loc = babel_locale(locale)
    local = _local(dt, tz)
    return f"{format_skeleton('MMMEd', local, locale=loc)} {format_time(local, 'short', locale=loc)}"


def format_date_local(dt: datetime, locale: str, tz: str | ZoneInfo) -> str:
    """A full date without the time, e.g. sv "tisdag 1 december 2026"."""
    return format_date(_local(dt, tz), "full", locale=babel_locale(locale))
