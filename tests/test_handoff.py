"""Handoff rules driven directly through the flow, interceptor, staff handler and jobs."""

from __future__ import annotations

import threading

import pytest

from bot.core.handoff import ClosingNoticeJob, ReannounceJob, RelayJob
from bot.core.messages import Kind, ToResident, ToStaff
from bot.db.handoff_store import SqlHandoffStore
from tests.test_handoff_support import (
    TUE_OPEN,
    WED_CLOSED,
    World,
    buttons,
    make_service,
    resident_text,
    staff_text,
    ticket_of,
)

ANNA, BO = "tg:701", "tg:702"
R1, R2 = "tg:1", "tg:2"


@pytest.fixture
def world(db_engine) -> World:
    return World(db_engine, make_service(db_engine))


def _open(world: World, resident: str = R1, locale: str = "en") -> int:
    return ticket_of(world.ask_person(resident, locale))


def test_consent_screen_says_what_is_shared_and_with_whom_before_anything_is_shared(world):
    ctx = world.ctx(R1)
    from bot.core.messages import Incoming

    outs = world.flow.start(ctx, Incoming(R1, Kind.CHOICE, choice="nav:human"))
    assert all(isinstance(o.target, ToResident) for o in outs)
    text = resident_text(outs)
    assert "bridge-builders" in text and "last questions" in text
    assert "phone number" in text
    assert buttons(outs) == ["handoff:consent", "handoff:cancel"]
    assert world.service.store.active_tickets() == []

    outs = world.presses(R1, "handoff:cancel")
    assert "nothing was shared" in resident_text(outs)
    assert world.service.store.active_tickets() == []
    assert world.ctx(R1).flow is None


def test_consent_in_swedish_is_translated(world):
    ctx = world.ctx(R2, "sv")
    from bot.core.messages import Incoming

    outs = world.flow.start(ctx, Incoming(R2, Kind.CHOICE, choice="nav:human"))
    assert "brobyggare" in resident_text(outs)


def test_ticket_announces_number_language_scrubbed_questions_speakers_and_take_button(world):
    world.staff_command(ANNA, "Anna", "languages", "sv ro")
    world.staff_command(BO, "Bo", "languages", "sv en")
    assert world.says(R1, "How do I apply for income support?") is None  # the FAQ answers
    assert world.says(R1, "my number is 070-123 45 67, call me") is None
    outs = world.ask_person(R1)
    number = ticket_of(outs)
    resident = resident_text(outs)
    assert f"{number}" in resident
    staff = [o for o in outs if isinstance(o.target, ToStaff)]
    assert len(staff) == 1
    announce = staff[0]
    assert announce.target.ticket == number and not announce.target.urgent
    assert f"#{number}" in announce.target.title and "English" in announce.target.title
    assert f"#{number}" in announce.reply.text and "English (en)" in announce.reply.text
    assert "income support" in announce.reply.text
    assert "070-123 45 67" not in announce.reply.text  # scrubbed before it was kept
    assert "[Bo](tg://user?id=702)" in announce.reply.text  # speaks English
    assert "Anna" not in announce.reply.text
    assert buttons(staff) == [f"handoff:take:{number}"]


def test_two_staff_take_at_once_exactly_one_wins_and_the_resident_learns_first_name_only(world):
    number = _open(world)
    won = world.take(ANNA, "Anna Maria Svensson", number)
    lost = world.take(BO, "Bo", number)
    assert "Anna took" in staff_text(won)
    told = resident_text(won, R1)
    assert "Anna" in told and "Svensson" not in told and "Maria" not in told
    assert "already took" in staff_text(lost) and resident_text(lost) == ""
    assert world.service.store.get(number).assignee == ANNA


