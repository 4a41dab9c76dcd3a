"""One resident cannot flood the staff group: open requests and new requests per hour are capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.appointments import MAX_NEW_PER_HOUR, MAX_OPEN_REQUESTS
from bot.core.i18n import I18n
from bot.db.appointments_store import SqlAppointmentStore
from tests.test_appointments_support import Resident, for_staff, ids, texts, world

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Stockholm


@pytest.fixture
def w(db_engine):
    return world(SqlAppointmentStore(db_engine))


def send(r: Resident, now: datetime) -> list:
    """Fill the form with buttons and press Send; returns what that press produced."""
    r.start(now)
    for choice in ("appt:t:-", "appt:any", "appt:l:n", "appt:c:chat", "appt:n:-"):
        r.press(now, choice)
    ok = next(i for i in ids(r.last) if i.startswith("appt:ok:"))
    return r.press(now, ok)


def test_open_requests_are_capped_with_a_kind_word_and_the_form_kept(w):
    r = Resident(w)
    for _ in range(MAX_OPEN_REQUESTS):
        assert for_staff(send(r, NOW))
    outs = send(r, NOW)
    assert for_staff(outs) == []  # no card for the staff group
    assert f"You already have {MAX_OPEN_REQUESTS} requests" in texts(outs)
    assert "appt:my" in ids(outs)
    assert r.flow_name == "appt"  # the filled form is kept for later
    others = Resident(w, resident="tg:2")
    assert for_staff(send(others, NOW))  # someone else is not affected


def test_cancelling_and_resending_is_capped_per_hour(w):
    r = Resident(w)
    for _ in range(MAX_NEW_PER_HOUR):
        card = for_staff(send(r, NOW))[0]
        appt_id = next(i for i in ids([card]) if i.startswith("appts:p:")).split(":")[2]
        r.press(NOW, f"appt:cx:{appt_id}")
        r.press(NOW, f"appt:cy:{appt_id}")
    outs = send(r, NOW + timedelta(minutes=5))
    assert for_staff(outs) == [] and "several requests in a short time" in texts(outs)
    assert not any(i.startswith("appt:ok:") for i in ids(outs))  # the list, not a second Send
    later = r.press(NOW + timedelta(hours=1, minutes=1), f"appt:ok:{r.data['v']}")
    assert for_staff(later)  # an hour later the same form goes through


def test_the_refusal_is_in_the_residents_language(db_engine):
    w = world(SqlAppointmentStore(db_engine), i18n=I18n(default="sv"))
    r = Resident(w, locale="ro")
    for _ in range(MAX_OPEN_REQUESTS):
        send(r, NOW)
    assert "Aveți deja 3 cereri" in texts(send(r, NOW))
