"""Activities end to end: the real PTB Application against the fake Bot API server."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from e2e_steps import buttons
from fakebotapi import FakeBotAPI, User
from fakebotapi.harness import FAST, STAFF_CHAT, settings_for
from icalendar import Calendar

from bot.bootstrap import build_app
from bot.channels.telegram_run import running
from bot.content.activities import ActivityFolder
from bot.core.ports import ResidentState
from bot.db.activities_store import SqlActivityStore
from bot.db.state_store import SqlStateStore

PACK = Path(__file__).parent / "data" / "pack"
ANA = User(4242, "Ana", "sv")
JOHN = User(4343, "John", "en")
MIRA = User(7001, "Mira", "sv")
TELEGRAM_LIMIT = 30  # messages a second overall


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        yield f


def local(days: int, hour: int) -> str:
    when = datetime.now(ZoneInfo("Europe/Stockholm")) + timedelta(days=days)
    return f"{when:%Y-%m-%d} {hour:02d}:00"


@pytest.fixture
def content(tmp_path) -> Path:
    """The test pack plus two activities a few days from now."""
    pack = tmp_path / "content"
    shutil.copytree(PACK, pack)
    acts = pack / "activities"
    acts.mkdir()
    (acts / "kafe.yaml").write_text(
        f"kind: cafe\nwhen: {local(5, 17)}\ntitle: {{sv: Romskt kafé, en: Roma café}}\n"
        "place: {sv: Träffpunkt Norra, en: Meeting Point North}\n",
        encoding="utf-8",
    )
    (acts / "samrad.yaml").write_text(
        f"kind: consultation\nwhen: {local(20, 18)}\ntitle: {{sv: Samråd, en: Consultation}}\n"
        "place: Stadshuset\n",
        encoding="utf-8",
    )
    return pack


async def press(fake: FakeBotAPI, user: User, data: str) -> None:
    """Press the newest bot message's button `data` (a prefix is enough)."""
    msg = await fake.wait_for(
        lambda: next((m for m in reversed(fake.sent(user.id))
                      if any(b.startswith(data) for b in buttons(m))), None)  # fmt: skip
    )
    choice = next(b for b in buttons(msg) if b.startswith(data))
    await fake.push(fake.callback_update(user, msg, choice))


async def new_text(fake: FakeBotAPI, chat: int, before: int, needle: str, timeout: float = 5.0) -> str:
    found = await fake.wait_for(
        lambda: [m.get("text", "") for m in fake.sent(chat)[before:] if needle in m.get("text", "")],
        timeout=timeout,
    )
    return found[0]


async def choose_language(fake: FakeBotAPI, user: User, locale: str) -> None:
    await fake.push(fake.text_update(user, "/start"))
    await press(fake, user, f"lang:{locale}")
    await fake.wait_for(lambda: any("go:act" in buttons(m) for m in fake.sent(user.id)))


async def test_residents_see_whats_on_get_an_ics_and_subscribe_through_telegram(fake, tmp_path, content):
    settings = settings_for(fake, tmp_path, content_dir=content)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await choose_language(fake, ANA, "sv")
            await choose_language(fake, JOHN, "en")
            n = len(fake.sent(ANA.id))
            await press(fake, ANA, "go:act")
            sv = await new_text(fake, ANA.id, n, "Vad händer?")
            n = len(fake.sent(JOHN.id))
            await press(fake, JOHN, "go:act")
            en = await new_text(fake, JOHN.id, n, "What's on")
            assert "Romskt kafé" in sv and "Samråd" in sv and "kl. 17:00" in sv
            assert "Roma café" in en and "Consultation" in en and "at 17:00" in en
            assert "Romskt" not in en

            # details, then the calendar file as a document
            await press(fake, JOHN, "act:d:kafe@")
            await press(fake, JOHN, "act:ics:")
            doc = await fake.wait_for(lambda: [m for m in fake.sent(JOHN.id) if m.get("kind") == "document"])
            event = Calendar.from_ical(bytes(doc[0]["data"])).walk("VEVENT")[0]
            assert str(event["SUMMARY"]) == "Roma café" and event.decoded("DTSTART").hour in (15, 16)

            # subscribe with a button, unsubscribe with /stop
            await press(fake, ANA, "act:subs")
            await press(fake, ANA, "act:sub:cafe")
            store = SqlActivityStore(app.engine)
            await fake.wait_for(lambda: store.kinds_of(f"tg:{ANA.id}") == {"cafe"})
            n = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "/stop"))
            await new_text(fake, ANA.id, n, "inga fler nyheter")
            assert store.kinds_of(f"tg:{ANA.id}") == set()

            # free text
            n = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "När är nästa kafé?"))
            assert "Romskt kafé" in await new_text(fake, ANA.id, n, "Romskt kafé")
        assert all(c.ok for c in fake.calls), [(c.method, c.error) for c in fake.calls if not c.ok]
    finally:
        app.close()


