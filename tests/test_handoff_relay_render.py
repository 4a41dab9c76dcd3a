"""Anything a resident writes, relayed to the staff topic, is valid Telegram HTML within limits."""

from __future__ import annotations

import re

from fakebotapi.validate import MAX_TEXT, check_text, visible_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram_send import render_chunks
from bot.core.handoff import Ticket
from tests.test_handoff_support import TUE_OPEN, make_service

_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=4096
).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_texts, st.sampled_from([
    "<b>bold</b> & </a> <script>x</script> &amp; **not bold** [link](javascript:alert(1))",
    "- a list\n- of things\n\n*emph* \\* back\\slash",
    "😀" * 3000,
])))
def test_relayed_text_renders_to_valid_html_under_the_limit(sqlite_engine, text):
    service = make_service(sqlite_engine)
    ticket = Ticket(1, "tg:1", "sv", "open", False, TUE_OPEN)
    out = service._relay_reply(ticket, "text", text, None)
    chunks = render_chunks(out.reply.text)
    assert chunks
    shown = ""
    for html in chunks:
        check_text(html, "HTML", limit=MAX_TEXT)  # raises like Telegram on bad HTML or length
        shown += visible_text(html, "HTML")
    # Nothing the resident wrote is lost (line breaks and bullet marks may change).
    def letters(s: str) -> str:
        return re.sub(r"[\s•\-*\\]", "", s)

    assert letters(text) in letters(shown)
