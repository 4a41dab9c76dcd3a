"""`samvag report usage` on a seeded database with known numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.db.analytics_store import SqlAnalytics
from bot.db.engine import session_scope
from bot.db.tables.appointments import AppointmentRow
from bot.db.tables.handoff import HandoffMessage, HandoffTicket
from bot.reports import percent, shown
from bot.reports.usage import collect, eval_appendix, render_csv, render_html, render_md

SEPT = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
START, END = date(2026, 9, 1), date(2026, 10, 31)

CHAT_IDS = [f"tg:90000{i:04d}" for i in range(1, 13)]
NAME, STAFF_NAME, PHONE = "Maria Lindqvist", "Anna Brobyggare", "070-987 65 43"
SECRET_TEXT = "var kan jag hitta blanketten för bostadsbidrag"


def seed(engine) -> None:
    a = SqlAnalytics(engine)
    loc = {r: ("sv" if i < 8 else "ro" if i < 11 else "en") for i, r in enumerate(CHAT_IDS)}
    for r in CHAT_IDS:  # 12 first contacts in September
        a.record(kind="conversation_start", resident=r, locale=loc[r], now=SEPT)
    for i in range(20):
        r = CHAT_IDS[i % 8]
        a.record(
            kind="answered",
            resident=r,
            locale="sv",
            now=SEPT,
            entry_id="income-support",
            category="social-services",
            text=f"{SECRET_TEXT} {NAME}",
        )
    for i in range(3):
        a.record(
            kind="answered",
            resident=CHAT_IDS[8 + i],
            locale="ro",
            now=OCT,
            entry_id="school-start",
            category="school",
        )
    for i in range(7):
        a.record(
            kind="suggested",
            resident=CHAT_IDS[i],
            locale="sv",
            now=SEPT,
            text=f"{SECRET_TEXT} ring {PHONE}",
        )
    for i in range(2):
        a.record(
            kind="suggestion_taken",
            resident=CHAT_IDS[i],
            locale="sv",
            now=SEPT,
            entry_id="income-support",
            category="social-services",
        )
    for i in range(9):
        a.record(
            kind="not_found",
            resident=CHAT_IDS[i],
            locale=loc[CHAT_IDS[i]],
            now=OCT,
            text=f"jag heter {NAME} och {SECRET_TEXT}",
        )
    for i in range(8):
        a.record(
            kind="feedback",
            resident=CHAT_IDS[i],
            locale="sv",
            now=SEPT,
            helpful=True,
            entry_id="income-support",
            category="social-services",
        )
    for i in range(3):
        a.record(
            kind="feedback",
            resident=CHAT_IDS[i],
            locale="sv",
            now=OCT,
            helpful=False,
            entry_id="income-support",
            category="social-services",
            text=SECRET_TEXT,
        )
    # Outside the period: must not count.
    a.record(
        kind="conversation_start",
        resident="tg:1",
        locale="fi",
        now=datetime(2026, 11, 5, tzinfo=UTC),
    )

    with session_scope(engine) as s:
        ratings = [5, 5, 5, 5, 4, 4]
        for i, minutes in enumerate([10, 20, 30, 40, 50, 60]):
            created = SEPT + timedelta(days=i)
            t = HandoffTicket(
                resident=CHAT_IDS[i],
                locale="sv",
                status="closed",
                urgent=i == 0,
                assignee="tg:777",
                assignee_name=STAFF_NAME,
                created_at=created,
                taken_at=created + timedelta(minutes=5),
                rating=ratings[i],
                topic_area=NAME,
            )
            s.add(t)
            s.flush()
            s.add(
                HandoffMessage(
                    ticket_id=t.id, direction="in", kind="text", text=SECRET_TEXT, at=created
                )
            )
            s.add(
                HandoffMessage(
                    ticket_id=t.id,
                    direction="out",
                    kind="text",
                    text=f"Hej {NAME}",
                    at=created + timedelta(minutes=minutes),
                )
            )
            s.add(
                HandoffMessage(
                    ticket_id=t.id,
                    direction="out",
                    kind="text",
                    text="mer",
                    at=created + timedelta(minutes=minutes + 90),
                )
            )
        for i, status in enumerate(["requested"] * 5 + ["confirmed"] * 2 + ["cancelled"]):
            s.add(
                AppointmentRow(
                    resident=CHAT_IDS[i],
                    locale="sv",
                    topic="social-services",
                    status=status,
                    phone=PHONE,
                    note=f"{NAME}: {SECRET_TEXT}",
                    handler_name=STAFF_NAME,
                    contact="phone",
                    created_at=OCT,
                    updated_at=OCT,
                )
            )


@pytest.fixture
def report(db_engine):
    seed(db_engine)
    return collect(
        db_engine,
        START,
        END,
        tz="Europe/Stockholm",
        category_names={"social-services": "Socialtjänst"},
        now=datetime(2026, 11, 6, tzinfo=UTC),
    )


def rows(report, key) -> dict[str, list[str]]:
    section = next(s for s in report.sections if s.key == key)
    return {
        label: [shown(v) if isinstance(v, int) else v for v in values]
        for label, values in section.rows
    }


def test_small_counts_rule():
    assert [shown(n) for n in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]
    assert percent(8, 11) == "–"  # 3 said no: too few to show the share
    assert percent(10, 15) == "67 %"
    assert percent(0, 0) == "–"


def test_exact_counts(report):
    summary = rows(report, "summary")
    # One conversation per resident in September (12) and per returning resident in October (11).
    assert summary["Conversations"] == ["23"]
    assert summary["Residents (distinct, never listed)"] == ["12"]
    assert summary["Of them, first contact in this period"] == ["12"]
    assert summary["Questions asked in own words or topics opened"] == ["39"]  # 23 + 7 + 9
    assert summary["Answers given"] == ["23"]
    assert summary["Suggestions offered"] == ["7"]
    assert summary["Suggestions taken"] == ["<5"]
    assert summary["Questions without an answer"] == ["9"]
    assert summary["Requests to talk to a bridge-builder"] == ["6"]
    assert summary["Appointment requests"] == ["8"]

    assert rows(report, "by_month") == {
        "2026-09": ["12", "12", "27", "6"],
        "2026-10": ["11", "11", "12", "0"],
    }
    by_lang = rows(report, "by_language")
    # A lone "<5" in a column would follow from the total, so the next smallest is hidden too.
    assert by_lang["Svenska (sv)"] == ["16", "8", "–"]
    assert by_lang["Română (ro)"] == ["–", "<5", "<5"]
    assert by_lang["English (en)"] == ["<5", "<5", "0"]

    assert rows(report, "by_category") == {
        "Socialtjänst": ["–", "8", "<5"],
        "school": ["<5", "0", "0"],
    }
    assert rows(report, "helpfulness") == {"Yes": ["8"], "No": ["<5"], "Share yes": ["–"]}


def test_handoffs_ratings_and_appointments(report):
    handoffs = rows(report, "handoffs")
    assert handoffs["Requests"] == ["6"]
    assert handoffs["Marked urgent"] == ["<5"]
    assert handoffs["Median time to first reply"] == ["35 min"]
    assert handoffs["90th percentile time to first reply"] == ["1 h"]
    assert rows(report, "handoff_status") == {"closed": ["6"]}
    assert rows(report, "ratings") == {"★★★★★ (5)": ["<5"], "★★★★ (4)": ["<5"], "Average": ["4.7"]}
    assert rows(report, "appointments") == {
        "cancelled": ["<5"],
        "confirmed": ["<5"],
        "requested": ["5"],
    }


def test_no_personal_data_in_any_format(report):
    outputs = {"md": render_md(report), "csv": render_csv(report), "html": render_html(report)}
    forbidden = [
        NAME,
        "Maria",
        STAFF_NAME,
        "Anna",
        PHONE,
        "070",
        "9876543",
        "bostadsbidrag",
        "blanketten",
        "tg:",
        "tg:777",
        *CHAT_IDS,
        *(c.split(":")[1] for c in CHAT_IDS),
    ]
    for fmt, text in outputs.items():
        for word in forbidden:
            assert word not in text, (fmt, word)


def test_formats(report):
    md = render_md(report)
    assert "| Conversations | 23 |" in md
    parsed = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert {
        "section": "summary",
        "row": "Suggestions taken",
        "column": "count",
        "value": "<5",
    } in parsed
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<svg" in page and "@media print" in page
    # One self-contained file: nothing is fetched from the network.
    for marker in ("http", "<script", "<link", "src=", "url("):
        assert marker not in page, marker


def test_small_bars_are_not_drawn(report):
    page = render_html(report)
    chart = page.split("<h2>By language</h2>")[1].split("</svg>")[0]
    assert chart.count("<rect") == 1  # Swedish 16; Romanian is hidden, English's <5 is text
    assert "&lt;5" in chart


def test_empty_period(db_engine):
    empty = collect(db_engine, date(2020, 1, 1), date(2020, 1, 31))
    assert rows(empty, "summary")["Conversations"] == ["0"]
    assert "<svg" not in render_html(empty)


def test_eval_appendix(tmp_path):
    from pathlib import Path

    pack = Path(__file__).parent / "data" / "pack"
    questions = tmp_path / "q.csv"
    questions.write_text(
        "lang,text,expected,kind\n"
        "sv,Hur söker jag ekonomiskt bistånd?,financial-assistance,plain\n"
        "sv,var ligger månen,NONE,outofscope\n",
        encoding="utf-8",
    )
    lines, note = eval_appendix([questions], pack)
    assert note == ""
    assert lines[0].startswith("Question set: q.csv; 2 questions, 1 with an expected answer")
    assert any(line.startswith("All languages: right answer first 100 %") for line in lines)
    assert eval_appendix([tmp_path / "missing.csv"], pack)[1].startswith("No question set")


def test_secondary_suppression():
    from bot.reports.usage import Section, protect

    section = Section("x", "X", ["a", "b", "c"], additive=(0, 1))
    section.rows = [("p", [3, 2, 3]), ("q", [9, 7, 50]), ("r", [6, 1, 9])]
    protect(section)
    # Column a: one "<5" (3), so the smallest other (6) goes; column b has two "<5", nothing
    # more; column c is not additive.
    assert [v for _, v in section.rows] == [[3, 2, 3], [9, 7, 50], ["–", 1, 9]]
    assert "cannot be worked out" in section.note


def test_the_report_in_swedish(db_engine):
    from bot.core.i18n import I18n

    seed(db_engine)
    _ = I18n().gettext_for("sv")
    report = collect(db_engine, START, END, now=datetime(2026, 11, 6, tzinfo=UTC), _=_, locale="sv")
    assert rows(report, "summary")["Samtal"] == ["23"]
    assert rows(report, "handoff_status") == {"avslutad": ["6"]}
    assert rows(report, "appointments") == {"avbokad": ["<5"], "bekräftad": ["<5"], "begärd": ["5"]}
    assert rows(report, "handoffs")["Mediantid till första svar"] == ["35 min"]
    page = render_html(report)
    assert '<html lang="sv">' in page and "samvag användning 2026-09-01 – 2026-10-31" in page
    assert "Antal från 1 till 4 visas som &lt;5" in page
    assert render_md(report).startswith("# samvag användning")
    assert "Bilaga: svarskvalitet (samvag eval)" in page
