"""`samvag report usage`: how the service was used in a period, as Markdown, CSV or one HTML file.

Only counts leave the database: no chat id, name, phone number or message text is read.
Counts of 1-4 are shown as "<5", and shares, medians and averages built on so few are left out.
Handoffs and appointments are read by table introspection, so the report works whether or not
those domains are installed.
"""

from __future__ import annotations

import csv
import html
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.engine import Engine

from bot.core.i18n import N_, language_name
from bot.db.tables.stats import UsageEvent
from bot.reports import SMALL, ReportError, as_utc, local_bounds, percent, report_engine, shown

Value = int | str  # an int is a count ("<5" rule applies); a str is already formatted
QUESTION_KINDS = ("answered", "suggested", "not_found")
# A resident's events with no pause longer than this are one conversation.
SESSION_GAP = timedelta(minutes=30)
Gettext = Callable[[str], str]
# Status ids of the handoff and appointment tables, translated when shown.
STATUS_NAMES = {
    "waiting": N_("waiting"),
    "open": N_("open"),
    "closed": N_("closed"),
    "requested": N_("requested"),
    "confirmed": N_("confirmed"),
    "declined": N_("declined"),
    "cancelled": N_("cancelled"),
    "done": N_("done"),
    "no_show": N_("did not come"),
}


def _untranslated(msgid: str) -> str:
    return msgid


@dataclass(slots=True)
class Section:
    key: str  # the section's id in the CSV
    title: str
    headers: list[str]
    rows: list[tuple[str, list[Value]]] = field(default_factory=list)
    chart: bool = False  # draw the first column as bars (HTML)
    note: str = ""
    additive: tuple[int, ...] = ()  # columns whose rows add up to a total shown elsewhere


@dataclass(slots=True)
class UsageReport:
    start: date
    end: date
    generated: datetime
    sections: list[Section]
    appendix: list[str] = field(default_factory=list)  # `samvag eval` lines
    appendix_note: str = ""
    _: Gettext = _untranslated  # the report's language, for the renderers' fixed texts
    locale: str = "en"


# -- reading ---------------------------------------------------------------------------------------


def _reflect(engine: Engine, name: str) -> Table | None:
    if not inspect(engine).has_table(name):
        return None
    return Table(name, MetaData(), autoload_with=engine)


