"""The scrubber removes real-shaped identifiers and keeps everything an editor needs to read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.scrub import luhn_ok, scrub

# (text typed by a resident, what must be kept for statistics)
IDENTIFIERS = [
    # Swedish personal identity numbers: with and without century, with -, + or nothing.
    ("mitt personnummer är 850312-1231", "mitt personnummer är [personnummer]"),
    ("pnr 8503121231 tack", "pnr [personnummer] tack"),
    ("19850312-1231", "[personnummer]"),
    ("198503121231", "[personnummer]"),
    ("min farmor 121212+1212 är 110 år", "min farmor [personnummer] är 110 år"),
    ("barnets nummer 20121212-1212", "barnets nummer [personnummer]"),
    ("201212121212 är dotterns", "[personnummer] är dotterns"),
    ("900101-2385, 670712-4530", "[personnummer], [personnummer]"),
    ("född 040229-9879 (skottdag)", "född [personnummer] (skottdag)"),
    ("461231–8883 (med tankstreck)", "[personnummer] (med tankstreck)"),
    ("850312-1234 fel kontrollsiffra", "[personnummer] fel kontrollsiffra"),
    ("pnr 850312 1231 tack", "pnr [personnummer] tack"),
    ("19850312 1231", "[personnummer]"),
    # Coordination numbers (samordningsnummer): day + 60.
    ("samordningsnummer 850372-1238", "samordningsnummer [personnummer]"),
    ("7008632411", "[personnummer]"),
    ("19700863-2411", "[personnummer]"),
    # Swedish phone numbers.
    ("ring mig 070-123 45 67", "ring mig [telefon]"),
    ("0701234567", "[telefon]"),
    ("070 123 45 67", "[telefon]"),
    ("08-123 456 78 efter lunch", "[telefon] efter lunch"),
    ("031-12 34 56", "[telefon]"),
    ("0771-67 67 67", "[telefon]"),
    ("+46 70 123 45 67", "[telefon]"),
    ("+46701234567", "[telefon]"),
    ("0046 70 123 45 67", "[telefon]"),
    ("+46 (0)70-123 45 67", "[telefon]"),
    # International phone numbers.
    ("numarul meu +40 721 234 567", "numarul meu [telefon]"),
    ("soita +358 40 1234567", "soita [telefon]"),
    ("+44 20 7946 0958", "[telefon]"),
    ("+1 (212) 555-0134", "[telefon]"),
    ("0040721234567", "[telefon]"),
    # E-mail addresses.
    ("maila anna.svensson@example.se", "maila [e-post]"),
    ("Mejl: ANNA_1985+bvc@post.example.com.", "Mejl: [e-post]."),
    ("jozef.dinu@gmail.example.ro sau telefon", "[e-post] sau telefon"),
    ("räksmörgås@exempel.se", "[e-post]"),
    # Card numbers (Luhn-valid).
    ("kort 4111 1111 1111 1111", "kort [kort]"),
    ("4111111111111111", "[kort]"),
    ("5555-5555-5555-4444", "[kort]"),
    ("amex 3782 822463 10005", "amex [kort]"),
    ("visa 4012888888881881 utgår", "visa [kort] utgår"),
    # Several in one message.
    (
        "Jag heter X, pnr 19850312-1231, tel 070-123 45 67, anna@example.se",
        "Jag heter X, pnr [personnummer], tel [telefon], [e-post]",
    ),
]

LOOK_ALIKES = [
    "mötet är 2026-05-12 kl 10",
    "den 12/5 eller 05-12-2024",
    "13.5.2024 blev jag sjuk",
    "jag fick 10 000 kr i bistånd",
    "hyran är 12 500 kronor",
    "räkningen på 3 500:- kom idag",
    "skulden är 125 000 000 kr totalt",
    "född 1985",
    "sedan 2019 bor vi här",
    "postnummer 123 45",
    "Storgatan 12, 411 38 Göteborg",
    "diarienummer SN 2024/0456",
    "Dnr 2023-1234",
    "ärendenummer 2024-000123",
    "ordernummer 2305121235",
    "faktura 1234567890",
    "öppet 09.00-12.00 tisdagar",
    "kl 9:00–16:00",
    "tider 0900-1200",
    "ring 112 vid fara",
    "ring 1177 för vård",
    "1177 Vårdguiden eller 112",
    "sfi nivå 3, kurs B",
    "barnet är 3 år och 6 månader",
    "vi är 4 vuxna och 7 barn",
    "version 2.0.1",
    "@kommunen på Instagram",
    "e-post till kommunen",
    "pris 49,90 kr",
    "LSS 9 § punkt 8",
    "SoL 4 kap. 1 §",
    "lägenhet nr 1102, våning 3",
    "klockan 14:30",
    "0000-00 00 00 (exempelnummer)",
    "beställning 900101 2386 och 2 st",  # a space and no valid check digit: two numbers
]


def test_the_table_is_big_enough():
    assert len(IDENTIFIERS) >= 30
    assert len(LOOK_ALIKES) >= 30


@pytest.mark.parametrize(("text", "expected"), IDENTIFIERS)
def test_identifiers_are_replaced(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay(text):
    assert scrub(text) == text


def test_card_number_that_fails_luhn_stays():
    assert not luhn_ok("4111111111111112")
    assert scrub("4111 1111 1111 1112") == "4111 1111 1111 1112"


def test_impossible_dates_are_not_personal_numbers():
    assert scrub("851332-1234") == "851332-1234"  # day 32
    assert scrub("851312-1234") == "851312-1234"  # month 13
    assert scrub("19850229-1234") == "19850229-1234"  # 1985 was no leap year


def test_empty_text():
    assert scrub("") == ""


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_scrub_never_crashes_and_is_idempotent(text):
    once = scrub(text)
    assert scrub(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 -+()@.:/–", max_size=60))
def test_digit_soup_is_idempotent(text):
    once = scrub(text)
    assert scrub(once) == once


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])-\d{4}", fullmatch=True))
def test_every_real_shaped_personal_number_is_removed(pnr):
    assert "[personnummer]" in scrub(f"mitt nummer {pnr} tack")
    assert pnr[-4:] not in scrub(f"mitt nummer {pnr} tack")


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


words_around = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö ,.?!", max_size=30)


@settings(max_examples=100, deadline=None)
@given(words_around, st.from_regex(r"07[02369]-?\d{3} ?\d{2} ?\d{2}", fullmatch=True), words_around)
def test_every_swedish_mobile_number_is_removed(before, phone, after):
    out = scrub(f"{before} {phone} {after}")
    assert "[telefon]" in out or "[personnummer]" in out
    assert phone[-2:] not in out.replace(before, "").replace(after, "")


@settings(max_examples=100, deadline=None)
@given(words_around, st.from_regex(r"4\d{14}", fullmatch=True), words_around)
def test_every_luhn_valid_card_number_is_removed(before, body, after):
    card = _with_check_digit(body)
    grouped = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    for shape in (card, grouped):
        out = scrub(f"{before} {shape} {after}")
        assert "[kort]" in out and card[-4:] not in out
