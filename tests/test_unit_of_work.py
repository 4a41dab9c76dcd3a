"""One transaction per event: the stores join the ambient unit of work, and it commits as a whole."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bot.core.ports import ResidentState
from bot.db.activities_store import SqlActivityStore
from bot.db.engine import _ambient, undo, unit_of_work, write_later
from bot.db.handoff_store import SqlHandoffStore
from bot.db.state_store import SqlStateStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Boom(Exception):
    pass


def _postgres(db_engine) -> bool:
    return db_engine.dialect.name == "postgresql"


def test_a_failed_event_writes_nothing_in_any_store(db_engine):
    states, acts = SqlStateStore(db_engine), SqlActivityStore(db_engine)
    with pytest.raises(Boom), unit_of_work(db_engine):
        assert states.claim_event("e1", now=NOW)
        acts.subscribe("tg:1", "sport", now=NOW)
        states.save(ResidentState(resident="tg:1", locale="sv"), now=NOW)
        raise Boom
    assert states.load("tg:1") is None
    assert acts.kinds_of("tg:1") == set()
    assert states.claim_event("e1", now=NOW)  # the claim went with the rest


def test_an_event_reads_its_own_writes_and_commits_them_together(db_engine):
    states, acts = SqlStateStore(db_engine), SqlActivityStore(db_engine)
    with unit_of_work(db_engine):
        states.save(ResidentState(resident="tg:2", locale="ro"), now=NOW)
        acts.subscribe("tg:2", "sport", now=NOW)
        assert states.load("tg:2").locale == "ro"
        assert acts.kinds_of("tg:2") == {"sport"}
    assert states.load("tg:2").locale == "ro" and acts.kinds_of("tg:2") == {"sport"}


def test_an_expected_duplicate_undoes_only_its_own_part(db_engine):
    """A double tap (duplicate key) inside an event must not spoil the rest of the event."""
    states, acts = SqlStateStore(db_engine), SqlActivityStore(db_engine)
    states.claim_event("seen", now=NOW)
    acts.subscribe("tg:3", "sport", now=NOW)
    with unit_of_work(db_engine):
        assert not states.claim_event("seen", now=NOW)
        acts.subscribe("tg:3", "sport", now=NOW)  # already subscribed: a no-op
        states.save(ResidentState(resident="tg:3", locale="fi"), now=NOW)
    assert states.load("tg:3").locale == "fi"
    assert acts.kinds_of("tg:3") == {"sport"}


def test_nested_units_of_work_commit_only_with_the_outermost(db_engine):
    states = SqlStateStore(db_engine)
    with pytest.raises(Boom), unit_of_work(db_engine):
        with unit_of_work(db_engine):
            states.save(ResidentState(resident="tg:4", locale="sv"), now=NOW)
        raise Boom
    assert states.load("tg:4") is None


def test_held_back_writes_are_seen_by_later_reads_and_commit_with_the_event(db_engine):
    """`write_later` (PostgreSQL: sent as one query before the next read, or with the commit)."""
    states, handoff = SqlStateStore(db_engine), SqlHandoffStore(db_engine)
    with unit_of_work(db_engine):
        states.save(ResidentState(resident="tg:5", locale="sv"), now=NOW)
        handoff.remember_question("tg:5", "one", now=NOW, keep=2)
        # Held back on PostgreSQL only (SQLite runs them at once).
        assert len(_ambient.get().pending) == (3 if _postgres(db_engine) else 0)
        assert states.load("tg:5").locale == "sv"  # the read sends what was held back first
        assert not _ambient.get().pending
        states.save(ResidentState(resident="tg:5", locale="fi"), now=NOW)  # an upsert, again
        handoff.remember_question("tg:5", "two", now=NOW, keep=2)
        handoff.remember_question("tg:5", "three", now=NOW, keep=2)
    assert states.load("tg:5").locale == "fi"
    assert handoff.recent_questions("tg:5", since=NOW) == ["two", "three"]


def test_a_failing_held_back_write_fails_the_event_and_the_next_event_goes_on(db_engine):
    import sqlite3

    import psycopg
    from sqlalchemy import exc, insert

    from bot.db.tables.state import ProcessedEvent

    states = SqlStateStore(db_engine)
    states.claim_event("dup", now=NOW)
    duplicate = insert(ProcessedEvent.__table__)  # type: ignore[attr-defined]
    # The driver's own error: held-back writes go through its cursor, not SQLAlchemy's.
    raised = (exc.IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)
    with pytest.raises(raised), unit_of_work(db_engine):
        states.save(ResidentState(resident="tg:6", locale="sv"), now=NOW)
        write_later(db_engine, duplicate, {"event_id": "dup", "at": NOW})
    assert states.load("tg:6") is None  # nothing of the failed event committed
    with unit_of_work(db_engine):  # the pooled connection is clean
        states.save(ResidentState(resident="tg:6", locale="ro"), now=NOW)
    assert states.load("tg:6").locale == "ro"


def test_a_write_run_at_once_fails_with_sqlalchemys_error(sqlite_engine, caplog):
    """SQLite runs `write_later` at once with sqlite3's cursor: its error is SQLAlchemy's, as
    through a session, so statistics that cannot be recorded still cost the event nothing."""
    from sqlalchemy import exc, text

    from bot.db.analytics_store import SqlAnalytics

    states, analytics = SqlStateStore(sqlite_engine), SqlAnalytics(sqlite_engine)
    analytics._key = b"k" * 32
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP TABLE usage_event"))
    with unit_of_work(sqlite_engine):
        states.save(ResidentState(resident="tg:10", locale="sv"), now=NOW)
        analytics.record(kind="not_found", resident="tg:10", locale="sv", now=NOW, text="x")
        with pytest.raises(exc.OperationalError):
            write_later(sqlite_engine, text("INSERT INTO usage_event DEFAULT VALUES"), {})
    assert "could not record" in caplog.text
    assert states.load("tg:10").locale == "sv"


def test_undo_drops_held_back_writes(db_engine):
    states = SqlStateStore(db_engine)
    with unit_of_work(db_engine):
        states.save(ResidentState(resident="tg:7", locale="sv"), now=NOW)
        undo(db_engine)
        assert states.claim_event("after-undo", now=NOW)
    assert states.load("tg:7") is None
    assert not states.claim_event("after-undo", now=NOW)


def _ahead(db_engine, resident: str, event_id: str) -> list:
    states, handoff = SqlStateStore(db_engine), SqlHandoffStore(db_engine)
    return [*states.ahead(resident, event_id, now=NOW), *handoff.ahead(resident)]


def test_reads_run_ahead_answer_as_the_reads_themselves(db_engine):
    """`unit_of_work(ahead=...)` (PostgreSQL: one round trip with the BEGIN) changes no answer."""
    states, handoff = SqlStateStore(db_engine), SqlHandoffStore(db_engine)
    states.save(
        ResidentState(resident="tg:8", locale="ro", data={"a": [1]}, memo={"q": "x"}), now=NOW
    )
    ticket, _ = handoff.open_ticket(
        resident="tg:8", locale="ro", topic_area="school", urgent=True, now=NOW
    )
    expected = (states.load("tg:8"), handoff.active_for("tg:8"))
    with unit_of_work(db_engine, ahead=_ahead(db_engine, "tg:8", "a1")):
        # Read ahead on PostgreSQL only (elsewhere each read runs when asked).
        assert (_ambient.get().ahead is not None) == _postgres(db_engine)
        assert states.claim_event("a1", now=NOW)
        assert (states.load("tg:8"), handoff.active_for("tg:8")) == expected
        assert handoff.active_for("tg:8") == ticket  # asked again: from the database
    with unit_of_work(db_engine, ahead=_ahead(db_engine, "tg:new", "a2")):
        assert states.claim_event("a2", now=NOW)
        assert states.load("tg:new") is None and handoff.active_for("tg:new") is None
    # A redelivered event: the claim read ahead says duplicate, and nothing else changes.
    with unit_of_work(db_engine, ahead=_ahead(db_engine, "tg:8", "a1")):
        assert not states.claim_event("a1", now=NOW)
    assert states.load("tg:8") == expected[0]


def test_reads_run_ahead_are_not_served_after_the_event_wrote(db_engine):
    states, handoff = SqlStateStore(db_engine), SqlHandoffStore(db_engine)
    states.save(ResidentState(resident="tg:9", locale="sv"), now=NOW)
    with unit_of_work(db_engine, ahead=_ahead(db_engine, "tg:9", "b1")):
        assert states.claim_event("b1", now=NOW)
        states.save(ResidentState(resident="tg:9", locale="fi"), now=NOW)
        handoff.open_ticket(resident="tg:9", locale="fi", topic_area=None, urgent=False, now=NOW)
        assert states.load("tg:9").locale == "fi"  # its own write, not the state read ahead
        assert handoff.active_for("tg:9") is not None
    with pytest.raises(Boom), unit_of_work(db_engine, ahead=_ahead(db_engine, "tg:9", "b2")):
        assert states.claim_event("b2", now=NOW)
        raise Boom
    assert states.claim_event("b2", now=NOW)  # the claim read ahead was rolled back with it


def test_values_merged_into_one_query_come_back_as_they_were(db_engine):
    """PostgreSQL: the read-ahead and the held-back writes go as one query each, the values
    merged by the driver; whatever a resident writes comes back unchanged."""
    nasty = 'it\'s \\ "quoted" %s %(x)s ; DROP TABLE resident_state; -- å ñ 😀 \n\t$$ $1'
    resident = "tg:'; --"
    states, handoff = SqlStateStore(db_engine), SqlHandoffStore(db_engine)
    with unit_of_work(db_engine, ahead=_ahead(db_engine, resident, "n'1")):
        assert states.claim_event("n'1", now=NOW)
        assert states.load(resident) is None
        state = ResidentState(resident=resident, locale="sv", data={"q": nasty}, memo={nasty: [1]})
        states.save(state, now=NOW)
        handoff.remember_question(resident, nasty, now=NOW, keep=3)
    with unit_of_work(db_engine, ahead=_ahead(db_engine, resident, "n'2")):
        assert states.claim_event("n'2", now=NOW)
        loaded = states.load(resident)
    assert loaded.data == {"q": nasty} and loaded.memo == {nasty: [1]}
    assert handoff.recent_questions(resident, since=NOW) == [nasty]


@pytest.mark.parametrize("contenders", [2, 5])
def test_take_it_inside_events_still_has_exactly_one_winner(db_engine, contenders):
    """Each staff press is its own transaction that first reads the ticket, then claims it."""
    store = SqlHandoffStore(db_engine)
    ticket, _ = store.open_ticket(
        resident="tg:race", locale="sv", topic_area=None, urgent=False, now=NOW
    )
    barrier = threading.Barrier(contenders)
    results: list[bool | str] = []
    lock = threading.Lock()

    def press(i: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(db_engine):
                store.get(ticket.id)
                won = store.claim(ticket.id, staff_id=f"tg:{i}", name=f"S{i}", now=NOW)
        except Exception as exc:  # pragma: no cover - the failure this test guards against
            won = type(exc).__name__
        with lock:
            results.append(won)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [False] * (contenders - 1) + [True]
    assert store.get(ticket.id).assignee is not None


class HalfDoneFlow:
    """A flow with a bug: it writes a record, then fails."""

    name = "halfdone"
    commands = frozenset()

    def __init__(self, store: SqlActivityStore) -> None:
        self.store = store

    def menu_label(self, ctx):
        return None

    def start(self, ctx, incoming):
        self.store.subscribe(ctx.resident, "sport", now=NOW)
        raise RuntimeError("a bug")

    handle = start


def test_a_flow_that_fails_halfway_leaves_no_record_but_the_event_counts(pack_app):
    from bot.core.messages import Incoming, Kind

    app = pack_app(NOW)
    acts = SqlActivityStore(app.engine)
    app.conversation.register_flow(HalfDoneFlow(acts))
    try:
        app.conversation.handle(
            Incoming(resident="tg:9", language_hint="en", kind=Kind.TEXT, text="Hi", event_id="a")
        )
        out = app.conversation.handle(
            Incoming(
                resident="tg:9",
                language_hint="en",
                kind=Kind.CHOICE,
                choice="go:halfdone",
                event_id="b",
            )
        )
        assert "something went wrong" in out[0].reply.text
        assert acts.kinds_of("tg:9") == set()  # the flow's write went with its failure
        assert not app.states.claim_event("b", now=NOW)  # a bug is answered, not retried forever
    finally:
        app.close()


def test_a_staff_action_that_fails_halfway_leaves_no_record(pack_app):
    from bot.bootstrap import AtomicStaff

    app = pack_app(NOW)
    acts = SqlActivityStore(app.engine)

    class Staff:
        prefixes = frozenset({"x"})

        def handle_staff(self, incoming, now):
            acts.subscribe("tg:staffdone", "sport", now=NOW)
            raise RuntimeError("a bug")

    wrapped = AtomicStaff(Staff(), app.engine)
    try:
        assert wrapped.prefixes == {"x"}  # everything else passes through
        with pytest.raises(RuntimeError):
            wrapped.handle_staff(None, NOW)
        assert acts.kinds_of("tg:staffdone") == set()
        assert all(isinstance(h, AtomicStaff) for h in app.staff_handlers)
    finally:
        app.close()
