"""Appointments end to end: the real bot (bootstrap, PTB) against the fake Bot API server.

Request with buttons, a refused foreign contact, staff confirmation in the staff group, the
.ics document, the reminder after moving the clock and restarting, and cancelling; on SQLite
and on a migrated PostgreSQL schema.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from e2e_steps import buttons
from fakebotapi import FakeBotAPI, User
from fakebotapi.harness import FAST, STAFF_CHAT, settings_for
from icalendar import Calendar
from sqlalchemy import text

from bot.bootstrap import build_app
from bot.channels.telegram_run import running
from bot.core.appointments import Status, button, stamp
from bot.db.appointments_store import SqlAppointmentStore
from bot.db.engine import make_engine
from bot.db.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")
ANA = User(4242, "Ana", "en")
EVA = User(7001, "Eva", "sv")
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Stockholm
THU_10 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Stockholm
TUE_10 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        yield f


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """SQLite (created at start-up), or a fresh PostgreSQL schema migrated with Alembic."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"e_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    upgrade(url=url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


async def with_button(fake: FakeBotAPI, chat: int, prefix: str, *, after: int = 0) -> tuple[dict, str]:
    """The latest message in `chat` with a button starting with `prefix`, and that button."""

    def find():
        for m in reversed(fake.sent(chat)[after:]):
            for b in buttons(m):
                if b.startswith(prefix):
                    return m, b
        return None

    return await fake.wait_for(find)


def _effects(fake: FakeBotAPI) -> int:
    return sum(1 for c in fake.calls if c.ok and c.method in ("sendMessage", "editMessageText"))


async def press(fake: FakeBotAPI, user: User, chat: int, prefix: str, *, after: int = 0) -> None:
    """Press a button and wait for the bot's answer to it, as a person reading the chat would."""
    message, data = await with_button(fake, chat, prefix, after=after)
    answered, effects = len(fake.answered_callbacks), _effects(fake)
    await fake.push(fake.callback_update(user, message, data))
    await fake.wait_for(lambda: len(fake.answered_callbacks) > answered and _effects(fake) > effects)


async def wait_text(fake: FakeBotAPI, chat: int, needle: str, *, after: int = 0) -> dict:
    found = await fake.wait_for(lambda: [m for m in fake.sent(chat)[after:] if needle in (m.get("text") or "")])
    return found[-1]


async def test_request_confirm_ics_reminder_and_cancel_through_telegram(fake, tmp_path, database_url):
    clock = {"now": NOW}
    settings = settings_for(fake, tmp_path, database_url=database_url)
    fake.add_group(STAFF_CHAT)
    fake.add_member(STAFF_CHAT, EVA)
    app = build_app(settings, clock=lambda: clock["now"])
    store = SqlAppointmentStore(app.engine)
    try:
        async with running(settings, app, channel_options=FAST):
            await fake.push(fake.text_update(ANA, "/appointments"))
            await wait_text(fake, ANA.id, "no upcoming appointments")
            await press(fake, ANA, ANA.id, "appt:new")
            await press(fake, ANA, ANA.id, "appt:t:school")
            await press(fake, ANA, ANA.id, button("appt", "s", stamp(THU_10)))
            await press(fake, ANA, ANA.id, button("appt", "s", stamp(TUE_10)))
            await press(fake, ANA, ANA.id, "appt:sd")
            await press(fake, ANA, ANA.id, "appt:l:i")
            keyboard = await fake.wait_for(lambda: [m for m in fake.sent(ANA.id) if m.get("reply_keyboard")])
            assert keyboard[-1]["reply_keyboard"]["keyboard"][0][0]["request_contact"] is True

            before = len(fake.sent(ANA.id))
            await fake.push(fake.contact_update(ANA, "+46700000001", contact_user_id=999))
            await wait_text(fake, ANA.id, "someone else's phone number", after=before)
            await fake.push(fake.contact_update(ANA, "+46 70 111 11 11", contact_user_id=ANA.id))
            await wait_text(fake, ANA.id, "Anything else we should know", after=before)
            await fake.push(fake.text_update(ANA, "Please bring the school letter"))
            await wait_text(fake, ANA.id, "Please check your request", after=before)
            await press(fake, ANA, ANA.id, "appt:ok:", after=before)
            await wait_text(fake, ANA.id, "has been sent to the bridge-builders")

            # The staff group sees the request (in Swedish) and Eva confirms Thursday 10:00.
            card = await wait_text(fake, STAFF_CHAT, "Mötesförfrågan")
            assert "+46701111111" in card["text"] and "tolk" in card["text"]
            appt_id = int(buttons(card)[-1].split(":")[2])
            before = len(fake.sent(ANA.id))
            await press(fake, EVA, STAFF_CHAT, button("appts", "c", appt_id, stamp(THU_10)))
            told = await wait_text(fake, ANA.id, "is confirmed", after=before)
            assert "Thursday, 3 December 2026 at 10:00" in told["text"]
            assert "Storgatan 1" in told["text"] and "Eva" in told["text"]
            doc = await fake.wait_for(lambda: [m for m in fake.sent(ANA.id) if m.get("kind") == "document"])
            event = next(iter(Calendar.from_ical(bytes(doc[-1]["data"])).walk("VEVENT")))
            assert event.decoded("dtstart") == THU_10
            await wait_text(fake, STAFF_CHAT, "bekräftad av Eva")
        assert store.get(appt_id).status == Status.CONFIRMED

        # The day before: a restarted bot finds the reminder in the database, and sends it once.
        clock["now"] = THU_10 - timedelta(hours=23)
        for _restart in range(2):
            async with running(settings, app, channel_options=FAST):
                await wait_text(fake, ANA.id, "Reminder")
        assert sum("Reminder" in (m.get("text") or "") for m in fake.sent(ANA.id)) == 1

        # The resident cancels with /appointments; the staff group is told.
        async with running(settings, app, channel_options=FAST):
            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "/appointments"))
            await press(fake, ANA, ANA.id, f"appt:cx:{appt_id}", after=before)
            await press(fake, ANA, ANA.id, f"appt:cy:{appt_id}", after=before)
            await wait_text(fake, ANA.id, "is cancelled", after=before)
            await wait_text(fake, STAFF_CHAT, "avbokades av invånaren")
            # Confirming the cancelled request now is refused, and the resident hears nothing.
            sent = len(fake.sent(ANA.id))
            await press(fake, EVA, STAFF_CHAT, button("appts", "c", appt_id, stamp(TUE_10)))
            await wait_text(fake, STAFF_CHAT, "redan avbokad")
            assert len(fake.sent(ANA.id)) == sent
        assert store.get(appt_id).status == Status.CANCELLED
        assert all(c.ok for c in fake.calls), [(c.method, c.error) for c in fake.calls if not c.ok]
    finally:
        app.close()
