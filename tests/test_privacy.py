"""/mydata and /forget through the privacy flow, on the real state and analytics stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.core.flows import Ctx
from bot.core.i18n import I18n
from bot.core.messages import Incoming, Kind, Outbound, Reply, ToStaff
from bot.core.ports import ResidentState
from bot.core.privacy import PrivacyFlow, StateHolder, log_id, pseudonym, set_log_key
from bot.db.analytics_store import SqlAnalytics
from bot.db.state_store import SqlStateStore
from bot.db.tables.stats import UsageEvent

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
ME = "tg:5550001"


@pytest.fixture(scope="module")
def i18n():
    return I18n()


class OpenTicket:
    """A hand-written holder like the handoff domain's: one open ticket, closed on forget."""

    def __init__(self) -> None:
        self.open = {ME}

    def describe(self, resident, ctx):
        return ["An open conversation with a bridge-builder."] if resident in self.open else []

    def forget(self, resident, now):
        if resident not in self.open:
            return []
        self.open.discard(resident)
        return [
            Outbound(ToStaff(ticket=7), Reply("The resident erased their data; ticket closed."))
        ]


def make_ctx(i18n, locale="en", now=NOW, flow=None, data=None) -> Ctx:
    return Ctx(
        resident=ME,
        locale=locale,
        _=i18n.gettext_for(locale),
        ngettext=i18n.ngettext_for(locale),
        now=now,
        flow=flow,
        data=data or {},
    )


def command(name: str) -> Incoming:
    return Incoming(ME, Kind.COMMAND, command=name)


def press(payload: str) -> Incoming:
    return Incoming(ME, Kind.CHOICE, choice=f"privacy:{payload}")


@pytest.fixture
def world(db_engine):
    states = SqlStateStore(db_engine)
    analytics = SqlAnalytics(db_engine, retention_days=90)
    ticket = OpenTicket()
    flow = PrivacyFlow([StateHolder(states), analytics], retention_days=90)
    flow.register(ticket)
    states.save(ResidentState(resident=ME, locale="en", step="menu"), now=NOW)
    analytics.record(kind="conversation_start", resident=ME, locale="en", now=NOW)
    analytics.record(
        kind="not_found",
        resident=ME,
        locale="en",
        now=NOW,
        text="my number is 070-123 45 67, where is the office",
    )
    analytics.record(kind="not_found", resident="tg:other", locale="en", now=NOW, text="other")
    return flow, states, analytics, ticket, db_engine


def texts_of(out: list[Outbound]) -> str:
    return "\n".join(o.reply.text for o in out)


def test_mydata_lists_what_is_kept(world, i18n):
    flow, *_ = world
    ctx = make_ctx(i18n)
    out = flow.start(ctx, command("mydata"))
    text = texts_of(out)
    assert "This is what samvag keeps about you" in text
    assert "Your chosen language" in text
    assert "1 question the bot could not answer well" in text
    assert "open conversation with a bridge-builder" in text
    assert "070" not in text
    assert [c.id for row in out[0].reply.choices for c in row] == ["privacy:forget"]


def test_mydata_in_swedish(world, i18n):
    flow, *_ = world
    text = texts_of(flow.start(make_ctx(i18n, "sv"), command("mydata")))
    assert "Det här sparar samvag om dig" in text


def test_forget_asks_first_then_erases_everything(world, i18n):
    flow, states, analytics, ticket, engine = world
    ctx = make_ctx(i18n)
    ask = flow.start(ctx, command("forget"))
    assert "cannot be undone" in texts_of(ask)
    assert ctx.flow == "privacy"
    assert states.load(ME) is not None  # nothing erased before the answer

    ctx.now = NOW + timedelta(minutes=2)
    out = flow.handle(ctx, press("yes"))
    assert "has been erased" in texts_of(out)
    assert [o.target for o in out if isinstance(o.target, ToStaff)] == [ToStaff(ticket=7)]
    assert ctx.flow is None
    assert states.load(ME) is None
    assert ticket.open == set()
    with Session(engine) as session:
        rows = list(session.exec(select(UsageEvent)))
    assert len(rows) == 3  # counts remain
    assert sorted(r.text or "" for r in rows) == ["", "", "other"]
    assert analytics.describe(ME, ctx) == []

    again = flow.start(make_ctx(i18n), command("mydata"))
    assert "keeps nothing about you" in texts_of(again)


