"""Whole journeys through the conversation core, in every supported language."""

from __future__ import annotations

import uuid

import pytest
from conversation_helpers import RecordingAnalytics, Resident, make_conversation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.conversation import MAX_BUTTON_ID, short_key
from bot.core.ports import ResidentState

LOCALES = ["sv", "en", "fi", "ro", "rmn", "rmy"]
LANGUAGE_BUTTON = {
    "sv": "Svenska", "en": "English", "fi": "Suomi", "ro": "Română",
    "rmn": "Romani (Arli)", "rmy": "Romani (Kelderash)",
}
WELCOME = {
    "sv": "Välkommen", "en": "Welcome", "fi": "Tervetuloa", "ro": "Bine ați venit",
    "rmn": "Šukar avilan", "rmy": "Bahtalo avilan",
}
MENU_PROMPT = {
    "sv": "Vad kan jag hjälpa dig med?", "en": "What can I help you with?",
    "fi": "Miten voin auttaa?", "ro": "Cu ce vă pot ajuta?",
    "rmn": "Sar šaj te pomožinav tut?", "rmy": "Sar šai ažutiv tu?",
}
TOPIC = {"sv": "Pengar", "en": "Money", "fi": "Raha", "ro": "Bani", "rmn": "Pare", "rmy": "Love"}
QUESTION = {
    "sv": "Hur söker jag ekonomiskt bistånd?",
    "en": "How do I apply for financial assistance?",
    "fi": "Miten haen toimeentulotukea?",
    "ro": "Cum solicit ajutor financiar?",
    "rmn": "Sar te mangav love katar o socijalno?",
    "rmy": "Sar te mangav love kataro socialo?",
}
HELPFUL = {"sv": "Ja", "en": "Yes", "fi": "Kyllä", "ro": "Da", "rmn": "Va", "rmy": "Va"}
UNHELPFUL = {"sv": "Nej", "en": "No", "fi": "Ei", "ro": "Nu", "rmn": "Na", "rmy": "Na"}
GLAD = {
    "sv": "Vad bra", "en": "glad it helped", "fi": "Hienoa", "ro": "Mă bucur",
    "rmn": "Radujinav", "rmy": "Loshav",
}
NOT_KNOWN = {
    "sv": "det vet jag inte", "en": "I do not know the answer", "fi": "en tiedä vastausta",
    "ro": "nu știu răspunsul", "rmn": "akava na džanav", "rmy": "kadava na žanav",
}
BRIDGE = {
    "sv": "Prata med en brobyggare", "en": "Talk to a bridge-builder",
    "fi": "Puhu siltarakentajan kanssa", "ro": "Vorbiți cu un mediator",
    "rmn": "De duma jekhe brobyggaresa", "rmy": "Vorbisar jekhe brobyggaresa",
}
GREETING = {"sv": "Hej!", "en": "hello", "fi": "Moi", "ro": "Bună ziua", "rmn": "Sastipe", "rmy": "Sar san?"}
THANKS = {"sv": "tack så mycket", "en": "Thanks!", "fi": "kiitos", "ro": "Mulțumesc", "rmn": "Najis tuke", "rmy": "Nais tuke"}


@pytest.fixture
def analytics():
    return RecordingAnalytics()


@pytest.fixture
def conversation(db_engine, analytics):
    return make_conversation(db_engine, analytics)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_whole_journey_in_every_language(conversation, analytics, locale):
    ana = Resident(conversation, hint=locale)

    ana.command("start")
    assert WELCOME[locale] in ana.said
    assert [lbl.removeprefix("✓ ") for lbl in ana.labels] == list(LANGUAGE_BUTTON.values())

    ana.presses(LANGUAGE_BUTTON[locale])
    assert MENU_PROMPT[locale] in ana.said
    assert len(ana.replies) == 2  # the privacy note, then the menu

    ana.presses(TOPIC[locale])
    assert QUESTION[locale] in ana.labels
    ana.presses(QUESTION[locale])
    assert "0000-44 55 66" in ana.said  # the municipality profile filled in
    ana.presses(HELPFUL[locale])
    assert GLAD[locale] in ana.said

    ana.says(QUESTION[locale])
    assert QUESTION[locale] in ana.said
    ana.presses(UNHELPFUL[locale])
    assert BRIDGE[locale] in " ".join(ana.labels)

    ana.says("xyzzy plopp frobnicate")
    assert NOT_KNOWN[locale] in ana.said
    assert any(BRIDGE[locale] in label for label in ana.labels)

    ana.says(GREETING[locale])
    assert TOPIC[locale] in " ".join(ana.labels)
    ana.says(THANKS[locale])
    assert ana.said  # a kind word, not a search

    feedback = [e["helpful"] for e in analytics.events if e["kind"] == "feedback"]
    assert feedback == [True, False]
    assert analytics.kinds().count("conversation_start") == 1
    assert "not_found" in analytics.kinds()
    assert all(e["locale"] == locale for e in analytics.events if e["kind"] != "conversation_start")