@pytest.mark.parametrize("contenders", [2, 6])
def test_claim_race_on_the_database_has_exactly_one_winner(db_engine, contenders):
    store = SqlHandoffStore(db_engine)
    for round_ in range(5):
        ticket, _ = store.open_ticket(
            resident=f"tg:race{round_}", locale="sv", topic_area=None, urgent=False, now=TUE_OPEN
        )
        barrier = threading.Barrier(contenders)
        results: list[bool] = []
        lock = threading.Lock()

        def claim(
            i: int, ticket_id: int = ticket.id, barrier=barrier, results=results, lock=lock
        ) -> None:
            barrier.wait()
            won = store.claim(ticket_id, staff_id=f"tg:{i}", name=f"S{i}", now=TUE_OPEN)
            with lock:
                results.append(won)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(contenders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * (contenders - 1) + [True]
        assert store.get(ticket.id).status == "open"


def test_relay_both_ways_with_copies_and_internal_notes_never_leave(world):
    number = _open(world)
    world.take(ANNA, "Anna", number)

    outs = world.says(R1, "My landlord wants me out")
    assert outs is not None and resident_text(outs) == ""  # matcher paused, no bot answer
    assert "My landlord wants me out" in staff_text(outs)
    assert outs[0].target.ticket == number

    voice = world.media(R1, "voice", "1:55")
    assert voice[0].target == ToStaff(number, False, voice[0].target.title)
    assert voice[0].reply.copy.kind == "voice" and voice[0].reply.copy.ref == "1:55"
    photo = world.media(R1, "photo", "1:56")
    assert photo[0].reply.copy.ref == "1:56"

    answer = world.staff_says(ANNA, "Anna", number, "Hi, I can help. Send me the letter.")
    assert len(answer) == 1 and answer[0].target == ToResident(R1)
    assert answer[0].reply.copy is not None  # a copy: the staff account is not exposed

    note = world.staff_says(ANNA, "Anna", number, "! she sounded worried, call back Thursday")
    assert note == []
    transcript_kinds = _directions(world, number)
    assert transcript_kinds.count("note") == 1 and transcript_kinds.count("out") == 1


def _directions(world: World, number: int) -> list[str]:
    from sqlmodel import Session, select

    from bot.db.tables.handoff import HandoffMessage

    with Session(world.engine) as s:
        return [
            m.direction
            for m in s.exec(select(HandoffMessage).where(HandoffMessage.ticket_id == number))
        ]


def test_staff_writing_in_a_waiting_topic_takes_it(world):
    number = _open(world)
    outs = world.staff_says(BO, "Bo", number, "Hello!")
    assert "Bo" in resident_text(outs, R1)
    assert world.service.store.get(number).assignee == BO


def test_close_asks_for_a_rating_which_is_stored_once(world):
    number = _open(world)
    world.take(ANNA, "Anna", number)
    outs = world.staff_command(ANNA, "Anna", "close", ticket=number)
    assert "closed" in staff_text(outs)
    assert "How did it go?" in resident_text(outs, R1)
    assert f"handoff:rate:{number}:3" in buttons(outs)
    # after closing, the resident's words go to the FAQ again
    assert world.says(R1, "What is BankID?") is None
    # another resident cannot rate someone else's conversation
    forged = world.presses(R2, f"handoff:rate:{number}:1")
    assert "does not work" in resident_text(forged)
    assert "Thank you for telling us" in resident_text(
        world.presses(R1, f"handoff:rate:{number}:3")
    )
    assert "already" in resident_text(world.presses(R1, f"handoff:rate:{number}:1"))
    assert world.service.store.get(number).rating == 3
    # staff writing into the closed topic learn it was not sent
    late = world.staff_says(ANNA, "Anna", number, "one more thing")
    assert all(isinstance(o.target, ToStaff) for o in late) and "not sent" in staff_text(late)


def test_resident_ends_with_button_or_command_and_cannot_end_anothers(world):
    first = _open(world, R1)
    second = _open(world, R2)
    forged = world.presses(R2, f"handoff:end:{first}")
    assert "does not work" in resident_text(forged)
    assert world.service.store.get(first).active

    outs = world.presses(R1, f"handoff:end:{first}")
    assert "ended the conversation" in staff_text(outs)
    assert "How did it go?" in resident_text(outs, R1)
    outs = world.command(R2, "end")
    assert not world.service.store.get(second).active
    assert "ended the conversation" in staff_text(outs)


def test_a_resident_cannot_press_a_staff_button(world):
    number = _open(world, R1)
    outs = world.presses(R1, f"handoff:take:{number}")
    assert "does not work" in resident_text(outs)
    assert world.service.store.get(number).assignee is None
    assert all(isinstance(o.target, ToResident) for o in outs)


def test_risk_words_open_an_urgent_ticket_at_once_with_112_in_the_residents_language(world):
    outs = world.says(R1, "Min man slår mig", locale="sv")
    assert outs is not None
    told = resident_text(outs, R1)
    assert "112" in told and "brobyggar" in told.lower()
    staff = [o for o in outs if isinstance(o.target, ToStaff)]
    assert staff and all(o.target.urgent for o in staff)
    assert "URGENT" in staff[0].reply.text
    assert "Min man slår mig" in staff_text(outs)
    assert world.service.store.get(ticket_of(outs)).urgent


def test_risk_words_during_an_open_ticket_flag_it_urgent_once(world):
    number = _open(world)
    outs = world.says(R1, "he threatened to kill me")
    assert "112" in resident_text(outs, R1)
    assert any(o.target.urgent for o in outs if isinstance(o.target, ToStaff))
    again = world.says(R1, "he threatened to kill me again")
    assert "112" not in resident_text(again)
    assert world.service.store.get(number).urgent


def test_outside_hours_the_resident_learns_when_staff_are_back_once_a_day(world):
    world.now = WED_CLOSED
    outs = world.ask_person(R1, "sv")
    text = resident_text(outs, R1)
    assert "torsdag 3 december 2026 kl. 09:00" in text
    number = ticket_of(outs)
    world.later(hours=1)
    assert resident_text(world.says(R1, "hallå?", "sv")) == ""  # once a day per ticket
    world.later(days=1, hours=10)  # Thursday evening, closed again
    assert "tisdag 8 december 2026" in resident_text(world.says(R1, "hallå igen", "sv"))
    assert world.service.store.get(number).active


def test_hours_notice_names_a_speaker_of_the_language_when_one_is_registered(world):
    world.staff_command(ANNA, "Anna", "languages", "sv rom")
    world.now = WED_CLOSED
    text = resident_text(world.ask_person(R1, "rmy"))
    assert "Romani (Kelderash)" in text
    world2 = resident_text(world.ask_person(R2, "fi"))
    assert "kieltä suomi" in world2


def test_untaken_ticket_is_reannounced_once_during_opening_hours(world):
    job = ReannounceJob(world.service)
    number = _open(world)
    world.later(minutes=29)
    assert job.tick(world.now) == []
    world.later(minutes=2)
    outs = job.tick(world.now)
    assert [o.target.ticket for o in outs] == [number]
    assert f"handoff:take:{number}" in buttons(outs)
    world.later(minutes=30)
    assert job.tick(world.now) == []


def test_reannouncement_waits_for_opening_hours(world):
    world.now = WED_CLOSED
    job = ReannounceJob(world.service)
    number = _open(world)
    world.later(hours=5)
    assert job.tick(world.now) == []  # closed all Wednesday
    world.now = WED_CLOSED.replace(day=3, hour=8, minute=10)  # Thursday 09:10 local
    assert job.tick(world.now) == []
    world.later(minutes=25)
    assert [o.target.ticket for o in job.tick(world.now)] == [number]


def test_queue_release_and_languages(world):
    first = _open(world, R1)
    second = _open(world, R2, "ro")
    world.take(ANNA, "Anna", first)
    world.later(minutes=95)
    outs = world.staff_command(BO, "Bo", "queue")
    assert outs[0].target == ToStaff(None)
    text = outs[0].reply.text
    assert f"#{first}" in text and "Anna" in text and f"#{second}" in text and "waiting" in text
    assert "1 hour" in text

    outs = world.staff_command(ANNA, "Anna", "release", ticket=first)
    assert "waiting again" in staff_text(outs)
    assert f"handoff:take:{first}" in buttons(outs)
    assert "Another bridge-builder" in resident_text(outs, R1)
    assert world.service.store.get(first).assignee is None
    assert "Bo took" in staff_text(world.take(BO, "Bo", first))

    outs = world.staff_command(BO, "Bo", "languages", "sv, rmn SR")
    assert "sv rmn sr" in staff_text(outs)
    assert "sv rmn sr" in staff_text(world.staff_command(BO, "Bo", "languages"))
    assert "two- or three-letter" in staff_text(
        world.staff_command(BO, "Bo", "languages", "<script>")
    )
    assert "inside a conversation" in staff_text(world.staff_command(BO, "Bo", "close"))


def test_returning_resident_is_offered_to_their_last_bridge_builder_first(world):
    first = _open(world, R1)
    world.take(BO, "Bo", first)
    world.presses(R1, f"handoff:end:{first}")
    world.later(days=7)
    outs = world.ask_person(R1)
    assert "Last time [Bo](tg://user?id=702) helped" in staff_text(outs)


def test_a_resident_who_floods_is_slowed_down_and_nothing_is_lost(world):
    number = _open(world)
    relayed = []
    notices = 0
    for i in range(12):
        outs = world.says(R1, f"message {i}")
        relayed += [o.reply.text for o in outs if isinstance(o.target, ToStaff)]
        notices += "quickly" in resident_text(outs)
    assert len(relayed) == 8 and notices == 1
    job = RelayJob(world.service)
    assert job.tick(world.now) == []  # still inside the minute
    world.later(seconds=61)
    later = job.tick(world.now)
    relayed += [o.reply.text for o in later]
    assert [t.removeprefix("💬 ") for t in relayed] == [f"message {i}" for i in range(12)]
    assert all(o.target.ticket == number for o in later)


def test_a_redelivered_event_is_relayed_once(world):
    _open(world)
    first = world.says(R1, "only once", event="dup-1")
    second = world.says(R1, "only once", event="dup-1")
    assert "only once" in staff_text(first) and second == []


def test_resident_blocking_the_bot_closes_the_ticket_with_a_note(world):
    number = _open(world)
    outs = world.service.resident_blocked(R1, world.now)
    assert outs[0].target.ticket == number and "blocked" in outs[0].reply.text
    assert not world.service.store.get(number).active
    assert world.service.resident_blocked(R1, world.now) == []


def test_a_restart_in_the_middle_of_a_handoff_loses_nothing(world):
    number = _open(world)
    world.take(ANNA, "Anna", number)
    world.restart()
    outs = world.says(R1, "are you still there?")
    assert outs[0].target.ticket == number
    reply = world.staff_says(ANNA, "Anna", number, "Yes!")
    assert reply[0].target == ToResident(R1)


def test_closing_notice_after_hours_for_waiting_residents(world):
    job = ClosingNoticeJob(world.service)
    world.now = TUE_OPEN.replace(hour=10, minute=30)  # 11:30 local, open
    _open(world)
    assert job.tick(world.now) == []
    world.later(hours=1)  # 12:30 local: just closed
    outs = job.tick(world.now)
    assert "Thursday, 3 December 2026" in resident_text(outs, R1)
    assert job.tick(world.now) == []


def test_forget_closes_with_a_note_and_erases_messages(world):
    number = _open(world)
    world.says(R1, "private matter")
    ctx = world.ctx(R1)
    assert world.service.describe(R1, ctx)
    outs = world.service.forget(R1, world.now)
    assert outs[0].target.ticket == number and "erased" in outs[0].reply.text
    assert _directions(world, number) == []
    assert world.service.describe(R1, ctx) == []
    assert world.service.store.get(number).resident != R1


def test_forget_drops_relays_of_the_residents_words_still_waiting_for_the_staff_group(world):
    from sqlmodel import Session, select

    from bot.db.outbox_store import OutboxStore
    from bot.db.tables.outbox import STAFF_TARGET, OutboxMessage

    mine, theirs = _open(world), _open(world, R2)
    engine = world.service.store.engine
    OutboxStore(engine).add(
        [
            OutboxMessage(target=STAFF_TARGET, ticket=mine, payload='{"text": "private matter"}'),
            OutboxMessage(target=STAFF_TARGET, ticket=theirs, payload='{"text": "hello"}'),
        ]
    )
    world.service.forget(R1, world.now)
    with Session(engine) as s:
        waiting = s.exec(select(OutboxMessage.ticket)).all()
    assert waiting == [theirs]


def test_risk_words_inside_another_flow_take_the_resident_out_of_it(world):
    ctx = world.ctx(R1)
    ctx.enter("appt", {"step": "date"})
    outs = world.says(R1, "I want to kill myself")
    assert "112" in resident_text(outs) and world.ctx(R1).flow is None
    assert "still here" in staff_text(world.says(R1, "I am still here"))


def test_risk_words_are_never_held_by_the_rate_limit_and_never_relayed_twice(world):
    number = _open(world)
    for i in range(8):
        world.says(R1, f"message {i}")
    outs = world.says(R1, "he threatened to kill me")
    assert "threatened" in staff_text(outs)
    world.later(minutes=2)
    assert RelayJob(world.service).tick(world.now) == []
    assert world.service.store.held(number) == []


def test_an_open_ticket_outside_hours_names_the_bridge_builder(world):
    number = _open(world)
    world.take(ANNA, "Anna", number)
    world.now = WED_CLOSED
    text = resident_text(world.says(R1, "hello?"))
    assert "Anna or another bridge-builder" in text and "Thursday" in text


def test_a_released_ticket_is_not_announced_twice(world):
    number = _open(world)
    world.take(ANNA, "Anna", number)
    world.later(minutes=40)
    assert f"handoff:take:{number}" in buttons(
        world.staff_command(ANNA, "Anna", "release", ticket=number)
    )
    world.later(minutes=1)
    assert ReannounceJob(world.service).tick(world.now) == []
