"""Any text a resident sends, echoed or relayed, renders to Telegram HTML that Telegram accepts."""

from __future__ import annotations

import pytest
from fakebotapi import ApiError, parse_html
from fakebotapi.validate import utf16_len
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.telegram_send import inline_keyboard, render_chunks, visible_len
from bot.core.messages import Choice, Reply
from bot.markup import escape

tricky = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(["<", ">", "&", "&amp;", "</a>", "<b>", "*", "**", "[x](y)", "\\", "\n\n", "😀", "\u200d"]),
    ),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(tricky)
def test_any_resident_text_is_valid_html(text):
    for chunk in render_chunks("You wrote: " + escape(text)):
        try:
            shown = parse_html(chunk)
        except ApiError as e:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{e.description} for {chunk!r}")
        assert utf16_len(shown) <= 4096
        assert visible_len(chunk) == utf16_len(shown)


@settings(max_examples=40, deadline=None)
@given(st.lists(tricky, min_size=1, max_size=6), st.integers(min_value=1, max_value=30))
def test_long_texts_split_under_the_limit(paragraphs, repeat):
    md = "\n\n".join(escape(p) * repeat for p in paragraphs)
    for chunk in render_chunks(md):
        assert utf16_len(parse_html(chunk)) <= 4096


def test_one_enormous_word_is_cut():
    chunks = render_chunks("😀" * 5000 + " " + "a" * 9000)
    assert all(utf16_len(parse_html(c)) <= 4096 for c in chunks)
    assert "".join(parse_html(c) for c in chunks).replace(" ", "") == "😀" * 5000 + "a" * 9000


def test_keyboard_keeps_only_ids_telegram_accepts():
    reply = Reply("x", [[Choice("a:1", "One"), Choice("b:" + "é" * 32, "Too long")], [Choice("c:3", "  ")]])
    kb = inline_keyboard(reply)
    assert [[b.callback_data for b in row] for row in kb.inline_keyboard] == [["a:1"]]
