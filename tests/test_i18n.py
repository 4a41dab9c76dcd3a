"""Every catalog of every area is complete, keeps placeholders, and loads without CLDR data."""

from __future__ import annotations

import shutil
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.content.model import SUPPORTED_LOCALES
from bot.core.i18n import I18n, language_name, load_locale, supported_locale
from bot.i18n_tools import update

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"


def _code_msgids() -> dict[str, str]:
    """msgid -> 'file:line' for every message Babel's extractor finds in bot/."""
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update({"_": None, "N_": None, "ngettext": (1, 2)})
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        ROOT / "bot", method_map=[("**.py", "python")], keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"bot/{filename}:{lineno}")
    return found


def _po_files() -> list[Path]:
    return sorted(LOCALES.glob("*/LC_MESSAGES/*.po"))


def _messages(locale: str) -> dict[str, object]:
    merged: dict[str, object] = {}
    for po in sorted((LOCALES / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    merged.setdefault(m.id[0] if isinstance(m.id, tuple) else m.id, m.string)
    return merged


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_msgid_in_the_code_is_translated_in_every_locale(locale):
    code = _code_msgids()
    catalog = _messages(locale)
    missing = [f"{where}: {msgid[:60]!r}" for msgid, where in code.items() if msgid not in catalog]
    assert not missing, f"{len(missing)} msgids missing in {locale}:\n" + "\n".join(missing)
    if locale != "en":  # an empty English msgstr shows the English msgid, which is right
        empty = [m for m in code if not catalog[m] or (isinstance(catalog[m], tuple) and not all(catalog[m]))]
        assert not empty, f"untranslated in {locale}: {empty[:5]}"


@pytest.mark.parametrize("po", _po_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_translations_keep_their_placeholders_and_are_never_fuzzy(po):
    with po.open("rb") as fh:
        catalog = read_po(fh)
    problems = []
    for m in catalog:
        if not m.id:
            continue
        assert not m.fuzzy, f"{po}: fuzzy entry {m.id!r}: gettext would hide it"
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        wanted = set().union(*(_fields(i) for i in ids))
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        for form in forms:
            if form and (_fields(form) - wanted or (len(ids) == 1 and _fields(form) != wanted)):
                problems.append(f"{m.id!r}: {sorted(_fields(form))} != {sorted(wanted)}")
    assert not problems, f"{po}:\n" + "\n".join(problems)


@pytest.mark.parametrize("po", _po_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_each_catalog_declares_its_language_and_plural_forms(po):
    text = po.read_text(encoding="utf-8")
    assert f'"Language: {po.parent.parent.name}\\n"' in text
    assert "Plural-Forms: nplurals=" in text


def test_romani_loads_without_cldr_and_has_plurals_and_names():
    for code in ("rmn", "rmy"):
        catalog = load_locale(LOCALES / code / "LC_MESSAGES")
        assert catalog.plural(1) == 0 and catalog.plural(3) == 1
    assert language_name("rmn") == "Romani (Arli)"
    assert language_name("rmy") == "Romani (Kelderash)"
    i18n = I18n()
    assert i18n.gettext("rmy", "Main menu") == "O baro meniuo"
    assert i18n.gettext("rmn", "Main menu") == "Angluno meni"


def test_locale_tags_are_resolved_with_swedish_as_the_default():
    i18n = I18n()
    assert supported_locale("sv-SE") == "sv"
    assert supported_locale("ro_RO") == "ro"
    assert supported_locale("RMY") == "rmy"
    assert supported_locale("de") is None
    assert i18n.resolve("de-DE") == "sv"
    assert i18n.resolve(None) == "sv"
    assert i18n.gettext("de", "Main menu") == "Huvudmeny"


def test_a_missing_translation_falls_back_to_the_msgid(tmp_path):
    (tmp_path / "sv" / "LC_MESSAGES").mkdir(parents=True)
    i18n = I18n(tmp_path)
    assert i18n.gettext("sv", "Main menu") == "Main menu"
    assert i18n.ngettext("rmy", "{n} day", "{n} days", 2) == "{n} days"


def _po(path: Path, locale: str, msgstr: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'msgid ""\nmsgstr ""\n'
        f'"Language: {locale}\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        f'msgid "Main menu"\nmsgstr "{msgstr}"\n\n'
        'msgid "{n} day"\nmsgid_plural "{n} days"\nmsgstr[0] "{n} dyes"\nmsgstr[1] "{n} dyesa"\n',
        encoding="utf-8",
    )


def test_domains_merge_and_a_fresher_compiled_catalog_wins(tmp_path):
    base = tmp_path / "rmy" / "LC_MESSAGES"
    _po(base / "samvag.po", "rmy", "from po")
    (base / "other.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: rmy\\n"\n\nmsgid "Back"\nmsgstr "Pale"\n', encoding="utf-8"
    )
    i18n = I18n(tmp_path, locales=("rmy",), default="rmy")
    assert i18n.gettext("rmy", "Main menu") == "from po"
    assert i18n.gettext("rmy", "Back") == "Pale"
    assert i18n.ngettext("rmy", "{n} day", "{n} days", 1) == "{n} dyes"
    assert i18n.ngettext("rmy", "{n} day", "{n} days", 4) == "{n} dyesa"

    _po(tmp_path / "compiled.po", "rmy", "from mo")
    with (tmp_path / "compiled.po").open("rb") as fh, (base / "samvag.mo").open("wb") as out:
        write_mo(out, read_po(fh))
    assert I18n(tmp_path, locales=("rmy",)).gettext("rmy", "Main menu") == "from mo"


def test_update_adds_new_msgids_to_the_right_domain_never_fuzzy(tmp_path):
    shutil.copytree(LOCALES, tmp_path / "locales", ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    pot = tmp_path / "all.pot"
    pot.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: bot/core/conversation.py:1\nmsgid "Main menu"\nmsgstr ""\n\n'
        '#: bot/core/conversation.py:2\nmsgid "A brand new message for {name}"\nmsgstr ""\n\n'
        '#: bot/core/activities.py:9\nmsgid "An activity message"\nmsgstr ""\n',
        encoding="utf-8",
    )
    update(pot, tmp_path / "locales")
    rmy = (tmp_path / "locales" / "rmy" / "LC_MESSAGES" / "samvag.po").read_text(encoding="utf-8")
    assert 'msgid "A brand new message for {name}"\nmsgstr ""' in rmy
    assert '"O baro meniuo"' in rmy  # existing translations are kept
    assert "fuzzy" not in rmy
    activities = tmp_path / "locales" / "rmy" / "LC_MESSAGES" / "activities.po"
    text = activities.read_text(encoding="utf-8")
    assert "Language: rmy" in text and "Plural-Forms: nplurals=2; plural=(n != 1);" in text
    en = (tmp_path / "locales" / "en" / "LC_MESSAGES" / "samvag.po").read_text(encoding="utf-8")
    assert 'msgid "A brand new message for {name}"\nmsgstr "A brand new message for {name}"' in en


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_domain_of_a_locale_agrees_on_plural_forms(locale):
    # I18n merges the domains of a locale into one catalog with one plural rule, so a domain
    # that declared another rule would pick the wrong form (Romanian has three forms).
    catalogs = {}
    for po in sorted((LOCALES / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalogs[po.name] = read_po(fh)
    rules = {name: c.plural_forms for name, c in catalogs.items()}
    assert len(set(rules.values())) == 1, rules
    for name, catalog in catalogs.items():
        for message in catalog:
            if message.id and isinstance(message.id, tuple | list):
                assert len(message.string) == catalog.num_plurals, (name, message.id)
