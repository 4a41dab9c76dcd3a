"""A resident uses the privacy menu, /mydata and /forget through the whole conversation."""

from __future__ import annotations

import logging

import pytest
from conversation_helpers import Resident, make_conversation
from sqlmodel import Session, select

from bot.core.privacy import PrivacyFlow, StateHolder
from bot.db.analytics_store import SqlAnalytics
from bot.db.tables.stats import UsageEvent

CHAT = "tg:777000123"


@pytest.fixture
def setup(db_engine):
    analytics = SqlAnalytics(db_engine, retention_days=90)
    conversation = make_conversation(db_engine, analytics)
    flow = PrivacyFlow(retention_days=90)
    flow.register(StateHolder(conversation.states, on_forget=conversation.residents.forget))
    flow.register(analytics)
    conversation.register_flow(flow)
    return conversation, analytics, db_engine


def test_mydata_then_forget_through_the_conversation(setup, caplog):
    caplog.set_level(logging.DEBUG)
    conversation, analytics, engine = setup
    ana = Resident(conversation, CHAT, hint="en")
    ana.says("hello")
    ana.presses("English")
    assert "/mydata" in ana.said  # the first-contact note is the privacy flow's
    ana.says("where can I park my horse, my number is 070-123 45 67")

    ana.command("mydata")
    assert "This is what samvag keeps about you" in ana.said
    assert "1 question the bot could not answer well" in ana.said

    ana.command("forget")
    assert "cannot be undone" in ana.said
    assert conversation.states.load(CHAT) is not None
    ana.presses("Yes, erase everything")
    assert "has been erased" in ana.said
    # Gone, and not written back by the event that erased it.
    assert conversation.states.load(CHAT) is None
    with Session(engine) as session:
        events = list(session.exec(select(UsageEvent)))
    assert events and all(e.text is None for e in events)
    assert all(e.resident_hash != analytics.resident_hash(CHAT) for e in events)

    # Writing again starts from the beginning.
    ana.says("hello")
    assert "Which language" in ana.said
    # Logs never carry the chat id or the message text.
    assert "777000123" not in caplog.text and "horse" not in caplog.text


def test_the_menu_button_shows_the_note_in_the_residents_language(setup):
    conversation, _analytics, _engine = setup
    ana = Resident(conversation, CHAT, hint="sv")
    ana.says("hej")
    ana.presses("Svenska")
    ana.command("menu")
    ana.presses("Integritet")
    assert "Om din integritet" in ana.said
    ana.presses("Vad som sparas om mig")
    assert "Det här sparar samvag om dig" in ana.said
    ana.presses("Radera mina uppgifter")
    ana.presses("Nej, behåll det")
    assert "Ingenting raderades" in ana.said
    assert conversation.states.load(CHAT) is not None


def test_forget_from_inside_another_flow(setup):
    conversation, _analytics, _engine = setup

    class Busy:
        name = "busy"

        def menu_label(self, ctx):
            return None

        def start(self, ctx, incoming):
            ctx.enter("busy")
            return []

        def handle(self, ctx, incoming):
            return []

    conversation.register_flow(Busy())
    ana = Resident(conversation, CHAT, hint="en")
    ana.says("hello")
    ana.presses("English")
    ana.command("busy")
    ana.command("forget")
    assert "cannot be undone" in ana.said
    ana.presses("Yes, erase everything")
    assert conversation.states.load(CHAT) is None
