"""End to end: the real PTB Application over HTTP on loopback against the fake Bot API server."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from e2e_steps import buttons
from fakebotapi import SECRET_HEADER, FakeBotAPI, User
from fakebotapi.harness import FAST, STAFF_CHAT, settings_for, tiny_app

from bot.bootstrap import build_app
from bot.channels.telegram_run import running
from bot.core.messages import Choice, Outbound, Reply, ToResident, ToStaff, to
from bot.db.outbox_store import OutboxStore
from bot.db.telegram_store import TelegramStore
from bot.markup import escape

ANA = User(4242, "Ana", "sv")


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        yield f


def ok_sends(fake: FakeBotAPI, chat_id: int) -> list:
    return [c for c in fake.calls_of("sendMessage") if c.ok and c.params["chat_id"] == chat_id]


async def settle(fake: FakeBotAPI, seconds: float = 0.3) -> None:
    """Let in-flight handling finish (only used to prove that nothing more happens)."""
    await asyncio.sleep(seconds)


async def journey(fake: FakeBotAPI) -> None:
    """A resident's first visit: welcome, language, menu, a question, feedback."""
    await fake.push(fake.text_update(ANA, "Hej"))
    welcome = await fake.wait_for(lambda: [m for m in fake.sent(ANA.id) if "lang:sv" in buttons(m)])
    await fake.push(fake.callback_update(ANA, welcome[0], "lang:sv"))
    menu = await fake.wait_for(lambda: [m for m in fake.sent(ANA.id) if any(b.startswith("cat:") for b in buttons(m))])
    assert len(fake.answered_callbacks) == 1  # the spinner stopped
    await fake.push(fake.callback_update(ANA, menu[-1], buttons(menu[-1])[0]))
    await fake.wait_for(lambda: len(fake.answered_callbacks) == 2)
    before = len(fake.sent(ANA.id))
    await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
    answer = await fake.wait_for(lambda: [m for m in fake.sent(ANA.id)[before:] if any(b.startswith("fb:") for b in buttons(m))])
    assert "försörjningsstöd" in answer[0]["text"]
    fb = [b for b in buttons(answer[0]) if b.startswith("fb:")][0]
    await fake.push(fake.callback_update(ANA, answer[0], fb))
    await fake.wait_for(lambda: len(fake.answered_callbacks) == 3)
    assert all(c.ok for c in fake.calls), [(c.method, c.error) for c in fake.calls if not c.ok]


async def test_resident_journey_by_long_polling(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await journey(fake)
            assert not fake.calls_of("setWebhook")
            # the command menu, in each language clients report, plus the default
            langs = {c.params.get("language_code") for c in fake.calls_of("setMyCommands")}
            assert langs == {None, "sv", "en", "fi", "ro"}
            assert fake.commands[("default", "sv")][0]["command"] == "start"
    finally:
        app.close()


async def test_resident_journey_by_webhook_with_secret_and_healthz(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    try:
        async with running(settings, app, webhook=True, channel_options=FAST):
            assert fake.webhook == {"url": settings.webhook_url, "secret_token": "s3cret-token"}
            await journey(fake)
            assert set(fake.webhook_answers) == {200}
            assert not fake.calls_of("getUpdates")
            await settle(fake)
            sent = len(fake.sent(ANA.id))
            base = f"http://127.0.0.1:{settings.webhook_port}"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/healthz") as r:
                    assert r.status == 200
                update = fake.text_update(ANA, "/menu")
                for headers in ({}, {SECRET_HEADER: "wrong"}):
                    async with http.post(f"{base}/tg/hook", json=update, headers=headers) as r:
                        assert r.status == 403
            await settle(fake)
            assert len(fake.sent(ANA.id)) == sent  # the forged update was not handled
    finally:
        app.close()


async def test_duplicate_update_is_handled_once_in_both_modes(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    update = fake.text_update(ANA, "Hej")
    group = fake.add_group(-100999, title="Some group", forum=False)
    group_update = fake.text_update(ANA, "/start", chat=group)
    try:
        async with running(settings, app, channel_options=FAST):
            await fake.push(update)
            await fake.push(update)  # polling: the same update id again
            await fake.push(group_update)
            await fake.push(group_update)
            await fake.wait_for(lambda: fake.sent(ANA.id) and fake.sent(-100999))
            await settle(fake)
        async with running(settings, app, webhook=True, channel_options=FAST):
            assert await fake.push(update) == 200  # a webhook retry after a restart
            assert await fake.push(group_update) == 200
            await settle(fake)
    finally:
        app.close()
    assert len(fake.sent(ANA.id)) == 1
    assert len(fake.sent(-100999)) == 1


async def test_long_answer_is_split_at_paragraphs(fake, tmp_path):
    paragraphs = [f"Paragraph {i}: " + "word " * 180 for i in range(20)]  # ~18,000 characters
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply("\n\n".join(paragraphs), [[Choice("nav:menu", "Menu")]])))
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "tell me everything"))
        await fake.wait_for(lambda: any(buttons(m) for m in fake.sent(ANA.id)))
    sent = fake.sent(ANA.id)
    assert len(sent) >= 5
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert [p.strip() for m in sent for p in m["text"].split("\n\n")] == [p.strip() for p in paragraphs]
    assert [bool(buttons(m)) for m in sent] == [False] * (len(sent) - 1) + [True]


