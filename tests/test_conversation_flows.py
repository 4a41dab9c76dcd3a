"""How registered flows and interceptors plug into the conversation (see bot.core.flows)."""

from __future__ import annotations

import pytest
from conversation_helpers import RecordingAnalytics, Resident, make_conversation

from bot.core.flows import Ctx
from bot.core.messages import Choice, Incoming, Kind, Outbound, Reply, ToStaff, to


class TwoStepFlow:
    """Asks for a day, then a time: enough to see state carried between events."""

    def __init__(self, name: str = "appt", label: str = "Request an appointment") -> None:
        self.name = name
        self.label = label
        self.started = 0

    def menu_label(self, ctx: Ctx) -> str | None:
        return "📅 " + ctx._(self.label)

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        self.started += 1
        ctx.enter(self.name, {"step": "day"})
        return to(ctx.resident, Reply("Which day?", [[Choice(f"{self.name}:tue", "Tuesday")]]))

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        if incoming.kind is Kind.CHOICE and incoming.choice == f"{self.name}:tue":
            ctx.enter(self.name, {"step": "time", "day": "tue"})
            return to(ctx.resident, Reply("What time?"))
        if ctx.data.get("step") == "time" and incoming.kind is Kind.TEXT:
            day = ctx.data["day"]
            ctx.leave()
            return to(ctx.resident, Reply(f"Booked {day} at {incoming.text}"))
        return to(ctx.resident, Reply(f"In flow, step {ctx.data.get('step')}"))


class HandoffFlow(TwoStepFlow):
    def __init__(self) -> None:
        super().__init__("handoff", "Talk to a bridge-builder")

    def start(self, ctx, incoming):
        self.started += 1
        ctx.enter("handoff", {"ticket": 7})
        return [Outbound(ToStaff(ticket=7), Reply("New ticket")),
                *to(ctx.resident, Reply("A bridge-builder will answer you here."))]


class RiskWords:
    """Takes every message containing 'emergency'."""

    def intercept(self, ctx, incoming):
        if "emergency" in incoming.text:
            return to(ctx.resident, Reply(f"Call 112 ({ctx.locale})"))
        return None


@pytest.fixture
def flows():
    return [HandoffFlow(), TwoStepFlow()]


def test_menu_shows_registered_flows_and_the_bridge_builder_button_once(db_engine, flows):
    conversation = make_conversation(db_engine, flows=flows)
    ana = Resident(conversation, hint="en")
    ana.command("start").presses("English")
    assert "📅 Request an appointment" in ana.labels
    assert sum("bridge-builder" in label for label in ana.labels) == 1


def test_a_flow_keeps_its_state_across_a_restart(db_engine, flows):
    ana = Resident(make_conversation(db_engine, flows=flows), hint="en")
    ana.command("start").presses("English")
    ana.presses("Request an appointment")
    assert ana.said == "Which day?"
    ana.presses("Tuesday")
    assert ana.said == "What time?"

    ana.conversation = make_conversation(db_engine, flows=[HandoffFlow(), TwoStepFlow()])
    ana.says("10:00")
    assert ana.said == "Booked tue at 10:00"
    ana.says("How do I apply for financial assistance?")  # back in the ordinary conversation
    assert "social services" in ana.said


def test_talk_to_a_bridge_builder_starts_the_handoff_flow(db_engine, flows):
    conversation = make_conversation(db_engine, flows=flows)
    ana = Resident(conversation, hint="sv")
    ana.command("start").presses("Svenska")
    ana.says("xyzzy plopp")  # not found: offers a bridge-builder
    ana.presses("Prata med en brobyggare")
    assert ana.said == "A bridge-builder will answer you here."
    assert any(isinstance(o.target, ToStaff) for o in ana.outbound)
    assert flows[0].started == 1
    ana.says("brobyggare")  # inside the flow, words go to the flow, not to intents
    assert ana.said == "In flow, step None"


