"""Every appointment text exists in all six catalogs, with the same {placeholders}."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from bot.content.model import SUPPORTED_LOCALES
from bot.core.i18n import I18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "s_": None, "ngettext": (1, 2), "gettext": (2,)}
FIELD = re.compile(r"\{(\w*)\}")


def _msgids() -> set[str]:
    found = set()
    for _line, msg, _comments, _ctx in extract_from_file(
        "python", ROOT / "bot/core/appointments.py", keywords=KEYWORDS
    ):
        found.add(msg[0] if isinstance(msg, tuple) else msg)
    return found


def _catalog(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "appointments.po").open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_msgid_is_translated_with_the_same_placeholders(locale):
    catalog = _catalog(locale)
    by_id = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}
    missing = sorted(_msgids() - by_id.keys())
    assert not missing, f"{locale}: untranslated {missing}"
    for key, message in by_id.items():
        assert not message.fuzzy, key
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for s in strings:
            assert s, f"{locale}: empty translation for {key!r}"
            assert set(FIELD.findall(s)) == set(FIELD.findall(key)), f"{locale}: {key!r} -> {s!r}"


def test_romani_catalogs_load_through_the_app_i18n():
    i18n = I18n()
    assert i18n.gettext("rmy", "📅 Book a meeting") == "📅 Mang întîlnimos"
    assert i18n.gettext("rmn", "📅 Book a meeting") == "📅 Mang sastanok"
