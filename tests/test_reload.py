"""Content reload while running (/reload in the staff group, SIGHUP): last good content kept, reasons told."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from e2e_steps import buttons
from fakebotapi import FakeBotAPI, User
from fakebotapi.harness import FAST, STAFF_CHAT, settings_for

from bot.bootstrap import build_app
from bot.channels.telegram_run import running
from bot.content.reload import ContentHolder
from bot.core.i18n import I18n
from bot.core.messages import Kind, StaffIncoming
from bot.reload import SHOWN_PROBLEMS, ReloadStaff, install_sighup, reload_content

PACK = Path(__file__).parent / "data" / "pack"
ANA = User(4242, "Ana", "sv")
EVA = User(7001, "Eva", "sv")
MALLORY = User(7666, "Mallory", "en")
BROKEN = "---\nquestion: [broken\n---\nText\n"
WHERE = re.compile(r"money/financial-assistance\.sv\.md:[1-4]: ")  # path:line: why
RENT = "---\nquestion: Vad kostar hyran i kommunen?\nkeywords: [hyra, hyran]\n---\nHyran står i ditt **hyresavtal**.\n"


@pytest.fixture
def pack(tmp_path) -> Path:
    return Path(shutil.copytree(PACK, tmp_path / "content"))


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        f.group = f.add_group(STAFF_CHAT, title="Brobyggare")
        f.add_member(STAFF_CHAT, EVA)
        yield f


def staff_cmd(command: str) -> StaffIncoming:
    return StaffIncoming(staff_id="tg:7001", first_name="Eva", kind=Kind.COMMAND, command=command,
                         text="/" + command)


def test_reload_report_names_each_broken_file_and_line(pack, caplog):
    holder = ContentHolder(pack)
    served = set(holder.content.entries)
    staff = ReloadStaff(holder, I18n(), locale="en")
    (pack / "money" / "financial-assistance.sv.md").write_text(BROKEN, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        [out] = staff.handle_staff(staff_cmd("reload"), now=None)  # type: ignore[arg-type]
    assert out.target.ticket is None  # the group's general thread
    text = out.reply.text
    assert "was not loaded" in text and f"({len(served)} entries)" in text
    assert WHERE.search(text)
    assert set(holder.content.entries) == served  # still the last good content
    assert WHERE.search(caplog.text)  # the log says why as well
    assert staff.handle_staff(staff_cmd("queue"), now=None) == []  # type: ignore[arg-type]


def test_many_problems_are_cut_short_for_the_group_but_all_logged(pack, caplog):
    holder = ContentHolder(pack)
    for i in range(SHOWN_PROBLEMS + 3):
        (pack / "money" / f"broken-{i}.sv.md").write_text(BROKEN, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        result = reload_content(holder)
    assert not result.ok and len(result.errors) >= SHOWN_PROBLEMS + 3
    staff = ReloadStaff(holder, I18n(), locale="sv")
    text = staff.handle_staff(staff_cmd("reload"), now=None)[0].reply.text  # type: ignore[arg-type]
    assert text.count("broken-") == SHOWN_PROBLEMS and "se loggen" in text
    assert sum("broken-" in r.getMessage() for r in caplog.records) >= SHOWN_PROBLEMS + 3


def test_an_unreadable_folder_keeps_the_content_too(pack):
    holder = ContentHolder(pack)
    shutil.rmtree(pack)
    result = reload_content(holder)
    assert not result.ok and result.entries == len(holder.content.entries) > 0


async def test_staff_reload_end_to_end_keeps_serving_then_takes_the_fix(fake, pack, tmp_path, caplog):
    settings = settings_for(fake, tmp_path, content_dir=pack)
    app = build_app(settings)
    try:
        async with running(settings, app, channel_options=FAST):
            await fake.push(fake.text_update(ANA, "Hej"))
            welcome = await fake.wait_for(lambda: [m for m in fake.sent(ANA.id) if "lang:sv" in buttons(m)])
            await fake.push(fake.callback_update(ANA, welcome[0], "lang:sv"))
            await fake.wait_for(lambda: [m for m in fake.sent(ANA.id) if "nav:human" in buttons(m)])

            (pack / "money" / "financial-assistance.sv.md").write_text(BROKEN, encoding="utf-8")
            (pack / "money" / "rent.sv.md").write_text(RENT, encoding="utf-8")
            # a resident and a non-member cannot reload
            await fake.push(fake.text_update(ANA, "/reload"))
            await fake.push(fake.text_update(MALLORY, "/reload", chat=fake.group))
            await asyncio.sleep(0.5)
            assert "rent" not in app.content.entries and fake.sent(STAFF_CHAT) == []

            with caplog.at_level(logging.WARNING):
                await fake.push(fake.text_update(EVA, "/reload", chat=fake.group))
                report = await fake.wait_for(lambda: fake.texts(STAFF_CHAT))
            assert "har fel" in report[0] and WHERE.search(report[0])
            assert WHERE.search(caplog.text)

            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "Hur får jag försörjningsstöd?"))
            answer = await fake.wait_for(lambda: fake.texts(ANA.id)[before:])
            assert "socialtjänsten" in answer[-1]  # the last good answer is still served

            shutil.copy(PACK / "money" / "financial-assistance.sv.md",
                        pack / "money" / "financial-assistance.sv.md")
            await fake.push(fake.text_update(EVA, "/reload", chat=fake.group))
            ok = await fake.wait_for(lambda: fake.texts(STAFF_CHAT)[1:])
            assert "omladdat" in ok[0]
            before = len(fake.sent(ANA.id))
            await fake.push(fake.text_update(ANA, "Vad kostar hyran i kommunen?"))
            answer = await fake.wait_for(lambda: fake.texts(ANA.id)[before:])
            assert "hyresavtal" in answer[-1]  # the new entry is served without a restart
    finally:
        app.close()


async def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_sighup_reloads_and_keeps_the_last_good_content(pack, caplog):
    holder = ContentHolder(pack)
    served = set(holder.content.entries)
    assert install_sighup(holder)
    loop = asyncio.get_running_loop()
    try:
        (pack / "money" / "financial-assistance.sv.md").write_text(BROKEN, encoding="utf-8")
        (pack / "money" / "rent.sv.md").write_text(RENT, encoding="utf-8")
        with caplog.at_level(logging.INFO):
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_until(lambda: "content reload refused" in caplog.text)
        assert WHERE.search(caplog.text)
        assert set(holder.content.entries) == served
        shutil.copy(PACK / "money" / "financial-assistance.sv.md",
                    pack / "money" / "financial-assistance.sv.md")
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_until(lambda: "rent" in holder.content.entries)
        assert holder.matcher.match("vad kostar hyran", "sv").top.entry_id == "rent"
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