def test_our_commands_and_buttons_take_the_resident_out_of_a_flow(db_engine, flows):
    conversation = make_conversation(db_engine, flows=flows)
    ana = Resident(conversation, hint="en")
    ana.command("start").presses("English").presses("Request an appointment")
    ana.command("menu")
    assert "What can I help you with?" in ana.said
    ana.says("10:00")
    assert "Booked" not in ana.said
    assert conversation.states.load("tg:100").flow is None


def test_interceptors_come_first_even_inside_a_flow(db_engine, flows):
    conversation = make_conversation(db_engine, flows=flows, interceptors=[RiskWords()])
    ana = Resident(conversation, hint="fi")
    ana.command("start").presses("Suomi").presses("Request an appointment")
    ana.says("emergency!")
    assert ana.said == "Call 112 (fi)"
    ana.presses("Tuesday")
    assert ana.said == "What time?"


def test_a_flow_that_fails_leaves_the_state_as_it_was(db_engine):
    class Broken(TwoStepFlow):
        def handle(self, ctx, incoming):
            ctx.leave()
            raise RuntimeError("boom")

    conversation = make_conversation(db_engine, flows=[Broken()])
    ana = Resident(conversation, hint="sv")
    ana.command("start").presses("Svenska").presses("Request an appointment")
    ana.says("tisdag")
    assert "något gick fel" in ana.said
    assert conversation.states.load("tg:100").flow == "appt"


def test_a_flow_name_that_clashes_with_our_buttons_is_refused(db_engine):
    with pytest.raises(ValueError):
        make_conversation(db_engine, flows=[TwoStepFlow(name="faq")])


def test_analytics_are_recorded_for_the_journey_not_for_flows(db_engine, flows):
    analytics = RecordingAnalytics()
    conversation = make_conversation(db_engine, analytics, flows=flows)
    ana = Resident(conversation, hint="en")
    ana.command("start").presses("English").presses("Request an appointment").presses("Tuesday")
    assert analytics.kinds() == ["conversation_start"]


def test_reloaded_content_is_served_at_once_and_old_buttons_fail_kindly(db_engine):
    import dataclasses
    from types import SimpleNamespace

    from conversation_helpers import _CONTENT, _MATCHER

    from bot.core.search import Matcher

    source = SimpleNamespace(content=_CONTENT, matcher=_MATCHER)
    conversation = make_conversation(db_engine)
    conversation.source = source
    ana = Resident(conversation, hint="en")
    ana.command("start").presses("English").presses("School")
    old_buttons = list(ana.buttons)

    entries = {k: v for k, v in _CONTENT.entries.items() if k != "school-start"}
    smaller = dataclasses.replace(_CONTENT, entries=entries)
    source.content, source.matcher = smaller, Matcher(smaller)

    ana.buttons = old_buttons
    ana.presses("When does my child start school?")
    assert "does not work any more" in ana.said
    assert "School" not in " ".join(ana.labels)  # an empty topic leaves the menu


def test_an_event_that_fails_transiently_is_handled_when_redelivered(db_engine):
    class Flaky(TwoStepFlow):
        failures = 1

        def start(self, ctx, incoming):
            if self.failures:
                self.failures -= 1
                raise TimeoutError("database restarting")
            return super().start(ctx, incoming)

    conversation = make_conversation(db_engine, flows=[Flaky()])
    conversation.transient_error = lambda exc: isinstance(exc, TimeoutError)
    Resident(conversation, hint="en").command("start").presses("English")
    event = Incoming("tg:100", Kind.CHOICE, choice="go:appt", event_id="tg:u:9")
    with pytest.raises(TimeoutError):
        conversation.handle(event)
    replies = conversation.handle(event)  # the channel's retry, or Telegram's redelivery
    assert [o.reply.text for o in replies] == ["Which day?"]
    assert conversation.handle(event) == []  # and then it is a duplicate
