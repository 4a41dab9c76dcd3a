"""The appointment flow end to end at the core: request, staff answer, reminder, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from bot.core.appointments import Status, button, stamp
from bot.core.ports import system_clock
from bot.db.appointments_store import SqlAppointmentStore
from tests.test_appointments_support import (
    PLACE_EN,
    Resident,
    for_resident,
    for_staff,
    ids,
    staff_command,
    staff_press,
    texts,
    world,
)

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Stockholm
THU_10 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 3 December 10:00 local
TUE_10 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(db_engine):
    return SqlAppointmentStore(db_engine)


@pytest.fixture
def w(store):
    return world(store)


def request(r: Resident, now=NOW, times=(THU_10, TUE_10), needs="r", note="Bring the school letter") -> int:
    """Walk the whole form with buttons; returns the new request's id."""
    r.start(now)
    r.press(now, "appt:t:school")
    for t in times:
        r.press(now, button("appt", "s", stamp(t)))
    r.press(now, "appt:sd" if times else "appt:any")
    r.press(now, f"appt:l:{needs}")
    r.press(now, "appt:c:chat")
    r.say(now, note) if note else r.press(now, "appt:n:-")
    ok = next(i for i in ids(r.last) if i.startswith("appt:ok:"))
    outs = r.press(now, ok)
    card = for_staff(outs)[0]
    return int(next(i for i in ids([card]) if i.startswith("appts:p:")).split(":")[2])


def test_topic_step_offers_every_category_and_something_else(w):
    r = Resident(w)
    outs = r.start(NOW)
    assert ids(outs)[:3] == ["appt:t:social-services", "appt:t:school", "appt:t:-"]
    assert "appt:b" in ids(outs) and "appt:x" in ids(outs)
    assert r.flow_name == "appt"


def test_times_are_guidance_hours_of_the_next_two_weeks_and_several_can_be_chosen(w):
    r = Resident(w)
    r.start(NOW)
    outs = r.press(NOW, "appt:t:-")
    offered = [i for i in ids(outs) if i.startswith("appt:s:")]
    assert offered[0] == button("appt", "s", stamp(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)))
    assert "appt:any" in ids(outs)
    assert "appt:sd" not in ids(outs)  # nothing chosen yet
    r.press(NOW, button("appt", "s", stamp(THU_10)))
    outs = r.press(NOW, button("appt", "s", stamp(TUE_10)))
    assert outs[0].reply.edit  # the same message is updated with the ticks
    assert "Done: 2 times chosen" in str(outs[0].reply.choices)
    outs = r.press(NOW, button("appt", "s", stamp(TUE_10)))  # pressed again: unticked
    assert "Done: 1 time chosen" in str(outs[0].reply.choices)


def test_whole_flow_request_confirm_ics_reminder_cancel(w, store):
    r = Resident(w)
    appt_id = request(r)
    assert r.flow_name is None
    assert f"number {appt_id}" in texts(for_resident(r.last))
    card = for_staff(r.last)[0]
    assert "Preschool and school" in card.reply.text and "Romani-speaking" in card.reply.text
    assert "Bring the school letter" in card.reply.text
    assert button("appts", "c", appt_id, stamp(THU_10)) in ids([card])

    outs = staff_press(w, NOW, button("appts", "c", appt_id, stamp(THU_10)))
    told = for_resident(outs)[0]
    assert told.target.resident == "tg:1"
    assert "Thursday, 3 December 2026 at 10:00" in told.reply.text
    assert PLACE_EN in told.reply.text and "Anna" in told.reply.text
    event = next(iter(Calendar.from_ical(told.reply.attachment.data).walk("VEVENT")))
    assert event.decoded("dtstart") == THU_10
    assert str(event["location"]) == PLACE_EN
    assert "confirmed by Anna" in texts(for_staff(outs))
    saved = store.get(appt_id)
    assert saved.status == Status.CONFIRMED and saved.confirmed_start == THU_10
    assert saved.handler == "tg:777" and saved.place == PLACE_EN

    # The day before: one reminder, once, even after a restart (a new job reads the database).
    with time_machine.travel(THU_10 - timedelta(hours=25), tick=False):
        assert w.job.tick(system_clock()) == []
    with time_machine.travel(THU_10 - timedelta(hours=23), tick=False):
        outs = w.job.tick(system_clock())
        told = for_resident(outs)
        assert len(told) == 1 and told[0].target.resident == "tg:1"
        assert "Thursday, 3 December 2026 at 10:00" in told[0].reply.text
        assert PLACE_EN in told[0].reply.text
        assert f"Tomorrow: meeting {appt_id} (🏫 Preschool and school)" in texts(for_staff(outs))
        assert w.job.tick(system_clock()) == []
        assert world(store).job.tick(system_clock()) == []

    # The resident cancels from /appointments; the staff group hears of it; the time is free.
    outs = r.command(NOW + timedelta(days=1))
    assert button("appt", "cx", appt_id) in ids(outs)
    outs = r.press(NOW, button("appt", "cx", appt_id))
    assert store.get(appt_id).status == Status.CONFIRMED  # asked first
    outs = r.press(NOW, button("appt", "cy", appt_id))
    assert store.get(appt_id).status == Status.CANCELLED
    assert "cancelled by the resident" in texts(for_staff(outs))
    assert store.booked_starts("tg:777", start=NOW, end=NOW + timedelta(days=30)) == set()
    # Pressing the cancel button again changes nothing and says why.
    outs = r.press(NOW, button("appt", "cy", appt_id))
    assert "already cancelled" in texts(outs)


