"""Bridge-builders' guidance hours: weekly opening times minus Swedish public holidays."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_PART = re.compile(r"^\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class HoursError(ValueError):
    """The opening-hours setting cannot be read."""


@dataclass(frozen=True, slots=True)
class Window:
    weekday: int  # Monday = 0
    start: time
    end: time


@dataclass(slots=True)
class OpeningHours:
    """Weekly windows in a local time zone; public holidays and extra closed days excluded."""

    windows: tuple[Window, ...]
    tz: ZoneInfo
    closed_days: frozenset[date] = frozenset()
    _holidays: holidays.HolidayBase = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._holidays = holidays.country_holidays("SE")

    @classmethod
    def parse(cls, spec: str, *, tz: str = "Europe/Stockholm", closed_days: str = "") -> OpeningHours:
        """Parse e.g. "tue 09:00-12:00; thu 09:00-12:00" and "2026-12-24, 2026-12-31"."""
        windows = []
        for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
            m = _PART.match(part)
            if not m or m.group(1) not in DAYS:
                raise HoursError(f"cannot read opening hours {part!r}; write e.g. 'tue 09:00-12:00'")
            start = time(int(m.group(2)), int(m.group(3)))
            end = time(int(m.group(4)), int(m.group(5)))
            if end <= start:
                raise HoursError(f"opening hours {part!r} end before they start")
            windows.append(Window(DAYS[m.group(1)], start, end))
        closed = set()
        for d in filter(None, (x.strip() for x in closed_days.split(","))):
            try:
                closed.add(date.fromisoformat(d))
            except ValueError as exc:
                raise HoursError(f"cannot read closed day {d!r}; write e.g. 2026-12-24") from exc
        windows.sort(key=lambda w: (w.weekday, w.start))
        return cls(tuple(windows), ZoneInfo(tz), frozenset(closed))

    def is_closed_day(self, day: date) -> bool:
        # Midsummer Eve, Christmas Eve and New Year's Eve are not public holidays by law,
        # but municipal offices are closed on them.
        eves = day.month == 12 and day.day in (24, 31) or (
            day.month == 6 and 19 <= day.day <= 25 and day.weekday() == 4
        )
        return day in self.closed_days or day in self._holidays or eves

    def _windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.is_closed_day(day):
            return []
        return [
            (
                datetime.combine(day, w.start, self.tz).astimezone(UTC),
                datetime.combine(day, w.end, self.tz).astimezone(UTC),
            )
            for w in self.windows
            if w.weekday == day.weekday()
        ]

    def is_open(self, now: datetime) -> bool:
        local_day = now.astimezone(self.tz).date()
        return any(s <= now < e for s, e in self._windows_on(local_day))

    def next_opening(self, now: datetime, *, horizon_days: int = 60) -> datetime | None:
        """The start of the next window after `now` (now itself if open), in UTC."""
        if self.is_open(now):
            return now
        start = now.astimezone(self.tz).date()
        for offset in range(horizon_days + 1):
            for s, _e in self._windows_on(start + timedelta(days=offset)):
                if s > now:
                    return s
        return None

    def slots(self, now: datetime, *, days: int = 14, minutes: int = 60) -> list[datetime]:
        """Start times (UTC) of `minutes`-long slots inside the windows of the next `days` days."""
        out: list[datetime] = []
        first = now.astimezone(self.tz).date()
        step = timedelta(minutes=minutes)
        for offset in range(days + 1):
            for s, e in self._windows_on(first + timedelta(days=offset)):
                t = s
                while t + step <= e:
                    if t > now:
                        out.append(t)
                    t += step
        return out
