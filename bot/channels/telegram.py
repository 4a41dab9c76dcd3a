"""python-telegram-bot Application around the core: thin callbacks, one error handler.

Updates become `Incoming` (residents, private chats) or `StaffIncoming` (the staff group);
the core answers with `Outbound`s. Replies to the chat that wrote go out directly; everything
else goes through the durable outbox (bot.delivery). Text and button ids are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import BotCommand, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_send import (
    SamvagRateLimiter,
    TelegramSender,
    inline_keyboard,
    render_chunks,
)
from bot.core.i18n import N_, I18n, supported_locale
from bot.core.messages import (
    Contact,
    Incoming,
    Kind,
    Media,
    Outbound,
    Reply,
    StaffIncoming,
    ToResident,
)
from bot.core.privacy import log_id
from bot.db.engine import unit_of_work
from bot.db.outbox_store import OutboxStore
from bot.db.retry import is_transient
from bot.db.telegram_store import TelegramStore
from bot.delivery import Delivery, RetryLater, Undeliverable
from bot.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
MEDIA_KINDS = ("voice", "audio", "photo", "video", "video_note", "sticker", "location", "document")
LOCALES_WITH_CLIENT_CODE = ("sv", "en", "fi", "ro")  # Telegram clients report no Romani code
MEMBER_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


# The command menu: (command, description). Flows' commands are added when registered.
COMMANDS = [
    ("start", N_("Start over")),
    ("menu", N_("Main menu")),
    ("help", N_("How to use samvag")),
    ("language", N_("Change language")),
    ("human", N_("Talk to a bridge-builder")),
]
PRIVACY_COMMANDS = [
    ("mydata", N_("What samvag keeps about me")),
    ("forget", N_("Erase my data")),
]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates run concurrently, except that one chat's updates run one at a time, in order."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        # chat id -> (lock, number of updates holding or waiting for it)
        self._locks: dict[int, list[Any]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = 0
        if isinstance(update, Update):
            if update.effective_chat is not None:
                key = update.effective_chat.id
            elif update.effective_user is not None:
                key = update.effective_user.id
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                await coroutine
        finally:
            # Forget the lock only when no update holds or awaits it: a released lock whose
            # waiter has not woken yet still looks unlocked, so `locked()` cannot tell.
            entry[1] -= 1
            if entry[1] == 0 and self._locks.get(key) is entry:
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


UNBLOCKED_CACHE = 100_000  # residents remembered as not blocked (a few MB at most)


def resident_key(user: User) -> str:
    return f"tg:{user.id}"


def _command(text: str) -> tuple[str, str]:
    """('/Start@samvag_bot args' -> ('start', 'args'))."""
    head, _, args = text.partition(" ")
    return head[1:].split("@", 1)[0].lower(), args.strip()


def media_of(msg: Message) -> Media | None:
    for kind in MEDIA_KINDS:
        if getattr(msg, kind, None):
            return Media(kind, f"{msg.chat_id}:{msg.message_id}")
    return None


def incoming_from_message(msg: Message, user: User, update_id: int) -> Incoming:
    """A private-chat message as the core's Incoming."""
    base: dict[str, Any] = {
        "resident": resident_key(user),
        "language_hint": user.language_code,
        "first_name": user.first_name,
        "event_id": f"tg:u:{update_id}",
    }
    if msg.contact is not None:
        own = msg.contact.user_id is not None and msg.contact.user_id == user.id
        return Incoming(kind=Kind.CONTACT, contact=Contact(msg.contact.phone_number, own), **base)
    if msg.text is not None:
        if msg.text.startswith("/") and len(msg.text) > 1:
            command, args = _command(msg.text)
            return Incoming(kind=Kind.COMMAND, command=command, args=args, text=msg.text, **base)
        return Incoming(kind=Kind.TEXT, text=msg.text, **base)
    media = media_of(msg) or Media("other", f"{msg.chat_id}:{msg.message_id}")
    return Incoming(kind=Kind.MEDIA, media=media, text=msg.caption or "", **base)


