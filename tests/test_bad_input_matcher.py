"""Bad input: the matcher gives a decision, in bounded time, for anything a phone can send."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content.loader import load_content
from bot.core.search import Decision, Matcher
from tests.test_content_loader import write_pack
from tests.test_matcher import PACK


@pytest.fixture(scope="module")
def matcher(tmp_path_factory):
    return Matcher(load_content(write_pack(tmp_path_factory.mktemp("pack"), PACK, only=True)))


def check(d: Decision) -> None:
    assert d.status in ("answered", "suggest", "none")
    assert len(d.matches) <= 3
    assert all(0.0 <= m.score <= 1.0 for m in d.matches + d.candidates)
    if d.status == "none":
        assert d.matches == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "😀😀😀🙏🏽👨‍👩‍👧",
        "\x00\x01\x02\x1b[31mhej\x7f",
        "\u200b\u200d\ufeff",
        "förskola " * 2000,
        "a" * 10_000,
        "ékonomiskt" + "\u0301" * 500,
        "؟ كيف أتقدم بطلب",
        "‮ dlob ‭",
        "𝔣𝔬𝔯𝔰𝔨𝔬𝔩𝔞",
        "-" * 500 + "'" * 500,
        "0" * 10_000,
    ],
)
def test_odd_input_gives_a_decision(matcher, text):
    started = time.perf_counter()
    d = matcher.match(text, "sv")
    check(d)
    assert time.perf_counter() - started < 2.0  # generous: bounded, not a speed target


def test_unknown_locale_is_fine(matcher):
    check(matcher.match("förskola", "xx-YY"))
    check(matcher.match("förskola", ""))


@given(
    text=st.text(max_size=2000),
    locale=st.sampled_from(["sv", "en", "fi", "ro", "rmn", "rmy", "zz"]),
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_unicode_gives_a_decision(matcher, text, locale):
    check(matcher.match(text, locale))


@given(
    st.lists(
        st.sampled_from(["förskola", "bistånd", "hej", "soc", "af", "dagis", "😀", "x"]),
        max_size=50,
    )
)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_matching_is_deterministic(matcher, ws):
    text = " ".join(ws)
    assert matcher.match(text, "sv") == matcher.match(text, "sv")


@pytest.fixture(scope="module")
def shipped_words(shipped_content):
    lines = (t.question for e in shipped_content.entries.values() for t in e.texts.values())
    return sorted({w for line in lines for w in line.split()})


@given(data=st.data(), locale=st.sampled_from(["sv", "en", "fi", "ro", "rmn", "rmy", "zz"]))
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_decision_looks_at_the_ranking_best_three(shipped_matcher, shipped_words, data, locale):
    """The decision's shortcuts (three per language, pruning) never change who is best."""
    words = data.draw(st.lists(st.sampled_from(shipped_words), max_size=40))
    text = " ".join(words)
    d = shipped_matcher.match(text, locale)
    check(d)
    ranking = shipped_matcher.rank(text, locale)
    assert [(m.entry_id, m.score) for m in ranking[:3]] == [
        (m.entry_id, m.score) for m in d.candidates
    ]
