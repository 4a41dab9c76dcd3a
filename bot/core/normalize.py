"""Text normalisation for matching: case, punctuation, diacritics, Romani spellings, stems."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Longer input is cut: a resident's question never needs more, and matching stays bounded.
MAX_CHARS = 1000
MAX_TOKENS = 80

# Letters NFD does not decompose into a base letter plus a mark.
_EXTRA_FOLD = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "ı": "i", "ŧ": "t", "ħ": "h"}
)
# Serbian (and Romani in Serbia) is written in Cyrillic and in Latin script alike: Cyrillic is
# read as Serbian Latin, so a question in either script finds content in the other.
_CYRILLIC = str.maketrans(
    {
        **dict(
            zip("абвгдђежзијклмнопрстћуфхцчшыэйё", "abvgdđežzijklmnoprstćufhcčšyeje", strict=True)
        ),
        "љ": "lj",
        "њ": "nj",
        "џ": "dž",
        "щ": "šč",
        "ю": "ju",
        "я": "ja",
        "ъ": "",
        "ь": "",
    }
)
# Romani is written with several orthographies: č/ch/tsh/c, š/sh/s, ž/zh/z, ʒ/dž/dzh/dj.
# After diacritics are gone (č -> c) the digraphs are folded to the same letter, in every
# language, so index and query always agree.
_DIGRAPHS = (
    ("tsh", "c"),
    ("dzh", "z"),
    ("dž", "z"),
    ("ch", "c"),
    ("sh", "s"),
    ("zh", "z"),
    ("ʒ", "z"),
)
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_JOINERS = re.compile(r"['’\-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")

STEMMERS = {
    "sv": "swedish",
    "en": "english",
    "fi": "finnish",
    "ro": "romanian",
    "da": "danish",
    "no": "norwegian",
    "nb": "norwegian",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pl": "polish",
    "pt": "portuguese",
    "hu": "hungarian",
    "ru": "russian",
    "sr": "serbian",
    "tr": "turkish",
    "ar": "arabic",
    "el": "greek",
}


def clean(text: str) -> str:
    """Drop control and zero-width characters and cut overly long text."""
    if not isinstance(text, str):
        return ""
    return _CONTROL.sub(" ", text[: MAX_CHARS * 2])[:MAX_CHARS]


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Casefold, strip diacritics (ö -> o, č -> c) and fold Romani digraphs (sh -> s).

    Idempotent: a folded word folds to itself (a letter that loses its mark may be one more
    to fold, 'Ӭ' -> 'э' -> 'e'; 'shh' -> 'sh' -> 's').
    """
    for _ in range(4):
        folded = _fold_once(word)
        if folded == word:
            break
        word = folded
    return word


def _fold_once(word: str) -> str:
    word = unicodedata.normalize("NFKC", word).casefold().translate(_EXTRA_FOLD)
    if not word.isascii():
        word = word.translate(_CYRILLIC)
        word = "".join(
            c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
        )
    for a, b in _DIGRAPHS:
        if a in word:
            word = word.replace(a, b)
    return word


def words(text: str) -> list[str]:
    """The folded words of `text`, hyphenated words kept whole ('a-kassa' -> 'akassa')."""
    out: list[str] = []
    for m in _TOKEN.finditer(clean(text)):
        raw = m.group(0)
        w = fold(re.sub(r"['’\-]", "", raw))
        if w:
            out.append(w)
        if len(out) >= MAX_TOKENS:
            break
    return out


def word_parts(text: str) -> list[tuple[str, list[str]]]:
    """Each folded word with the parts it was written with ('a-kassa' -> ('akassa', ['a', 'kassa']))."""
    out: list[tuple[str, list[str]]] = []
    for raw in _TOKEN.findall(clean(text)):
        if "-" in raw or "'" in raw or "’" in raw:
            parts = [fold(p) for p in _JOINERS.split(raw) if p]
            whole = "".join(parts)
            if whole:
                out.append((whole, parts if len(parts) > 1 else []))
        else:
            whole = fold(raw)
            if whole:
                out.append((whole, []))
        if len(out) >= MAX_TOKENS:
            break
    return out


class Stemmer:
    """Snowball stemming per language, with extra Swedish rules for definite forms."""

    def __init__(self, locale: str):
        self.locale = locale.split("-")[0].split("_")[0].lower()
        name = STEMMERS.get(self.locale)
        self._snowball = snowballstemmer.stemmer(name) if name else None
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        stem = self._stem(word)
        if len(self._cache) < 200_000:
            self._cache[word] = stem
        return stem

    def _stem(self, word: str) -> str:
        if word.isdigit() or len(word) <= 3:
            return word
        if self.locale == "sv":
            # Snowball Swedish leaves definite forms alone: 'hyran', 'skolan', 'barnet', 'kortet'.
            if (len(word) >= 5 and word.endswith("an")) or (len(word) >= 6 and word.endswith("et")):
                word = word[:-2]
            elif len(word) >= 7 and word.endswith(("ets", "ans")):
                word = word[:-3]
        if self._snowball is None:
            return _light_stem(word)
        stem = self._snowball.stemWord(word)
        if self.locale == "sv" and len(stem) >= 5 and stem[-1] == "t" and stem[-2] in "ln":
            # Neuter and supine forms end in -t where the others end in -d: 'godkänt',
            # 'betalt', 'anmält' are 'godkänd', 'betald', 'anmäld'.
            stem = stem[:-1] + "d"
        return stem if len(stem) >= 2 else word


def _light_stem(word: str) -> str:
    """Language-neutral stripping of a few frequent endings (Romani and languages without Snowball)."""
    for suffix in (
        "enca",
        "enge",
        "esa",
        "ake",
        "ako",
        "ipe",
        "imos",
        "ja",
        "es",
        "os",
        "a",
        "e",
        "i",
        "o",
    ):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