def staff_from_message(msg: Message, user: User, update_id: int) -> StaffIncoming:
    topic = str(msg.message_thread_id) if msg.is_topic_message and msg.message_thread_id else None
    base: dict[str, Any] = {
        "staff_id": f"tg:{user.id}",
        "first_name": user.first_name,
        "topic": topic,
        "message_ref": f"{msg.chat_id}:{msg.message_id}",
        "event_id": f"tg:u:{update_id}",
    }
    if msg.text is not None:
        if msg.text.startswith("/") and len(msg.text) > 1:
            command, args = _command(msg.text)
            return StaffIncoming(
                kind=Kind.COMMAND, command=command, args=args, text=msg.text, **base
            )
        return StaffIncoming(kind=Kind.TEXT, text=msg.text, **base)
    media = media_of(msg) or Media("other", f"{msg.chat_id}:{msg.message_id}")
    return StaffIncoming(kind=Kind.MEDIA, media=media, text=msg.caption or "", **base)


def _to_writer(outbound: Outbound, resident: str) -> bool:
    """A reply to the resident whose event it answers (sent at once, not through the outbox)."""
    return isinstance(outbound.target, ToResident) and outbound.target.resident == resident


def route_staff(handlers: list[Any], incoming: StaffIncoming, now: datetime) -> list[Outbound]:
    """A staff event to the handler owning its command or button prefix; other events to all."""
    if incoming.kind is Kind.COMMAND:
        owners = [h for h in handlers if incoming.command in h.commands]
    elif incoming.kind is Kind.CHOICE:
        prefix = incoming.choice.split(":", 1)[0]
        owners = [h for h in handlers if prefix in h.prefixes]
    else:
        owners = list(handlers)
    out: list[Outbound] = []
    for h in owners:
        out.extend(h.handle_staff(incoming, now) or [])
    return out


def default_core_workers(app: Any) -> int:
    """Threads for the core: 0 runs it on the event loop.

    The lexical core is about 2 ms of Python per question (holding the GIL) and, on loopback
    PostgreSQL, two round trips of waiting. PostgreSQL: four threads keep the loop busy while
    some wait (bench_telegram, five alternating rounds on 2 cores, 2026-12-01: two threads
    245-315 updates/s, four 302-412, six 290-400; CPU per update fell from 2.7-3.5 to
    2.2-2.9 ms, as the loop sleeps and wakes less often). SQLite has one writer: a thread of
    its own only adds handoffs (each SQLite call gives the GIL away, and getting it back from
    a busy loop can take the 5 ms switch interval): on the loop 401-509 updates/s, on one to
    four threads 255-389, so the core runs on the loop. The embedding re-ranker runs its
    model without the GIL for about 0.25 s a question: then the core gets threads (four on
    PostgreSQL, one on SQLite) and the loop serves on.
    """
    matcher = getattr(getattr(app, "conversation", None), "matcher", None)
    reranker = getattr(matcher, "reranker", None) is not None
    if app.engine.dialect.name != "sqlite":
        return 4
    return 1 if reranker else 0


