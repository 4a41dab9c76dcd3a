"""The content Markdown subset as Telegram HTML (escaped exactly once) and as plain text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from bot.markup import escape, to_plain, to_telegram_html

ANSWER = """Du ansöker hos **socialtjänsten** i din kommun.
Ta med *alla* papper.

- Ta med hyresavtal & kontoutdrag.
- [Läs mer hos kommunen](https://example.org/?a=1&b=2)
"""


def test_an_answer_in_telegram_html():
    assert to_telegram_html(ANSWER) == (
        "Du ansöker hos <b>socialtjänsten</b> i din kommun. Ta med <i>alla</i> papper.\n\n"
        "• Ta med hyresavtal &amp; kontoutdrag.\n"
        '• <a href="https://example.org/?a=1&amp;b=2">Läs mer hos kommunen</a>'
    )


def test_an_answer_as_plain_text():
    assert to_plain(ANSWER) == (
        "Du ansöker hos socialtjänsten i din kommun. Ta med alla papper.\n\n"
        "• Ta med hyresavtal & kontoutdrag.\n"
        "• Läs mer hos kommunen (https://example.org/?a=1&b=2)"
    )


def test_html_special_characters_are_escaped_once():
    assert to_telegram_html("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert to_telegram_html("already &amp; escaped") == "already &amp;amp; escaped"
    assert to_telegram_html('**"quoted" <tag>**') == '<b>"quoted" &lt;tag&gt;</b>'


def test_unsafe_links_keep_only_their_text():
    assert to_telegram_html("[click](javascript:alert)") == "click"
    assert to_telegram_html("[home](/relative)") == "home"
    assert to_telegram_html("[ring](tel:+46000)") == '<a href="tel:+46000">ring</a>'
    assert to_plain("[ring oss](tel:+46000)") == "ring oss (+46000)"
    assert to_plain("[https://x.se](https://x.se)") == "https://x.se"


def test_lists_paragraphs_and_wrapped_lines():
    md = "First line\nsecond line.\n\n* one\n* two\n  continued\n\nEnd."
    assert to_plain(md) == "First line second line.\n\n• one\n• two continued\n\nEnd."


def test_escaped_markers_and_resident_text_stay_literal():
    assert to_plain(r"5 \* 3") == "5 * 3"
    name = "**Ana** [x](https://evil.example) *"
    assert to_plain(escape(name)) == name
    assert to_telegram_html(escape(name)) == html.escape(name, quote=False)


class _Checker(HTMLParser):
    """Collects tags and text, checking that tags nest and only Telegram's are used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in ("b", "i", "a"), tag
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


markdownish = st.lists(
    st.sampled_from(list("ab *_[]()<>&\"'\\-\n") + ["https://x.se", "**", "ä", "🤝", "&amp;"]),
    max_size=40,
).map("".join)


@given(markdownish)
def test_any_text_renders_to_well_formed_html_whose_text_is_the_plain_rendering(md):
    rendered = to_telegram_html(md)
    checker = _Checker()
    checker.feed(rendered)
    checker.close()
    assert checker.stack == []
    assert "".join(checker.text) == _plain_without_link_urls(md)


def _plain_without_link_urls(md: str) -> str:
    """to_plain, minus the ' (url)' it adds after links (HTML keeps URLs in href)."""
    from bot import markup

    return markup._render(md, esc=lambda s: s, wrap={**markup._PLAIN, "a": lambda label, url: label})


def test_a_mention_by_user_id_is_a_link_and_other_tg_links_are_not():
    from bot.markup import to_telegram_html

    assert to_telegram_html("[Ana](tg://user?id=42)") == '<a href="tg://user?id=42">Ana</a>'
    assert to_telegram_html("[x](tg://resolve?domain=evil)") == "x"
