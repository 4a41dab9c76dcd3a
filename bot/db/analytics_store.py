"""The Analytics port on SQLModel: usage events with a hashed resident and scrubbed text."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from sqlalchemy import func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import select

from bot.core.flows import Ctx
from bot.core.messages import Outbound
from bot.core.privacy import log_id, pseudonym
from bot.core.scrub import scrub
from bot.db.engine import read_session, session_scope, write_later
from bot.db.tables.stats import PseudonymKey, UsageEvent

# Built once (values bound); inline: no generated key fetched, nobody reads it.
_INSERT = insert(UsageEvent.__table__).inline()  # type: ignore[attr-defined]

log = logging.getLogger(__name__)

# Only these events keep what the resident typed: an editor needs it to write a better answer.
TEXT_KINDS = frozenset({"not_found", "suggested"})
MAX_TEXT = 1000


def keeps_text(kind: str, helpful: bool | None) -> bool:
    """Whether an event of this kind may keep its (scrubbed) text."""
    return kind in TEXT_KINDS or (kind == "feedback" and helpful is False)


def load_key(engine: Engine) -> bytes:
    """The pseudonym key stored in the database, created on first use."""
    with read_session(engine) as session:
        row = session.get(PseudonymKey, 1)
        if row is not None:
            return bytes.fromhex(row.secret)
    try:
        with session_scope(engine) as session:
            session.add(PseudonymKey(id=1, secret=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process created it first; read theirs
    with read_session(engine) as session:
        row = session.get(PseudonymKey, 1)
        assert row is not None
        return bytes.fromhex(row.secret)


class SqlAnalytics:
    """Records usage events; also the DataHolder for them (/mydata, /forget)."""

    def __init__(self, engine: Engine, *, retention_days: int = 90) -> None:
        self.engine = engine
        self.retention_days = retention_days
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = load_key(self.engine)
        return self._key

    def resident_hash(self, resident: str) -> str:
        return pseudonym(resident, self.key)

    def record(
        self,
        *,
        kind: str,
        resident: str,
        locale: str,
        now: datetime,
        text: str | None = None,
        entry_id: str | None = None,
        category: str | None = None,
        helpful: bool | None = None,
    ) -> None:
        kept = None
        if text and keeps_text(kind, helpful):
            # Bounded work for any caller; the margin means no identifier is cut in half
            # within what is kept.
            kept = scrub(text.strip()[: MAX_TEXT * 3])[:MAX_TEXT]
        values = {
            "kind": kind[:32],
            "at": now.astimezone(UTC),
            "locale": locale[:16],
            "resident_hash": self.resident_hash(resident),
            # Every value fits its column, so the insert cannot fail on the data.
            "entry_id": entry_id and entry_id[:128],
            "category": category and category[:64],
            "helpful": helpful,
            "text": kept or None,
        }
        try:
            # One plain INSERT in the event's transaction (no savepoint: a savepoint costs two
            # more statements on every answered question). Every value fits its column, so only
            # a broken database makes it fail, and that fails the event's other writes too.
            # On PostgreSQL it waits for the commit's round trip (`write_later`).
            write_later(self.engine, _INSERT, values)
        except SQLAlchemyError as exc:
            # Statistics must never cost the resident their answer (on SQLite a failed statement
            # leaves the event's transaction usable). No traceback: SQLAlchemy's message quotes
            # the statement's parameters, which include the resident's text.
            log.warning(
                "could not record a %s event for %s: %s", kind, log_id(resident), type(exc).__name__
            )

    def describe(self, resident: str, ctx: Ctx) -> list[str]:
        _ = ctx._
        h = self.resident_hash(resident)
        with read_session(self.engine) as session:
            total = session.exec(
                select(func.count()).select_from(UsageEvent).where(UsageEvent.resident_hash == h)
            ).one()
            texts = session.exec(
                select(func.count())
                .select_from(UsageEvent)
                .where(UsageEvent.resident_hash == h, UsageEvent.text.is_not(None))
            ).one()
        lines = []
        if texts:
            lines.append(
                ctx.ngettext(
                    "{n} question the bot could not answer well, with personal identity numbers, "
                    "phone numbers and e-mail addresses removed, so editors can write better "
                    "answers. It is deleted after {days} days.",
                    "{n} questions the bot could not answer well, with personal identity numbers, "
                    "phone numbers and e-mail addresses removed, so editors can write better "
                    "answers. They are deleted after {days} days.",
                    texts,
                ).format(n=texts, days=self.retention_days)
            )
        if total:
            lines.append(
                _(
                    "Usage counts (which topics were opened, in which language, whether an answer "
                    "helped), stored under a code instead of your chat id."
                )
            )
        return lines

    def forget(self, resident: str, now: datetime) -> list[Outbound]:
        # Counts stay right (the events remain, under a new random code nobody can link back);
        # the texts go.
        with session_scope(self.engine) as session:
            session.exec(
                update(UsageEvent)
                .where(UsageEvent.resident_hash == self.resident_hash(resident))
                .values(text=None, resident_hash="x" + secrets.token_hex(9))
            )
        return []