def test_switching_language_midway_keeps_the_place_and_changes_every_word(conversation):
    ana = Resident(conversation, hint="sv-SE")
    ana.command("start").presses("Svenska")
    ana.says("Hur söker jag ekonomiskt bistånd?")
    assert "socialtjänsten" in ana.said

    ana.command("sprak")
    assert "Vilket språk" in ana.said
    ana.presses("Suomi")
    assert "Puhun tästä lähtien" in ana.said
    assert "Miten voin auttaa?" in ana.said
    assert "Yksityisyydestäsi" not in ana.said  # the privacy note is shown only once

    ana.says("Miten haen toimeentulotukea?")
    assert "sosiaalipalveluista" in ana.said


def test_an_answer_missing_in_the_residents_language_says_so_and_offers_a_person(conversation):
    mirela = Resident(conversation, hint="ro")
    mirela.command("start").presses("Română")
    mirela.presses("Bani")
    mirela.presses("Var får jag hjälp med skulder?")
    assert "nu există încă în Română" in mirela.said
    assert "Svenska" in mirela.said
    assert "budget- och skuldrådgivning" in mirela.said
    assert "Vorbiți cu un mediator" in " ".join(mirela.labels)


def test_an_unreviewed_translation_carries_a_note_and_the_swedish_original(conversation):
    dragan = Resident(conversation, hint="rmn")
    dragan.command("start").presses("Romani (Arli)")
    dragan.says("Sar te mangav love katar o socijalno?")
    assert "prevod" in dragan.said  # "this translation has not been checked"
    dragan.presses("Sikav o originalo")
    assert "Hur söker jag ekonomiskt bistånd?" in dragan.said
    assert "socialtjänsten" in dragan.said


def test_a_vague_question_gets_up_to_three_suggestions_as_buttons(conversation, analytics):
    lisa = Resident(conversation, hint="sv")
    lisa.command("start").presses("Svenska")
    lisa.says("bistånd barn")
    assert "Menade du" in lisa.said
    suggestions = [c for c in lisa.buttons if c.id.startswith("sug:")]
    assert 1 <= len(suggestions) <= 3
    lisa.presses("När börjar mitt barn skolan?")
    assert "förskoleklass" in lisa.said
    assert analytics.kinds()[-2:] == ["suggested", "suggestion_taken"]


def test_the_first_question_is_answered_once_the_language_is_chosen(conversation):
    ali = Resident(conversation, hint="en-GB")
    ali.says("How do I apply for financial assistance?")
    assert "Welcome" in ali.said
    ali.presses("English")
    assert "social services" in ali.said


def test_a_voice_recording_beside_the_answer_is_attached(conversation):
    eva = Resident(conversation, hint="sv")
    eva.command("start").presses("Svenska")
    eva.says("Hur söker jag ekonomiskt bistånd?")
    assert eva.replies[-1].voice is not None
    assert eva.replies[-1].voice.name == "financial-assistance.sv.ogg"


def test_talk_to_a_bridge_builder_without_the_handoff_flow_is_kindly_not_available(conversation):
    eva = Resident(conversation, hint="sv")
    eva.command("start").presses("Svenska")
    eva.presses("Prata med en brobyggare")
    assert "går inte" in eva.said
    assert "0000-11 22 33" in eva.said


@pytest.mark.parametrize(
    "words, expected",
    [
        ("/hjalp", "Jag svarar på vanliga frågor"),
        ("/meny", "Vad kan jag hjälpa dig med?"),
        ("/valikko", "Vad kan jag hjälpa dig med?"),
        ("/language", "Vilket språk"),
        ("/nonsense", "Det kommandot känner jag inte till"),
        ("hjälp", "Jag svarar på vanliga frågor"),
        ("meny", "Vad kan jag hjälpa dig med?"),
        ("stopp", "Okej"),
        ("brobyggare", "går inte"),
    ],
)
def test_commands_and_words_in_local_languages(conversation, words, expected):
    eva = Resident(conversation, hint="sv")
    eva.command("start").presses("Svenska")
    if words.startswith("/"):
        eva.command(words[1:])
    else:
        eva.says(words)
    assert expected in eva.said


