"""Removes personal identity numbers, phone numbers, e-mail addresses and card numbers from text.

Used before anything a resident typed is kept for statistics (bot.db.analytics_store). It must
keep what editors need to read a question: dates, amounts, years, postcodes, case numbers,
opening hours and the national numbers 112 and 1177.
"""

from __future__ import annotations

import re
from datetime import date

from phonenumbers import Leniency, PhoneNumberMatcher

PERSONNUMMER = "[personnummer]"
PHONE = "[telefon]"
EMAIL = "[e-post]"
CARD = "[kort]"

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)

# Card numbers: 13-19 digits, contiguous or in groups of four (Amex: 4-6-5), Luhn-checked below.
_CARD = re.compile(
    r"(?<!\d)(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{5})(?![\d])"
)

# Swedish personal identity / coordination number: [CC]YYMMDD, then -, + or nothing, then four
# digits. An en dash counts as "-" because phones autocorrect it; residents also type a space.
_PNR = re.compile(r"(?<![\d])((?:19|20|18)?)(\d{2})(\d{2})(\d{2})([-+\u2013 ]?)(\d{4})(?![\d])")

# What phone matching must leave alone even when the digits would make a valid number:
# "09.00-12.00", "0900-1200" (opening hours) and "05-12-2024", "5.12.24" (dates).
_TIME_RANGE = re.compile(r"^(\d{1,2})[.:]?([0-5]\d)\s*[-\u2013]\s*(\d{1,2})[.:]?([0-5]\d)$")
_DMY_DATE = re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{2}|\d{4})$")
_YMD_DATE = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})$")


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _valid_birth_date(century: str, yy: str, mm: str, dd: str) -> bool:
    month, day = int(mm), int(dd)
    if day > 60:  # coordination number (samordningsnummer): day + 60
        day -= 60
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    years = [int(century + yy)] if century else [2000 + int(yy), 1900 + int(yy)]
    for year in years:
        try:
            date(year, month, day)
        except ValueError:
            continue
        return True
    return False


def _personnummer(m: re.Match[str]) -> str:
    century, yy, mm, dd, sep, tail = m.groups()
    if not _valid_birth_date(century, yy, mm, dd):
        return m.group(0)
    # Bare ten digits (or two numbers after each other) are also order, OCR and phone numbers:
    # demand the check digit there. With -, + or a century the shape alone is telling, and a
    # mistyped check digit must not let a real number through.
    ambiguous = sep == " " or (sep == "" and not century)
    if ambiguous and not luhn_ok(yy + mm + dd + tail):
        return m.group(0)
    return PERSONNUMMER


def _card(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return CARD
    return m.group(0)


def _is_date(raw: str) -> bool:
    if m := _DMY_DATE.match(raw):
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
    elif m := _YMD_DATE.match(raw):
        year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    else:
        return False
    y = int(year) if len(year) == 4 else 2000 + int(year)
    try:
        date(y, month, day)
    except ValueError:
        return False
    return True


def _is_time_range(raw: str) -> bool:
    m = _TIME_RANGE.match(raw)
    return bool(m) and int(m.group(1)) <= 24 and int(m.group(3)) <= 24


def _phones(text: str) -> str:
    spans: list[tuple[int, int]] = []
    for match in PhoneNumberMatcher(text, "SE", leniency=Leniency.VALID):
        raw = match.raw_string.strip()
        # A Swedish number is always typed with its trunk 0 or a country code; without one,
        # "12 500 000" is an amount, not a phone number.
        if not raw.lstrip("(").startswith(("0", "+")):
            continue
        if _is_time_range(raw) or _is_date(raw):
            continue
        spans.append((match.start, match.end))
    for start, end in reversed(spans):
        text = text[:start] + PHONE + text[end:]
    return text


def scrub(text: str) -> str:
    """Replace identifiers with tokens like [personnummer]; everything else is kept as typed."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _CARD.sub(_card, text)
    text = _PNR.sub(_personnummer, text)
    if any(ch.isdigit() for ch in text):
        text = _phones(text)
    return text