def _duration(seconds: float, _: Gettext = _untranslated) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("{m} min").format(m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if minutes:
            return _("{h} h {m} min").format(h=hours, m=minutes)
        return _("{h} h").format(h=hours)
    days, hours = divmod(hours, 24)
    return _("{d} d {h} h").format(d=days, h=hours)


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest-rank


def _month(at: datetime, zone: ZoneInfo) -> str:
    return as_utc(at).astimezone(zone).strftime("%Y-%m")


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


HIDDEN = "–"
HIDDEN_NOTE = N_(
    "– is a count of 5 or more left out, so that a count under 5 cannot be worked out "
    "from the total."
)


def protect(section: Section, note: str = HIDDEN_NOTE) -> None:
    """Secondary suppression: a lone "<5" in a column that adds up to a published total could
    be worked out by subtraction, so the smallest other count in that column is hidden too."""
    for col in section.additive:
        cells = [(i, v[col]) for i, (_, v) in enumerate(section.rows) if isinstance(v[col], int)]
        if sum(1 for _, n in cells if 0 < n < SMALL) != 1:
            continue
        others = sorted((n, i) for i, n in cells if n >= SMALL)
        if others:
            section.rows[others[0][1]][1][col] = HIDDEN
            if note not in section.note:
                section.note = f"{section.note} {note}".strip()


def _conversation_starts(events: list) -> list:
    """The first event of each conversation (events of one resident without a long pause)."""
    starts, last = [], {}
    mine = sorted(
        (r for r in events if r["resident_hash"]),
        key=lambda r: (r["resident_hash"], as_utc(r["at"])),
    )
    for r in mine:
        at, who = as_utc(r["at"]), r["resident_hash"]
        if who not in last or at - last[who] > SESSION_GAP:
            starts.append(r)
        last[who] = at
    return starts


def _handoffs(engine: Engine, lo: datetime, hi: datetime, zone: ZoneInfo) -> dict | None:
    tickets = _reflect(engine, "handoff_ticket")
    if tickets is None or "created_at" not in tickets.c:
        return None
    c = tickets.c
    cols = [c.id, c.created_at] + [
        c[n] for n in ("status", "urgent", "taken_at", "rating") if n in c
    ]
    with engine.connect() as conn:
        rows = [
            r._mapping
            for r in conn.execute(select(*cols).where(c.created_at >= lo, c.created_at < hi))
        ]
        first_reply: dict[int, datetime] = {}
        messages = _reflect(engine, "handoff_message")
        if (
            rows
            and messages is not None
            and {"ticket_id", "direction", "at"} <= set(messages.c.keys())
        ):
            m = messages.c
            q = (
                select(m.ticket_id, func.min(m.at))
                .where(m.direction == "out")
                .group_by(m.ticket_id)
            )
            first_reply = {tid: at for tid, at in conn.execute(q) if at is not None}
    waits = []
    for r in rows:
        # The first relayed staff message; after retention deleted the transcript, the time
        # the ticket was taken is the best we still know.
        replied = first_reply.get(r["id"]) or r.get("taken_at")
        if replied is not None:
            waits.append((as_utc(replied) - as_utc(r["created_at"])).total_seconds())
    return {
        "count": len(rows),
        "by_month": Counter(_month(r["created_at"], zone) for r in rows),
        "urgent": sum(1 for r in rows if r.get("urgent")),
        "status": Counter(r.get("status") or "unknown" for r in rows),
        "waits": [w for w in waits if w >= 0],
        "ratings": Counter(int(r["rating"]) for r in rows if r.get("rating") is not None),
    }


def _counted_by(
    engine: Engine, table_name: str, column: str, lo: datetime, hi: datetime, missing: str
) -> Counter | None:
    """Rows of `table_name` created in [lo, hi) counted by `column`, or None without the table."""
    table = _reflect(engine, table_name)
    if table is None or not {column, "created_at"} <= set(table.c.keys()):
        return None
    key, created = table.c[column], table.c.created_at
    with engine.connect() as conn:
        q = select(key, func.count()).where(created >= lo, created < hi).group_by(key)
        return Counter({value or missing: n for value, n in conn.execute(q)})


def _proposals(engine: Engine, lo: datetime, hi: datetime) -> Counter | None:
    """Consultation proposals per theme (issue 10)."""
    return _counted_by(engine, "activity_proposal", "theme", lo, hi, "other")


def _appointments(engine: Engine, lo: datetime, hi: datetime) -> Counter | None:
    return _counted_by(engine, "appointment", "status", lo, hi, "unknown")


def collect(
    engine: Engine,
    start: date,
    end: date,
    *,
    tz: str = "Europe/Stockholm",
    category_names: dict[str, str] | None = None,
    now: datetime | None = None,
    _: Gettext = _untranslated,
    locale: str = "en",
) -> UsageReport:
    """Count everything for the report, labelled in `_`'s language; reads no text column."""
    zone = ZoneInfo(tz)
    lo, hi = local_bounds(start, end, tz)
    names = category_names or {}
    e = UsageEvent.__table__.c
    with engine.connect() as conn:
        events = [
            r._mapping
            for r in conn.execute(
                select(e.kind, e.at, e.locale, e.resident_hash, e.category, e.helpful).where(
                    e.at >= lo, e.at < hi
                )
            )
        ]

    kinds = Counter(r["kind"] for r in events)
    residents = {r["resident_hash"] for r in events if r["resident_hash"]}
    starts = _conversation_starts(events)
    handoffs = _handoffs(engine, lo, hi, zone)
    appointments = _appointments(engine, lo, hi)
    proposals = _proposals(engine, lo, hi)

    count = _("count")
    summary = Section("summary", _("Summary"), [count])
    summary.rows = [
        (_("Conversations"), [len(starts)]),
        (_("Residents (distinct, never listed)"), [len(residents)]),
        (_("Of them, first contact in this period"), [kinds["conversation_start"]]),
        (
            _("Questions asked in own words or topics opened"),
            [sum(kinds[k] for k in QUESTION_KINDS)],
        ),
        (_("Answers given"), [kinds["answered"]]),
        (_("Suggestions offered"), [kinds["suggested"]]),
        (_("Suggestions taken"), [kinds["suggestion_taken"]]),
        (_("Questions without an answer"), [kinds["not_found"]]),
    ]
    if handoffs is not None:
        summary.rows.append((_("Requests to talk to a bridge-builder"), [handoffs["count"]]))
    if appointments is not None:
        summary.rows.append((_("Appointment requests"), [sum(appointments.values())]))

    by_month = Section(
        "by_month",
        _("By month"),
        [_("conversations"), _("residents"), _("questions")],
        chart=True,
        additive=(0, 2, 3),
    )
    per_month: dict[str, list] = defaultdict(lambda: [0, set(), 0])
    for r in starts:
        per_month[_month(r["at"], zone)][0] += 1
    for r in events:
        slot = per_month[_month(r["at"], zone)]
        if r["resident_hash"]:
            slot[1].add(r["resident_hash"])
        if r["kind"] in QUESTION_KINDS:
            slot[2] += 1
    if handoffs is not None:
        by_month.headers.append(_("handoffs"))
    for month in _months(start, end):
        conv, people, questions = per_month[month]
        values: list[Value] = [conv, len(people), questions]
        if handoffs is not None:
            values.append(handoffs["by_month"][month])
        by_month.rows.append((month, values))

    by_language = Section(
        "by_language",
        _("By language"),
        [_("conversations"), _("residents"), _("questions")],
        chart=True,
        additive=(0, 2),
    )
    per_lang: dict[str, list] = defaultdict(lambda: [0, set(), 0])
    for r in starts:
        per_lang[r["locale"]][0] += 1
    for r in events:
        slot = per_lang[r["locale"]]
        if r["resident_hash"]:
            slot[1].add(r["resident_hash"])
        slot[2] += r["kind"] in QUESTION_KINDS
    for loc, (conv, people, questions) in sorted(per_lang.items(), key=lambda kv: -kv[1][2]):
        by_language.rows.append((f"{language_name(loc)} ({loc})", [conv, len(people), questions]))

    by_category = Section(
        "by_category",
        _("Answers by topic"),
        [_("answers"), _("helpful"), _("not helpful")],
        chart=True,
        additive=(0, 1, 2),
    )
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in events:
        if not r["category"]:
            continue
        if r["kind"] == "answered":
            per_cat[r["category"]][0] += 1
        elif r["kind"] == "feedback" and r["helpful"] is not None:
            per_cat[r["category"]][1 if r["helpful"] else 2] += 1
    for cat, values in sorted(per_cat.items(), key=lambda kv: -kv[1][0]):
        by_category.rows.append((names.get(cat, cat), list(values)))

    yes = sum(1 for r in events if r["kind"] == "feedback" and r["helpful"] is True)
    no = sum(1 for r in events if r["kind"] == "feedback" and r["helpful"] is False)
    helpfulness = Section("helpfulness", _("Was the answer helpful?"), [count])
    helpfulness.rows = [
        (_("Yes"), [yes]),
        (_("No"), [no]),
        (_("Share yes"), [percent(yes, yes + no)]),
    ]

    sections = [summary, by_month, by_language, by_category, helpfulness]
    if handoffs is not None:
        waits = handoffs["waits"]
        enough = len(waits) >= SMALL
        section = Section("handoffs", _("Talking to a bridge-builder"), [_("value")])
        section.rows = [
            (_("Requests"), [handoffs["count"]]),
            (_("Marked urgent"), [handoffs["urgent"]]),
            (_("Answered by a bridge-builder"), [len(waits)]),
            (
                _("Median time to first reply"),
                [_duration(statistics.median(waits), _) if enough else "–"],
            ),
            (
                _("90th percentile time to first reply"),
                [_duration(_p90(waits), _) if enough else "–"],
            ),
        ]
        if not enough:
            section.note = _("Times are shown only when at least 5 requests were answered.")
        sections.append(section)
        status = Section("handoff_status", _("Requests by status"), [count], additive=(0,))
        status.rows = [
            (_(STATUS_NAMES.get(s, s)), [n]) for s, n in sorted(handoffs["status"].items())
        ]
        sections.append(status)
        ratings = handoffs["ratings"]
        rated = sum(ratings.values())
        rating = Section(
            "ratings",
            _("Residents' ratings of the conversation"),
            [count],
            chart=True,
            additive=(0,),
        )
        rating.rows = [(f"{'★' * k} ({k})", [ratings[k]]) for k in sorted(ratings, reverse=True)]
        if rated >= SMALL:
            mean = sum(k * n for k, n in ratings.items()) / rated
            rating.rows.append((_("Average"), [f"{mean:.1f}"]))
        sections.append(rating)
    if appointments is not None:
        section = Section(
            "appointments",
            _("Appointment requests by status"),
            [count],
            chart=True,
            additive=(0,),
        )
        section.rows = [(_(STATUS_NAMES.get(s, s)), [n]) for s, n in sorted(appointments.items())]
        sections.append(section)
    if proposals:
        from bot.core.activities import THEME_NAMES

        section = Section(
            "proposals", _("Consultation proposals by theme"), [count], chart=True, additive=(0,)
        )
        section.rows = [
            (_(THEME_NAMES.get(t, t)), [n])
            for t, n in sorted(proposals.items(), key=lambda kv: -kv[1])
        ]
        sections.append(section)
    for section in sections:
        protect(section, _(HIDDEN_NOTE))
    return UsageReport(
        start=start,
        end=end,
        generated=now or datetime.now(UTC),
        sections=sections,
        _=_,
        locale=locale,
    )


# -- the eval appendix -------------------------------------------------------------------------------


def eval_appendix(
    questions: Iterable[Path], content_dir: Path, _: Gettext = _untranslated
) -> tuple[list[str], str]:
    """`samvag eval` figures on the project's question set, as lines; a note when unavailable."""
    files = [p for p in questions if p.is_file()]
    if not files:
        return [], _("No question set was found, so no evaluation was run.")
    try:
        from bot.content.loader import load_content
        from bot.matching_cli import EvalResult, evaluate, read_questions

        rows = [row for p in files for row in read_questions(p)]
        result: EvalResult = evaluate(rows, load_content(content_dir))
    except Exception as exc:  # the appendix must never cost the report
        return [], _("The evaluation could not run ({error}).").format(error=type(exc).__name__)

    def pct(t, what):
        v = result.pct(t, what)
        return "–" if v is None else f"{v:.0f} %"

    lines = [
        _("Question set: {files}; {rows} questions, {inscope} with an expected answer.").format(
            files=", ".join(p.name for p in files),
            rows=result.total.rows,
            inscope=result.total.inscope,
        )
    ]
    for label, t in [("all", result.total), *sorted(result.by_lang.items())]:
        name = _("All languages") if label == "all" else f"{language_name(label)} ({label})"
        lines.append(
            _(
                "{name}: right answer first {top1}, among the first three {top3}, "
                "out-of-scope questions declined {rejected}, overall {overall}"
            ).format(
                name=name,
                top1=pct(t, "top1"),
                top3=pct(t, "top3"),
                rejected=pct(t, "rejection"),
                overall=pct(t, "overall"),
            )
        )
    return lines, ""


# -- rendering ---------------------------------------------------------------------------------------


def _cell(v: Value) -> str:
    return shown(v) if isinstance(v, int) else v


def _title(report: UsageReport) -> str:
    return report._("samvag usage {start} – {end}").format(
        start=report.start.isoformat(), end=report.end.isoformat()
    )


def _intro(report: UsageReport) -> str:
    return report._(
        "Counts from 1 to 4 are shown as <5 so that no resident can be singled out. "
        "Residents are counted, never listed."
    )


def _appendix_title(report: UsageReport) -> str:
    return report._("Appendix: matching quality (samvag eval)")


def _generated(report: UsageReport) -> str:
    return report._("Generated {time} UTC.").format(
        time=report.generated.strftime("%Y-%m-%d %H:%M")
    )


def render_md(report: UsageReport) -> str:
    _ = report._
    out = [f"# {_title(report)}", "", _intro(report), ""]
    for s in report.sections:
        out += [
            f"## {s.title}",
            "",
            "| | " + " | ".join(s.headers) + " |",
            "|---|" + "---:|" * len(s.headers),
        ]
        out += [
            f"| {label} | " + " | ".join(_cell(v) for v in values) + " |"
            for label, values in s.rows
        ]
        if s.note:
            out += ["", f"_{s.note}_"]
        out.append("")
    out += [f"## {_appendix_title(report)}", ""]
    out += [f"- {line}" for line in report.appendix] or [report.appendix_note]
    out += ["", _generated(report), ""]
    return "\n".join(out)


def render_csv(report: UsageReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "row", "column", "value"])
    for s in report.sections:
        for label, values in s.rows:
            for header, v in zip(s.headers, values, strict=True):
                writer.writerow([s.key, label, header, _cell(v)])
    for i, line in enumerate(report.appendix):
        writer.writerow(["eval", str(i + 1), "text", line])
    return buf.getvalue()


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;max-width:60rem;
margin:2rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #2b6cb0}
p.lead{color:#444}table{border-collapse:collapse;margin:.5rem 0;min-width:24rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f0f4f8}section{break-inside:avoid;page-break-inside:avoid}svg{display:block;margin:.5rem 0}
.note{color:#555;font-style:italic}footer{margin-top:2rem;color:#666;font-size:.85rem}
@page{size:A4;margin:15mm}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _svg_bars(rows: list[tuple[str, list[Value]]], header: str) -> str:
    """Horizontal bars for the first column; small counts get no bar (its length would tell)."""
    counted = [(label, v[0]) for label, v in rows if isinstance(v[0], int)]
    if not counted or max((n for _, n in counted), default=0) < SMALL:
        return ""
    top = max(n for _, n in counted)
    bar_h, gap, label_w, width = 18, 6, 190, 620
    height = len(counted) * (bar_h + gap) + gap
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{html.escape(header)}">'
    ]
    for i, (label, n) in enumerate(counted):
        y = gap + i * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">'
            f"{html.escape(label[:32])}</text>"
        )
        if n >= SMALL:
            w = max(1, round((width - label_w - 60) * n / top))
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#2b6cb0"/>'
            )
            parts.append(f'<text x="{label_w + w + 4}" y="{y + 13}" font-size="12">{n}</text>')
        else:
            parts.append(
                f'<text x="{label_w + 4}" y="{y + 13}" font-size="12" fill="#555">'
                f"{html.escape(shown(n))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: UsageReport) -> str:
    _ = report._
    title = html.escape(_title(report))
    lead = " ".join(
        [
            _intro(report),
            _("No names, chat ids, phone numbers or message texts are in this report."),
        ]
    )
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(report.locale)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="lead">{html.escape(lead)}</p>',
    ]
    for s in report.sections:
        out.append(f"<section><h2>{html.escape(s.title)}</h2>")
        if s.chart:
            out.append(_svg_bars(s.rows, s.headers[0]))
        out.append(
            "<table><thead><tr><th></th>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in s.headers)
            + "</tr></thead><tbody>"
        )
        for label, values in s.rows:
            out.append(
                f"<tr><td>{html.escape(label)}</td>"
                + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in values)
                + "</tr>"
            )
        out.append("</tbody></table>")
        if s.note:
            out.append(f'<p class="note">{html.escape(s.note)}</p>')
        out.append("</section>")
    out.append(f"<section><h2>{html.escape(_appendix_title(report))}</h2>")
    if report.appendix:
        out.append(
            "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in report.appendix) + "</ul>"
        )
    else:
        out.append(f'<p class="note">{html.escape(report.appendix_note)}</p>')
    out.append(f"</section><footer>{html.escape(_generated(report))}</footer></body></html>")
    return "\n".join(out)