def test_summary_change_bumps_version_and_old_summary_button_is_refused(w, store):
    r = Resident(w)
    r.start(NOW)
    r.press(NOW, "appt:t:school")
    r.press(NOW, "appt:any")
    r.press(NOW, "appt:l:n")
    r.press(NOW, "appt:c:chat")
    outs = r.press(NOW, "appt:n:-")
    old_ok = next(i for i in ids(outs) if i.startswith("appt:ok:"))
    old_change = next(i for i in ids(outs) if i.startswith("appt:ch:"))
    r.press(NOW, old_change)
    r.press(NOW, "appt:e:topic")
    outs = r.press(NOW, "appt:t:social-services")
    assert "Social services" in texts(outs)  # straight back to the summary
    new_ok = next(i for i in ids(outs) if i.startswith("appt:ok:"))
    assert new_ok != old_ok
    outs = r.press(NOW, old_ok)
    assert "out of date" in texts(outs)
    assert store.for_resident("tg:1") == []
    outs = r.press(NOW, new_ok)
    assert [a.topic for a in store.for_resident("tg:1")] == ["social-services"]
    # A second press of the same button (double tap) sends nothing twice.
    outs = r.press(NOW, new_ok)
    assert "already been sent" in texts(outs)
    assert len(store.for_resident("tg:1")) == 1


def test_back_and_cancel_work_at_every_step(w, store):
    r = Resident(w)
    r.start(NOW)
    r.press(NOW, "appt:t:school")
    assert r.data["step"] == "times"
    r.press(NOW, "appt:b")
    assert r.data["step"] == "topic"
    r.press(NOW, "appt:t:school")
    r.press(NOW, "appt:any")
    r.press(NOW, "appt:l:i")
    assert r.data["step"] == "contact"
    r.press(NOW, "appt:b")
    assert r.data["step"] == "needs"
    outs = r.press(NOW, "appt:x")
    assert r.flow_name is None and "Nothing was sent" in texts(outs)
    assert store.for_resident("tg:1") == []
    # Back on the first step leaves the form too.
    r.start(NOW)
    r.press(NOW, "appt:b")
    assert r.flow_name is None


def test_someone_elses_contact_is_refused_and_own_is_kept(w):
    r = Resident(w)
    r.start(NOW)
    r.press(NOW, "appt:t:school")
    r.press(NOW, "appt:any")
    outs = r.press(NOW, "appt:l:n")
    assert outs[-1].reply.request_contact and "appt:c:chat" in ids(outs)
    outs = r.share(NOW, "+46 70 000 00 00", own=False)
    assert "someone else" in texts(outs)
    assert r.data["step"] == "contact" and "phone" not in r.data
    r.share(NOW, "+46 70 111 11 11", own=True)
    assert r.data["phone"] == "+46701111111" and r.data["step"] == "note"


def test_a_ten_thousand_character_note_gets_a_kind_answer_and_nothing_is_lost(w, store):
    r = Resident(w)
    r.start(NOW)
    r.press(NOW, "appt:t:school")
    r.press(NOW, "appt:any")
    r.press(NOW, "appt:l:n")
    r.press(NOW, "appt:c:chat")
    long = "a" * 10_000
    outs = r.say(NOW, long)
    assert "10000 characters" in texts(outs)
    assert r.data["step"] == "note" and "note" not in r.data
    assert "appt:n:cut" in ids(outs)
    outs = r.press(NOW, "appt:n:cut")
    assert r.data["note"] == "a" * 500 and r.data["step"] == "summary"
    r.press(NOW, next(i for i in ids(outs) if i.startswith("appt:ok:")))
    assert store.for_resident("tg:1")[0].note == "a" * 500