def subscribe_many(app, fake: FakeBotAPI, n: int, *, english_every: int = 5) -> list[User]:
    store = SqlActivityStore(app.engine)
    states = SqlStateStore(app.engine)
    now = datetime.now(UTC)
    users = []
    for i in range(n):
        user = User(100_000 + i, f"R{i}", "sv")
        fake.private_chat(user)
        store.subscribe(f"tg:{user.id}", "cafe", now=now)
        if i % english_every == 0:
            states.save(ResidentState(f"tg:{user.id}", locale="en", step="menu"), now=now)
        users.append(user)
    return users


def max_per_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def announcement_sends(fake: FakeBotAPI, marker: str) -> Counter:
    return Counter(
        c.params["chat_id"] for c in fake.calls_of("sendMessage")
        if c.ok and c.params["chat_id"] != STAFF_CHAT and marker in c.params.get("text", "")
    )  # fmt: skip


async def test_announcement_to_500_subscribers_with_429s_and_blocked_users(fake, tmp_path, content):
    """Every subscriber gets it exactly once; no second has more than Telegram's limit."""
    settings = settings_for(fake, tmp_path, content_dir=content, rate_limit=True)
    app = build_app(settings)
    group = fake.add_group(STAFF_CHAT)
    fake.add_member(STAFF_CHAT, MIRA)
    users = subscribe_many(app, fake, 500)
    blocked = {u.id for u in users[::20]}  # 25 residents blocked the bot
    for chat in blocked:
        fake.block(chat)
    try:
        async with running(settings, app, channel_options=FAST):
            text = "/announce cafe\nsv: Kaféet flyttar till biblioteket.\nen: The café moves to the library."
            await fake.push(fake.text_update(MIRA, text, chat=group))
            preview = await fake.wait_for(lambda: [m for m in fake.sent(STAFF_CHAT) if "ann:ok:1" in buttons(m)])
            assert "(500)" in preview[0]["text"]
            fake.fail("sendMessage", status=429, times=3, retry_after=1)
            await fake.push(fake.callback_update(MIRA, preview[0], "ann:ok:1"))
            report = await new_text(fake, STAFF_CHAT, 0, "är klart:", timeout=60)
        assert "475 av 500" in report and "Har blockerat boten: 25" in report
        sv_sends = announcement_sends(fake, "Kaféet flyttar till biblioteket.")
        en_sends = announcement_sends(fake, "The café moves to the library.")
        english = {u.id for u in users[::5]}
        assert set(en_sends) == english - blocked and set(sv_sends) == {u.id for u in users} - english - blocked
        assert set((sv_sends + en_sends).values()) == {1}  # exactly once each
        assert [c.status for c in fake.calls_of("sendMessage")].count(429) == 3
        flood = [c.at for c in fake.calls if c.method in ("sendMessage", "sendDocument", "copyMessage")]
        print(f"\nbroadcast: {len(flood)} sends, at most {max_per_second(flood)} in any second, "
              f"{flood[-1] - flood[0]:.1f}s")
        assert max_per_second(flood) <= TELEGRAM_LIMIT
        counts = SqlActivityStore(app.engine).counts(1)
        assert counts == {"sent": 475, "blocked": 25}
    finally:
        app.close()


