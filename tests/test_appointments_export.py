"""`samvag appointments export`: CSV of a period, personal fields only when asked for."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from typer.testing import CliRunner

from bot.appointments_export import export_csv
from bot.cli import app
from bot.core.appointments import NewRequest
from bot.db.appointments_store import SqlAppointmentStore
from bot.db.engine import make_engine
from bot.db.schema import create_all

THU_10 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _fill(engine):
    store = SqlAppointmentStore(engine)
    a = store.create(
        NewRequest("tg:1", "ro", "school", (THU_10,), False, True, False, "phone", "+46701111111", "Bring papers"),
        now=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )
    store.confirm(a.id, start=THU_10, handler="tg:7", handler_name="Anna", place="Storgatan 1",
                  remind_at=None, now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    # 30 November 23:30 in Stockholm is still November: outside a December export.
    store.create(
        NewRequest("tg:2", "sv", "other", (), True, False, True, "chat", None, None),
        now=datetime(2026, 11, 30, 22, 30, tzinfo=UTC),
    )
    return a.id


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_export_without_contact_has_no_personal_fields(db_engine):
    appt_id = _fill(db_engine)
    text = export_csv(db_engine, date(2026, 12, 1), date(2026, 12, 31), tz="Europe/Stockholm")
    rows = _rows(text)
    assert [r["id"] for r in rows] == [str(appt_id)]
    row = rows[0]
    assert row["status"] == "confirmed" and row["topic"] == "school" and row["locale"] == "ro"
    assert row["confirmed_start"] == "2026-12-03 10:00" and row["preferred_times"] == "2026-12-03 10:00"
    assert row["interpreter"] == "yes" and row["handled_by"] == "Anna"
    for private in ("tg:1", "+46701111111", "Bring papers"):
        assert private not in text
    assert "resident" not in row and "note" not in row


def test_export_with_contact_adds_them(db_engine):
    _fill(db_engine)
    rows = _rows(export_csv(db_engine, date(2026, 11, 1), date(2026, 12, 31), tz="Europe/Stockholm", with_contact=True))
    assert len(rows) == 2
    assert rows[1]["resident"] == "tg:1" and rows[1]["phone"] == "+46701111111" and rows[1]["note"] == "Bring papers"


def test_cli_writes_a_file_and_refuses_a_reversed_period(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    create_all(engine)
    _fill(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    out = tmp_path / "appointments.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["appointments", "export", "--from", "2026-12-01", "--to", "2026-12-31", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(_rows(out.read_text(encoding="utf-8"))) == 1
    result = runner.invoke(app, ["appointments", "export", "--from", "2026-12-31", "--to", "2026-12-01"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["appointments", "export", "--from", "2026-02-30", "--to", "2026-12-01"])
    assert result.exit_code == 2