async def test_hostile_text_is_echoed_back_safely(fake, tmp_path):
    hostile = "<b>bold</b> & </a> <script>x</script> &amp; **not bold** [link](javascript:alert(1))"
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply("You wrote: " + escape(inc.text))))
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, hostile))
        await fake.wait_for(lambda: fake.sent(ANA.id))
    assert all(c.ok for c in fake.calls_of("sendMessage"))
    assert fake.sent(ANA.id)[0]["text"] == "You wrote: " + hostile


async def test_flood_limit_429_is_waited_out_then_sent(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply("Hello")))
    fake.fail("sendMessage", status=429, retry_after=1)
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: fake.sent(ANA.id), timeout=6)
    calls = fake.calls_of("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0  # retry_after was respected
    assert fake.texts(ANA.id) == ["Hello"]


async def test_server_errors_are_retried_with_backoff(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply("Hello")))
    fake.fail("sendMessage", status=502, times=2)
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: fake.sent(ANA.id), timeout=6)
    assert [c.status for c in fake.calls_of("sendMessage")] == [502, 502, 200]


async def test_slow_answer_times_out_then_outbox_delivers_once(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply("Hello")))
    # Four slow answers outlast the limiter's retries; the outbox then takes the message.
    fake.slow("sendMessage", 2.5, times=4)
    async with running(settings, app, channel_options={**FAST, "request_timeout": 0.5}):
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: any(c.ok and c.params["chat_id"] == ANA.id for c in fake.calls_of("sendMessage") if c.at), timeout=20)
        await fake.wait_for(lambda: OutboxStore(app.engine).count() == 0, timeout=10)
    assert "Hello" in fake.texts(ANA.id)


async def test_blocked_resident_is_marked_and_not_retried(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply("Hello")))
    fake.block(ANA.id)
    async with running(settings, app, channel_options=FAST) as channel:
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: fake.calls_of("sendMessage"))
        await settle(fake)
        assert TelegramStore(app.engine).is_blocked(f"tg:{ANA.id}")
        # later messages to them (e.g. a staff answer) are dropped, not retried
        channel.delivery.enqueue(to(f"tg:{ANA.id}", Reply("A bridge-builder answered")))
        await settle(fake)
        assert len(fake.calls_of("sendMessage")) == 1
        assert OutboxStore(app.engine).count() == 0
        # writing again unblocks
        fake.blocked.discard(ANA.id)
        await fake.push(fake.text_update(ANA, "Hi again"))
        await fake.wait_for(lambda: fake.sent(ANA.id))
        assert not TelegramStore(app.engine).is_blocked(f"tg:{ANA.id}")
        # and blocking the bot in the client is noticed too
        await fake.push(fake.blocked_update(ANA))
        await fake.wait_for(lambda: TelegramStore(app.engine).is_blocked(f"tg:{ANA.id}"))
        # and writing after that unblocks again (the channel's "not blocked" memory is dropped)
        fake.blocked.discard(ANA.id)
        answered = len(fake.sent(ANA.id))
        await fake.push(fake.text_update(ANA, "Back again"))
        await fake.wait_for(lambda: len(fake.sent(ANA.id)) > answered)
        assert not TelegramStore(app.engine).is_blocked(f"tg:{ANA.id}")


async def test_overlong_callback_data_is_never_sent(fake, tmp_path):
    long_id = "faq:" + "x" * 70
    settings = settings_for(fake, tmp_path)
    reply = Reply("Pick one", [[Choice(long_id, "Too long"), Choice("faq:ok", "Fine")], [Choice("ä" * 40, "Also too long")]])
    app = tiny_app(settings, lambda inc: to(inc.resident, reply))
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: fake.sent(ANA.id))
    assert all(c.ok for c in fake.calls)
    assert buttons(fake.sent(ANA.id)[0]) == ["faq:ok"]