async def test_restart_in_the_middle_of_a_broadcast_sends_no_duplicates(fake, tmp_path, content):
    settings = settings_for(fake, tmp_path, content_dir=content)
    fake.add_group(STAFF_CHAT)
    app = build_app(settings)
    users = subscribe_many(app, fake, 300)
    store = SqlActivityStore(app.engine)
    ann = store.create_announcement(kind="cafe", texts={"sv": "Omstart-test", "en": "Restart test"},
                                    staff="tg:7001", now=datetime.now(UTC))  # fmt: skip
    store.confirm_announcement(ann, [(f"tg:{u.id}", "sv") for u in users], now=datetime.now(UTC))
    try:
        app.workers[0].rate = 150
        async with running(settings, app, channel_options=FAST):
            await fake.wait_for(lambda: sum(announcement_sends(fake, "Omstart-test").values()) >= 100, timeout=10)
        first = sum(announcement_sends(fake, "Omstart-test").values())
        counts = store.counts(ann)
        assert 100 <= first < 300 and counts.get("sending", 0) == 0 and counts.get("unknown", 0) == 0
        assert counts["sent"] == first  # a graceful stop leaves nothing half-sent
    finally:
        app.close()
    app = build_app(settings)  # a new process over the same database
    try:
        app.workers[0].rate = 150
        async with running(settings, app, channel_options=FAST):
            report = await new_text(fake, STAFF_CHAT, 0, "är klart:", timeout=20)
        assert "300 av 300" in report
        sends = announcement_sends(fake, "Omstart-test")
        assert set(sends) == {u.id for u in users} and set(sends.values()) == {1}
    finally:
        app.close()


async def test_proposal_through_telegram_reaches_staff_without_personal_numbers(fake, tmp_path, content):
    settings = settings_for(fake, tmp_path, content_dir=content)
    app = build_app(settings)
    group = fake.add_group(STAFF_CHAT)
    fake.add_member(STAFF_CHAT, MIRA)
    try:
        async with running(settings, app, channel_options=FAST):
            await choose_language(fake, ANA, "sv")
            await press(fake, ANA, "go:act")
            await press(fake, ANA, "act:prop")
            await fake.wait_for(lambda: any("act:pcancel" in buttons(m) for m in fake.sent(ANA.id)))
            await fake.push(fake.text_update(ANA, "Läxhjälp på biblioteket! Mitt nr är 850709-9805, ring 0701234567"))
            await press(fake, ANA, "act:th:school")
            await press(fake, ANA, "act:who:n")
            await new_text(fake, ANA.id, 0, "Tack! Ditt förslag")
            await fake.push(fake.text_update(MIRA, "/proposals", chat=group))
            listing = await new_text(fake, STAFF_CHAT, 0, "Förslag till samrådet")
        assert "Läxhjälp på biblioteket!" in listing and "Ana" in listing
        assert "850709-9805" not in listing and "0701234567" not in listing
        assert "[personnummer]" in listing
        raw = SqlActivityStore(app.engine).proposals(since=datetime.now(UTC) - timedelta(days=1))
        assert "850709" not in (raw[0].text or "")
    finally:
        app.close()


async def test_reminder_after_a_clock_jump_and_a_restart(fake, tmp_path, content):
    settings = settings_for(fake, tmp_path, content_dir=content)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await choose_language(fake, ANA, "sv")
            await press(fake, ANA, "go:act")
            await press(fake, ANA, "act:d:kafe@")
            await press(fake, ANA, "act:rem:")
            await new_text(fake, ANA.id, 0, "Jag påminner dig")
    finally:
        app.close()
    (cafe,) = ActivityFolder(content / "activities").refresh().upcoming(datetime.now(UTC), kind="cafe")
    before = len(fake.sent(ANA.id))
    with time_machine.travel(cafe.starts - timedelta(hours=23), tick=True):
        app = build_app(settings)  # a new process after the jump: the reminder is in the database
        try:
            async with running(settings, app, channel_options=FAST):
                reminder = await new_text(fake, ANA.id, before, "Påminnelse")
                await asyncio.sleep(0.3)
        finally:
            app.close()
    assert "Romskt kafé" in reminder and "kl. 17:00" in reminder
    assert sum("Påminnelse" in t for t in fake.texts(ANA.id)) == 1


async def test_wait_helpers_do_not_leak_tasks():
    # guard: the e2e tests above leave no broadcaster running
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "broadcast"]
