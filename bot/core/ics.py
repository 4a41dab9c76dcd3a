"""A calendar file (.ics) for a confirmed appointment, to add it to the phone's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.core.messages import Attachment

PRODID = "-//samvag//appointments//EN"


def appointment_ics(
    *,
    uid: str,
    start: datetime,
    minutes: int,
    summary: str,
    location: str,
    now: datetime,
    description: str = "",
    sequence: int = 0,
) -> Attachment:
    """One VEVENT (UTC times, a one-hour reminder alarm) as an `Attachment` named after the date."""
    start = start.astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    # A later change to the same appointment replaces the event in the calendar (RFC 5545 3.8.7.4).
    event.add("sequence", sequence)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    cal.add_component(event)
    return Attachment(
        filename=f"appointment-{start:%Y%m%d-%H%M}.ics", data=cal.to_ical(), mime="text/calendar"
    )
