"""Shipped word lists for matching: stop words and public-service synonyms per language."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.core.normalize import fold

HERE = Path(__file__).parent


@lru_cache(maxsize=32)
def stop_words(locale: str) -> frozenset[str]:
    """The folded stop words of `locale` (empty if none are shipped)."""
    path = HERE / f"stopwords.{locale}.txt"
    if not path.is_file():
        return frozenset()
    out: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            continue
        for w in line.split():
            out.add(fold(w.replace("-", "").replace(".", "")))
    return frozenset(out)


@lru_cache(maxsize=1)
def greetings() -> frozenset[str]:
    """Greetings, thanks and small talk in every language (folded)."""
    out: set[str] = set()
    for line in (HERE / "greetings.txt").read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):
            out.update(fold(w) for w in line.split())
    return frozenset(out)


@lru_cache(maxsize=32)
def everyday_words(locale: str) -> frozenset[str]:
    """The commonest words of `locale`'s everyday language (folded; empty if none shipped)."""
    path = HERE / f"everyday.{locale.split('-')[0].lower()}.txt"
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if not line.startswith("#") for w in line.split())


@lru_cache(maxsize=32)
def shipped_synonyms(locale: str) -> dict[str, tuple[str, ...]]:
    """The shipped synonym table of `locale`: resident word -> content words."""
    path = HERE / f"synonyms.{locale}.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(k): tuple(str(v) for v in (vs if isinstance(vs, list) else [vs]))
        for k, vs in data.items()
    }


@dataclass(frozen=True)
class Lexicon:
    """Stop words and synonyms the matcher uses; `extra` holds editors' synonyms per locale."""

    extra: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def stop_words(self, locale: str) -> frozenset[str]:
        return stop_words(locale) | greetings()

    def synonyms(self, locale: str) -> dict[str, tuple[str, ...]]:
        merged = dict(shipped_synonyms(locale))
        for word, targets in self.extra.get(locale, {}).items():
            merged[word] = tuple(dict.fromkeys((*merged.get(word, ()), *targets)))
        return merged
