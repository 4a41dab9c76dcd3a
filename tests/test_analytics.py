"""Usage events: text scrubbed before it is stored, kept only where editors need it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.core.flows import Ctx
from bot.db.analytics_store import SqlAnalytics, load_key
from bot.db.tables.stats import UsageEvent

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def ctx_for(resident: str) -> Ctx:
    return Ctx(
        resident=resident,
        locale="en",
        _=lambda s: s,
        ngettext=lambda s, p, n: s if n == 1 else p,
        now=NOW,
    )


def events(engine) -> list[UsageEvent]:
    with Session(engine) as session:
        return list(session.exec(select(UsageEvent).order_by(UsageEvent.id)))


def test_text_is_scrubbed_before_it_is_stored(db_engine):
    analytics = SqlAnalytics(db_engine)
    analytics.record(
        kind="not_found",
        resident="tg:4242",
        locale="sv",
        now=NOW,
        text="mitt pnr är 850312-1231 ring 070-123 45 67",
        category="social-services",
    )
    [row] = events(db_engine)
    assert row.text == "mitt pnr är [personnummer] ring [telefon]"
    assert row.kind == "not_found" and row.locale == "sv" and row.category == "social-services"


def test_text_kept_only_for_unanswered_suggested_and_unhelpful(db_engine):
    analytics = SqlAnalytics(db_engine)
    for kind, helpful in [
        ("answered", None),
        ("suggested", None),
        ("not_found", None),
        ("feedback", True),
        ("feedback", False),
        ("conversation_start", None),
    ]:
        analytics.record(
            kind=kind, resident="tg:1", locale="en", now=NOW, text="how do I apply", helpful=helpful
        )
    kept = {(e.kind, e.helpful): e.text for e in events(db_engine)}
    assert kept == {
        ("answered", None): None,
        ("suggested", None): "how do I apply",
        ("not_found", None): "how do I apply",
        ("feedback", True): None,
        ("feedback", False): "how do I apply",
        ("conversation_start", None): None,
    }


def test_the_chat_id_is_never_stored(db_engine):
    analytics = SqlAnalytics(db_engine)
    analytics.record(kind="answered", resident="tg:987654321", locale="fi", now=NOW, entry_id="x")
    analytics.record(kind="answered", resident="tg:987654321", locale="fi", now=NOW, entry_id="y")
    analytics.record(kind="answered", resident="tg:5", locale="fi", now=NOW, entry_id="y")
    rows = events(db_engine)
    assert all("987654321" not in (r.resident_hash or "") for r in rows)
    assert rows[0].resident_hash == rows[1].resident_hash != rows[2].resident_hash


def test_the_key_is_kept_across_restarts(db_engine):
    first = SqlAnalytics(db_engine).resident_hash("tg:1")
    assert SqlAnalytics(db_engine).resident_hash("tg:1") == first
    assert load_key(db_engine) == load_key(db_engine)


def test_describe_and_forget(db_engine):
    analytics = SqlAnalytics(db_engine, retention_days=90)
    ctx = ctx_for("tg:1")
    assert analytics.describe("tg:1", ctx) == []
    analytics.record(
        kind="not_found", resident="tg:1", locale="en", now=NOW, text="where is the bvc"
    )
    analytics.record(kind="answered", resident="tg:1", locale="en", now=NOW, entry_id="bvc")
    analytics.record(kind="not_found", resident="tg:2", locale="en", now=NOW, text="other person")
    lines = analytics.describe("tg:1", ctx)
    assert lines[0].startswith("1 question the bot could not answer")
    assert "90 days" in lines[0]
    assert len(lines) == 2

    assert analytics.forget("tg:1", NOW) == []
    assert analytics.describe("tg:1", ctx) == []
    rows = events(db_engine)
    assert len(rows) == 3  # the counts remain
    mine = [r for r in rows if r.text != "other person"]
    assert all(r.text is None for r in mine)
    assert mine[0].resident_hash == mine[1].resident_hash  # still one distinct resident
    assert mine[0].resident_hash != analytics.resident_hash("tg:1")
    assert analytics.forget("tg:1", NOW) == []  # idempotent


def test_a_broken_database_does_not_raise(tmp_path, caplog):
    from bot.db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")
    analytics = SqlAnalytics(engine)
    analytics._key = b"k" * 32  # the key table is missing too
    analytics.record(kind="not_found", resident="tg:31337", locale="sv", now=NOW, text="hemligt")
    assert "could not record" in caplog.text
    assert "31337" not in caplog.text and "hemligt" not in caplog.text


def test_long_text_is_bounded_and_scrubbed(db_engine):
    analytics = SqlAnalytics(db_engine)
    text = "hjälp " * 150 + "ring 070-123 45 67 " + "x" * 50_000
    analytics.record(kind="not_found", resident="tg:1", locale="sv", now=NOW, text=text)
    [row] = events(db_engine)
    assert len(row.text) == 1000
    assert "[telefon]" in row.text and "070" not in row.text
