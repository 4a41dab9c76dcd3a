"""Any Unicode a resident sends, relayed to staff or echoed back, is valid Telegram HTML within limits.

The real conversation (bootstrap, handoff, appointments) produces the messages; the channel's
renderer and splitter turn them into what is sent; the fake Bot API's parser checks them the
way Telegram does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakebotapi import parse_html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import build_app
from bot.channels.telegram_send import MAX_TEXT, render_chunks, utf16_len
from bot.core.messages import Incoming, Kind, Outbound, ToResident, ToStaff
from bot.settings import Settings

PACK = Path(__file__).parent / "data" / "pack"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, during guidance hours

# Anything a Telegram client can send: every plane, controls, markup look-alikes; no lone
# surrogates (they cannot be encoded, so no client sends them).
resident_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)),
    min_size=1,
    max_size=4096,
).filter(lambda s: s.strip())
markupish = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400),
        st.sampled_from(list("<>&*_[]()\\-•#`\n ") + ["**", "&amp;", "</b>", "<a href=x>",
                                                      "](http://x)", "\n\n", "\n- "]),
    ),
    max_size=60,
).map("".join)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sendable(markdown: str) -> list[str]:
    """Render as the Telegram channel does and check every message as Telegram would."""
    chunks = render_chunks(markdown) if markdown.strip() else []
    shown = []
    for chunk in chunks:
        visible = parse_html(chunk)  # raises where Telegram would refuse the entities
        assert visible.strip(), "an empty message"
        assert utf16_len(visible) <= MAX_TEXT
        shown.append(visible)
    return shown


def alnum(text: str) -> list[str]:
    return [c for c in text if c.isalnum()]


class Session:
    """One resident talking to the real conversation, with a clock that moves on."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock(START)
        self.app = build_app(
            Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}",
                     content_dir=PACK),
            clock=self.clock,
        )
        self.resident = "tg:4242"
        self.n = 0

    def event(self, **kw) -> list[Outbound]:
        self.n += 1
        return self.app.conversation.handle(
            Incoming(resident=self.resident, language_hint="sv", event_id=f"e{self.n}", **kw))

    def press(self, choice: str) -> list[Outbound]:
        return self.event(kind=Kind.CHOICE, choice=choice)

    def say(self, text: str) -> list[Outbound]:
        return self.event(kind=Kind.TEXT, text=text)


def test_any_resident_text_relayed_to_staff_is_valid_html_and_complete(tmp_path):
    s = Session(tmp_path)
    s.say("Hej")
    s.press("lang:sv")
    s.press("nav:human")
    assert any(isinstance(o.target, ToStaff) for o in s.press("handoff:consent"))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=resident_text)
    def relay(text: str) -> None:
        s.clock.now += timedelta(minutes=2)  # stay inside the per-resident relay budget
        out = s.say(text)
        for job in s.app.jobs:
            out += job.tick(s.clock.now)
        relays = [o for o in out if isinstance(o.target, ToStaff) and "💬" in o.reply.text]
        assert len(relays) == 1
        shown = sendable(relays[0].reply.text)
        expected = alnum(text.replace("\x00", ""))
        assert alnum("".join(shown)) == expected  # nothing lost, nothing added
        for o in out:  # whatever else goes out (a safety note, an hours notice) is sendable too
            sendable(o.reply.text)

    try:
        relay()
    finally:
        s.app.close()


def test_any_note_echoed_back_in_the_appointment_summary_is_valid_html(tmp_path):
    s = Session(tmp_path)
    s.say("Hej")
    s.press("lang:sv")

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(note=resident_text)
    def echo(note: str) -> None:
        for choice in ("go:appt", "appt:t:-", "appt:any", "appt:l:n", "appt:c:chat"):
            s.press(choice)
        out = s.say(note)
        mine = [o for o in out if isinstance(o.target, ToResident)]
        assert mine
        for o in mine:
            sendable(o.reply.text)
        summary = [o for o in mine if any(c.id.startswith("appt:ok:") for r in o.reply.choices for c in r)]
        if summary:  # a note that fits is shown back to the resident, intact
            assert "".join(alnum(note)) in "".join(alnum("".join(sendable(summary[0].reply.text))))
        s.press("appt:x")

    try:
        echo()
    finally:
        s.app.close()


@settings(max_examples=300, deadline=None)
@given(markdown=markupish)
def test_the_renderer_and_splitter_never_produce_what_telegram_refuses(markdown):
    shown = sendable(markdown)
    if alnum(markdown):
        assert shown  # something with letters in it is never dropped
