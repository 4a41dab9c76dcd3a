"""Small talk and navigation words in every language; real questions are never taken for them."""

from __future__ import annotations

import pytest
from conversation_helpers import Resident, make_conversation
from hypothesis import given
from hypothesis import strategies as st

from bot.core.intents import Intent, command, detect, fold

SAID = {
    Intent.GREETING: ["Hej!", "hejsan", "Hello", "hi there!!"[:2], "Moi", "Hyvää päivää", "Bună ziua",
                      "buna ziua", "Sastipe", "Sar san?", "Te aven baxtale!"],
    Intent.THANKS: ["Tack!", "tack så mycket", "Thank you", "Kiitos!", "Mulțumesc", "multumesc",
                    "Najis tuke", "Nais tuke", "Palikerav"],
    Intent.HELP: ["Hjälp", "help", "Apua", "Ajutor!", "Žutipe"],
    Intent.MENU: ["meny", "Menu", "Valikko", "meniu", "Tillbaka"],
    Intent.STOP: ["stopp", "Stop", "Lopeta", "Oprește", "hej då", "ačh"],
    Intent.HUMAN: ["brobyggare", "prata med en människa", "talk to a person", "ihminen",
                   "vreau să vorbesc cu un om", "manuš"],
    Intent.LANGUAGE: ["språk", "Language", "kieli", "limba", "čhib"],
}


@pytest.mark.parametrize("intent, text", [(i, t) for i, ts in SAID.items() for t in ts])
def test_words_people_say_are_understood(intent, text):
    assert detect(text) is intent


@pytest.mark.parametrize(
    "question",
    [
        "Hej, hur söker jag ekonomiskt bistånd?",
        "tack för svaret men var ligger BVC?",
        "I need help with the rent",
        "Stop the eviction please",
        "Miten haen toimeentulotukea?",
        "bistånd",
        "",
    ],
)
def test_questions_are_not_small_talk(question):
    assert detect(question) is None


def test_small_talk_words_together_are_still_small_talk():
    assert detect("hej tack") is Intent.THANKS
    assert detect("Hello, thanks!") is Intent.THANKS


@pytest.mark.parametrize(
    "name, intent",
    [("start", Intent.START), ("meny", Intent.MENU), ("hjalp", Intent.HELP), ("sprak", Intent.LANGUAGE),
     ("valikko", Intent.MENU), ("apua", Intent.HELP), ("kieli", Intent.LANGUAGE), ("meniu", Intent.MENU),
     ("ajutor", Intent.HELP), ("limba", Intent.LANGUAGE), ("chib", Intent.LANGUAGE), ("MENU", Intent.MENU),
     ("mydata", None)],
)
def test_commands_in_every_language(name, intent):
    assert command(name) is intent


@given(st.text(max_size=200))
def test_any_text_folds_and_detects_without_error(text):
    assert fold(text) == fold(fold(text))
    assert detect(text) in (None, *Intent)


def test_typing_a_language_name_switches_to_it(db_engine):
    ana = Resident(make_conversation(db_engine), hint="sv")
    ana.command("start").presses("Svenska")
    ana.says("Română")
    assert "De acum înainte vă vorbesc în Română." in ana.said
    ana.says("suomi")
    assert "Puhun tästä lähtien" in ana.said
    ana.says("romani")  # two Romani languages: ask which
    assert "Mitä kieltä haluat käyttää?" in ana.said
    assert "Romani (Arli)" in " ".join(ana.labels)


def test_answers_in_the_residents_language_come_first_in_a_topic(db_engine):
    ana = Resident(make_conversation(db_engine), hint="en")
    ana.command("start").presses("English").presses("Money")
    questions = [label for label in ana.labels if "menu" not in label.lower()]
    assert questions[0] == "How do I apply for financial assistance?"
    assert questions[-1].endswith("(Svenska)")
