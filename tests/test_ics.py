from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from bot.core.ics import appointment_ics

START = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def _event(att):
    cal = Calendar.from_ical(att.data)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def test_ics_parses_back_with_the_same_time_place_and_title():
    att = appointment_ics(
        uid="appt-12@samvag",
        start=START,
        minutes=60,
        summary="Möte med brobyggare",
        location="Medborgarkontoret, Storgatan 1",
        now=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    )
    assert att.mime == "text/calendar"
    assert att.filename == "appointment-20261208-0900.ics"
    ev = _event(att)
    assert ev.decoded("dtstart") == START
    assert ev.decoded("dtend") == START + timedelta(hours=1)
    assert str(ev["summary"]) == "Möte med brobyggare"
    assert str(ev["location"]) == "Medborgarkontoret, Storgatan 1"
    assert str(ev["uid"]) == "appt-12@samvag"
    assert list(ev.walk("VALARM"))


def test_text_with_commas_semicolons_and_newlines_survives():
    note = "Ta med: pass; hyresavtal,\nkontoutdrag"
    att = appointment_ics(
        uid="x@samvag", start=START, minutes=30, summary="a, b; c", location="",
        now=START, description=note,
    )
    ev = _event(att)
    assert str(ev["description"]) == note
    assert str(ev["summary"]) == "a, b; c"
    assert "location" not in ev


def test_other_time_zones_are_stored_in_utc():
    from zoneinfo import ZoneInfo

    local = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    ev = _event(appointment_ics(uid="y", start=local, minutes=60, summary="s", location="l", now=START))
    assert ev.decoded("dtstart") == START