def test_past_and_impossible_times_are_refused(w):
    r = Resident(w)
    r.start(NOW)
    r.press(NOW, "appt:t:school")
    for bad in ("2611300900", "2602300900", "2612031030", "notatime", "2612010800x"):
        outs = r.press(NOW, f"appt:s:{bad}")
        assert "Please choose another" in texts(outs)
        assert r.data["times"] == []
    # Chosen while still in the future, then the time passes before "Done".
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    r.press(NOW, button("appt", "s", stamp(first)))
    outs = r.press(first + timedelta(minutes=5), "appt:sd")
    assert "have passed" in texts(outs) and r.data["step"] == "times"


def test_staff_cannot_book_the_same_time_twice_for_one_bridge_builder(w, store):
    a = request(Resident(w, resident="tg:1"), times=(THU_10,))
    b = request(Resident(w, resident="tg:2"), times=(THU_10,))
    staff_press(w, NOW, button("appts", "c", a, stamp(THU_10)))
    outs = staff_press(w, NOW, button("appts", "c", b, stamp(THU_10)))
    assert "already have an appointment" in texts(outs)
    assert for_resident(outs) == []
    assert store.get(b).status == Status.REQUESTED
    # Another bridge-builder is free at that time.
    outs = staff_press(w, NOW, button("appts", "c", b, stamp(THU_10)), staff_id="tg:888", name="Bela")
    assert store.get(b).status == Status.CONFIRMED


def test_the_database_refuses_a_double_booking_even_without_the_handler(store):
    from bot.core.appointments import AlreadyBooked, NewRequest

    def new(res):
        return store.create(
            NewRequest(res, "sv", "other", (THU_10,), False, False, False, "chat", None, None), now=NOW
        )

    a, b = new("tg:1"), new("tg:2")
    kw = dict(start=THU_10, handler="tg:7", handler_name="A", place=None, remind_at=None, now=NOW)
    store.confirm(a.id, **kw)
    with pytest.raises(AlreadyBooked):
        store.confirm(b.id, **kw)
    assert store.get(b.id).status == Status.REQUESTED and store.get(b.id).confirmed_start is None


def test_confirming_a_cancelled_request_is_refused(w, store):
    r = Resident(w)
    appt_id = request(r)
    r.command(NOW)
    r.press(NOW, button("appt", "cy", appt_id))
    outs = staff_press(w, NOW, button("appts", "c", appt_id, stamp(THU_10)))
    assert "already cancelled" in texts(outs) and for_resident(outs) == []
    assert store.get(appt_id).status == Status.CANCELLED


def test_propose_another_time_and_the_resident_accepts(w, store):
    r = Resident(w)
    appt_id = request(r, times=())
    outs = staff_press(w, NOW, button("appts", "p", appt_id))
    assert any(i.startswith(f"appts:o:{appt_id}:") for i in ids(outs))
    outs = staff_command(w, NOW, "propose", f"{appt_id} 10/12 14:30")
    asked = for_resident(outs)[0]
    assert "Thursday, 10 December 2026 at 14:30" in asked.reply.text
    accept = ids([asked])[0]
    outs = r.press(NOW, accept)
    assert store.get(appt_id).status == Status.CONFIRMED
    assert for_resident(outs)[0].reply.attachment is not None
    assert store.get(appt_id).handler_name == "Anna"
    # The same proposal button again: nothing changes.
    outs = r.press(NOW, accept)
    assert "no longer valid" in texts(outs)


def test_a_replaced_proposal_cannot_be_accepted(w, store):
    r = Resident(w)
    appt_id = request(r, times=())
    first = ids(for_resident(staff_command(w, NOW, "propose", f"{appt_id} 2026-12-10 14:00")))[0]
    staff_command(w, NOW, "propose", f"{appt_id} 2026-12-11 14:00")
    outs = r.press(NOW, first)
    assert "no longer valid" in texts(outs)
    assert store.get(appt_id).status == Status.REQUESTED


@pytest.mark.parametrize("args", ["{id} 2026-11-30 10:00", "{id} 31/2 10:00", "{id} 2026-12-10 25:00", "{id} tomorrow", "999 2026-12-10 10:00", ""])
def test_bad_proposals_change_nothing(w, store, args):
    appt_id = request(Resident(w), times=())
    outs = staff_command(w, NOW, "propose", args.format(id=appt_id))
    assert for_resident(outs) == [] and texts(outs)
    assert store.get(appt_id).proposed_start is None


