"""Replies onto Telegram: HTML rendering, splitting, keyboards, rate limits, retries, topics."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.core.messages import Reply, Target, ToResident, ToStaff
from bot.core.privacy import log_id
from bot.db.telegram_store import TelegramStore
from bot.delivery import RetryLater, Undeliverable
from bot.markup import to_plain, to_telegram_html

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # Telegram's limit, in UTF-16 code units after entity parsing
MAX_CALLBACK_DATA = 64  # bytes
MAX_BUTTON_LABEL = 64

# --- rate limiting and retries ------------------------------------------------------------------

# Methods that post a message and so count against Telegram's flood limits.
_FLOOD_METHODS = frozenset(
    {"sendMessage", "sendVoice", "sendDocument", "sendPhoto", "sendAudio", "sendVideo",
     "copyMessage", "forwardMessage", "createForumTopic"}
)  # fmt: skip


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB settings."""
    # The public attribute warns about its coming type change; the stored value is a timedelta.
    value: Any = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SamvagRateLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits (overall, per private chat, per group) plus retries.

    PTB's AIORateLimiter retries nothing by default and has no per-chat limit. Here 429 answers
    are waited out (for the chat that got them, or for everything when no chat is named) and
    retried; network errors, timeouts and 5xx are retried with exponential backoff. `limits=False`
    switches the limits off (benchmarks) but keeps the retries.
    """

    def __init__(
        self,
        *,
        limits: bool = True,
        overall_per_second: float = 30,
        chat_burst: float = 3,  # about one a second per chat, with Telegram's short bursts
        chat_period: float = 3,
        group_per_minute: float = 20,
        max_retries: int = 5,
        network_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        self.limits = limits
        self._overall_rate = overall_per_second
        self._chat = (chat_burst, chat_period)
        self._group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.network_retries = network_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._overall: AsyncLimiter | None = None
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._paused_until: dict[int | str | None, float] = {}

    async def initialize(self) -> None:
        self._overall = AsyncLimiter(self._overall_rate, 1)

    async def shutdown(self) -> None:
        self._chats.clear()

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        if len(self._chats) > 1024:  # forget idle chats so memory stays flat
            for key, lim in list(self._chats.items()):
                if lim.has_capacity(lim.max_rate):
                    del self._chats[key]
        lim = self._chats.get(chat_id)
        if lim is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            lim = (
                AsyncLimiter(self._group_per_minute, 60) if is_group else AsyncLimiter(*self._chat)
            )
            self._chats[chat_id] = lim
        return lim

    async def _wait_pause(self, chat_id: int | str | None) -> None:
        loop = asyncio.get_running_loop()
        until = max(self._paused_until.get(None, 0.0), self._paused_until.get(chat_id, 0.0))
        if until > loop.time():
            await asyncio.sleep(until - loop.time())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict | list[dict]:
        chat_id: int | str | None = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        limited = self.limits and endpoint in _FLOOD_METHODS and chat_id is not None
        flood_tries = 0
        net_tries = 0
        while True:
            await self._wait_pause(chat_id)
            try:
                if limited:
                    assert self._overall is not None and chat_id is not None
                    async with self._chat_limiter(chat_id), self._overall:
                        return await callback(*args, **kwargs)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                flood_tries += 1
                if flood_tries > self.max_retries:
                    raise
                wait = retry_after_seconds(exc) + 0.1
                until = asyncio.get_running_loop().time() + wait
                self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0.0), until)
                log.info("flood limit on %s: waiting %.1fs", endpoint, wait)
            except (BadRequest, Forbidden):
                raise
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                net_tries += 1
                if net_tries > self.network_retries:
                    raise
                wait = min(self.max_backoff, self.backoff * 2 ** (net_tries - 1))
                log.info(
                    "%s failed (%s): retry %d in %.1fs",
                    endpoint,
                    type(exc).__name__,
                    net_tries,
                    wait,
                )
                await asyncio.sleep(wait)


# --- rendering --------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_len(telegram_html: str) -> int:
    """Length Telegram counts: the text after tags and entities are parsed."""
    return utf16_len(html.unescape(_TAG.sub("", telegram_html)))


def _hard_split(paragraph: str, limit: int) -> list[str]:
    """A paragraph longer than a message: plain text cut at spaces (formatting is lost)."""
    out: list[str] = []
    cur = ""
    for word in re.split(r"(\s+)", to_plain(paragraph)):
        while utf16_len(word) > limit:  # one enormous word
            head, word = word[: limit // 2], word[limit // 2 :]
            if cur:
                out.append(cur)
                cur = ""
            out.append(head)
        if utf16_len(cur + word) > limit:
            out.append(cur)
            cur = word.lstrip()
        else:
            cur += word
    if cur.strip():
        out.append(cur)
    return [html.escape(p.strip(), quote=False) for p in out if p.strip()]


def render_chunks(markdown: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram HTML messages for a Markdown text, split at paragraph boundaries."""
    chunks: list[str] = []
    cur: list[str] = []
    cur_len = 0
    for para in re.split(r"\n[ \t]*\n", markdown.strip()):
        if not para.strip():
            continue
        rendered = to_telegram_html(para)
        n = visible_len(rendered)
        if n > limit:
            if cur:
                chunks.append("\n\n".join(cur))
                cur, cur_len = [], 0
            chunks.extend(_hard_split(para, limit))
            continue
        joined = cur_len + (2 if cur else 0) + n
        if joined > limit:
            chunks.append("\n\n".join(cur))
            cur, cur_len = [rendered], n
        else:
            cur.append(rendered)
            cur_len = joined
    if cur:
        chunks.append("\n\n".join(cur))
    return chunks