@pytest.mark.parametrize(
    "send",
    [
        lambda r: r.says(""),
        lambda r: r.says("   \x00\x07  "),
        lambda r: r.says("a" * 10_000),
        lambda r: r.says("hej\x00\x1b[31m" + "ä" * 50),
        lambda r: r.presses_id("faq:no-such-entry"),
        lambda r: r.presses_id("cat:gone"),
        lambda r: r.presses_id("zzz:whatever"),
        lambda r: r.presses_id(""),
        lambda r: r.presses_id("fb:financial-assistance:maybe"),
        lambda r: r.presses_id("go:no-such-flow"),
        lambda r: r.sends_media("sticker"),
    ],
)
def test_bad_input_gets_a_kind_reply_in_the_residents_language(conversation, send):
    eva = Resident(conversation, hint="fi")
    eva.command("start").presses("Suomi")
    send(eva)
    assert eva.said
    assert "Traceback" not in eva.said
    # In Finnish: none of the English msgids leaked through.
    assert not any(word in eva.said for word in ("Please", "Sorry", "menu."))


def test_a_redelivered_event_is_handled_once(conversation, db_engine):
    from bot.core.messages import Incoming, Kind

    first = Incoming("tg:5", Kind.COMMAND, command="start", event_id="tg:u:42")
    assert conversation.handle(first)
    assert conversation.handle(first) == []


def test_a_restart_mid_journey_loses_nothing(db_engine, analytics):
    before = make_conversation(db_engine, analytics)
    lisa = Resident(before, hint="sv")
    lisa.command("start").presses("Suomi")
    lisa.says("bistånd barn")  # suggestions are on screen when the process stops
    buttons = list(lisa.buttons)

    after = make_conversation(db_engine, analytics)  # a new process over the same database
    lisa.conversation = after
    lisa.buttons = buttons
    lisa.presses("När börjar mitt barn skolan?")
    assert "förskoleklass" in lisa.said
    assert "Oliko tästä apua?" in lisa.said  # still Finnish
    lisa.presses("Ei")
    unhelpful = [e for e in analytics.events if e["kind"] == "feedback"][-1]
    assert unhelpful["helpful"] is False and unhelpful["text"] == "bistånd barn"


def test_button_ids_fit_telegram_for_long_entry_ids(conversation):
    eva = Resident(conversation, hint="sv")
    eva.command("start").presses("Svenska").presses("Pengar")
    eva.presses("skulder")
    ids = [c.id for c in eva.buttons]
    assert all(len(i.encode()) <= MAX_BUTTON_ID for i in ids)
    assert short_key("debt-advice-for-families-with-many-small-children-in-town").startswith("~")


def test_staff_get_a_ctx_in_the_residents_own_language(conversation):
    ana = Resident(conversation, resident="tg:77", hint="ro")
    ana.command("start").presses("Română")
    ctx = conversation.ctx_for("tg:77")
    assert ctx.locale == "ro"
    assert ctx._("Main menu") == "Meniul principal"
    assert conversation.ctx_for("tg:unknown").locale == "sv"


def test_a_resident_who_was_forgotten_starts_over(conversation):
    ana = Resident(conversation, resident="tg:88", hint="en")
    ana.command("start").presses("English")
    conversation.residents.forget("tg:88")
    assert conversation.states.load("tg:88") is None
    ana.says("hello")
    assert "Welcome" in ana.said


def test_state_survives_in_the_database(conversation):
    ana = Resident(conversation, resident="tg:99", hint="fi")
    ana.command("start").presses("Suomi")
    state = conversation.states.load("tg:99")
    assert isinstance(state, ResidentState)
    assert state.locale == "fi" and state.step == "menu"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["text", "choice", "command"]),
    payload=st.text(max_size=300),
    locale=st.sampled_from(LOCALES),
)
def test_any_event_gets_a_reply_and_never_crashes(sqlite_engine, kind, payload, locale):
    conversation = make_conversation(sqlite_engine)
    someone = Resident(conversation, resident=f"tg:{uuid.uuid4().hex[:12]}", hint=locale)
    someone.command("start").presses(LANGUAGE_BUTTON[locale])
    if kind == "text":
        someone.says(payload)
    elif kind == "choice":
        someone.presses_id(payload[:64])
    else:
        someone.command(payload[:32])
    assert someone.replies
    assert all(len(i.encode()) <= MAX_BUTTON_ID for i in (c.id for c in someone.buttons))


def test_retention_blanks_the_residents_words_kept_in_state(conversation, db_engine):
    from datetime import timedelta

    from conversation_helpers import NOW

    from bot.db.retention import RetentionJob

    lisa = Resident(conversation, resident="tg:55", hint="sv")
    lisa.command("start").presses("Svenska").says("bistånd skola")
    assert conversation.states.load("tg:55").memo["q"] == "bistånd skola"
    RetentionJob(db_engine, days=90).purge(NOW + timedelta(days=91))
    state = conversation.states.load("tg:55")
    assert "q" not in state.memo and state.locale == "sv"
