"""The one composition root: content, database, i18n, matcher, the conversation, flows and jobs.

Every channel (Telegram, the terminal chat, tests) calls `build_app(settings)` and talks to
`app.conversation` (residents), `app.staff_handlers` (the staff group) and `app.jobs`.
Each area registers its parts in its own marked block below; keep the blocks small.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.content.model import Content
from bot.content.reload import ContentHolder
from bot.core.conversation import Conversation, PruneEventsJob, Residents
from bot.core.flows import Job, StaffHandler
from bot.core.i18n import I18n
from bot.core.ports import Clock, system_clock
from bot.db.analytics_store import SqlAnalytics
from bot.db.engine import make_engine, undo, unit_of_work
from bot.db.schema import create_all
from bot.db.state_store import SqlStateStore
from bot.settings import Settings

log = logging.getLogger(__name__)


class SchemaMissing(RuntimeError):
    """The server database has no samvag tables yet: run `samvag db upgrade`."""


@dataclass(slots=True)
class App:
    """Everything a channel needs, built once per process."""

    settings: Settings
    clock: Clock
    content_holder: ContentHolder  # `reload()` swaps content; the conversation follows
    engine: Engine
    i18n: I18n
    states: SqlStateStore
    analytics: SqlAnalytics
    residents: Residents
    conversation: Conversation
    staff_handlers: list[StaffHandler] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    # The handoff service (bot.core.handoff): the channel calls `handoff.resident_blocked`,
    # the privacy flow uses it as a DataHolder (describe / forget).
    handoff: Any = None
    # Async workers beside the channel (issue 10: the broadcaster); the Telegram channel runs
    # each as `worker.run(stop, transport, enqueue)`.
    workers: list[Any] = field(default_factory=list)
    # (resident, event id, now) -> the reads a resident event makes first, which a channel may
    # pass to `unit_of_work(ahead=...)`: on PostgreSQL they then take one round trip together.
    read_ahead: Callable[[str, str | None, datetime], list[Any]] | None = None

    @property
    def content(self) -> Content:
        return self.content_holder.content

    def close(self) -> None:
        self.engine.dispose()


def prepare_database(url: str) -> Engine:
    """An engine whose tables exist: created on SQLite, required (migrated) on PostgreSQL."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        create_all(engine)  # creates only what is missing; the embedded default needs no migrations
    elif not inspect(engine).has_table("resident_state"):
        engine.dispose()
        raise SchemaMissing("the database has no samvag tables: run `samvag db upgrade` first")
    return engine


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    """Load content, open the database and wire the conversation with every registered flow."""
    clock = clock or system_clock
    holder = ContentHolder(settings.content_dir)  # raises ContentError on broken content
    engine = prepare_database(settings.database_url)
    i18n = I18n(default=settings.default_locale)
    states = SqlStateStore(engine)
    analytics = SqlAnalytics(engine, retention_days=settings.retention_days)
    residents = Residents(states, i18n)
    conversation = Conversation(
        content=holder.content,
        matcher=holder.matcher,
        i18n=i18n,
        states=states,
        analytics=analytics,
        clock=clock,
        residents=residents,
        source=holder,
    )
    from bot.db.retry import is_transient

    # A locked or restarting database is "try again shortly" for the resident, not a bug.
    conversation.transient_error = is_transient
    # One transaction per resident event: a fault anywhere in it leaves no half-done records.
    conversation.unit_of_work = lambda: unit_of_work(engine)
    # A flow that fails halfway leaves no records, and the event still counts as handled.
    conversation.undo = lambda: undo(engine)
    app = App(
        settings=settings,
        clock=clock,
        content_holder=holder,
        engine=engine,
        i18n=i18n,
        states=states,
        analytics=analytics,
        residents=residents,
        conversation=conversation,
        jobs=[PruneEventsJob(states)],
    )

    # --- Interceptors (run first, in this order) -----------------------------------------------
    # Handoff (issue 6): relays while a ticket is open and catches risk words, so it runs first.
    from bot.core.handoff import build as build_handoff
    from bot.core.hours import OpeningHours as _Hours
    from bot.db.handoff_store import SqlHandoffStore

    handoff_store = SqlHandoffStore(engine)
    handoff = build_handoff(
        store=handoff_store,
        i18n=i18n,
        hours=_Hours.parse(
            settings.opening_hours, tz=settings.timezone, closed_days=settings.closed_days
        ),
        staff_locale=settings.default_locale,
        reannounce_after_minutes=settings.reannounce_after_minutes,
    )
    app.handoff = handoff.service
    # A resident event claims its id, loads the state, then handoff's interceptor (first)
    # looks for an open ticket: asked in that order, read ahead together.
    app.read_ahead = lambda resident, event_id, now: [
        *states.ahead(resident, event_id, now=now),
        *handoff_store.ahead(resident),
    ]
    conversation.register_interceptor(handoff.interceptor)
    conversation.register_flow(handoff.flow)
    app.staff_handlers.append(handoff.staff)
    app.jobs.extend(handoff.jobs)

    # --- Flows (menu buttons appear in this order) ---------------------------------------------
    # e.g. conversation.register_flow(HandoffFlow(...)); the flow named "handoff" is the one
    # "Talk to a bridge-builder" starts.
    # Appointment requests (issue 7): flow "appt", its staff handler and the reminder job.
    from bot.core.appointments import build as build_appointments
    from bot.core.hours import OpeningHours
    from bot.db.appointments_store import SqlAppointmentStore

    appt_flow, appt_staff, appt_reminders = build_appointments(
        content=holder,  # follows content reloads
        store=SqlAppointmentStore(engine),
        hours=OpeningHours.parse(
            settings.opening_hours, tz=settings.timezone, closed_days=settings.closed_days
        ),
        i18n=i18n,
        tz=settings.timezone,
        staff_locale=settings.default_locale,
        analytics=analytics,
    )
    conversation.register_flow(appt_flow)

    # Activities (issue 10): flow "act" (What's on, reminders, subscriptions, proposals), its
    # free-text/`/stop` interceptor, /announce and /proposals, reminder and report jobs, and the
    # broadcaster that delivers announcements.
    from bot.broadcast import Broadcaster
    from bot.content.activities import ActivityFolder
    from bot.core.activities import announcement_reply
    from bot.core.activities import build as build_activities
    from bot.db.activities_store import SqlActivityStore

    activity_store = SqlActivityStore(engine)
    activity_files = ActivityFolder(settings.content_dir / "activities", tz=settings.timezone)
    acts = build_activities(
        activities=activity_files.refresh,
        store=activity_store,
        i18n=i18n,
        ctx_for=residents.ctx_for,
        tz=settings.timezone,
        staff_locale=settings.default_locale,
        fill=lambda text, locale: holder.content.fill(text, locale),
        analytics=analytics,
        now=clock,
    )
    broadcaster = Broadcaster(
        activity_store,
        lambda kind, texts, loc: announcement_reply(kind, texts, loc, i18n.gettext_for(loc)),
        on_finished=acts.jobs[-1].tick,
        clock=clock,
    )
    acts.staff.on_confirm = broadcaster.wake
    conversation.register_interceptor(acts.interceptor)
    conversation.register_flow(acts.flow)
    app.staff_handlers.append(acts.staff)
    app.jobs.extend(acts.jobs)
    app.workers.append(broadcaster)

    # Privacy (issue 8): the menu button, /mydata and /forget over every domain's DataHolder.
    from bot.core.appointments import AppointmentPrivacy
    from bot.core.privacy import PrivacyFlow, StateHolder, set_log_key

    set_log_key(analytics.key)  # the stored pseudonym key: log ids survive restarts
    privacy = PrivacyFlow(
        [
            StateHolder(states, on_forget=residents.forget),
            analytics,
            handoff.service,
            AppointmentPrivacy(SqlAppointmentStore(engine), i18n, settings.default_locale),
        ],
        retention_days=settings.retention_days,
    )
    conversation.register_flow(privacy)
    privacy.register(activity_store)  # issue 10: subscriptions, reminders, named proposals
    from bot.db.telegram_store import TelegramDataHolder

    privacy.register(TelegramDataHolder(engine))  # issue 5: outbox messages, blocked mark

    # --- Staff handlers (the staff group) -------------------------------------------------------
    # e.g. app.staff_handlers.append(HandoffStaff(...))
    app.staff_handlers.append(appt_staff)
    # /reload (issue 8): reload content, keep the last good one, tell the group why.
    from bot.reload import ReloadStaff

    app.staff_handlers.append(ReloadStaff(holder, i18n, locale=settings.default_locale))

    # --- Jobs (ticked about once a minute and at start-up) --------------------------------------
    # e.g. app.jobs.append(RetentionJob(...))
    app.jobs.append(appt_reminders)
    # Retention (issue 8): old transcripts and question texts, through each table module's
    # purge_before; runs at start-up and hourly.
    from bot.db.outbox_store import OutboxStore
    from bot.db.retention import RetentionJob

    # Outbox rows never delivered (failed, or stuck) hold message text: gone after the period too.
    app.jobs.append(RetentionJob(engine, days=settings.retention_days, hooks=[OutboxStore(engine)]))

    # Each staff action is one transaction too (the "Take it" claim and what follows it).
    app.staff_handlers = [AtomicStaff(h, engine) for h in app.staff_handlers]
    return app


class AtomicStaff:
    """A staff handler whose every call runs in one unit of work; all else passes through."""

    def __init__(self, inner: Any, engine: Engine) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_engine", engine)

    def handle_staff(self, incoming: Any, now: Any) -> Any:
        with unit_of_work(self._engine):
            return self._inner.handle_staff(incoming, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)