def test_decline_with_a_reason_button_tells_the_resident_in_their_language(w, store):
    appt_id = request(Resident(w, locale="en"))
    outs = staff_press(w, NOW, button("appts", "d", appt_id))
    outs = staff_press(w, NOW, button("appts", "r", appt_id, "full"))
    told = for_resident(outs)[0]
    assert "no free time" in told.reply.text
    assert store.get(appt_id).status == Status.DECLINED
    outs = staff_command(w, NOW, "decline", f"{appt_id} too late")
    assert "already declined" in texts(outs)


def test_staff_list_shows_waiting_and_upcoming_and_marks_done(w, store):
    a = request(Resident(w, resident="tg:1"))
    b = request(Resident(w, resident="tg:2"))
    staff_press(w, NOW, button("appts", "c", b, stamp(THU_10)))
    outs = staff_command(w, NOW, "appointments")
    text = texts(outs)
    assert f"#{a}" in text and f"#{b}" in text
    assert button("appts", "v", a) in ids(outs)
    later = THU_10 + timedelta(hours=2)
    outs = staff_command(w, later, "appointments")
    assert button("appts", "done", b) in ids(outs)
    staff_press(w, later, button("appts", "ns", b))
    assert store.get(b).status == Status.NO_SHOW


def test_resident_list_shows_only_their_own(w, store):
    a = request(Resident(w, resident="tg:1"))
    request(Resident(w, resident="tg:2"))
    other = Resident(w, resident="tg:2")
    outs = other.command(NOW, "moten")
    assert button("appt", "cx", a) not in ids(outs)
    outs = other.press(NOW, button("appt", "cy", a))
    assert "could not find" in texts(outs)
    assert store.get(a).status == Status.REQUESTED


def test_no_reminder_when_confirmed_less_than_a_day_ahead(w, store):
    soon = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    appt_id = request(Resident(w), times=(soon,))
    staff_press(w, NOW, button("appts", "c", appt_id, stamp(soon)))
    assert w.job.tick(soon - timedelta(hours=1)) == []


def test_forget_cancels_open_requests_and_strips_personal_fields(w, store):
    from bot.core.appointments import AppointmentPrivacy

    r = Resident(w)
    a = request(r, times=(THU_10,))
    staff_press(w, NOW, button("appts", "c", a, stamp(THU_10)))
    holder = AppointmentPrivacy(store, w.i18n, "en")
    assert "1 appointment request" in holder.describe("tg:1", r._ctx(NOW))[0]
    outs = holder.forget("tg:1", NOW)
    assert "cancelled by the resident" in texts(outs)
    assert store.for_resident("tg:1") == []
    gone = store.get(a)
    assert gone.status == Status.CANCELLED and gone.note is None and gone.resident == "forgotten"
    assert holder.forget("tg:1", NOW) == []  # idempotent
    # The time is free again for the bridge-builder.
    b = request(Resident(w, resident="tg:2"), times=(THU_10,))
    staff_press(w, NOW, button("appts", "c", b, stamp(THU_10)))
    assert store.get(b).status == Status.CONFIRMED


def test_topics_follow_a_content_reload(store):
    from dataclasses import replace

    from bot.content.model import Category
    from tests.test_appointments_support import content

    class Holder:
        def __init__(self, c):
            self.content = c

    holder = Holder(content())
    w = world(store, source=holder)
    r = Resident(w)
    assert "appt:t:work" not in ids(r.start(NOW))
    cats = dict(holder.content.categories, work=Category("work", "💼", 3, {"en": "Work and money"}))
    holder.content = replace(holder.content, categories=cats)
    r.press(NOW, "appt:x")
    assert "appt:t:work" in ids(r.start(NOW))