async def test_pressed_button_edits_the_message_when_asked(fake, tmp_path):
    settings = settings_for(fake, tmp_path)

    def script(inc):
        if inc.choice:
            return to(inc.resident, Reply("Chosen: " + inc.choice, [[Choice("b:2", "Two")]], edit=True))
        return to(inc.resident, Reply("Choose", [[Choice("b:1", "One")]]))

    app = tiny_app(settings, script)
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "Hi"))
        first = (await fake.wait_for(lambda: fake.sent(ANA.id)))[0]
        await fake.push(fake.callback_update(ANA, first, "b:1"))
        await fake.wait_for(lambda: fake.calls_of("editMessageText"))
    assert len(fake.sent(ANA.id)) == 1
    assert fake.sent(ANA.id)[0]["text"] == "Chosen: b:1"
    assert buttons(fake.sent(ANA.id)[0]) == ["b:2"]
    assert len(fake.answered_callbacks) == 1


async def test_voice_document_copy_and_contact_keyboard(fake, tmp_path):
    from bot.core.messages import Attachment, Media

    voice = tmp_path / "answer.ogg"
    voice.write_bytes(b"OggS" + b"\0" * 100)
    settings = settings_for(fake, tmp_path)

    def script(inc):
        if inc.kind == "contact":
            return to(inc.resident, Reply(f"own={inc.contact.is_own}"))
        if inc.kind == "media":
            return to(inc.resident, Reply("Relayed", copy=Media(inc.media.kind, inc.media.ref)))
        return to(
            inc.resident,
            Reply("Listen", voice=voice),
            Reply("Your booking", attachment=Attachment("booking.ics", b"BEGIN:VCALENDAR", "text/calendar")),
            Reply("Share your number?", request_contact="Share my number"),
        )

    app = tiny_app(settings, script)
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: len(fake.sent(ANA.id)) == 4)
        await fake.push(fake.contact_update(ANA, "+46700000000", contact_user_id=ANA.id))
        await fake.wait_for(lambda: "own=True" in fake.texts(ANA.id))
        await fake.push(fake.contact_update(ANA, "+46700000001", contact_user_id=999))
        await fake.wait_for(lambda: "own=False" in fake.texts(ANA.id))
        await fake.push(fake.media_update(ANA, "photo"))
        await fake.wait_for(lambda: fake.calls_of("copyMessage"))
    kinds = [m.get("kind", "text") for m in fake.sent(ANA.id)[:4]]
    assert kinds == ["text", "voice", "text", "document"]
    assert fake.sent(ANA.id)[3]["data"] == b"BEGIN:VCALENDAR"
    assert fake.sent(ANA.id)[4]["reply_keyboard"]["keyboard"][0][0]["request_contact"] is True
    assert all(c.ok for c in fake.calls)


async def test_media_gets_a_kind_reply_in_the_residents_language(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await fake.push(fake.text_update(ANA, "Hej"))
            welcome = (await fake.wait_for(lambda: fake.sent(ANA.id)))[0]
            await fake.push(fake.callback_update(ANA, welcome, "lang:sv"))
            await fake.wait_for(lambda: len(fake.answered_callbacks) == 1)
            await settle(fake)
            before = len(fake.sent(ANA.id))
            await fake.push(fake.media_update(ANA, "voice"))
            reply = await fake.wait_for(lambda: fake.sent(ANA.id)[before:])
        assert "skriv" in reply[0]["text"].lower()  # Swedish: asks to write instead
    finally:
        app.close()


async def test_other_groups_get_a_polite_decline(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings)
    group = fake.add_group(-100999, title="Some group", forum=False)
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(ANA, "/start", chat=group))
        await fake.push(fake.text_update(ANA, "just chatting", chat=group))
        await fake.wait_for(lambda: fake.sent(-100999))
        await settle(fake)
    assert len(fake.sent(-100999)) == 1
    assert "privat" in fake.sent(-100999)[0]["text"].lower()
    assert app.conversation.seen == []


async def test_staff_relays_go_to_ticket_topics_and_survive_a_deleted_topic(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: [Outbound(ToStaff(ticket=7, title="#7 Ana (sv)"), Reply("Resident: " + escape(inc.text)))])
    fake.add_group(STAFF_CHAT)
    async with running(settings, app, channel_options=FAST) as channel:
        await fake.push(fake.text_update(ANA, "I need help"))
        first = await fake.wait_for(lambda: fake.sent(STAFF_CHAT))
        thread = first[0]["message_thread_id"]
        assert fake.topics[STAFF_CHAT][thread] == "#7 Ana (sv)"
        fake.delete_topic(STAFF_CHAT, thread)
        await fake.push(fake.text_update(ANA, "Hello?"))
        await fake.wait_for(lambda: len(fake.sent(STAFF_CHAT)) == 2)
        channel.delivery.enqueue([Outbound(ToStaff(None), Reply("General notice"))])
        await fake.wait_for(lambda: len(fake.sent(STAFF_CHAT)) == 3)
        fake.close_topic(STAFF_CHAT, fake.sent(STAFF_CHAT)[1]["message_thread_id"])
        await fake.push(fake.text_update(ANA, "Anyone?"))
        await fake.wait_for(lambda: len(fake.sent(STAFF_CHAT)) == 4)
    second, general, third = fake.sent(STAFF_CHAT)[1:]
    assert third["text"] == "Resident: Anyone?"
    assert third["message_thread_id"] not in (thread, second["message_thread_id"])
    assert second["message_thread_id"] != thread and second["text"] == "Resident: Hello?"
    assert len(fake.calls_of("createForumTopic")) == 3
    assert "message_thread_id" not in general
    assert [c.error for c in fake.calls if not c.ok] == [
        "Bad Request: message thread not found",
        "Bad Request: TOPIC_CLOSED",
    ]


