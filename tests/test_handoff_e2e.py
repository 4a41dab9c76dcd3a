"""Handoff end to end: the real bot (bootstrap + PTB) against the fake Bot API server.

A staff forum group with two bridge-builders, three residents at once: consent, topic creation,
a claim race, relays both ways (text, voice, photo), internal notes, close and rating, an
outside-hours notice, a restart in the middle of a handoff, and people who are not allowed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from e2e_steps import buttons
from fakebotapi import FakeBotAPI, User
from fakebotapi.harness import FAST, STAFF_CHAT, settings_for

from bot.bootstrap import build_app
from bot.channels.telegram_run import running

ANA = User(4242, "Ana", "sv")
MIHAI = User(4343, "Mihai", "ro")
JANI = User(4444, "Jani", "fi")
EVA = User(7001, "Eva Maria", "sv")  # bridge-builder
BO = User(7002, "Bo", "sv")  # bridge-builder
MALLORY = User(7666, "Mallory", "en")  # not in the staff group

TUESDAY_OPEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
WEDNESDAY = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # no guidance hours


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        group = f.add_group(STAFF_CHAT, title="Brobyggare")
        f.add_member(STAFF_CHAT, EVA)
        f.add_member(STAFF_CHAT, BO)
        f.group = group
        yield f


def with_button(fake: FakeBotAPI, chat: int, prefix: str) -> list[dict]:
    return [m for m in fake.sent(chat) if any(b.startswith(prefix) for b in buttons(m))]


def in_topic(fake: FakeBotAPI, thread: int) -> list[dict]:
    return [m for m in fake.sent(STAFF_CHAT) if m.get("message_thread_id") == thread]


async def settle(seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)


async def onboard(fake: FakeBotAPI, user: User, lang: str) -> None:
    """First contact, the language, then the main menu."""
    await fake.push(fake.text_update(user, "Hej"))
    welcome = await fake.wait_for(lambda: with_button(fake, user.id, f"lang:{lang}"))
    await fake.push(fake.callback_update(user, welcome[0], f"lang:{lang}"))
    await fake.wait_for(lambda: with_button(fake, user.id, "nav:human"))


async def ask_for_person(fake: FakeBotAPI, user: User) -> dict:
    """Press "Talk to a bridge-builder", read the consent screen and agree; the ticket's topic."""
    menu = with_button(fake, user.id, "nav:human")[-1]
    await fake.push(fake.callback_update(user, menu, "nav:human"))
    consent = await fake.wait_for(lambda: with_button(fake, user.id, "handoff:consent"))
    before = set(fake.topics[STAFF_CHAT])
    await fake.push(fake.callback_update(user, consent[-1], "handoff:consent"))
    await fake.wait_for(lambda: set(fake.topics[STAFF_CHAT]) - before)
    thread = (set(fake.topics[STAFF_CHAT]) - before).pop()
    announce = await fake.wait_for(lambda: [m for m in in_topic(fake, thread) if buttons(m)])
    return announce[0]


def ticket_of(announce: dict) -> int:
    return int(buttons(announce)[0].rsplit(":", 1)[1])


