"""Gettext catalogs per locale: every domain's .po (or fresher .mo) in locales/<lang> merged."""

from __future__ import annotations

import gettext
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.content.model import SUPPORTED_LOCALES

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "sv"
PROJECT_LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "locales"

# Each language named in itself. CLDR has no data for the Romani codes, so these are ours.
LANGUAGE_NAMES: dict[str, str] = {
    "sv": "Svenska",
    "en": "English",
    "fi": "Suomi",
    "ro": "Română",
    "rmn": "Romani (Arli)",
    "rmy": "Romani (Kelderash)",
}

# Where a msgid lacks a translation: the locale, then these, then the English msgid itself.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "sv": (),
    "en": (),
    "fi": ("sv",),
    "ro": (),
    "rmn": ("sv",),
    "rmy": ("sv",),
}


def language_name(locale: str) -> str:
    """The language's own name for itself; the code when we do not know it."""
    return LANGUAGE_NAMES.get(locale, locale)


def supported_locale(tag: str | None) -> str | None:
    """The supported locale an IETF tag such as 'sv-SE' or 'ro_RO' names, or None."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    if tag in SUPPORTED_LOCALES:
        return tag
    base = tag.split("-", 1)[0]
    return base if base in SUPPORTED_LOCALES else None


@dataclass(slots=True)
class Catalog:
    """One locale's messages from every domain, and its plural rule."""

    messages: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    plural: Callable[[int], int] = field(default=lambda n: int(n != 1))

    def get(self, msgid: str) -> str | None:
        found = self.messages.get(msgid)
        return found if isinstance(found, str) and found else None

    def nget(self, singular: str, n: int) -> str | None:
        forms = self.messages.get(singular)
        if not isinstance(forms, tuple):
            return None
        index = self.plural(n)
        return forms[index] if 0 <= index < len(forms) and forms[index] else None


def _read_domain(po: Path | None, mo: Path | None) -> BabelCatalog:
    """One domain: the compiled .mo if it is at least as new as the .po, else the .po itself."""
    if mo is not None and (po is None or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return read_mo(fh)
    assert po is not None
    with po.open("rb") as fh:
        # read_po never calls Locale.parse on codes it does not know (rmn/rmy), so they load.
        return read_po(fh)


def load_locale(directory: Path) -> Catalog:
    """Merge every domain file in `directory` (locales/<lang>/LC_MESSAGES) into one catalog."""
    stems = sorted({p.stem for p in directory.glob("*.po")} | {p.stem for p in directory.glob("*.mo")})
    merged = Catalog()
    for stem in stems:
        po, mo = directory / f"{stem}.po", directory / f"{stem}.mo"
        domain = _read_domain(po if po.exists() else None, mo if mo.exists() else None)
        if domain.plural_expr:
            merged.plural = gettext.c2py(domain.plural_expr)
        for message in domain:
            if not message.id or message.fuzzy:
                continue  # the header, and guesses gettext would hide anyway
            if isinstance(message.id, tuple | list):
                forms = tuple(message.string or ())
                if any(forms):
                    merged.messages.setdefault(message.id[0], forms)
            elif message.string:
                merged.messages.setdefault(message.id, message.string)
    return merged


class I18n:
    """Translations for every supported locale, with fallbacks that end at the English msgid."""

    def __init__(
        self,
        locales_dir: Path = PROJECT_LOCALES_DIR,
        *,
        locales: Iterable[str] = SUPPORTED_LOCALES,
        default: str = DEFAULT_LOCALE,
    ) -> None:
        self.locales: tuple[str, ...] = tuple(locales)
        self.default = default if default in self.locales else DEFAULT_LOCALE
        raw = {loc: load_locale(locales_dir / loc / "LC_MESSAGES") for loc in self.locales}
        self.catalogs = raw
        self._chains: dict[str, list[Catalog]] = {}
        for loc in self.locales:
            chain = [raw[loc]] + [raw[f] for f in FALLBACKS.get(loc, ()) if f in raw]
            self._chains[loc] = chain
        if not (locales_dir / self.default / "LC_MESSAGES").is_dir():
            log.warning("no catalogs found under %s", locales_dir)

    def resolve(self, locale: str | None) -> str:
        """A supported locale for any tag, else the default."""
        found = supported_locale(locale)
        return found if found in self.locales else self.default

    def gettext(self, locale: str, msgid: str) -> str:
        for catalog in self._chains.get(self.resolve(locale), ()):
            found = catalog.get(msgid)
            if found is not None:
                return found
        return msgid

    def ngettext(self, locale: str, singular: str, plural: str, n: int) -> str:
        for catalog in self._chains.get(self.resolve(locale), ()):
            found = catalog.nget(singular, n)
            if found is not None:
                return found
        return singular if n == 1 else plural

    def gettext_for(self, locale: str) -> Callable[[str], str]:
        """`_` bound to one locale."""
        loc = self.resolve(locale)
        return lambda msgid: self.gettext(loc, msgid)

    def ngettext_for(self, locale: str) -> Callable[[str, str, int], str]:
        loc = self.resolve(locale)
        return lambda s, p, n: self.ngettext(loc, s, p, n)


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for extraction; translate it later with `_`."""
    return msgid
