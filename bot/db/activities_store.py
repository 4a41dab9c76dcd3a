"""The activities store on SQLModel: subscriptions, reminders, proposals, announcements, recipients.

Implements bot.core.activities.ActivityStore, the privacy DataHolder (`describe`, `forget`) and
the broadcaster's per-recipient bookkeeping (bot.broadcast). Each call is its own short
transaction; status changes are conditional updates, so two workers or a restart never send twice.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy import String, and_, cast, delete, exists, func, literal, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.activities import (
    ALL,
    AnnouncementInfo,
    BroadcastResult,
    Proposal,
    Reminder,
    kinds_named,
)
from bot.core.flows import Ctx
from bot.core.messages import Outbound
from bot.db.engine import read_session, session_scope
from bot.db.tables.activities import (
    ActivityProposal,
    ActivityReminder,
    ActivitySubscription,
    Announcement,
    AnnouncementRecipient,
)

OPEN = ("pending", "sending")


def utc(dt: datetime | None) -> datetime | None:
    """Aware UTC; SQLite hands timestamps back naive (they were written as UTC)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class SqlActivityStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self) -> AbstractContextManager[Session]:
        return read_session(self.engine)

    # --- subscriptions -------------------------------------------------------------------------

    def kinds_of(self, resident: str) -> set[str]:
        with self._read() as s:
            stmt = select(ActivitySubscription.kind).where(ActivitySubscription.resident == resident)
            return set(s.execute(stmt).scalars())

    def subscribe(self, resident: str, kind: str, *, now: datetime) -> None:
        try:
            with session_scope(self.engine) as s:
                s.add(ActivitySubscription(resident=resident, kind=kind, created_at=utc(now)))
        except IntegrityError:
            pass  # already subscribed (a double tap)

    def unsubscribe(self, resident: str, kind: str | None = None) -> int:
        with session_scope(self.engine) as s:
            stmt = delete(ActivitySubscription).where(ActivitySubscription.resident == resident)
            if kind is not None:
                stmt = stmt.where(ActivitySubscription.kind == kind)
            return s.execute(stmt).rowcount or 0

    def subscribers(self, kind: str) -> list[str]:
        with self._read() as s:
            stmt = select(ActivitySubscription.resident).distinct()
            if kind != ALL:
                stmt = stmt.where(ActivitySubscription.kind == kind)
            return sorted(s.execute(stmt).scalars())

    # --- reminders -----------------------------------------------------------------------------

    def add_reminder(
        self, resident: str, key: str, *, remind_at: datetime, starts_at: datetime, now: datetime
    ) -> bool:
        try:
            with session_scope(self.engine) as s:
                s.add(ActivityReminder(resident=resident, activity_key=key, remind_at=utc(remind_at),
                                       starts_at=utc(starts_at), created_at=utc(now)))  # fmt: skip
        except IntegrityError:
            return False
        return True

    def has_reminder(self, resident: str, key: str) -> bool:
        with self._read() as s:
            stmt = select(ActivityReminder.id).where(
                ActivityReminder.resident == resident, ActivityReminder.activity_key == key
            )
            return s.execute(stmt).first() is not None

    def due_reminders(self, now: datetime) -> list[Reminder]:
        with self._read() as s:
            stmt = (
                select(ActivityReminder)
                .where(ActivityReminder.sent_at.is_(None), ActivityReminder.remind_at <= utc(now))
                .order_by(ActivityReminder.remind_at)
                .limit(500)
            )
            return [Reminder(r.id, r.resident, r.activity_key, utc(r.starts_at))
                    for r in s.execute(stmt).scalars()]  # fmt: skip

    def claim_reminder(self, reminder_id: int, *, now: datetime) -> bool:
        with session_scope(self.engine) as s:
            result = s.execute(
                update(ActivityReminder)
                .where(ActivityReminder.id == reminder_id, ActivityReminder.sent_at.is_(None))
                .values(sent_at=utc(now))
            )
            return (result.rowcount or 0) == 1

    # --- proposals -----------------------------------------------------------------------------

    def add_proposal(
        self, *, locale: str, theme: str, text: str | None, media_kind: str | None,
        media_ref: str | None, first_name: str | None, resident: str | None, now: datetime,
    ) -> int:  # fmt: skip
        row = ActivityProposal(
            created_at=utc(now), locale=locale, theme=theme, text=text, media_kind=media_kind,
            media_ref=media_ref, first_name=first_name, resident=resident,
        )  # fmt: skip
        with session_scope(self.engine) as s:
            s.add(row)
            s.flush()
            assert row.id is not None
            return row.id

    def proposals(self, *, since: datetime, limit: int = 30) -> list[Proposal]:
        with self._read() as s:
            stmt = (
                select(ActivityProposal)
                .where(ActivityProposal.created_at >= utc(since))
                .order_by(ActivityProposal.created_at.desc(), ActivityProposal.id.desc())
                .limit(limit)
            )
            return [
                Proposal(p.id, utc(p.created_at), p.locale, p.theme, p.text, p.media_kind,
                         p.media_ref, p.first_name)
                for p in s.execute(stmt).scalars()
            ]  # fmt: skip

    def proposals_by_theme(self, *, since: datetime, until: datetime) -> dict[str, int]:
        """How many proposals per theme were made in [since, until) (for the usage report)."""
        with self._read() as s:
            stmt = (
                select(ActivityProposal.theme, func.count())
                .where(ActivityProposal.created_at >= utc(since),
                       ActivityProposal.created_at < utc(until))
                .group_by(ActivityProposal.theme)
            )  # fmt: skip
            return {theme: int(n) for theme, n in s.execute(stmt).all()}

    # --- announcements (staff) -----------------------------------------------------------------

    def create_announcement(
        self, *, kind: str, texts: dict[str, str], staff: str, now: datetime
    ) -> int:
        row = Announcement(kind=kind, texts=dict(texts), created_by=staff, created_at=utc(now))
        with session_scope(self.engine) as s:
            s.add(row)
            s.flush()
            assert row.id is not None
            return row.id

    def announcement(self, announcement_id: int) -> AnnouncementInfo | None:
        with self._read() as s:
            row = s.get(Announcement, announcement_id)
            if row is None:
                return None
            return AnnouncementInfo(row.id, row.kind, dict(row.texts), row.status)

    def confirm_announcement(
        self, announcement_id: int, recipients: list[tuple[str, str]], *, now: datetime
    ) -> bool:
        """draft -> sending with one recipient row each, in one transaction; False if not a draft."""
        with session_scope(self.engine) as s:
            result = s.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.status == "draft")
                .values(status="sending", confirmed_at=utc(now))
            )
            if (result.rowcount or 0) != 1:
                return False
            s.add_all(
                AnnouncementRecipient(announcement_id=announcement_id, resident=r, locale=loc,
                                      updated_at=utc(now))
                for r, loc in recipients
            )  # fmt: skip
        return True

    def cancel_announcement(self, announcement_id: int) -> bool:
        with session_scope(self.engine) as s:
            result = s.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.status == "draft")
                .values(status="cancelled")
            )
            return (result.rowcount or 0) == 1

    def counts(self, announcement_id: int) -> dict[str, int]:
        with self._read() as s:
            stmt = (
                select(AnnouncementRecipient.status, func.count())
                .where(AnnouncementRecipient.announcement_id == announcement_id)
                .group_by(AnnouncementRecipient.status)
            )
            return {status: int(n) for status, n in s.execute(stmt).all()}

    def finished_unreported(self) -> list[BroadcastResult]:
        with self._read() as s:
            stmt = select(Announcement).where(
                Announcement.status == "done", Announcement.reported_at.is_(None)
            )
            rows = list(s.execute(stmt).scalars())
        return [BroadcastResult(r.id, r.kind, self.counts(r.id)) for r in rows]

    def mark_reported(self, announcement_id: int, *, now: datetime) -> bool:
        with session_scope(self.engine) as s:
            result = s.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.reported_at.is_(None))
                .values(reported_at=utc(now))
            )
            return (result.rowcount or 0) == 1

    # --- broadcasting (bot.broadcast) ----------------------------------------------------------

    def recover(self, *, now: datetime) -> int:
        """After a restart: a recipient left 'sending' may have got it; never send it again."""
        with session_scope(self.engine) as s:
            result = s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.status == "sending")
                .values(status="unknown", updated_at=utc(now))
            )
            return result.rowcount or 0

    def sending(self) -> list[AnnouncementInfo]:
        with self._read() as s:
            stmt = select(Announcement).where(Announcement.status == "sending").order_by(Announcement.id)
            return [AnnouncementInfo(r.id, r.kind, dict(r.texts), r.status)
                    for r in s.execute(stmt).scalars()]  # fmt: skip

    def due_recipients(
        self, announcement_id: int, kind: str, *, limit: int, now: datetime, epoch: float
    ) -> list[AnnouncementRecipient]:
        """Pending recipients whose turn it is, oldest first (not yet claimed).

        Residents who unsubscribed (or used /forget) since the announcement was confirmed are
        marked 'skipped' first.
        """
        sub = select(ActivitySubscription.id).where(
            ActivitySubscription.resident == AnnouncementRecipient.resident
        )
        if kind != ALL:
            sub = sub.where(ActivitySubscription.kind == kind)
        with session_scope(self.engine) as s:
            s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.announcement_id == announcement_id,
                       AnnouncementRecipient.status == "pending", ~exists(sub))
                .values(status="skipped", updated_at=utc(now))
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        with self._read() as s:
            stmt = (
                select(AnnouncementRecipient)
                .where(AnnouncementRecipient.announcement_id == announcement_id,
                       AnnouncementRecipient.status == "pending",
                       AnnouncementRecipient.next_at <= epoch)
                .order_by(AnnouncementRecipient.id)
                .limit(limit)
            )  # fmt: skip
            return list(s.execute(stmt).scalars())

    def claim(self, recipient_id: int, *, now: datetime) -> bool:
        """pending -> sending right before the send; False if someone else has it (or it is gone)."""
        with session_scope(self.engine) as s:
            result = s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.id == recipient_id,
                       AnnouncementRecipient.status == "pending")
                .values(status="sending", updated_at=utc(now))
            )  # fmt: skip
            return (result.rowcount or 0) == 1

    def settle(self, recipient_id: int, status: str, *, now: datetime, progress: int = 0) -> None:
        """A claimed recipient's outcome: sent | blocked | failed."""
        with session_scope(self.engine) as s:
            s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.id == recipient_id)
                .values(status=status, progress=progress, updated_at=utc(now),
                        attempts=AnnouncementRecipient.attempts + 1)
            )  # fmt: skip

    def progress(self, recipient_id: int, progress: int) -> None:
        with session_scope(self.engine) as s:
            s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.id == recipient_id)
                .values(progress=progress)
            )

    def release(self, recipient_id: int, *, progress: int, next_at: float, now: datetime) -> None:
        """Telegram said 'not now' (nothing was delivered): back to pending, not before next_at."""
        with session_scope(self.engine) as s:
            s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.id == recipient_id)
                .values(status="pending", progress=progress, next_at=next_at, updated_at=utc(now),
                        attempts=AnnouncementRecipient.attempts + 1)
            )  # fmt: skip

    def finish_if_done(self, announcement_id: int, *, now: datetime) -> bool:
        """sending -> done once no recipient is pending or being sent."""
        with session_scope(self.engine) as s:
            still = s.execute(
                select(AnnouncementRecipient.id).where(
                    AnnouncementRecipient.announcement_id == announcement_id,
                    AnnouncementRecipient.status.in_(OPEN),
                ).limit(1)
            ).first()
            if still is not None:
                return False
            result = s.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.status == "sending")
                .values(status="done", finished_at=utc(now))
            )
            return (result.rowcount or 0) == 1

    def next_due(self, announcement_id: int) -> float | None:
        """The earliest next_at of a pending recipient (for sleeping until then)."""
        with self._read() as s:
            value = s.execute(
                select(func.min(AnnouncementRecipient.next_at)).where(
                    AnnouncementRecipient.announcement_id == announcement_id,
                    AnnouncementRecipient.status == "pending",
                )
            ).scalar()
            return float(value) if value is not None else None

    # --- privacy (DataHolder) ------------------------------------------------------------------

    def describe(self, resident: str, ctx: Ctx) -> list[str]:
        _ = ctx._
        lines: list[str] = []
        kinds = sorted(self.kinds_of(resident))
        if kinds:
            lines.append(_("News about activities you subscribed to: {kinds}.").format(
                kinds=", ".join(kinds_named(kinds, _))))
        with self._read() as s:
            reminders = s.execute(select(func.count()).select_from(ActivityReminder).where(
                ActivityReminder.resident == resident, ActivityReminder.sent_at.is_(None))).scalar()
            named = s.execute(select(func.count()).select_from(ActivityProposal).where(
                ActivityProposal.resident == resident)).scalar()  # fmt: skip
        if reminders:
            lines.append(ctx.ngettext("{n} activity reminder you asked for.",
                                      "{n} activity reminders you asked for.", reminders).format(n=reminders))
        if named:
            lines.append(ctx.ngettext("{n} proposal for the consultation, sent with your first name.",
                                      "{n} proposals for the consultation, sent with your first name.",
                                      named).format(n=named))  # fmt: skip
        return lines

    def forget(self, resident: str, now: datetime) -> list[Outbound]:
        with session_scope(self.engine) as s:
            s.execute(delete(ActivitySubscription).where(ActivitySubscription.resident == resident))
            s.execute(delete(ActivityReminder).where(ActivityReminder.resident == resident))
            s.execute(delete(ActivityProposal).where(ActivityProposal.resident == resident))
            # Recipient rows name the resident: the ones still to send are skipped, all are unlinked.
            s.execute(
                update(AnnouncementRecipient)
                .where(and_(AnnouncementRecipient.resident == resident,
                            AnnouncementRecipient.status == "pending"))
                .values(status="skipped", updated_at=utc(now))
            )  # fmt: skip
            s.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.resident == resident,
                       AnnouncementRecipient.status != "sending")
                .values(resident=literal("forgotten:", String) + cast(AnnouncementRecipient.id, String))
            )  # fmt: skip
        return []


def theme_counts(engine: Engine, *, since: datetime, until: datetime) -> Counter:
    """Proposals per theme in [since, until): for bot.reports.usage."""
    return Counter(SqlActivityStore(engine).proposals_by_theme(since=since, until=until))
