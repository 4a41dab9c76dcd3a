"""A fake Telegram Bot API server on loopback that rejects what Telegram rejects."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .validate import (
    MAX_CAPTION,
    MAX_TEXT,
    ApiError,
    UploadedFile,
    bad,
    check_markup,
    check_text,
    load_spec,
    parse_params,
)

DEFAULT_TOKEN = "123456:TEST-token"
BOT_ID = 123456
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SEND_METHODS = {"sendMessage", "sendVoice", "sendDocument", "copyMessage", "sendPhoto", "sendAudio"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    error: str | None = None
    result: Any = None
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Fault:
    method: str
    status: int
    description: str
    times: int
    chat_id: int | None = None
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class User:
    id: int
    first_name: str = "Resident"
    language_code: str | None = "sv"
    username: str | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            d["language_code"] = self.language_code
        if self.username:
            d["username"] = self.username
        return d


class FakeBotAPI:
    """The server plus the Telegram state it keeps; tests drive it and read its record."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, max_poll_timeout: float = 1.0) -> None:
        self.token = token
        self.spec = load_spec()
        self.max_poll_timeout = max_poll_timeout
        self.bot_user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "samvag",
            "username": "samvag_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.chats: dict[int, dict] = {}
        self.messages: dict[tuple[int, int], dict] = {}
        self._message_ids: dict[int, itertools.count] = {}
        self.topics: dict[int, dict[int, str]] = {}
        self.closed_topics: set[tuple[int, int]] = set()
        self._thread_ids = itertools.count(1000)
        self.members: dict[tuple[int, int], str] = {}
        self.blocked: set[int] = set()
        self.faults: list[Fault] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_answers: list[int] = []
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self.answered_callbacks: list[dict] = []
        self._changed: asyncio.Condition | None = None
        self.bot_counts: dict[int, int] = {}  # messages the bot sent per chat (cheap to wait on)
        self._chat_events: dict[int, asyncio.Event] = {}
        self.record_calls = True  # benchmarks switch the record off to keep memory flat
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port: int | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeBotAPI:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._host = host
        return self

    async def stop(self) -> None:
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # --- chats, users, topics ----------------------------------------------------------------

    def private_chat(self, user: User) -> dict:
        chat = {"id": user.id, "type": "private", "first_name": user.first_name}
        self.chats.setdefault(user.id, chat)
        return self.chats[user.id]

    def add_group(self, chat_id: int, *, title: str = "Staff", forum: bool = True) -> dict:
        chat = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": forum}
        self.chats[chat_id] = chat
        self.topics.setdefault(chat_id, {})
        return chat

    def add_member(self, chat_id: int, user: User, status: str = "member") -> None:
        self.members[(chat_id, user.id)] = status

    def create_topic(self, chat_id: int, name: str) -> int:
        thread_id = next(self._thread_ids)
        self.topics.setdefault(chat_id, {})[thread_id] = name
        return thread_id

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        self.topics.get(chat_id, {}).pop(thread_id, None)

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        """Staff closed the topic: Telegram refuses new messages in it."""
        self.closed_topics.add((chat_id, thread_id))

    def block(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    # --- fault injection ---------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with an error."""
        if status == 429 and retry_after is None:
            retry_after = 1
        desc = description or {
            429: f"Too Many Requests: retry after {retry_after}",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            403: "Forbidden: bot was blocked by the user",
        }.get(status, "Bad Request: injected")
        self.faults.append(Fault(method, status, desc, times, chat_id, retry_after))

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` answers to `method`."""
        self.faults.append(Fault(method, 200, "", times, delay=seconds))

    # --- updates -----------------------------------------------------------------------------

    def _message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, user: User, chat: dict, **content: Any) -> dict:
        msg = {
            "message_id": self._message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": user.to_dict(),
            **content,
        }
        self.messages[(chat["id"], msg["message_id"])] = msg
        return msg

    def _wrap(self, key: str, obj: dict, update_id: int | None = None) -> dict:
        return {"update_id": update_id or next(self._update_ids), key: obj}

    def text_update(
        self, user: User, text: str, *, chat: dict | None = None, thread: int | None = None
    ) -> dict:
        """A message update; commands get their bot_command entity as real clients send."""
        chat = chat or self.private_chat(user)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if thread is not None:
            content["message_thread_id"] = thread
            content["is_topic_message"] = True
        return self._wrap("message", self._user_message(user, chat, **content))

    def media_update(
        self, user: User, kind: str, *, chat: dict | None = None, thread: int | None = None
    ) -> dict:
        """A voice note, photo, sticker, location, document ... from a user."""
        chat = chat or self.private_chat(user)
        f = {"file_id": f"f{kind}{user.id}", "file_unique_id": f"u{kind}{user.id}"}
        content = {
            "voice": {"voice": {**f, "duration": 3}},
            "audio": {"audio": {**f, "duration": 30}},
            "photo": {"photo": [{**f, "width": 90, "height": 90}]},
            "video": {"video": {**f, "width": 90, "height": 90, "duration": 3}},
            "video_note": {"video_note": {**f, "length": 90, "duration": 3}},
            "sticker": {
                "sticker": {
                    **f,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                }
            },
            "location": {"location": {"latitude": 59.33, "longitude": 18.06}},
            "document": {"document": {**f, "file_name": "intyg.pdf"}},
        }[kind]
        if thread is not None:
            content = {**content, "message_thread_id": thread, "is_topic_message": True}
        return self._wrap("message", self._user_message(user, chat, **content))

    def contact_update(self, user: User, phone: str, *, contact_user_id: int | None = None) -> dict:
        chat = self.private_chat(user)
        contact = {"phone_number": phone, "first_name": user.first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._wrap("message", self._user_message(user, chat, contact=contact))

    def callback_update(self, user: User, message: dict, data: str) -> dict:
        """A press on a button of a message the bot sent."""
        qid = str(next(self._callback_ids))
        self._open_callbacks.add(qid)
        query = {
            "id": qid,
            "from": user.to_dict(),
            "chat_instance": f"ci{message['chat']['id']}",
            "message": message,
            "data": data,
        }
        return self._wrap("callback_query", query)

    def blocked_update(self, user: User, status: str = "kicked") -> dict:
        """The resident blocked (kicked) or unblocked (member) the bot."""
        chat = self.private_chat(user)
        bot_old = {"status": "member", "user": self.bot_user}
        bot_new = {"status": status, "user": self.bot_user}
        if status == "kicked":
            bot_new["until_date"] = 0
        cmu = {"chat": chat, "from": user.to_dict(), "date": int(time.time()),
               "old_chat_member": bot_old, "new_chat_member": bot_new}  # fmt: skip
        return self._wrap("my_chat_member", cmu)

    async def push(self, update: dict) -> int | None:
        """Deliver an update: to the webhook when one is set (returns its HTTP status), else queue it."""
        if self.webhook:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            headers = {"Content-Type": "application/json"}
            if self.webhook.get("secret_token"):
                headers[SECRET_HEADER] = self.webhook["secret_token"]
            async with self._session.post(
                self.webhook["url"], data=json.dumps(update), headers=headers
            ) as r:
                self.webhook_answers.append(r.status)
                return r.status
        self._updates.append(update)
        await self._notify()
        return None

    # --- what tests read ---------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int) -> list[dict]:
        """Messages the bot has in a chat, in order (edits are applied in place)."""
        keys = sorted(
            k
            for k, m in self.messages.items()
            if k[0] == chat_id and m.get("from", {}).get("id") == BOT_ID
        )
        return [self.messages[k] for k in keys]

    def texts(self, chat_id: int) -> list[str]:
        return [
            m.get("text") or m.get("caption") or f"<{m.get('kind', 'media')}>"
            for m in self.sent(chat_id)
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every call the bot makes)."""
        assert self._changed is not None
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out; last calls: {[c.method for c in self.calls[-10:]]}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    # --- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        form: dict[str, Any] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    form[part.name] = UploadedFile(
                        part.filename, await part.read(), part.headers.get("Content-Type", "")
                    )
                else:
                    form[part.name] = await part.text()
        elif request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        else:
            form = dict(await request.post()) if request.can_read_body else {}
            form.update(request.query)
        call = Call(method, {})
        try:
            params = parse_params(method, form, self.spec)
            call.params = params
            fault = self._take_fault(method, params)
            if fault and fault.delay:
                await asyncio.sleep(fault.delay)
            elif fault:
                raise ApiError(
                    fault.status,
                    fault.description,
                    {"retry_after": fault.retry_after} if fault.retry_after else None,
                )
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                if self.spec["methods"][method]["returns"] == ["Boolean"]:
                    result: Any = True
                else:
                    raise bad(f"method {method} is not implemented by the fake")
            else:
                result = (
                    await handler(params)
                    if asyncio.iscoroutinefunction(handler)
                    else handler(params)
                )
            call.result = result
            if self.record_calls:
                self.calls.append(call)
            await self._notify()
            return web.json_response({"ok": True, "result": result})
        except ApiError as e:
            call.status, call.error = e.code, e.description
            if not call.params:
                call.params = dict(form)
            if self.record_calls:
                self.calls.append(call)
            await self._notify()
            return self._error(e)

    @staticmethod
    def _error(e: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": e.code, "description": e.description}
        if e.parameters:
            body["parameters"] = e.parameters
        return web.json_response(body, status=e.code)

    def _take_fault(self, method: str, params: dict) -> Fault | None:
        for f in self.faults:
            if (
                f.method == method
                and f.times > 0
                and (f.chat_id is None or f.chat_id == _int(params.get("chat_id")))
            ):
                f.times -= 1
                if f.times == 0:
                    self.faults.remove(f)
                return f
        return None

    # --- methods -----------------------------------------------------------------------------

    def _m_getMe(self, p):
        return self.bot_user

    async def _m_getUpdates(self, p):
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        offset = p.get("offset")
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(p.get("timeout") or 0), self.max_poll_timeout)
        deadline = time.monotonic() + timeout
        assert self._changed is not None
        async with self._changed:
            while not self._updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        limit = int(p.get("limit") or 100)
        return self._updates[:limit]

    def _m_setWebhook(self, p):
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        self.webhook = {"url": p["url"], "secret_token": p.get("secret_token")}
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_deleteWebhook(self, p):
        self.webhook = None
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, p):
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _m_setMyCommands(self, p):
        if not p["commands"]:
            raise bad("commands must be non-empty")
        for c in p["commands"]:
            if (
                not (1 <= len(c["command"]) <= 32)
                or not c["command"].islower()
                or not (1 <= len(c["description"]) <= 256)
            ):
                raise bad("BOT_COMMAND_INVALID")
        scope = (p.get("scope") or {"type": "default"})["type"]
        self.commands[(scope, p.get("language_code") or "")] = p["commands"]
        return True

    def _m_deleteMyCommands(self, p):
        scope = (p.get("scope") or {"type": "default"})["type"]
        self.commands.pop((scope, p.get("language_code") or ""), None)
        return True

    def _m_getMyCommands(self, p):
        scope = (p.get("scope") or {"type": "default"})["type"]
        return self.commands.get((scope, p.get("language_code") or ""), [])

    def _chat_for_send(self, p) -> dict:
        chat_id = _int(p["chat_id"])
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        thread = p.get("message_thread_id")
        if thread is not None and thread not in self.topics.get(chat_id, {}):
            raise bad("message thread not found")
        if thread is not None and (chat_id, thread) in self.closed_topics:
            raise bad("TOPIC_CLOSED")
        return chat

    def _bot_message(self, chat: dict, p: dict, **content) -> dict:
        msg = {
            "message_id": self._message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **content,
        }
        if p.get("message_thread_id") is not None:
            msg["message_thread_id"] = p["message_thread_id"]
            msg["is_topic_message"] = True
        if p.get("reply_markup") is not None:
            check_markup(p["reply_markup"])
            if "inline_keyboard" in p["reply_markup"]:
                msg["reply_markup"] = p["reply_markup"]
        self.messages[(chat["id"], msg["message_id"])] = dict(msg)
        self.bot_counts[chat["id"]] = self.bot_counts.get(chat["id"], 0) + 1
        event = self._chat_events.get(chat["id"])
        if event is not None:
            event.set()
        return msg

    async def wait_chat(self, chat_id: int, count: int, timeout: float = 10.0) -> None:
        """Wait until the bot has sent at least `count` messages to a chat."""
        deadline = time.monotonic() + timeout
        while self.bot_counts.get(chat_id, 0) < count:
            event = self._chat_events.setdefault(chat_id, asyncio.Event())
            event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"chat {chat_id}: {self.bot_counts.get(chat_id, 0)} of {count} messages")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)

    def _m_sendMessage(self, p):
        chat = self._chat_for_send(p)
        shown = check_text(p["text"], p.get("parse_mode"), limit=MAX_TEXT)
        msg = self._bot_message(chat, p, text=shown)
        msg_store = dict(msg)
        msg_store["html"] = p["text"]
        if "reply_markup" in p and "keyboard" in (p["reply_markup"] or {}):
            msg_store["reply_keyboard"] = p["reply_markup"]
        self.messages[(chat["id"], msg["message_id"])] = msg_store
        return msg

    def _caption(self, p) -> dict:
        if p.get("caption"):
            return {
                "caption": check_text(
                    p["caption"], p.get("parse_mode"), limit=MAX_CAPTION, what="caption"
                )
            }
        return {}

    def _m_sendVoice(self, p):
        chat = self._chat_for_send(p)
        voice = p["voice"]
        size = len(voice.data) if isinstance(voice, UploadedFile) else 0
        msg = self._bot_message(
            chat,
            p,
            voice={"file_id": "v1", "file_unique_id": "v1", "duration": 1, "file_size": size},
            **self._caption(p),
        )
        self.messages[(chat["id"], msg["message_id"])]["kind"] = "voice"
        return msg

    def _m_sendDocument(self, p):
        chat = self._chat_for_send(p)
        doc = p["document"]
        if isinstance(doc, UploadedFile) and not doc.data:
            raise bad("file must be non-empty")
        name = doc.filename if isinstance(doc, UploadedFile) else "file"
        msg = self._bot_message(
            chat,
            p,
            document={"file_id": "d1", "file_unique_id": "d1", "file_name": name},
            **self._caption(p),
        )
        stored = self.messages[(chat["id"], msg["message_id"])]
        stored["kind"] = "document"
        stored["data"] = doc.data if isinstance(doc, UploadedFile) else b""
        return msg

    def _m_copyMessage(self, p):
        chat = self._chat_for_send(p)
        src = self.messages.get((_int(p["from_chat_id"]), p["message_id"]))
        if src is None:
            raise bad("message to copy not found")
        content = {
            k: v
            for k, v in src.items()
            if k
            in {
                "text",
                "voice",
                "photo",
                "document",
                "sticker",
                "location",
                "audio",
                "video",
                "video_note",
                "caption",
            }
        }
        msg = self._bot_message(chat, p, **content)
        self.messages[(chat["id"], msg["message_id"])]["kind"] = "copy"
        return {"message_id": msg["message_id"]}

    def _edit_target(self, p) -> dict:
        if p.get("inline_message_id"):
            raise bad("inline messages are not supported by the fake")
        msg = self.messages.get((_int(p.get("chat_id")), p.get("message_id")))
        if msg is None or msg.get("from", {}).get("id") != BOT_ID:
            raise bad("message to edit not found")
        return msg

    def _m_editMessageText(self, p):
        msg = self._edit_target(p)
        if "text" not in p:
            raise bad("text is required")
        shown = check_text(p["text"], p.get("parse_mode"), limit=MAX_TEXT)
        markup = p.get("reply_markup")
        if markup is not None:
            check_markup(markup)
        if shown == msg.get("text") and markup == msg.get("reply_markup"):
            raise bad(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
            )
        msg["text"], msg["html"] = shown, p["text"]
        if markup is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = markup
        msg["edited"] = msg.get("edited", 0) + 1
        return {
            k: v
            for k, v in msg.items()
            if k not in {"html", "kind", "data", "edited", "reply_keyboard"}
        }

    def _m_editMessageReplyMarkup(self, p):
        msg = self._edit_target(p)
        markup = p.get("reply_markup")
        if markup is not None:
            check_markup(markup)
        if markup == msg.get("reply_markup"):
            raise bad("message is not modified")
        if markup is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = markup
        return {
            k: v
            for k, v in msg.items()
            if k not in {"html", "kind", "data", "edited", "reply_keyboard"}
        }

    def _m_answerCallbackQuery(self, p):
        qid = p["callback_query_id"]
        if qid not in self._open_callbacks:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        self._open_callbacks.discard(qid)
        self.answered_callbacks.append(p)
        return True

    def _m_createForumTopic(self, p):
        chat_id = _int(p["chat_id"])
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad("chat not found")
        if not chat.get("is_forum"):
            raise bad("the chat is not a forum")
        if not (1 <= len(p["name"]) <= 128):
            raise bad("TOPIC_NAME_INVALID")
        thread_id = self.create_topic(chat_id, p["name"])
        return {"message_thread_id": thread_id, "name": p["name"], "icon_color": 7322096}

    def _m_getChatMember(self, p):
        chat_id = _int(p["chat_id"])
        if chat_id not in self.chats:
            raise bad("chat not found")
        status = self.members.get((chat_id, p["user_id"]), "left")
        user = {"id": p["user_id"], "is_bot": False, "first_name": "Member"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        if status == "kicked":
            member["until_date"] = 0
        return member

    def _m_getChat(self, p):
        chat = self.chats.get(_int(p["chat_id"]))
        if chat is None:
            raise bad("chat not found")
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
            "premium_subscription": False, "gifts_from_channels": False}}  # fmt: skip

    def _m_sendChatAction(self, p):
        self._chat_for_send(p)
        return True


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None
