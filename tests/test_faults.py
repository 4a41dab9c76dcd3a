"""The bot process is killed (SIGKILL) mid-handoff and mid-appointment and started again.

A real `python -m bot run` against the fake Bot API server on loopback, with a SQLite file.
Telegram keeps updates until they are fetched, and may send one again after a crash; the bot
keeps its outbox and state in the database. Nothing may be lost or sent twice.
"""

from __future__ import annotations

import asyncio

import pytest
from e2e_steps import (
    BotProcess,
    ask_for_person,
    buttons,
    in_topic,
    onboard,
    press,
    ticket_of,
    with_button,
)
from fakebotapi import FakeBotAPI, User
from fakebotapi.harness import STAFF_CHAT

ANA = User(4242, "Ana", "sv")
MIHAI = User(4343, "Mihai", "ro")
EVA = User(7001, "Eva", "sv")

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        f.group = f.add_group(STAFF_CHAT, title="Brobyggare")
        f.add_member(STAFF_CHAT, EVA)
        yield f


def count_in(messages: list[dict], needle: str) -> int:
    return sum(needle in (m.get("text") or "") for m in messages)


async def test_killed_mid_handoff_loses_and_duplicates_nothing(fake, tmp_path):
    bot = await BotProcess(fake, tmp_path).start()
    try:
        await onboard(fake, ANA, "sv")
        announce = await ask_for_person(fake, ANA)
        thread, ticket = announce["message_thread_id"], ticket_of(announce)
        await fake.push(fake.callback_update(EVA, announce, f"handoff:take:{ticket}"))
        await fake.wait_for(lambda: [t for t in fake.texts(ANA.id) if "har tagit ditt samtal" in t])

        # Telegram is failing for the staff group: relays wait in the outbox ...
        fake.fail("sendMessage", status=502, times=10**6, chat_id=STAFF_CHAT)
        sent = [fake.text_update(ANA, f"Meddelande {i} om hyran") for i in (1, 2, 3)]
        for update in sent:
            await fake.push(update)
        await fake.wait_for(lambda: sum(not c.ok for c in fake.calls_of("sendMessage")) >= 2, timeout=15)
        # ... when the process dies without any clean-up.
        await bot.kill()
    finally:
        await bot.close()

    fake.faults.clear()
    # While it is down: Telegram redelivers one update it had already handed over, the
    # bridge-builder answers, and the resident writes once more.
    await fake.push(sent[1])
    await fake.push(fake.text_update(EVA, "Jag läser, ett ögonblick", chat=fake.group, thread=thread))
    await fake.push(fake.text_update(ANA, "Meddelande 4 om hyran"))

    bot = await BotProcess(fake, tmp_path).start()
    try:
        await fake.wait_for(lambda: count_in(in_topic(fake, thread), "Meddelande 4") == 1, timeout=30)
        await fake.wait_for(lambda: "Jag läser, ett ögonblick" in fake.texts(ANA.id), timeout=30)
        await asyncio.sleep(1.5)  # give any duplicate time to show up
        topic = in_topic(fake, thread)
        for i in (1, 2, 3, 4):
            assert count_in(topic, f"Meddelande {i} om hyran") == 1, i
        order = [i for m in topic for i in (1, 2, 3, 4) if f"Meddelande {i} " in (m.get("text") or "")]
        assert order == [1, 2, 3, 4]
        assert fake.texts(ANA.id).count("Jag läser, ett ögonblick") == 1
        assert sum("har tagit ditt samtal" in t for t in fake.texts(ANA.id)) == 1
        assert len(fake.topics[STAFF_CHAT]) == 1  # the ticket kept its topic
        assert await bot.stop() == 0
    finally:
        await bot.close()


async def test_killed_mid_appointment_keeps_the_form_and_the_request(fake, tmp_path):
    bot = await BotProcess(fake, tmp_path).start()
    try:
        await onboard(fake, MIHAI, "ro")
        await press(fake, MIHAI, "go:appt")
        await press(fake, MIHAI, "appt:t:")
        await fake.wait_for(lambda: with_button(fake, MIHAI.id, "appt:s:"))
        await bot.kill()  # halfway through the form
    finally:
        await bot.close()

    bot = await BotProcess(fake, tmp_path).start()
    try:
        # the form continues where it was: the times step, then the rest
        await press(fake, MIHAI, "appt:s:")
        await press(fake, MIHAI, "appt:sd")
        await press(fake, MIHAI, "appt:l:n")
        await press(fake, MIHAI, "appt:c:chat")
        await press(fake, MIHAI, "appt:n:-")
        fake.fail("sendMessage", status=502, times=10**6, chat_id=STAFF_CHAT)
        ok = await press(fake, MIHAI, "appt:ok:")
        await fake.wait_for(lambda: any("(număr" in t or "numărul" in t for t in fake.texts(MIHAI.id)[-1:]))
        await fake.wait_for(lambda: any(not c.ok for c in fake.calls_of("sendMessage")), timeout=15)
        await bot.kill()  # the request is stored; the staff card has not reached the group
    finally:
        await bot.close()

    fake.faults.clear()
    summary = with_button(fake, MIHAI.id, "appt:ok:")[-1]
    await fake.push(fake.callback_update(MIHAI, summary, ok))  # a double press after the crash

    bot = await BotProcess(fake, tmp_path).start()
    try:
        cards = await fake.wait_for(lambda: with_button(fake, STAFF_CHAT, "appts:c:"), timeout=30)
        await asyncio.sleep(1.5)
        assert len(with_button(fake, STAFF_CHAT, "appts:c:")) == 1  # one request, one card
        confirm = next(b for b in buttons(cards[0]) if b.startswith("appts:c:"))
        before = len(fake.sent(MIHAI.id))
        await fake.push(fake.callback_update(EVA, cards[0], confirm))
        told = await fake.wait_for(lambda: fake.texts(MIHAI.id)[before:], timeout=15)
        assert any("confirm" in t.lower() for t in told), told
        assert await bot.stop() == 0
    finally:
        await bot.close()


async def test_a_resident_blocking_the_bot_mid_handoff_closes_the_ticket_with_a_note(fake, tmp_path):
    from fakebotapi.harness import FAST, settings_for

    from bot.bootstrap import build_app
    from bot.channels.telegram_run import running

    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await onboard(fake, ANA, "sv")
            announce = await ask_for_person(fake, ANA)
            thread, ticket = announce["message_thread_id"], ticket_of(announce)
            fake.block(ANA.id)
            await fake.push(fake.blocked_update(ANA))
            await fake.wait_for(lambda: count_in(in_topic(fake, thread), "blockerat") == 1)
            assert app.handoff.store.get(ticket).status == "closed"
    finally:
        app.close()
