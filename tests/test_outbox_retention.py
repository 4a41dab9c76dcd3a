"""Outbox rows never delivered (failed or stuck) do not keep their text past RETENTION_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.db.outbox_store import OutboxStore
from bot.db.retention import RetentionJob
from bot.db.tables.outbox import OutboxMessage

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def row(target: str, age_days: float, status: str = "pending") -> OutboxMessage:
    at = (NOW - timedelta(days=age_days)).timestamp()
    return OutboxMessage(target=target, payload='{"text": "hej"}', status=status, created_at=at, next_at=at)


def test_retention_drops_old_undelivered_rows_and_keeps_recent_ones(db_engine):
    store = OutboxStore(db_engine)
    store.add([row("r:tg:1", 91, "failed"), row("r:tg:2", 120), row("staff", 89), row("r:tg:3", 0)])
    RetentionJob(db_engine, days=90, hooks=[store], discover=False).tick(NOW)
    left = sorted(r.target for r in store.pending()) + [f"failed:{store.count('failed')}"]
    assert left == ["r:tg:3", "staff", "failed:0"]