def test_no_keeps_everything(world, i18n):
    flow, states, _analytics, ticket, _engine = world
    ctx = make_ctx(i18n)
    flow.start(ctx, command("forget"))
    out = flow.handle(ctx, press("no"))
    assert "Nothing was erased" in texts_of(out)
    assert states.load(ME) is not None and ticket.open == {ME}
    assert ctx.flow is None


def test_a_stale_or_forged_yes_only_asks_again(world, i18n):
    flow, states, *_ = world
    # A "yes" without an open question (an old button, a forged callback) erases nothing.
    out = flow.handle(make_ctx(i18n), press("yes"))
    assert "cannot be undone" in texts_of(out)
    # A confirmation older than the window is asked again too.
    ctx = make_ctx(i18n)
    flow.start(ctx, command("forget"))
    ctx.now = NOW + timedelta(hours=2)
    assert "cannot be undone" in texts_of(flow.handle(ctx, press("yes")))
    assert states.load(ME) is not None


def test_text_while_asked_repeats_the_question(world, i18n):
    flow, states, *_ = world
    ctx = make_ctx(i18n)
    flow.start(ctx, command("forget"))
    out = flow.handle(ctx, Incoming(ME, Kind.TEXT, text="ja"))
    assert "cannot be undone" in texts_of(out)
    assert states.load(ME) is not None


def test_a_failing_holder_says_try_again_and_others_still_erase(world, i18n, caplog):
    flow, states, _analytics, ticket, _engine = world

    class Broken:
        def describe(self, resident, ctx):
            return []

        def forget(self, resident, now):
            raise RuntimeError(f"cannot reach {resident}")

    flow.register(Broken())
    ctx = make_ctx(i18n)
    flow.start(ctx, command("forget"))
    out = flow.handle(ctx, press("yes"))
    assert "try again shortly" in texts_of(out)
    assert ticket.open == set()  # the others were erased
    assert states.load(ME) is not None  # the state stays until everything else is gone
    assert ctx.flow == "privacy"  # still confirmed: "Try again" finishes the job
    assert ME not in caplog.text and "5550001" not in caplog.text

    flow.holders.pop()  # the store is back
    out = flow.handle(ctx, press("yes"))
    assert "has been erased" in texts_of(out)
    assert states.load(ME) is None


def test_menu_button_shows_the_note(world, i18n):
    flow, *_ = world
    ctx = make_ctx(i18n)
    assert flow.menu_label(ctx)
    out = flow.start(ctx, Incoming(ME, Kind.CHOICE, choice="go:privacy"))
    assert "90 days" in texts_of(out)
    ids = [c.id for row in out[0].reply.choices for c in row]
    assert ids == ["privacy:mydata", "privacy:forget"]
    assert all(len(i.encode()) <= 64 for i in ids)


def test_log_id_is_opaque_and_stable():
    set_log_key(b"k" * 32)
    assert log_id(ME) == log_id(ME)
    assert "5550001" not in log_id(ME)
    assert log_id(ME) != log_id("tg:5550002")
    assert pseudonym(ME, b"a" * 32) != pseudonym(ME, b"b" * 32)


def test_every_privacy_message_is_translated_in_all_six_locales():
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    wanted = set()
    for source in ("bot/core/privacy.py", "bot/db/analytics_store.py"):
        for _line, msg, _c, _ctx in extract_from_file(
            "python", root / source, keywords={"_": None, "ngettext": (1, 2)}
        ):
            wanted.add(msg if isinstance(msg, str) else msg[0])
    for loc in ("sv", "en", "fi", "ro", "rmn", "rmy"):
        with (root / "locales" / loc / "LC_MESSAGES" / "privacy.po").open("rb") as fh:
            catalog = read_po(fh)
        have = {
            (m.id if isinstance(m.id, str) else m.id[0])
            for m in catalog
            if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
        }
        assert wanted <= have, (loc, wanted - have)


def test_the_note_tells_about_activity_data_and_anonymous_proposals(world, i18n):
    flow, *_ = world
    note = flow.note(make_ctx(i18n))
    assert "Activity reminders, subscriptions" in note and "cannot be erased" in note
    assert "anonymt är inte kopplat till dig" in flow.note(make_ctx(i18n, "sv"))
