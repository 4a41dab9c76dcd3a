"""`samvag appointments export`: appointment requests of a period as CSV for the municipality's follow-up.

Without `--with-contact` the file holds no personal data: no resident key, phone number, note or
decline reason (which staff may have written about the person).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.db.appointments_store import rows_between, utc
from bot.db.engine import session_scope
from bot.db.tables.appointments import AppointmentRow
from bot.reports import local_bounds

COLUMNS = [
    "id", "requested_at", "status", "topic", "locale", "preferred_times", "any_time",
    "interpreter", "romani_speaker", "contact_method", "confirmed_start", "place", "handled_by",
    "reminder_sent", "updated_at",
]
PERSONAL = ["resident", "phone", "note", "decline_reason"]


def _local(dt, zone: ZoneInfo) -> str:
    return utc(dt).astimezone(zone).strftime("%Y-%m-%d %H:%M") if dt else ""


def _row(r: AppointmentRow, zone: ZoneInfo, with_contact: bool) -> list[str]:
    times = " ".join(_local(datetime.fromisoformat(t), zone) for t in r.preferred)
    out = [
        str(r.id), _local(r.created_at, zone), r.status, r.topic, r.locale, times,
        _yes(r.any_time), _yes(r.interpreter), _yes(r.romani_speaker), r.contact,
        _local(r.confirmed_start, zone), r.place or "", r.handler_name or "",
        _yes(r.reminder_sent_at is not None), _local(r.updated_at, zone),
    ]
    if with_contact:
        out += [r.resident, r.phone or "", r.note or "", r.decline_reason or ""]
    return out


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def export_csv(engine: Engine, start: date, end: date, *, tz: str, with_contact: bool = False) -> str:
    """Requests made from `start` to `end` (inclusive, local dates) as CSV text with a header."""
    lo, hi = local_bounds(start, end, tz)
    zone = ZoneInfo(tz)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS + (PERSONAL if with_contact else []))
    with session_scope(engine) as session:
        for r in rows_between(lo, hi, session=session):
            writer.writerow(_row(r, zone, with_contact))
    return buf.getvalue()


def run_export(*, start: date, end: date, with_contact: bool = False, output: Path | None = None) -> int:
    """The CLI command: export from the configured database to a file or stdout."""
    from bot.db.engine import make_engine
    from bot.settings import load_settings

    if end < start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table(AppointmentRow.__tablename__):
            print("error: the database has no appointment table yet: run `samvag db upgrade`", file=sys.stderr)
            return 1
        text = export_csv(engine, start, end, tz=settings.timezone, with_contact=with_contact)
    finally:
        engine.dispose()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {text.count(chr(10)) - 1} appointment requests to {output}", file=sys.stderr)
    return 0