def _button_rows(reply: Reply) -> list[list[tuple[str, str]]]:
    """Reply.choices as (label, id) rows; a button whose id Telegram would refuse is dropped."""
    rows = []
    for row in reply.choices:
        buttons = []
        for c in row:
            size = len(c.id.encode("utf-8"))
            if not c.id or size > MAX_CALLBACK_DATA or not c.label.strip():
                # A bug in a flow, never the resident's fault: keep the rest of the message.
                log.error(
                    "dropping button %r: id is %d bytes (max %d)",
                    c.id[:16],
                    size,
                    MAX_CALLBACK_DATA,
                )
                continue
            buttons.append((c.label[:MAX_BUTTON_LABEL], c.id))
        if buttons:
            rows.append(buttons)
    return rows


def inline_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Reply.choices as an inline keyboard; a button whose id Telegram would refuse is dropped."""
    rows = _button_rows(reply)
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=id_) for label, id_ in row] for row in rows]
    )


def inline_keyboard_json(reply: Reply) -> str | None:
    """The same keyboard as the JSON Telegram takes for `reply_markup`, built without PTB's
    objects (a tenth of a busy bot's CPU went to building and serialising them)."""
    rows = _button_rows(reply)
    if not rows:
        return None
    keyboard = [[{"text": label, "callback_data": id_} for label, id_ in row] for row in rows]
    return json.dumps({"inline_keyboard": keyboard})


_REMOVE_KEYBOARD = json.dumps({"remove_keyboard": True})


async def post_message(bot: Any, data: dict[str, Any]) -> Any:
    """sendMessage with `data` as Telegram takes it; the answer as JSON (a dict), unparsed.

    It goes the way every PTB call goes (the rate limiter with its retries, then BaseRequest,
    which turns error answers into RetryAfter, Forbidden, BadRequest, NetworkError ...); only
    PTB's Message objects are skipped: building the call's and parsing the answer's (with its
    keyboard) cost four times the rest of the call, and nobody reads the sent message.
    """
    return await bot._post("sendMessage", data)


Step = Callable[[], Awaitable[Any]]


class _ThreadGone(Exception):  # noqa: N818
    def __init__(self, progress: int) -> None:
        super().__init__("message thread not found")
        self.progress = progress


def _is(exc: TelegramError, *needles: str) -> bool:
    # PTB rewrites Telegram's texts ("BUTTON_DATA_INVALID" -> "Button_data_invalid"): compare lower-case.
    msg = str(exc.message).lower()
    return any(n in msg for n in needles)


class TelegramSender:
    """Sends Replies to residents and to the staff group; the outbox's transport."""

    def __init__(
        self,
        bot: Any,
        store: TelegramStore,
        *,
        staff_chat_id: int | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_blocked: Callable[[str], None] | None = None,
    ) -> None:
        self.bot = bot
        self.on_blocked = on_blocked
        self.store = store
        self.staff_chat_id = staff_chat_id
        self.clock = clock
        self._reply_keyboard_shown: set[int] = set()
        self._topic_locks: dict[int, asyncio.Lock] = {}

    # --- building steps ---

    def steps(self, chat_id: int, reply: Reply, *, thread_id: int | None = None) -> list[Step]:
        """The Telegram calls that make up one Reply, in order."""
        bot = self.bot
        extra: dict[str, Any] = {}
        if thread_id is not None:
            extra["message_thread_id"] = thread_id
        out: list[Step] = []
        chunks = render_chunks(reply.text) if reply.text.strip() else []
        markup: str | None = None  # reply_markup as JSON
        shows_keyboard = removes_keyboard = False
        if reply.request_contact:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(reply.request_contact[:MAX_BUTTON_LABEL], request_contact=True)]],
                one_time_keyboard=True,
                resize_keyboard=True,
            ).to_json()
            shows_keyboard = True
        else:
            markup = inline_keyboard_json(reply)
            if markup is None and chat_id in self._reply_keyboard_shown and chunks:
                markup = _REMOVE_KEYBOARD
                removes_keyboard = True
        if markup is not None and not chunks and reply.choices:
            log.warning("a reply with buttons but no text: buttons not sent")
        for i, chunk in enumerate(chunks):
            data: dict[str, Any] = {"chat_id": chat_id, "text": chunk, "parse_mode": "HTML"}
            data.update(extra)
            if i == len(chunks) - 1 and markup is not None:
                data["reply_markup"] = markup
                last_shows, last_removes = shows_keyboard, removes_keyboard
            else:
                last_shows = last_removes = False

            async def send(
                data: dict[str, Any] = data, shows: bool = last_shows, removes: bool = last_removes
            ) -> Any:
                # A copy: PTB's _post edits the dict it is given, and a step may be retried.
                sent = await post_message(bot, dict(data))
                if shows:
                    self._reply_keyboard_shown.add(chat_id)
                elif removes:
                    self._reply_keyboard_shown.discard(chat_id)
                return sent

            out.append(send)
        if reply.copy is not None:
            src_chat, _, src_msg = reply.copy.ref.partition(":")
            if src_chat and src_msg:

                async def copy() -> Any:
                    return await bot.copy_message(chat_id, int(src_chat), int(src_msg), **extra)

                out.append(copy)
        if reply.voice is not None:
            path = reply.voice

            async def voice() -> Any:
                try:
                    data = path.read_bytes()
                except OSError:
                    log.warning("voice file missing: %s", path.name)
                    return None
                return await bot.send_voice(chat_id, InputFile(data, filename=path.name), **extra)

            out.append(voice)
        if reply.attachment is not None:
            att = reply.attachment

            async def document() -> Any:
                return await bot.send_document(
                    chat_id, InputFile(att.data, filename=att.filename), **extra
                )

            out.append(document)
        return out

    async def run_steps(
        self,
        steps: list[Step],
        *,
        start: int = 0,
        resident: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> list[Any]:
        """Run steps from `start`, turning Telegram errors into delivery outcomes."""
        results = []
        for i in range(start, len(steps)):
            try:
                results.append(await steps[i]())
            except RetryAfter as exc:
                raise RetryLater("flood limit", progress=i, after=retry_after_seconds(exc)) from exc
            except Forbidden as exc:
                if resident is not None and not self.store.is_blocked(resident):
                    self.store.mark_blocked(resident, now=self.clock())
                    log.info("%s blocked the bot", log_id(resident))
                    if self.on_blocked is not None:
                        try:
                            self.on_blocked(resident)
                        except Exception:  # closing a ticket must not hide the block
                            log.exception("handling a blocked resident failed")
                raise Undeliverable(f"forbidden: {exc.message}", blocked=True) from exc
            except BadRequest as exc:
                # A deleted or closed topic: the relay goes to a fresh topic rather than nowhere.
                if _is(exc, "thread not found", "topic_deleted", "topic_closed"):
                    raise _ThreadGone(i) from exc
                raise Undeliverable(f"bad request: {exc.message}") from exc
            except (
                NetworkError
            ) as exc:  # TimedOut, 5xx, connection refused: after the limiter's retries
                raise RetryLater(f"network: {type(exc).__name__}", progress=i) from exc
            if on_progress is not None:
                on_progress(i + 1)
        return results

    # --- the outbox transport ---

    async def deliver(
        self, target: Target, reply: Reply, *, start: int, on_progress: Callable[[int], None]
    ) -> None:
        if isinstance(target, ToResident):
            if not target.resident.startswith("tg:"):
                raise Undeliverable("not a Telegram resident")
            if self.store.is_blocked(target.resident):
                raise Undeliverable("blocked", blocked=True)
            chat_id = int(target.resident[3:])
            steps = self.steps(chat_id, reply)
            try:
                await self.run_steps(
                    steps, start=start, resident=target.resident, on_progress=on_progress
                )
            except _ThreadGone as exc:
                raise Undeliverable("thread not found") from exc
            return
        await self.deliver_staff(target, reply, start=start, on_progress=on_progress)

    async def deliver_staff(
        self, target: ToStaff, reply: Reply, *, start: int, on_progress: Callable[[int], None]
    ) -> None:
        if self.staff_chat_id is None:
            raise Undeliverable("STAFF_CHAT_ID is not set")
        chat_id = self.staff_chat_id
        progress = start
        for _attempt in range(2):
            thread = (
                await self.topic_for(target, progress=progress)
                if target.ticket is not None
                else None
            )
            try:
                await self.run_steps(
                    self.steps(chat_id, reply, thread_id=thread),
                    start=progress,
                    on_progress=on_progress,
                )
                return
            except _ThreadGone as gone:
                # Someone deleted or closed the ticket's topic: open a new one and go on.
                assert target.ticket is not None
                log.info("topic of ticket %s is gone; recreating", target.ticket)
                self.store.forget_topic(target.ticket)
                progress = gone.progress
        raise RetryLater("topic keeps vanishing", progress=progress)

    async def topic_for(self, target: ToStaff, *, progress: int) -> int | None:
        """The ticket's forum topic, created on first use; None (general thread) if impossible."""
        assert target.ticket is not None and self.staff_chat_id is not None
        lock = self._topic_locks.setdefault(target.ticket, asyncio.Lock())
        async with lock:
            thread = self.store.topic(target.ticket)
            if thread is not None:
                return thread
            name = (target.title or f"#{target.ticket}")[:128]
            try:
                topic = await self.bot.create_forum_topic(self.staff_chat_id, name)
            except RetryAfter as exc:
                raise RetryLater(
                    "flood limit", progress=progress, after=retry_after_seconds(exc)
                ) from exc
            except (BadRequest, Forbidden) as exc:
                # Not a forum, or no right to manage topics: the general thread still reaches staff.
                log.warning("cannot create a topic for ticket %s: %s", target.ticket, exc.message)
                return None
            except NetworkError as exc:
                raise RetryLater(f"network: {type(exc).__name__}", progress=progress) from exc
            self.store.set_topic(
                target.ticket, chat_id=self.staff_chat_id, thread_id=topic.message_thread_id
            )
            return topic.message_thread_id
