"""The loaded content: categories, entries (one id, several locales), the municipality profile."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# Locales the bot speaks, in the order the language menu shows them. Content may hold others.
SUPPORTED_LOCALES: tuple[str, ...] = ("sv", "en", "fi", "ro", "rmn", "rmy")
# Where an entry lacks the resident's locale, show it in these, in order.
FALLBACK_LOCALES: tuple[str, ...] = ("sv", "en")

PLACEHOLDER = re.compile(r"\{municipality\.([A-Za-z0-9_]+)\}")


@dataclass(frozen=True, slots=True)
class EntryText:
    """One entry in one locale, as written in `<category>/<id>.<locale>.md`."""

    entry_id: str
    locale: str
    question: str
    body: str  # Markdown subset, placeholders not yet filled in
    alternatives: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    reviewed: bool = True
    updated: date | None = None
    path: Path | None = None
    voice: Path | None = None  # `<id>.<locale>.ogg` beside the file, if any


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    category: str
    texts: dict[str, EntryText]  # locale -> text

    def text_for(self, locale: str) -> EntryText:
        """The text in `locale`, else Swedish, else English, else any."""
        for loc in (locale, *FALLBACK_LOCALES):
            if loc in self.texts:
                return self.texts[loc]
        return next(iter(self.texts.values()))


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    emoji: str
    order: int
    names: dict[str, str]

    def name(self, locale: str) -> str:
        for loc in (locale, *FALLBACK_LOCALES):
            if loc in self.names:
                return self.names[loc]
        return next(iter(self.names.values()), self.id)


@dataclass(frozen=True, slots=True)
class Content:
    root: Path
    categories: dict[str, Category]  # in menu order
    entries: dict[str, Entry]  # id -> entry
    municipality: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> locale -> text
    # ("*" as the locale key holds a value that is the same in every language)
    # Editors' synonyms from `synonyms.yaml`: locale -> word residents use -> words in the content.
    synonyms: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def entries_in(self, category: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.category == category]

    def locales(self) -> list[str]:
        found = {loc for e in self.entries.values() for loc in e.texts}
        return sorted(found)

    def profile_value(self, key: str, locale: str) -> str | None:
        values = self.municipality.get(key)
        if values is None:
            return None
        for loc in (locale, "*", *FALLBACK_LOCALES):
            if loc in values:
                return values[loc]
        return next(iter(values.values()), None)

    def fill(self, body: str, locale: str) -> str:
        """Replace `{municipality.key}` placeholders with the profile's values."""

        def sub(m: re.Match[str]) -> str:
            value = self.profile_value(m.group(1), locale)
            return value if value is not None else m.group(0)

        return PLACEHOLDER.sub(sub, body)


def placeholders(texts: Iterable[str]) -> set[str]:
    """Every municipality key referenced in `texts`."""
    return {m.group(1) for t in texts for m in PLACEHOLDER.finditer(t)}