RENDERERS = {"md": render_md, "csv": render_csv, "html": render_html}


def run_usage(
    *,
    start: date,
    end: date,
    fmt: str = "md",
    output: Path | None = None,
    questions: list[Path] | None = None,
    with_eval: bool = True,
    lang: str | None = None,
) -> int:
    """The CLI command: build the report from the configured database and print or write it."""
    import sys

    from bot.core.i18n import I18n
    from bot.settings import PROJECT_ROOT, load_settings

    if fmt not in RENDERERS:
        print(f"error: unknown format {fmt!r}; use html, csv or md", file=sys.stderr)
        return 2
    if end < start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    settings = load_settings()
    i18n = I18n(default=settings.default_locale)
    locale = i18n.resolve(lang or settings.default_locale)
    _ = i18n.gettext_for(locale)
    names = _category_names(settings.content_dir, locale)
    try:
        with report_engine(settings.database_url) as engine:
            report = collect(
                engine,
                start,
                end,
                tz=settings.timezone,
                category_names=names,
                _=_,
                locale=locale,
            )
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if with_eval:
        files = questions if questions else sorted((PROJECT_ROOT / "eval").glob("*.csv"))
        report.appendix, report.appendix_note = eval_appendix(files, settings.content_dir, _)
    else:
        report.appendix_note = _("Evaluation skipped (--no-eval).")
    text = RENDERERS[fmt](report)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


def _category_names(content_dir: Path, locale: str) -> dict[str, str]:
    try:
        from bot.content.loader import load_content

        content = load_content(content_dir)
    except Exception:  # names are a nicety; ids will do
        return {}
    return {cid: f"{c.emoji} {c.name(locale)}".strip() for cid, c in content.categories.items()}
