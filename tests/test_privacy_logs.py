"""Logs never carry message text, names or chat ids: a whole journey through the real app."""

from __future__ import annotations

import logging

from bot.bootstrap import build_app
from bot.core.messages import Incoming, Kind, ToStaff
from bot.settings import load_settings

CHAT = "tg:31415926"
NAME = "Zlatanka"
SECRET = "xylofonhemlighet"
PHONE = "070-555 12 34"


def test_a_journey_with_a_question_a_handoff_and_forget_logs_nothing_personal(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = build_app(load_settings(database_url=f"sqlite:///{tmp_path / 'logs.db'}"))
    n = 0

    def send(**fields):
        nonlocal n
        n += 1
        out = app.conversation.handle(
            Incoming(CHAT, first_name=NAME, language_hint="sv", event_id=f"e{n}", **fields)
        )
        return out

    try:
        send(kind=Kind.TEXT, text=f"hej {SECRET}")
        send(kind=Kind.CHOICE, choice="lang:sv")
        send(kind=Kind.TEXT, text=f"{SECRET} ring mig på {PHONE}")
        send(kind=Kind.TEXT, text=f"mitt personnummer är 19850312-1231 och {SECRET}")
        send(kind=Kind.CHOICE, choice="nav:human")
        send(kind=Kind.CHOICE, choice="handoff:consent")
        relayed = send(kind=Kind.TEXT, text=f"jag behöver hjälp med {SECRET}, jag heter {NAME}")
        assert any(isinstance(o.target, ToStaff) for o in relayed)  # the handoff took part
        send(kind=Kind.COMMAND, command="mydata")
        asked = send(kind=Kind.COMMAND, command="forget")
        assert "privacy:yes" in [c.id for o in asked for row in o.reply.choices for c in row]
        send(kind=Kind.CHOICE, choice="privacy:yes")
        for job in app.jobs:
            job.tick(app.clock())
    finally:
        app.close()

    assert caplog.records, "the journey logged nothing at all; the check would be empty"
    for word in (SECRET, NAME, "31415926", "555 12 34", "5551234", "19850312", "850312"):
        assert word not in caplog.text, word
