from datetime import UTC, datetime

import pytest

from bot.core.hours import HoursError, OpeningHours

HOURS = OpeningHours.parse("tue 09:00-12:00; thu 09:00-12:00", closed_days="2026-12-03")


def test_open_on_tuesday_morning_local_time():
    # 1 December 2026 is a Tuesday; 09:30 in Stockholm is 08:30 UTC in winter.
    assert HOURS.is_open(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 12, 1, 11, 30, tzinfo=UTC))


def test_next_opening_skips_closed_days_and_holidays():
    # Thursday 3 December is configured closed; Tuesday 8 December 09:00 is next.
    nxt = HOURS.next_opening(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    # Christmas: 24th (Thu, eve) closed, 29th (Tue) is the next day with hours.
    nxt = HOURS.next_opening(datetime(2026, 12, 23, 12, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)


def test_slots_in_the_next_two_weeks_are_hourly_and_in_the_future():
    now = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    slots = HOURS.slots(now, days=14, minutes=60)
    assert slots[0] == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert all(s > now for s in slots)
    assert datetime(2026, 12, 3, 8, 0, tzinfo=UTC) not in slots


@pytest.mark.parametrize("bad", ["tuesday 9-12", "tue 12:00-09:00", "xyz 09:00-10:00"])
def test_unreadable_hours_say_what_is_wrong(bad):
    with pytest.raises(HoursError):
        OpeningHours.parse(bad)
