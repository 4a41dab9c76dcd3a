"""`python -m bot.i18n_tools update POT LOCALES`: merge new msgids into each area's .po files.

`pybabel update` wants one domain per template and `pybabel init -l rmy` fails (rmy/rmn are not
in CLDR), so this updates every domain of every supported locale itself: a msgid stays in the
domain file that already holds it; a new one goes to the domain of the module it comes from.
Untranslated entries are added with an empty msgstr (never fuzzy); English gets the msgid.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.content.model import SUPPORTED_LOCALES

# Module path prefix -> gettext domain, for msgids that no domain file holds yet.
DOMAIN_RULES: tuple[tuple[str, str], ...] = (
    ("bot/core/handoff", "handoff"),
    ("bot/core/hours", "handoff"),
    ("bot/core/risk", "handoff"),
    ("bot/core/appointments", "appointments"),
    ("bot/core/dates", "appointments"),
    ("bot/core/ics", "appointments"),
    ("bot/core/activities", "activities"),
    ("bot/channels/telegram", "telegram"),
    ("bot/delivery", "telegram"),
    ("bot/core/privacy", "privacy"),
    ("bot/db/analytics_store", "privacy"),
    ("bot/db/retention", "privacy"),
)
DEFAULT_DOMAIN = "samvag"
HEADER = """# samvag: the {domain} messages in {locale}.
msgid ""
msgstr ""
"Project-Id-Version: samvag\\n"
"Language: {locale}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"""


def domain_of(locations: list[tuple[str, int | None]]) -> str:
    for filename, _line in locations:
        path = filename if filename.startswith("bot/") else f"bot/{filename}"
        for prefix, domain in DOMAIN_RULES:
            if path.startswith(prefix):
                return domain
    return DEFAULT_DOMAIN


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def existing_domains(locales_dir: Path) -> dict[str, str]:
    """msgid -> the domain file that already holds it (in any locale)."""
    found: dict[str, str] = {}
    for po in sorted(locales_dir.glob("*/LC_MESSAGES/*.po")):
        for message in _read(po):
            if message.id:
                key = message.id[0] if isinstance(message.id, tuple | list) else message.id
                found.setdefault(key, po.stem)
    return found


def update(pot: Path, locales_dir: Path, *, only: str | None = None) -> list[Path]:
    """Update (or create) every domain .po of every supported locale; returns the files written."""
    template = _read(pot)
    known = existing_domains(locales_dir)
    by_domain: dict[str, list] = {}
    for message in template:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        domain = known.get(key) or domain_of(message.locations)
        by_domain.setdefault(domain, []).append(message)
    written = []
    for domain, messages in sorted(by_domain.items()):
        if only is not None and domain != only:
            continue
        for locale in SUPPORTED_LOCALES:
            part = Catalog(project="samvag", fuzzy=False)  # fresh per locale: update shares messages
            for message in messages:
                part.add(message.id, locations=message.locations, flags=message.flags,
                         auto_comments=message.auto_comments)
            path = locales_dir / locale / "LC_MESSAGES" / f"{domain}.po"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                # A hand-made header (pybabel init cannot make one for rmy/rmn).
                path.write_text(HEADER.format(domain=domain, locale=locale), encoding="utf-8")
            catalog = _read(path)
            catalog.update(part, no_fuzzy_matching=True, update_header_comment=False)
            catalog.fuzzy = False
            for message in catalog:
                if message.id and locale == "en" and not message.string:
                    message.string = message.id if isinstance(message.id, str) else tuple(message.id)
            with path.open("wb") as fh:
                write_po(fh, catalog, ignore_obsolete=True, no_location=True, width=100)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "update":
        print("usage: python -m bot.i18n_tools update POT LOCALES_DIR [DOMAIN]")
        return 2
    only = argv[3] if len(argv) > 3 else None
    for path in update(Path(argv[1]), Path(argv[2]), only=only):
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