class TelegramChannel:
    """The Telegram door: builds the Application and turns updates into core calls."""

    def __init__(
        self,
        settings: Settings,
        app: Any,
        *,
        request_timeout: float = 10.0,
        poll_timeout: int = 10,
        member_cache_seconds: float = 300.0,
        outbox_backoff: float = 1.0,
        core_workers: int | None = None,
    ) -> None:
        self.settings = settings
        self.app = app
        self.clock: Callable[[], datetime] = getattr(app, "clock", None) or (
            lambda: datetime.now(UTC)
        )
        self.i18n: I18n = getattr(app, "i18n", None) or I18n(default=settings.default_locale)
        self.store = TelegramStore(app.engine)
        self.delivery = Delivery(OutboxStore(app.engine), backoff_base=outbox_backoff)
        self.staff_chat_id = settings.staff_chat_id
        self.request_timeout = request_timeout
        self.poll_timeout = poll_timeout
        self.member_cache_seconds = member_cache_seconds
        self._members: dict[int, tuple[bool, float]] = {}
        # Residents known not to be marked blocked: every mark this process sets goes through
        # resident_blocked, which drops the resident here, so most updates skip a database read.
        self._unblocked: set[str] = set()
        if core_workers is None:
            core_workers = default_core_workers(app)
        self._executor = ThreadPoolExecutor(core_workers, "core") if core_workers > 0 else None
        # PostgreSQL: an event's first reads go as one query, one round trip (SQLite has
        # no round trips to save).
        self._read_ahead: Callable[[str, str | None, datetime], list[Any]] | None = None
        if app.engine.dialect.name == "postgresql":
            self._read_ahead = getattr(app, "read_ahead", None)
        self.application: Application | None = None
        self.sender: TelegramSender | None = None

    # --- building ------------------------------------------------------------------------------

    def build_application(self, *, polling: bool = True) -> Application:
        if self.settings.telegram_token is None:
            raise ValueError("TELEGRAM_TOKEN is not set")
        # Opt in to PTB's coming timedelta type for retry_after (silences its deprecation warning).
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        t = self.request_timeout
        builder = (
            ApplicationBuilder()
            .token(self.settings.telegram_token.get_secret_value())
            .base_url(self.settings.telegram_base_url)
            .base_file_url(self.settings.telegram_base_file_url)
            .rate_limiter(SamvagRateLimiter(limits=self.settings.rate_limit))
            .concurrent_updates(PerChatUpdateProcessor(64))
            .request(
                AiohttpRequest(
                    connection_pool_size=32,
                    read_timeout=t,
                    connect_timeout=t,
                    pool_timeout=t,
                    write_timeout=t,
                )
            )
            .get_updates_request(
                AiohttpRequest(
                    connection_pool_size=1, read_timeout=self.poll_timeout + t, connect_timeout=t
                )
            )
            .post_init(self.post_init)
            .job_queue(None)  # periodic work runs in run_jobs; APScheduler would add a thread
        )
        if not polling:
            builder = builder.updater(None)
        application = builder.build()
        self.application = application
        self.sender = TelegramSender(
            application.bot,
            self.store,
            staff_chat_id=self.staff_chat_id,
            clock=self.clock,
            on_blocked=self.resident_blocked,
        )
        self.delivery.transport = self.sender
        register_handlers(application, self)
        return application

    async def post_init(self, application: Application) -> None:
        """Start-up work: the command menu in every language Telegram clients report."""
        flows = getattr(getattr(self.app, "conversation", None), "flows", {}) or {}
        commands = list(COMMANDS)
        if any("mydata" in getattr(f, "commands", ()) for f in flows.values()):
            commands += PRIVACY_COMMANDS
        bot = application.bot
        try:
            default_ = self.i18n.gettext_for(self.i18n.default)
            await bot.set_my_commands([BotCommand(c, default_(d)) for c, d in commands])
            for loc in LOCALES_WITH_CLIENT_CODE:
                _ = self.i18n.gettext_for(loc)
                await bot.set_my_commands(
                    [BotCommand(c, _(d)) for c, d in commands], language_code=loc
                )
        except TelegramError as exc:  # the menu is a convenience; serving matters more
            log.warning("could not set the command menu: %s", exc.message)

    # --- callbacks (registered in register_handlers) ---------------------------------------------

    async def on_any(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every update first: handled at most once, whatever Telegram redelivers.

        A resident's message or button press reaches the conversation with its update id as
        `event_id`, and the conversation claims that id in the same database (one write, not
        two); every other update (staff group, membership changes, other groups) is claimed here.
        """
        user = update.effective_user
        chat = update.effective_chat
        private = chat is not None and chat.type == ChatType.PRIVATE
        core_dedups = private and (update.message is not None or update.callback_query is not None)
        if not core_dedups and not self.store.claim_update(update.update_id, now=self.clock()):
            log.info("duplicate update %s ignored", update.update_id)
            raise ApplicationHandlerStop
        if user and private and update.my_chat_member is None:
            # Writing to the bot again means the resident unblocked it (a cheap read first).
            resident = resident_key(user)
            if resident not in self._unblocked:
                if self.store.is_blocked(resident):
                    self.store.unblock(resident)
                if len(self._unblocked) >= UNBLOCKED_CACHE:
                    self._unblocked.clear()  # bounded memory; a miss is only a read
                self._unblocked.add(resident)

    async def on_private(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg, user = update.effective_message, update.effective_user
        if msg is None or user is None or user.is_bot:
            return
        incoming = incoming_from_message(msg, user, update.update_id)
        outbound = await self.handle_resident(incoming)
        await self.dispatch(outbound, chat_id=msg.chat_id, resident=incoming.resident)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        chat = message.chat if message is not None else None
        # Answer first so the button's spinner stops, whatever the core takes.
        try:
            if (
                chat is not None
                and self.staff_chat_id is not None
                and chat.id == self.staff_chat_id
            ):
                if not await self.is_staff(user.id):
                    await query.answer(self._staff_only_text(user), show_alert=True)
                    return
                await query.answer()
                staff = StaffIncoming(
                    staff_id=f"tg:{user.id}",
                    first_name=user.first_name,
                    kind=Kind.CHOICE,
                    choice=query.data or "",
                    topic=str(message.message_thread_id)
                    if message and message.is_topic_message
                    else None,
                    message_ref=f"{chat.id}:{message.message_id}" if message else "",
                    event_id=f"tg:u:{update.update_id}",
                )
                await self.handle_staff(staff)
                return
            await query.answer()
        except BadRequest as exc:  # too old to answer: the press still counts
            log.info("callback answer failed: %s", exc.message)
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        incoming = Incoming(
            resident=resident_key(user),
            kind=Kind.CHOICE,
            choice=query.data or "",
            language_hint=user.language_code,
            first_name=user.first_name,
            event_id=f"tg:u:{update.update_id}",
        )
        outbound = await self.handle_resident(incoming)
        await self.dispatch(outbound, chat_id=chat.id, resident=incoming.resident, pressed=message)

    async def on_staff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg, user = update.effective_message, update.effective_user
        if msg is None or user is None or user.is_bot or msg.sender_chat is not None:
            return
        if msg.text is None and media_of(msg) is None:
            return  # service messages: topic created, member joined ...
        if not await self.is_staff(user.id):
            log.warning("message in the staff group from a non-member refused")
            return
        await self.handle_staff(staff_from_message(msg, user, update.update_id))

    async def on_other_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Other groups: a polite word when someone addresses the bot, else silence."""
        msg, user = update.effective_message, update.effective_user
        if msg is None or user is None or not msg.text or not msg.text.startswith("/"):
            return
        _ = self.i18n.gettext_for(self.i18n.resolve(user.language_code))
        text = _("I answer questions in private chats only. Please write to me directly.")
        try:
            await msg.reply_text(text)
        except TelegramError as exc:
            log.info("group decline not sent: %s", exc.message)

    async def on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        cmu = update.my_chat_member
        if cmu is None or cmu.chat.type != ChatType.PRIVATE:
            return
        resident = resident_key(cmu.from_user)
        if cmu.new_chat_member.status == ChatMemberStatus.BANNED:
            self._unblocked.discard(resident)
            self.store.mark_blocked(resident, now=self.clock())
            self.resident_blocked(resident)
        elif cmu.new_chat_member.status == ChatMemberStatus.MEMBER:
            self.store.unblock(resident)

    def resident_blocked(self, resident: str) -> None:
        """The resident blocked the bot: drop what waits for them, close an open handoff."""
        self._unblocked.discard(resident)
        dropped = self.delivery.store.drop_target(f"r:{resident}")
        log.info("%s blocked the bot (%d queued dropped)", log_id(resident), dropped)
        handoff = getattr(self.app, "handoff", None)
        if handoff is not None:  # an open ticket closes, with a note in its topic
            self.delivery.enqueue(handoff.resident_blocked(resident, self.clock()))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log without content, and tell a resident to try again."""
        err = context.error
        if is_transient(err):
            # A locked SQLite file or a restarting PostgreSQL: expected now and then, no trace.
            log.warning(
                "database unavailable (%s): the resident is asked to try again", type(err).__name__
            )
        else:
            log.error("error handling an update: %s", type(err).__name__, exc_info=err)
        if not isinstance(update, Update):
            return
        chat = update.effective_chat
        if update.effective_user is not None and chat is not None and chat.type == ChatType.PRIVATE:
            resident = resident_key(update.effective_user)
            _ = self.i18n.gettext_for(self._locale(resident, update.effective_user.language_code))
            reply = Reply(
                _("Sorry, I could not handle that just now. Please try again in a moment.")
            )
            # Sent directly: the outbox lives in the database, which may be what just failed.
            try:
                await self.dispatch(
                    [Outbound(ToResident(resident), reply)], chat_id=chat.id, resident=resident
                )
            except Exception as exc:
                log.warning(
                    "could not tell %s to try again: %s", log_id(resident), type(exc).__name__
                )
        # PTB goes on to the next handler group after an error: had the update-id claim failed
        # (group -1), the update would be handled unclaimed, and so perhaps twice.
        raise ApplicationHandlerStop

    # --- the core ------------------------------------------------------------------------------

    async def handle_resident(self, incoming: Incoming) -> list[Outbound]:
        """The core's answer to a resident's event; what is not for the writer is already
        in the outbox (stored in the event's own transaction), and the sender is woken."""
        outbound = await self._in_worker(lambda: self._handle_resident_sync(incoming))
        if any(not _to_writer(o, incoming.resident) for o in outbound):
            self.delivery.wake()
        return outbound

    def _handle_resident_sync(self, incoming: Incoming) -> list[Outbound]:
        # One transaction for the event and the outbox rows it produces: a crash between the
        # two cannot lose a relay to staff (the conversation's own unit of work joins this).
        ahead = None
        if self._read_ahead is not None:
            ahead = self._read_ahead(incoming.resident, incoming.event_id, self.clock())
        with unit_of_work(self.app.engine, ahead=ahead) as session:
            outbound = list(self.app.conversation.handle(incoming) or [])
            self.delivery.stage(
                [o for o in outbound if not _to_writer(o, incoming.resident)], session=session
            )
        return outbound

    async def _in_worker(self, fn: Callable[[], list[Outbound]]) -> list[Outbound]:
        """Run synchronous core code (it waits on the database) off the event loop."""
        if self._executor is None:
            return fn()
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def handle_staff(self, incoming: StaffIncoming) -> None:
        """A staff event; everything it produces goes through the outbox, stored in the
        event's own transaction."""
        outbound = await self._in_worker(lambda: self._handle_staff_sync(incoming))
        if outbound:
            self.delivery.wake()

    def _handle_staff_sync(self, incoming: StaffIncoming) -> list[Outbound]:
        with unit_of_work(self.app.engine) as session:
            staff = getattr(self.app, "staff", None)
            if staff is not None and hasattr(staff, "handle"):
                outbound = list(staff.handle(incoming, self.clock()) or [])
            else:
                outbound = route_staff(
                    getattr(self.app, "staff_handlers", []), incoming, self.clock()
                )
            self.delivery.stage(outbound, session=session)
        return outbound

    async def is_staff(self, user_id: int) -> bool:
        """Only members of the staff group act as staff; asked of Telegram, cached briefly."""
        if self.staff_chat_id is None or self.application is None:
            return False
        cached = self._members.get(user_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await self.application.bot.get_chat_member(self.staff_chat_id, user_id)
            ok = member.status in MEMBER_STATUSES or (
                member.status == ChatMemberStatus.RESTRICTED
                and bool(getattr(member, "is_member", False))
            )
        except TelegramError as exc:
            log.warning("membership check failed: %s", exc.message)
            return False
        self._members[user_id] = (ok, time.monotonic() + (self.member_cache_seconds if ok else 30))
        return ok

    def _locale(self, resident: str, hint: str | None) -> str:
        states = getattr(self.app, "states", None)
        if states is not None:
            try:
                state = states.load(resident)
                if state is not None and state.locale:
                    return state.locale
            except Exception:  # the database may be down: the hint will do
                log.debug("state lookup failed", exc_info=True)
        return supported_locale(hint) or self.i18n.default

    def _staff_only_text(self, user: User) -> str:
        _ = self.i18n.gettext_for(self.i18n.resolve(user.language_code))
        return _("Only bridge-builders in this group can do that.")

    # --- delivery ------------------------------------------------------------------------------

    async def dispatch(
        self,
        outbound: list[Outbound],
        *,
        chat_id: int,
        resident: str,
        pressed: Message | None = None,
    ) -> None:
        """Replies to the writer go out now, in order (the core's others are in the outbox)."""
        direct = [o for o in outbound if _to_writer(o, resident)]
        if not direct:
            return
        assert self.sender is not None
        edit_target = pressed
        for i, o in enumerate(direct):
            try:
                if (
                    o.reply.edit
                    and edit_target is not None
                    and await self._try_edit(edit_target, o.reply)
                ):
                    edit_target = None
                    continue
                edit_target = None
                steps = self.sender.steps(chat_id, o.reply)
                done = 0

                def progress(n: int) -> None:
                    nonlocal done
                    done = n

                await self.sender.run_steps(steps, resident=resident, on_progress=progress)
            except RetryLater as exc:
                # Telegram is busy or unreachable: nothing is lost, the outbox takes over.
                log.info("direct reply deferred to the outbox: %s", exc.reason)
                self.delivery.enqueue([o], progress=exc.progress)
                self.delivery.enqueue(direct[i + 1 :])
                return
            except Undeliverable as exc:
                if exc.blocked:
                    return
                log.error("reply refused by Telegram: %s", exc.reason)
            except Exception:
                log.exception("direct reply failed; queued")
                self.delivery.enqueue(direct[i:])
                return

    async def _try_edit(self, message: Message, reply: Reply) -> bool:
        """Replace the pressed message with a short text reply; False when it must be sent."""
        if reply.voice or reply.attachment or reply.copy or reply.request_contact:
            return False
        chunks = render_chunks(reply.text) if reply.text.strip() else []
        if len(chunks) != 1:
            return False
        try:
            await message.edit_text(
                chunks[0], parse_mode="HTML", reply_markup=inline_keyboard(reply)
            )
        except BadRequest as exc:
            return "not modified" in str(exc.message).lower()
        except TelegramError:
            return False
        return True

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    # --- periodic work -------------------------------------------------------------------------

    async def run_jobs(self, stop: asyncio.Event, *, every: float = 60.0) -> None:
        """Tick every job about once a minute (and at once); their output goes to the outbox."""
        while not stop.is_set():
            now = self.clock()
            for job in getattr(self.app, "jobs", []) or []:
                try:
                    out = job.tick(now)
                    if out:
                        self.delivery.enqueue(out)
                except Exception:
                    log.exception("job %s failed", getattr(job, "name", job))
            try:
                self.store.prune_updates(before=now - timedelta(days=2))
                # Undeliverable messages are kept for an operator, but no longer than anything else.
                keep = self.settings.retention_days * 86400
                self.delivery.store.prune_failed(before=now.timestamp() - keep)
            except Exception:
                log.exception("pruning update ids or failed messages failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


def register_handlers(application: Application, channel: TelegramChannel) -> None:
    """Every callback, in one place."""
    application.add_handler(TypeHandler(Update, channel.on_any), group=-1)
    application.add_handler(
        ChatMemberHandler(channel.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(CallbackQueryHandler(channel.on_callback))
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(
        MessageHandler(new_messages & filters.ChatType.PRIVATE, channel.on_private)
    )
    if channel.staff_chat_id is not None:
        staff = filters.Chat(chat_id=channel.staff_chat_id)
        application.add_handler(MessageHandler(new_messages & staff, channel.on_staff))
    application.add_handler(
        MessageHandler(new_messages & filters.ChatType.GROUPS, channel.on_other_group)
    )
    application.add_error_handler(channel.on_error)
