"""Reports for editors (unanswered questions) and coordinators (usage); no personal data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

SMALL = 5  # counts below this are shown as "<5", so no individual can be singled out


def shown(n: int) -> str:
    """A count as printed in any report: "<5" for 1-4 (0 singles nobody out)."""
    return "<5" if 0 < n < SMALL else str(n)


def is_small(n: int) -> bool:
    return 0 < n < SMALL


def percent(part: int, whole: int) -> str:
    """A share, only when neither count is small enough to point at a person."""
    if whole == 0 or is_small(part) or is_small(whole) or is_small(whole - part):
        return "–"
    return f"{round(100 * part / whole)} %"


def as_utc(value: datetime) -> datetime:
    """Aware UTC; SQLite returns the naive UTC wall time the stores wrote."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the municipality's time zone, as aware UTC."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, time.min, zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC)
    return lo, hi


class ReportError(Exception):
    """A report cannot be made; the message says why, for the command line."""


@contextmanager
def report_engine(url: str) -> Iterator[Engine]:
    """An engine on a samvag database, or ReportError with a plain reason."""
    from bot.db.engine import make_engine

    engine = make_engine(url)
    try:
        try:
            ready = inspect(engine).has_table("usage_event")
        except SQLAlchemyError as exc:
            raise ReportError(f"cannot open the database ({type(exc).__name__})") from None
        if not ready:
            raise ReportError("the database has no samvag tables yet: run `samvag db upgrade`")
        yield engine
    except SQLAlchemyError as exc:
        # Never the driver's message: it may quote statement parameters.
        raise ReportError(f"cannot read the database ({type(exc).__name__})") from None
    finally:
        engine.dispose()