async def test_handoff_end_to_end(fake, tmp_path):
    clock = Clock(TUESDAY_OPEN)
    settings = settings_for(fake, tmp_path)
    app = build_app(settings, clock=clock)
    try:
        async with running(settings, app, channel_options=FAST):
            await fake.push(fake.text_update(EVA, "/languages sv rmn", chat=fake.group))
            await fake.push(fake.text_update(BO, "/languages ro en", chat=fake.group))
            await fake.wait_for(lambda: len(fake.sent(STAFF_CHAT)) == 2)
            await asyncio.gather(onboard(fake, ANA, "sv"), onboard(fake, MIHAI, "ro"),
                                 onboard(fake, JANI, "fi"))

            # consent screen, in the resident's language, before anything is shared
            menu = with_button(fake, ANA.id, "nav:human")[-1]
            await fake.push(fake.callback_update(ANA, menu, "nav:human"))
            consent = (await fake.wait_for(lambda: with_button(fake, ANA.id, "handoff:consent")))[-1]
            assert "brobyggare" in consent["text"] and "telefonnummer" in consent["text"]
            assert fake.sent(STAFF_CHAT)[2:] == []

            # three residents at once: three topics, each announced with a "Take it" button
            announcements = [await ask_for_person(fake, u) for u in (ANA, MIHAI, JANI)]
            ana_topic, mihai_topic, jani_topic = (a["message_thread_id"] for a in announcements)
            assert len({ana_topic, mihai_topic, jani_topic}) == 3
            ana_ticket = ticket_of(announcements[0])
            assert fake.topics[STAFF_CHAT][ana_topic].startswith(f"#{ana_ticket}")
            assert "Svenska" in fake.topics[STAFF_CHAT][ana_topic]
            assert "Bo" in announcements[1]["text"]  # speaks Romanian: mentioned

            # a resident cannot press a staff button
            own = fake.sent(ANA.id)[-1]
            await fake.push(fake.callback_update(ANA, own, f"handoff:take:{ana_ticket}"))
            await fake.wait_for(lambda: "fungerar inte" in fake.texts(ANA.id)[-1])
            assert app.handoff.store.get(ana_ticket).assignee is None

            # a non-member cannot act as staff: no take, no queue
            await fake.push(fake.callback_update(MALLORY, announcements[0],
                                                 f"handoff:take:{ana_ticket}"))
            await fake.push(fake.text_update(MALLORY, "/queue", chat=fake.group))
            await fake.wait_for(lambda: fake.answered_callbacks
                                and fake.answered_callbacks[-1].get("show_alert"))
            await settle()
            assert app.handoff.store.get(ana_ticket).assignee is None
            assert not any("conversations" in (m.get("text") or "").lower()
                           or "samtal:" in (m.get("text") or "") for m in fake.sent(STAFF_CHAT))

            # the claim race: both press "Take it" at the same moment; one wins
            await asyncio.gather(
                fake.push(fake.callback_update(EVA, announcements[0], f"handoff:take:{ana_ticket}")),
                fake.push(fake.callback_update(BO, announcements[0], f"handoff:take:{ana_ticket}")),
            )
            await fake.wait_for(lambda: len(in_topic(fake, ana_topic)) >= 3)
            await settle()
            topic_texts = [m.get("text", "") for m in in_topic(fake, ana_topic)]
            assert sum("tog samtal" in t for t in topic_texts) == 1
            assert sum("har redan tagit" in t for t in topic_texts) == 1
            winner = app.handoff.store.get(ana_ticket).assignee
            assert winner in ("tg:7001", "tg:7002")
            told = [t for t in fake.texts(ANA.id) if "har tagit ditt samtal" in t]
            assert len(told) == 1 and "Maria" not in told[0]  # first name only

            # relay both ways: text, voice, photo; internal notes never leave
            await fake.push(fake.text_update(ANA, "Jag har fått ett brev om hyran"))
            await fake.wait_for(lambda: any("brev om hyran" in (m.get("text") or "")
                                            for m in in_topic(fake, ana_topic)))
            await fake.push(fake.media_update(ANA, "voice"))
            await fake.push(fake.media_update(ANA, "photo"))
            await fake.wait_for(lambda: len([m for m in in_topic(fake, ana_topic)
                                             if m.get("kind") == "copy"]) == 2)
            copies = [m for m in in_topic(fake, ana_topic) if m.get("kind") == "copy"]
            assert "voice" in copies[0] and "photo" in copies[1]
            assert not any("röstmeddelanden" in t for t in fake.texts(ANA.id))  # no "I can't listen"

            staff_user = EVA if winner == "tg:7001" else BO
            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(staff_user, "! hon verkar orolig", chat=fake.group,
                                             thread=ana_topic))
            await fake.push(fake.text_update(staff_user, "Hej Ana, skicka gärna brevet",
                                             chat=fake.group, thread=ana_topic))
            await fake.push(fake.media_update(staff_user, "document", chat=fake.group,
                                              thread=ana_topic))
            await fake.wait_for(lambda: len(fake.sent(ANA.id)) >= before + 2)
            await settle()
            new = fake.sent(ANA.id)[before:]
            assert [m.get("kind") for m in new] == ["copy", "copy"]
            assert new[0]["text"] == "Hej Ana, skicka gärna brevet" and "document" in new[1]
            assert not any("orolig" in (m.get("text") or "") for m in fake.sent(ANA.id))
            assert all("forward_origin" not in m for m in new)

            # restart in the middle: updates that arrive while the bot is down are not lost
    finally:
        app.close()

    await fake.push(fake.text_update(ANA, "Är ni kvar?"))
    await fake.push(fake.text_update(staff_user, "Ja, jag är här", chat=fake.group,
                                     thread=ana_topic))
    app = build_app(settings, clock=clock)
    try:
        async with running(settings, app, channel_options=FAST):
            await fake.wait_for(lambda: any("Är ni kvar?" in (m.get("text") or "")
                                            for m in in_topic(fake, ana_topic)))
            await fake.wait_for(lambda: "Ja, jag är här" in fake.texts(ANA.id))
            await settle()
            assert sum("Är ni kvar?" in (m.get("text") or "") for m in in_topic(fake, ana_topic)) == 1
            assert fake.texts(ANA.id).count("Ja, jag är här") == 1

            # /queue lists waiting and open conversations with age and assignee
            await fake.push(fake.text_update(BO, "/queue", chat=fake.group))
            queue = await fake.wait_for(lambda: [m for m in fake.sent(STAFF_CHAT)
                                                 if "Väntande och öppna" in (m.get("text") or "")])
            assert f"#{ana_ticket}" in queue[0]["text"] and "väntar" in queue[0]["text"]

            # close and rating
            await fake.push(fake.text_update(staff_user, "/close", chat=fake.group,
                                             thread=ana_topic))
            rating = await fake.wait_for(lambda: with_button(fake, ANA.id, "handoff:rate:"))
            await fake.push(fake.callback_update(ANA, rating[-1],
                                                 f"handoff:rate:{ana_ticket}:3"))
            await fake.wait_for(lambda: app.handoff.store.get(ana_ticket).rating == 3)
            # after closing, Ana is served by the bot again; nothing goes to the topic
            count = len(in_topic(fake, ana_topic))
            await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
            await fake.wait_for(lambda: any("försörjningsstöd" in t.lower()
                                            for t in fake.texts(ANA.id)[-2:]))
            await settle()
            assert len(in_topic(fake, ana_topic)) == count

            # outside opening hours: an honest notice, once a day
            clock.now = WEDNESDAY
            jani_thread = jani_topic
            before = len(fake.sent(JANI.id))
            await fake.push(fake.text_update(JANI, "Onko siellä ketään?"))
            await fake.push(fake.text_update(JANI, "Haloo?"))
            await fake.wait_for(lambda: sum("Haloo?" in (m.get("text") or "")
                                            for m in in_topic(fake, jani_thread)) == 1)
            await settle()
            notices = [t for t in fake.texts(JANI.id)[before:] if "torstai" in t.lower()]
            assert len(notices) == 1 and "112" in notices[0]
        assert all(c.ok for c in fake.calls if c.method != "answerCallbackQuery"), [
            (c.method, c.error) for c in fake.calls if not c.ok]
    finally:
        app.close()


async def test_risk_words_open_an_urgent_topic_and_answer_with_112(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings, clock=Clock(TUESDAY_OPEN))
    try:
        async with running(settings, app, channel_options=FAST) as channel:
            await onboard(fake, MIHAI, "ro")
            await fake.push(fake.text_update(MIHAI, "Soțul mă bate"))
            told = await fake.wait_for(lambda: [t for t in fake.texts(MIHAI.id) if "112" in t])
            assert "pericol" in told[0]
            topic = await fake.wait_for(lambda: list(fake.topics[STAFF_CHAT].items()))
            thread, title = topic[0]
            assert title.startswith("🚨")
            await fake.wait_for(lambda: any("Soțul mă bate" in (m.get("text") or "")
                                            for m in in_topic(fake, thread)))
            # the channel reports the resident blocked the bot: the ticket closes with a note
            channel.delivery.enqueue(app.handoff.resident_blocked(f"tg:{MIHAI.id}", TUESDAY_OPEN))
            assert app.handoff.store.active_for(f"tg:{MIHAI.id}") is None
            await fake.wait_for(lambda: any("blockerat" in (m.get("text") or "")
                                            for m in in_topic(fake, thread)))
    finally:
        app.close()
