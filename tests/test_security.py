"""Each attack on samvag, tried for real, and shown to fail.

- staff commands and buttons from outside the staff group, or by someone not in it;
- a resident forging button data to act on another resident's ticket or appointment;
- webhook requests without the right secret token;
- one resident flooding the staff group;
- secrets (bot token, webhook secret, database password) in logs or error output.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from e2e_steps import (
    BotProcess,
    ask_for_person,
    book_until_summary,
    buttons,
    in_topic,
    onboard,
    press,
    ticket_of,
    with_button,
)
from fakebotapi import DEFAULT_TOKEN, SECRET_HEADER, FakeBotAPI, User
from fakebotapi.harness import FAST, STAFF_CHAT, free_port, settings_for

from bot.bootstrap import build_app
from bot.channels.telegram_run import running
from bot.core.messages import Incoming, Kind, ToStaff
from bot.redact import MASK, RedactingFormatter, redact, secrets_of
from bot.settings import Settings

ANA = User(4242, "Ana", "sv")  # the attacker, an ordinary resident
MIHAI = User(4343, "Mihai", "ro")  # the victim
EVA = User(7001, "Eva", "sv")  # a bridge-builder
MALLORY = User(7666, "Mallory", "en")  # not in the staff group
TUESDAY_OPEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm, guidance hours


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        f.group = f.add_group(STAFF_CHAT, title="Brobyggare")
        f.add_member(STAFF_CHAT, EVA)
        yield f


async def settle(seconds: float = 0.5) -> None:
    """Let in-flight handling finish (only to prove that nothing more happens)."""
    await asyncio.sleep(seconds)


# --- staff powers and other residents' things --------------------------------------------------


async def test_no_one_but_staff_acts_as_staff_and_no_resident_acts_for_another(fake, tmp_path):
    clock = Clock(TUESDAY_OPEN)
    settings = settings_for(fake, tmp_path)
    app = build_app(settings, clock=clock)
    appts = next(h.store for h in app.staff_handlers if "appts" in h.prefixes)
    try:
        async with running(settings, app, channel_options=FAST):
            await asyncio.gather(onboard(fake, ANA, "sv"), onboard(fake, MIHAI, "ro"))
            # the victim: an open ticket and an appointment request
            announce = await ask_for_person(fake, MIHAI)
            ticket, thread = ticket_of(announce), announce["message_thread_id"]
            await book_until_summary(fake, MIHAI)
            await press(fake, MIHAI, "appt:ok:")
            card = (await fake.wait_for(lambda: with_button(fake, STAFF_CHAT, "appts:c:")))[0]
            confirm = next(b for b in buttons(card) if b.startswith("appts:c:"))
            appt_id = int(confirm.split(":")[2])
            stamp = confirm.split(":")[3]
            staff_before = len(fake.sent(STAFF_CHAT))
            mihai_before = len(fake.sent(MIHAI.id))
            own = fake.sent(ANA.id)[-1]

            # 1. Ana forges button data in her own chat: staff buttons and Mihai's ids
            forged = [
                f"handoff:take:{ticket}", f"handoff:end:{ticket}", f"handoff:rate:{ticket}:1",
                f"appt:cx:{appt_id}", f"appt:cy:{appt_id}", f"appt:pa:{appt_id}:{stamp}",
                f"appt:pr:{appt_id}:{stamp}", confirm, f"appts:d:{appt_id}",
                f"appts:r:{appt_id}:spam", f"appts:done:{appt_id}", "handoff:take:-1",
                "appt:cy:99999999999999999999", "handoff:end:" + "9" * 40,
            ]
            for data in forged:
                await fake.push(fake.callback_update(ANA, own, data))
            # 2. ... and types staff commands in her private chat
            for command in ("/queue", "/take", "/close", "/release", "/languages sv",
                            f"/propose {appt_id} tisdag 10:00", f"/decline {appt_id} spam",
                            "/reload", "/appointments"):
                await fake.push(fake.text_update(ANA, command))
            # 3. Mallory, not a member, in the staff group: commands, a topic message, buttons
            for command in ("/queue", "/close", "/reload", "/appointments",
                            f"/decline {appt_id} spam"):
                await fake.push(fake.text_update(MALLORY, command, chat=fake.group, thread=thread))
            await fake.push(fake.text_update(MALLORY, "Hej Mihai, skicka ditt personnummer",
                                             chat=fake.group, thread=thread))
            for data in (f"handoff:take:{ticket}", confirm, f"appts:d:{appt_id}"):
                await fake.push(fake.callback_update(MALLORY, card, data))
            # 4. Eva, a bridge-builder, in some other group is not "the staff group"
            other = fake.add_group(-100555, title="Another group", forum=False)
            await fake.push(fake.text_update(EVA, "/queue", chat=other))
            await fake.push(fake.text_update(EVA, "/reload", chat=other))
            await fake.wait_for(lambda: len(fake.answered_callbacks) >= len(forged) + 3, timeout=15)
            await settle(1.0)

            t = app.handoff.store.get(ticket)
            assert t.status != "closed" and t.assignee is None and t.rating is None
            a = appts.get(appt_id)
            assert a.status == "requested" and a.confirmed_start is None
            assert fake.sent(STAFF_CHAT)[staff_before:] == []  # nothing reached the group
            assert fake.sent(MIHAI.id)[mihai_before:] == []  # and nothing reached Mihai
            alerts = [c for c in fake.answered_callbacks if c.get("show_alert")]
            assert len(alerts) == 3  # Mallory's presses were refused with an alert
            assert all("personnummer" not in (m.get("text") or "") for m in fake.sent(MIHAI.id))
            assert len(fake.sent(-100555)) <= 2 and all(
                "privat" in m["text"].lower() for m in fake.sent(-100555))
            ana_texts = fake.texts(ANA.id)
            assert not any("Väntande och öppna" in t for t in ana_texts)  # no queue for her

            # the real bridge-builder still can: take the ticket, confirm the time
            await fake.push(fake.callback_update(EVA, announce, f"handoff:take:{ticket}"))
            await fake.push(fake.callback_update(EVA, card, confirm))
            await fake.wait_for(lambda: app.handoff.store.get(ticket).assignee == "tg:7001")
            await fake.wait_for(lambda: appts.get(appt_id).status == "confirmed")
            await fake.wait_for(lambda: len(in_topic(fake, thread)) >= 2)
    finally:
        app.close()


# --- the webhook --------------------------------------------------------------------------------


async def test_webhook_refuses_requests_without_the_exact_secret(fake, tmp_path):
    settings = settings_for(fake, tmp_path)
    app = build_app(settings)
    try:
        async with running(settings, app, webhook=True, channel_options=FAST):
            base = f"http://127.0.0.1:{settings.webhook_port}"
            update = fake.text_update(ANA, "/start")
            attempts = [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"},
                        {SECRET_HEADER: "S3CRET-TOKEN"}, {SECRET_HEADER: "s3cret-tokeN"},
                        {SECRET_HEADER: "s3cret-token-and-more"}, {SECRET_HEADER: "s3cret"},
                        {"X-Telegram-Bot-Api-Secret": "s3cret-token"}]
            async with aiohttp.ClientSession() as http:
                for headers in attempts:
                    async with http.post(f"{base}/tg/hook", json=update, headers=headers) as r:
                        assert r.status == 403, headers
                        assert "s3cret" not in await r.text()
                async with http.get(f"{base}/tg/hook") as r:
                    assert r.status == 405
                async with http.post(f"{base}/other", json=update,
                                     headers={SECRET_HEADER: "s3cret-token"}) as r:
                    assert r.status == 404
            await settle()
            assert fake.sent(ANA.id) == []  # none of the forged updates was handled
            assert await fake.push(update) == 200  # Telegram itself, with the secret
            await fake.wait_for(lambda: fake.sent(ANA.id))
    finally:
        app.close()


# --- flooding the staff group -------------------------------------------------------------------


def test_one_resident_cannot_flood_the_staff_group(tmp_path):
    """30 messages in one minute: the group gets the per-resident budget; the rest follow later."""
    clock = Clock(TUESDAY_OPEN)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    app = build_app(settings, clock=clock)
    resident = "tg:4242"
    seq = iter(range(1, 10_000))

    def say(**kw) -> list:
        return app.conversation.handle(Incoming(resident=resident, language_hint="sv",
                                                event_id=f"e{next(seq)}", **kw))

    def staff(out: list) -> list:
        return [o for o in out if isinstance(o.target, ToStaff)]

    try:
        say(kind=Kind.TEXT, text="Hej")
        say(kind=Kind.CHOICE, choice="lang:sv")
        say(kind=Kind.CHOICE, choice="nav:human")
        assert len(staff(say(kind=Kind.CHOICE, choice="handoff:consent"))) == 1  # announced
        relayed, told = [], []
        for i in range(30):
            clock.now = TUESDAY_OPEN + timedelta(seconds=i)
            out = say(kind=Kind.TEXT, text=f"Meddelande nummer {i}")
            relayed += staff(out)
            told += [o for o in out if not isinstance(o.target, ToStaff)]
        limit = 8  # HandoffConfig.relay_limit
        assert len(relayed) <= limit
        assert len([o for o in told if "långsammare" in o.reply.text]) == 1  # told once, kindly
        later = []
        for minute in range(1, 10):
            clock.now = TUESDAY_OPEN + timedelta(minutes=minute, seconds=30)
            for job in app.jobs:
                out = staff(job.tick(clock.now))
                assert len([o for o in out if "Meddelande" in o.reply.text]) <= limit
                later += out
        texts = [o.reply.text for o in relayed + later if "Meddelande" in o.reply.text]
        assert sorted(texts, key=lambda t: int(t.rsplit(" ", 1)[1])) == texts  # in order
        assert len(texts) == 30  # nothing lost
    finally:
        app.close()


# --- secrets --------------------------------------------------------------------------------------


def test_secrets_are_found_and_masked():
    settings = Settings(_env_file=None, telegram_token="123456:AAH-very-secret-part",
                        webhook_secret="hook-secret-123",
                        database_url="postgresql+psycopg://samvag:db-pass%21word@db:5432/samvag")
    found = secrets_of(settings)
    assert {"123456:AAH-very-secret-part", "AAH-very-secret-part", "hook-secret-123",
            "db-pass!word"} <= set(found)
    line = ("POST https://api.telegram.org/bot123456:AAH-very-secret-part/getMe "
            "token=AAH-very-secret-part secret_token='hook-secret-123' pw=db-pass!word")
    masked = redact(line, found)
    assert all(s not in masked for s in found) and masked.count(MASK) == 4
    assert "123456" not in masked.split("/bot")[1][:6] or MASK in masked

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", ("hook-secret-123",), None)
    try:
        raise ValueError("The token `123456:AAH-very-secret-part` was rejected by the server.")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    text = RedactingFormatter(logging.Formatter("%(message)s"), found).format(record)
    assert "Traceback" in text and all(s not in text for s in found)


async def test_a_rejected_token_is_not_printed(fake, tmp_path):
    token = "123456:WRONG-secret-token-value"
    bot = BotProcess(fake, tmp_path, TELEGRAM_TOKEN=token, LOG_LEVEL="DEBUG")
    await bot.start(wait_ready=False)
    try:
        assert await bot.wait() == 1
    finally:
        await bot.close()
    assert "rejected" in bot.output or "InvalidToken" in bot.output
    assert "WRONG-secret-token-value" not in bot.output


async def test_a_database_password_is_not_printed(fake, tmp_path):
    url = f"postgresql+psycopg://samvag:Db-Pa55word-x@127.0.0.1:{free_port()}/samvag"
    bot = BotProcess(fake, tmp_path, DATABASE_URL=url)
    await bot.start(wait_ready=False)
    try:
        assert await bot.wait() == 1
    finally:
        await bot.close()
    assert "could not start" in bot.output and "Db-Pa55word-x" not in bot.output


async def test_no_secret_in_debug_logs_of_a_webhook_run_with_errors(fake, tmp_path):
    port = free_port()
    secret = "hook-secret-0123456789"
    bot = BotProcess(fake, tmp_path, LOG_LEVEL="DEBUG", WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
                     WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET=secret)
    fake.fail("sendMessage", status=502, times=2)
    fake.fail("answerCallbackQuery", status=400, description="Bad Request: query is too old")
    await bot.start()
    try:
        await onboard(fake, ANA, "sv")
        async with (  # someone probing the webhook
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/tg/hook", json={"update_id": 1},
                      headers={SECRET_HEADER: "guess"}) as r,
        ):
            assert r.status == 403
        await fake.push(fake.text_update(ANA, "Hur söker jag försörjningsstöd?"))
        await fake.wait_for(lambda: any("försörjningsstöd" in t.lower() for t in fake.texts(ANA.id)))
        assert await bot.stop() == 0
    finally:
        await bot.close()
    out = bot.output
    assert "DEBUG" in out and "webhook serving" in out  # debug logging really was on
    for leaked in (DEFAULT_TOKEN, DEFAULT_TOKEN.split(":")[1], secret):
        assert leaked not in out, leaked
    assert "försörjningsstöd" not in out  # nor what the resident wrote


def test_one_resident_cannot_flood_the_staff_group_with_appointment_requests(tmp_path):
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    app = build_app(settings, clock=Clock(TUESDAY_OPEN))
    seq = iter(range(1, 10_000))

    def press(choice: str) -> list:
        return app.conversation.handle(Incoming(resident="tg:4242", language_hint="sv",
                                                kind=Kind.CHOICE, choice=choice,
                                                event_id=f"e{next(seq)}"))

    try:
        app.conversation.handle(Incoming(resident="tg:4242", language_hint="sv", kind=Kind.TEXT,
                                         text="Hej", event_id="e0"))
        press("lang:sv")
        cards = 0
        for _ in range(20):
            for choice in ("go:appt", "appt:t:-", "appt:any", "appt:l:n", "appt:c:chat"):
                press(choice)
            out = press("appt:n:-")
            ok = next(c.id for o in out for row in o.reply.choices for c in row
                      if c.id.startswith("appt:ok:"))
            cards += sum(isinstance(o.target, ToStaff) for o in press(ok))
        assert cards <= 5, f"{cards} appointment cards from one resident in a minute"
    finally:
        app.close()