@pytest.mark.parametrize(
    ("locale", "when", "words"),
    [
        ("sv", "torsdag 3 december 2026 kl. 10:00", "Ditt möte med en brobyggare är bekräftat"),
        ("fi", "torstai 3. joulukuuta 2026 klo 10.00", "Tapaamisesi siltarakentajan kanssa on vahvistettu"),
        ("ro", "joi, 3 decembrie 2026, la 10:00", "Întâlnirea dumneavoastră cu un mediator este confirmată"),
        ("rmn", "torsdag 3 december 2026 kl. 10:00", "Tiro sastanok e brobyggaresa si potvrdimo"),
        ("rmy", "torsdag 3 december 2026 kl. 10:00", "Ćo întîlnimos jekhe brobyggaresa si adevărime"),
    ],
)
def test_the_outcome_is_in_the_residents_language_with_babel_dates(w, locale, when, words):
    appt_id = request(Resident(w, locale=locale), times=(THU_10,))
    outs = staff_press(w, NOW, button("appts", "c", appt_id, stamp(THU_10)))
    told = for_resident(outs)[0].reply.text
    assert words in told and when in told
    # The place falls back to Swedish for locales the profile lacks.
    assert ("the Citizens' Office" if locale == "en" else "Medborgarkontoret") in told


def test_a_typed_phone_number_is_taken_and_other_text_is_not(w):
    r = Resident(w)
    r.start(NOW)
    r.press(NOW, "appt:t:school")
    r.press(NOW, "appt:any")
    r.press(NOW, "appt:l:n")
    outs = r.say(NOW, "call me maybe")
    assert "buttons" in texts(outs) and r.data["step"] == "contact"
    r.say(NOW, "070-111 11 11")
    assert r.data["phone"] == "0701111111" and r.data["step"] == "note"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-08 10:00", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("8/12 10:00", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("8.12.2026 kl 10", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("8/1 9.30", datetime(2027, 1, 8, 8, 30, tzinfo=UTC)),  # January means next year
        ("2027-06-01 10:00", datetime(2027, 6, 1, 8, 0, tzinfo=UTC)),  # summer time
        ("31/2 10:00", None),
        ("2026-12-08 24:00", None),
        ("tomorrow 10", None),
        ("", None),
    ],
)
def test_staff_typed_times_are_read_in_local_time(typed, expected):
    from bot.core.appointments import parse_local_time

    assert parse_local_time(typed, now=NOW, tz="Europe/Stockholm") == expected


def test_no_text_makes_the_time_parser_raise():
    from hypothesis import given
    from hypothesis import strategies as st

    from bot.core.appointments import parse_local_time

    @given(st.text(max_size=40))
    def check(typed):
        parse_local_time(typed, now=NOW, tz="Europe/Stockholm")

    check()


def test_button_ids_fit_telegram_and_round_trip():
    from hypothesis import given
    from hypothesis import strategies as st

    from bot.core.appointments import parse_button, parse_stamp

    @given(st.integers(min_value=1, max_value=10**9 - 1), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    def check(appt_id, when):
        when = when.replace(second=0, microsecond=0, tzinfo=UTC)
        cid = button("appts", "c", appt_id, stamp(when))
        assert len(cid.encode()) <= 64
        action, got_id, raw = parse_button(cid, "appts")
        assert (action, int(got_id), parse_stamp(raw)) == ("c", appt_id, when)

    check()


def test_retention_strips_personal_fields_of_old_closed_requests(w, store, db_engine):
    from bot.db.retention import RetentionJob

    old = request(Resident(w, resident="tg:1"), times=(THU_10,))
    Resident(w, resident="tg:1").press(NOW, button("appt", "cy", old))
    met = request(Resident(w, resident="tg:2"), times=(THU_10,))
    staff_press(w, NOW, button("appts", "c", met, stamp(THU_10)))
    waiting = request(Resident(w, resident="tg:3"), times=(TUE_10,))
    job = RetentionJob(db_engine, days=90)
    job.purge(NOW + timedelta(days=30))
    assert store.get(old).note == "Bring the school letter"  # not old enough yet
    job.purge(NOW + timedelta(days=95))
    for appt_id in (old, met):
        a = store.get(appt_id)
        assert a.resident == "forgotten" and a.note is None and a.phone is None
    assert store.get(met).status == Status.CONFIRMED and store.get(met).topic == "school"
    assert store.get(waiting).resident == "tg:3"  # still waiting for staff: kept


def test_resident_and_staff_text_stays_literal_in_the_markup(w):
    from bot.markup import to_plain

    r = Resident(w)
    appt_id = request(r, note="**urgent** [click](https://example.org)")
    card = for_staff(r.last)[0].reply.text
    assert "**urgent** [click](https://example.org)" in to_plain(card)
    outs = staff_command(w, NOW, "decline", f"{appt_id} Sorry *all* full", name="[Eva](https://x)")
    assert "Sorry *all* full" in to_plain(for_resident(outs)[0].reply.text)
    assert "[Eva](https://x)" in to_plain(texts(for_staff(outs)))
