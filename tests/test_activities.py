"""Activities through the conversation: what's on, .ics, reminders, subscriptions, proposals, staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from conversation_helpers import Resident, make_conversation
from icalendar import Calendar

from bot.content.activities import ActivityFolder
from bot.core.activities import ActivityStaff, build, detect, parse_announcement
from bot.core.i18n import I18n
from bot.core.messages import Kind, StaffIncoming, ToResident, ToStaff
from bot.db.activities_store import SqlActivityStore, theme_counts
from bot.markup import to_plain

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
I18N = I18n()

CAFE = """\
kind: cafe
when: [2026-12-10 17:00, 2027-01-14 17:00]
title: {sv: Romskt kafé, en: Roma café, fi: Romanikahvila}
description: {sv: Kaffe och samtal., en: Coffee and conversation.}
place: {sv: Träffpunkt Norra, en: Meeting Point North}
for: {sv: Alla, en: Everyone}
contact: "{municipality.bridge_builders_phone}"
"""
MOTHERS = """\
kind: mothers
when: 2026-12-03 10:00
minutes: 90
title: {sv: Mammagrupp, en: Mothers' group}
place: Familjecentralen
signup: true
"""
SAMRAD = """\
kind: consultation
when: 2027-01-28 18:00
title: {sv: Samråd, en: Consultation}
place: Stadshuset
"""


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "activities"
    d.mkdir()
    (d / "kafe.yaml").write_text(CAFE, encoding="utf-8")
    (d / "mammor.yaml").write_text(MOTHERS, encoding="utf-8")
    (d / "samrad.yaml").write_text(SAMRAD, encoding="utf-8")
    return d


class World:
    def __init__(self, engine, folder: Path, clock=None) -> None:
        self.clock = clock or Clock()
        self.store = SqlActivityStore(engine)
        self.files = ActivityFolder(folder)
        self.confirmed = 0
        self.conversation = make_conversation(engine, clock=self.clock)
        self.parts = build(
            activities=self.files.refresh, store=self.store, i18n=I18N,
            ctx_for=self.conversation.ctx_for, tz="Europe/Stockholm",
            fill=lambda text, loc: text.replace("{municipality.bridge_builders_phone}", "0000-00"),
            on_confirm=self.confirm_seen, now=self.clock,
        )  # fmt: skip
        self.conversation.register_interceptor(self.parts.interceptor)
        self.conversation.register_flow(self.parts.flow)

    def confirm_seen(self) -> None:
        self.confirmed += 1

    def resident(self, key: str, locale: str) -> Resident:
        r = Resident(self.conversation, key, hint=locale)
        r.says("hej")
        r.presses_id(f"lang:{locale}")
        return r

    def staff(self, text: str = "", *, choice: str = "", command: str = "") -> list:
        if choice:
            incoming = StaffIncoming("tg:777", "Mira", Kind.CHOICE, choice=choice)
        else:
            cmd, _, args = text[1:].partition(" ")
            incoming = StaffIncoming("tg:777", "Mira", Kind.COMMAND, text=text,
                                     command=command or cmd.split("\n")[0], args=args)  # fmt: skip
        return self.parts.staff.handle_staff(incoming, self.clock())


@pytest.fixture
def w(db_engine, folder):
    return World(db_engine, folder)


def attachments(r: Resident):
    return [x.attachment for x in r.replies if x.attachment is not None]


def test_whats_on_is_in_the_menu_and_lists_upcoming_in_two_languages(w):
    ana = w.resident("tg:1", "sv")
    assert "🎉 Vad händer?" in ana.labels
    ana.presses("Vad händer?")
    said = ana.said
    assert said.index("Mammagrupp") < said.index("Romskt kafé") < said.index("Samråd")
    assert "torsdag 3 december 2026 kl. 10:00–11:30" in said  # Babel, Swedish, local time
    john = w.resident("tg:2", "en")
    john.presses("What's on")
    assert "Roma café" in john.said and "Thursday, 10 December 2026 at 17:00–19:00" in john.said
    assert "Romskt kafé" not in john.said


def test_dates_follow_the_locale_and_romani_gets_swedish_formats(w):
    fi = w.resident("tg:3", "fi")
    fi.presses("Mitä tapahtuu?")
    assert "Romanikahvila" in fi.said and "torstai 10. joulukuuta 2026 klo 17.00" in fi.said
    rmy = w.resident("tg:4", "rmy")
    rmy.presses("So kerdjol?")
    assert "torsdag 10 december 2026 kl. 17:00" in rmy.said
    assert "Romskt kafé" in rmy.said  # no Kelderash title: Swedish


@pytest.mark.parametrize(
    ("text", "kind", "week"),
    [
        ("när är nästa kafé?", "cafe", False),
        ("Nar ar nasta kafe", "cafe", False),
        ("what's on this week", None, True),
        ("When is the next café?", "cafe", False),
        ("mitä tapahtuu tällä viikolla?", None, True),
        ("milloin on seuraava kahvila?", "cafe", False),
        ("Când este următoarea cafenea?", "cafe", False),
        ("ce se întâmplă săptămâna asta?", None, True),
        ("so kerdjol akava kurko?", None, True),
        ("kana si o avutno samråd?", "consultation", False),
        ("vad händer?", None, False),
    ],
)
def test_free_text_intents_in_every_language(text, kind, week):
    found = detect(text)
    assert found is not None, text
    assert found.kind == kind
    assert (found.within == timedelta(days=7)) is week


@pytest.mark.parametrize("text", [
    "Hur söker jag försörjningsstöd?", "kafé", "My child is sick", "Mitä kuuluu?",
    "Jag vill prata med en brobyggare om skolan nästa vecka", "hej",
    "Vad händer om jag inte betalar hyran?", "Mitä tapahtuu jos en maksa vuokraa?",
    "Ce se întâmplă dacă nu plătesc chiria?", "Vilka aktiviteter finns på fritids för barnen?",
    "What happens if I miss the appointment?",
])  # fmt: skip
def test_ordinary_questions_are_not_taken_for_activity_requests(text):
    assert detect(text) is None


def test_free_text_question_is_answered_with_the_matching_activities(w):
    ana = w.resident("tg:1", "sv")
    ana.says("när är nästa kafé?")
    assert "Romskt kafé" in ana.said and "Mammagrupp" not in ana.said
    ana.says("what's on this week")  # Dec 1-8: only the mothers' group
    assert "Mammagrupp" in ana.said and "Romskt kafé" not in ana.said
    ana.says("när är nästa killgrupp?")
    assert "Inget är planerat just nu för: Killgrupp" in ana.said and "Mammagrupp" in ana.said


def test_details_and_an_ics_that_a_calendar_parser_accepts(w):
    ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Romskt kafé")
    said = ana.said
    assert "Kaffe och samtal." in said and "0000-00" in said and "Ingen anmälan behövs" in said
    ana.presses("Lägg till i min kalender")
    (att,) = attachments(ana)
    assert att.mime == "text/calendar" and att.filename == "kafe-20261210.ics"
    cal = Calendar.from_ical(att.data)
    (event,) = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Romskt kafé"
    assert event.decoded("DTSTART") == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
    assert str(event["LOCATION"]) == "Träffpunkt Norra"


def test_reminder_the_day_before_survives_a_restart_and_a_clock_jump(db_engine, folder):
    with time_machine.travel(NOW, tick=False) as traveller:
        clock = lambda: datetime.now(UTC)  # noqa: E731 - the system clock, moved by time-machine
        w = World(db_engine, folder, clock=clock)
        ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Romskt kafé")
        ana.presses("Påminn mig dagen före")
        assert "onsdag 9 december 2026" in ana.said
        ana.presses("Romskt kafé") if False else None
        ana.presses_id("act:rem:kafe@202612101600")
        assert "redan en påminnelse" in ana.said
        assert all(job.tick(clock()) == [] for job in w.parts.jobs)
        # A restart: new objects over the same database, then the clock jumps to the day before.
        w2 = World(db_engine, folder, clock=clock)
        traveller.move_to(datetime(2026, 12, 9, 16, 5, tzinfo=UTC))
        reminders = w2.parts.jobs[0]
        out = reminders.tick(clock())
        assert len(out) == 1 and out[0].target == ToResident("tg:1")
        text = out[0].reply.text
        assert "Påminnelse" in text and "Romskt kafé" in text and "kl. 17:00" in text
        assert reminders.tick(clock()) == []  # once only
        assert World(db_engine, folder, clock=clock).parts.jobs[0].tick(clock()) == []


def test_no_reminder_for_something_less_than_a_day_away(w):
    w.clock.now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Mammagrupp")
    ana.presses("Påminn mig dagen före")
    assert "mindre än ett dygn" in ana.said
    assert w.store.due_reminders(datetime(2027, 1, 1, tzinfo=UTC)) == []


def test_subscribe_and_unsubscribe_with_one_button_or_stop(w):
    ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Nyheter om aktiviteter")
    ana.presses("⬜ Mötesplatskafé")
    assert "Du får nyheter om: Mötesplatskafé" in ana.said and "✅ Mötesplatskafé" in ana.labels
    ana.presses("⬜ Samråd")
    assert w.store.kinds_of("tg:1") == {"cafe", "consultation"}
    assert w.store.subscribers("cafe") == ["tg:1"] and w.store.subscribers("all") == ["tg:1"]
    ana.presses("✅ Mötesplatskafé")  # tap again to stop
    assert w.store.kinds_of("tg:1") == {"consultation"}
    ana.command("stop")
    assert "inga fler nyheter" in ana.said and w.store.kinds_of("tg:1") == set()
    ana.command("stop")  # not a subscriber any more: the conversation's own /stop
    assert "nyheter" not in ana.said
    # The button under an announcement unsubscribes with one tap.
    w.store.subscribe("tg:1", "cafe", now=NOW)
    ana.presses_id("act:unsub:cafe")
    assert w.store.kinds_of("tg:1") == set() and "Mötesplatskafé" in ana.said


def test_announce_preview_confirm_once_and_language_fallback(w):
    for key, loc in (("tg:1", "sv"), ("tg:2", "en"), ("tg:3", "fi")):
        w.resident(key, loc)
        w.store.subscribe(key, "cafe", now=NOW)
    w.store.subscribe("tg:9", "mothers", now=NOW)
    (preview,) = w.staff("/announce cafe\nsv: Kaféet flyttar till torsdag.\nen: The café moves to Thursday.")
    assert isinstance(preview.target, ToStaff)
    assert "(3)" in preview.reply.text and "Suomi" in preview.reply.text
    ok = [c.id for row in preview.reply.choices for c in row if c.id.startswith("ann:ok:")][0]
    assert w.store.subscribers("cafe") == ["tg:1", "tg:2", "tg:3"]
    (sending,) = w.staff(choice=ok)
    assert "3" in sending.reply.text and w.confirmed == 1
    (again,) = w.staff(choice=ok)  # a second bridge-builder presses too
    assert "redan" in again.reply.text and w.confirmed == 1
    from bot.core.activities import announcement_reply

    info = w.store.announcement(int(ok.split(":")[2]))
    fi = announcement_reply(info.kind, info.texts, "fi", I18N.gettext_for("fi"))
    assert "Kaféet flyttar till torsdag." in fi.text  # Finnish missing: Swedish
    en = announcement_reply(info.kind, info.texts, "en", I18N.gettext_for("en"))
    assert "The café moves to Thursday." in en.text
    assert [c.id for row in en.choices for c in row][-1] == "act:unsub:cafe"


def test_announce_without_swedish_explains_how_and_cancel_sends_nothing(w):
    (help_,) = w.staff("/announce cafe\nen: Only English")
    assert "/announce <sort>" in help_.reply.text and help_.reply.choices == []
    (preview,) = w.staff("/announce Kaféet är inställt idag")
    assert "Alla aktiviteter" in preview.reply.text
    no = [c.id for row in preview.reply.choices for c in row if c.id.startswith("ann:no:")][0]
    (cancelled,) = w.staff(choice=no)
    assert "avbröts" in cancelled.reply.text
    assert w.store.sending() == []


def test_parse_announcement_lines_per_language():
    kind, texts = parse_announcement("/announce consultation Samrådet blev bra!\nDet blev beslut.\nen: It went well.\nRMN: Mišto sine.")
    assert kind == "consultation"
    assert texts == {"sv": "Samrådet blev bra!\nDet blev beslut.", "en": "It went well.", "rmn": "Mišto sine."}
    assert parse_announcement("/announce@samvag_bot all\nHej")[0] == "all"


def test_proposal_is_scrubbed_stored_anonymously_or_named_and_listed_to_staff(w, db_engine):
    ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Föreslå ett ämne")
    ana.says("Prata om skolskjuts. Mitt personnummer är 19800101-1239, ring 070-123 45 67.")
    ana.presses("Skola och förskola")
    ana.presses("Skicka anonymt")
    assert "Tack!" in ana.said
    bo = w.resident("tg:2", "en").presses("What's on").presses("Suggest a topic")
    bo.sends_media("voice")
    bo.presses("Housing")
    bo._send(kind=Kind.CHOICE, choice="act:who:n", first_name="Bo")
    (listing, copy) = w.staff("/proposals")
    text = to_plain(listing.reply.text)
    assert "19800101-1239" not in text and "070-123 45 67" not in text
    assert "[personnummer]" in text and "Prata om skolskjuts" in text
    assert "anonym" in text and "Bo" in text and "Boende: 1" in text
    assert copy.reply.copy is not None and copy.reply.copy.kind == "voice"
    stored = w.store.proposals(since=NOW - timedelta(days=1))
    assert {p.first_name for p in stored} == {None, "Bo"}
    assert theme_counts(db_engine, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1)) == {
        "school": 1, "housing": 1}


def test_proposal_steps_answer_kindly_and_cancel(w):
    ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Föreslå ett ämne")
    ana.sends_media("photo")
    assert "Skriv ditt förslag" in ana.said
    ana.says("x" * 1600)
    assert "högst 1500 tecken" in ana.said
    ana.says("Mer lekplatser")
    ana.says("något annat")  # typing instead of choosing: asked again
    assert "Vad handlar ditt förslag mest om?" in ana.said
    ana.presses("Avbryt")
    assert "Inget skickades" in ana.said
    assert w.store.proposals(since=NOW - timedelta(days=1)) == []


def test_mydata_lists_and_forget_erases_activity_data(w):
    ana = w.resident("tg:1", "sv").presses("Vad händer?").presses("Romskt kafé")
    ana.presses("Påminn mig dagen före")
    w.store.subscribe("tg:1", "cafe", now=NOW)
    w.store.add_proposal(locale="sv", theme="other", text="x", media_kind=None, media_ref=None,
                         first_name="Ana", resident="tg:1", now=NOW)
    w.store.add_proposal(locale="sv", theme="other", text="anon", media_kind=None, media_ref=None,
                         first_name=None, resident=None, now=NOW)
    ctx = w.conversation.ctx_for("tg:1")
    lines = w.store.describe("tg:1", ctx)
    assert len(lines) == 3 and "Mötesplatskafé" in lines[0]
    w.store.forget("tg:1", NOW)
    assert w.store.describe("tg:1", ctx) == []
    assert [p.text for p in w.store.proposals(since=NOW - timedelta(days=1))] == ["anon"]


def test_old_button_for_a_past_activity_gets_a_kind_answer(w):
    ana = w.resident("tg:1", "sv")
    w.clock.now = datetime(2027, 2, 1, tzinfo=UTC)
    ana.presses_id("act:d:kafe@202612101600")
    assert "finns inte längre i kalendern" in ana.said


def test_button_ids_fit_telegram(w):
    ana = w.resident("tg:1", "sv").presses("Vad händer?")
    ids = [c.id for c in ana.buttons]
    ana.presses("Romskt kafé")
    ids += [c.id for c in ana.buttons]
    assert all(len(i.encode()) <= 64 for i in ids)


def test_staff_handler_owns_its_commands():
    assert ActivityStaff.commands == {"announce", "proposals"} and ActivityStaff.prefixes == {"ann"}


def test_usage_report_counts_proposals_by_theme_without_their_text(db_engine):
    from datetime import date

    from bot.reports.usage import collect, render_md

    store = SqlActivityStore(db_engine)
    for theme in ("school", "school", "housing"):
        store.add_proposal(locale="sv", theme=theme, text="Hemligt förslag", media_kind=None,
                           media_ref=None, first_name="Ana", resident="tg:1", now=NOW)  # fmt: skip
    report = collect(db_engine, date(2026, 12, 1), date(2026, 12, 31), _=I18N.gettext_for("sv"))
    (section,) = [s for s in report.sections if s.key == "proposals"]
    assert section.rows == [("Skola och förskola", [2]), ("Boende", [1])]
    md = render_md(report)
    assert "Förslag till samråd per tema" in md and "Hemligt" not in md and "Ana" not in md
