"""Retention: free text is deleted after RETENTION_DAYS; the counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.ports import system_clock
from bot.db.analytics_store import SqlAnalytics
from bot.db.retention import RetentionJob, discover_hooks
from bot.db.tables import stats
from bot.db.tables.stats import UsageEvent

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def texts(engine) -> list[str | None]:
    with Session(engine) as session:
        return [e.text for e in session.exec(select(UsageEvent).order_by(UsageEvent.id))]


def count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(UsageEvent)).one()


class Transcripts:
    """A hand-written hook like another domain's: remembers the cutoffs it was asked for."""

    def __init__(self) -> None:
        self.cutoffs: list[datetime] = []

    def purge_before(self, session, cutoff):
        self.cutoffs.append(cutoff)
        return 0


def test_the_stats_table_is_found_as_a_hook():
    assert stats in discover_hooks()


def test_text_goes_after_the_retention_period_and_counts_stay(db_engine):
    analytics = SqlAnalytics(db_engine)
    other = Transcripts()
    job = RetentionJob(db_engine, days=90, hooks=[other])
    with time_machine.travel(START, tick=False) as traveller:
        analytics.record(
            kind="not_found", resident="tg:1", locale="sv", now=system_clock(), text="gammal fråga"
        )
        traveller.shift(timedelta(days=30))
        analytics.record(
            kind="not_found", resident="tg:1", locale="sv", now=system_clock(), text="nyare fråga"
        )

        job.tick(system_clock())  # at start-up: nothing is old enough yet
        assert texts(db_engine) == ["gammal fråga", "nyare fråga"]

        traveller.shift(timedelta(days=61))  # 91 days after the first question
        job.tick(system_clock())
        assert texts(db_engine) == [None, "nyare fråga"]
        assert count(db_engine) == 2
        assert other.cutoffs[-1] == system_clock() - timedelta(days=90)

        traveller.shift(timedelta(days=30))
        job.tick(system_clock())
        assert texts(db_engine) == [None, None]
        assert count(db_engine) == 2


def test_tick_runs_at_start_up_then_hourly(db_engine):
    other = Transcripts()
    job = RetentionJob(db_engine, days=90, hooks=[other], discover=False)
    with time_machine.travel(START, tick=False) as traveller:
        job.tick(system_clock())
        traveller.shift(timedelta(minutes=1))
        job.tick(system_clock())
        assert len(other.cutoffs) == 1
        traveller.shift(timedelta(minutes=60))
        job.tick(system_clock())
        assert len(other.cutoffs) == 2


def test_a_failing_hook_does_not_stop_the_others(db_engine):
    class Broken:
        def purge_before(self, session, cutoff):
            raise RuntimeError("boom")

    analytics = SqlAnalytics(db_engine)
    analytics.record(kind="not_found", resident="tg:1", locale="sv", now=START, text="fråga")
    job = RetentionJob(db_engine, days=90, hooks=[Broken()])
    assert job.purge(START + timedelta(days=91)) == 1
    assert texts(db_engine) == [None]