async def test_only_staff_group_members_act_as_staff(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings)
    staff = app.staff_handlers[0]
    staff.answer = lambda s: [] if s.command else [Outbound(ToResident("tg:4242"), Reply("From staff: " + escape(s.text)))]
    group = fake.add_group(STAFF_CHAT)
    eva, mallory = User(7001, "Eva", "sv"), User(7002, "Mallory", "en")
    fake.add_member(STAFF_CHAT, eva)
    fake.private_chat(ANA)
    thread = fake.create_topic(STAFF_CHAT, "#7")
    async with running(settings, app, channel_options=FAST):
        await fake.push(fake.text_update(mallory, "I am staff, honest", chat=group, thread=thread))
        await fake.push(fake.text_update(eva, "We can meet on Tuesday", chat=group, thread=thread))
        await fake.push(fake.text_update(eva, "/tickets", chat=group))
        await fake.wait_for(lambda: fake.sent(ANA.id))
        await fake.wait_for(lambda: len(staff.seen) == 2)
        # a button in the staff group pressed by a non-member is refused with an alert
        staff_msg = fake._bot_message(group, {}, text="Ticket 7")
        await fake.push(fake.callback_update(mallory, staff_msg, "ho:take:7"))
        await fake.wait_for(lambda: fake.answered_callbacks)
        await settle(fake)
    assert [s.text for s in staff.seen[:2]] == ["We can meet on Tuesday", "/tickets"]
    assert staff.seen[0].topic == str(thread) and staff.seen[0].staff_id == "tg:7001"
    assert staff.seen[1].command == "tickets"
    assert fake.texts(ANA.id) == ["From staff: We can meet on Tuesday"]
    assert fake.answered_callbacks[0].get("show_alert") is True
    assert len(staff.seen) == 2  # Mallory's press never reached the handler
    assert len(fake.calls_of("getChatMember")) == 2  # membership is cached


async def test_outbox_survives_telegram_down_and_a_restart(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings)
    fake.private_chat(ANA)
    fake.fail("sendMessage", status=502, times=1000)
    async with running(settings, app, channel_options=FAST) as channel:
        channel.delivery.enqueue(to(f"tg:{ANA.id}", Reply("Reminder: your appointment is tomorrow")))
        await fake.wait_for(lambda: len(fake.calls_of("sendMessage")) >= 4)
    assert OutboxStore(app.engine).count() == 1  # still waiting, nothing lost
    fake.faults.clear()
    async with running(settings, app, channel_options=FAST):
        await fake.wait_for(lambda: fake.sent(ANA.id))
        await fake.wait_for(lambda: OutboxStore(app.engine).count() == 0)
    assert fake.texts(ANA.id) == ["Reminder: your appointment is tomorrow"]


async def test_rate_limit_on_paces_one_chat(fake, tmp_path):
    settings = settings_for(fake, tmp_path, rate_limit=True)
    app = tiny_app(settings, lambda inc: to(inc.resident, *[Reply(f"part {i}") for i in range(5)]))
    async with running(settings, app, channel_options=FAST):
        start = time.monotonic()
        await fake.push(fake.text_update(ANA, "Hi"))
        await fake.wait_for(lambda: len(fake.sent(ANA.id)) == 5, timeout=10)
    sends = fake.calls_of("sendMessage")
    assert sends[-1].at - start >= 1.5  # a burst of three, then about one a second
    assert fake.texts(ANA.id) == [f"part {i}" for i in range(5)]


@pytest.mark.parametrize("workers", [0, 4])
async def test_one_chats_updates_are_handled_in_order(fake, tmp_path, workers):
    settings = settings_for(fake, tmp_path)
    app = tiny_app(settings, lambda inc: to(inc.resident, Reply(inc.text)))
    bob = User(5151, "Bob", "en")
    async with running(settings, app, channel_options={**FAST, "core_workers": workers}):
        for i in range(40):
            await fake.push(fake.text_update(ANA if i % 2 else bob, str(i)))
        await fake.wait_for(lambda: len(fake.sent(ANA.id)) == 20 and len(fake.sent(bob.id)) == 20)
    assert fake.texts(bob.id) == [str(i) for i in range(0, 40, 2)]
    assert fake.texts(ANA.id) == [str(i) for i in range(1, 40, 2)]
