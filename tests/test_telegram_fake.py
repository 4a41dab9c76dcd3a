"""The fake Bot API server refuses what Telegram refuses, so the e2e tests mean something."""

from __future__ import annotations

import json

import aiohttp
import pytest
from fakebotapi import DEFAULT_TOKEN, FakeBotAPI, User, parse_html
from fakebotapi.validate import ApiError


@pytest.fixture
async def fake():
    async with FakeBotAPI() as f:
        f.private_chat(User(1))
        yield f


async def call(fake: FakeBotAPI, method: str, **params) -> tuple[int, dict]:
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}{DEFAULT_TOKEN}/{method}", data=form) as r,
    ):
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("method", "params", "reason"),
    [
        ("sendMesage", {"chat_id": 1, "text": "x"}, "method not found"),
        ("sendMessage", {"chat_id": 1}, "field text is required"),
        ("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}, "unknown parameter colour"),
        ("sendMessage", {"chat_id": 1, "text": "x", "disable_notification": "yes"}, "can't parse parameter"),
        ("sendMessage", {"chat_id": 1, "text": "x", "disable_notification": 1}, "must be Boolean"),
        ("sendMessage", {"chat_id": 1, "text": "x" * 4097}, "message is too long"),
        ("sendMessage", {"chat_id": 1, "text": "😀" * 2049}, "message is too long"),  # UTF-16
        ("sendMessage", {"chat_id": 1, "text": "a & b", "parse_mode": "HTML"}, "can't parse entities"),
        ("sendMessage", {"chat_id": 1, "text": "<b>x", "parse_mode": "HTML"}, "can't parse entities"),
        ("sendMessage", {"chat_id": 1, "text": "x</a>", "parse_mode": "HTML"}, "can't parse entities"),
        ("sendMessage", {"chat_id": 1, "text": "<div>x</div>", "parse_mode": "HTML"}, "can't parse entities"),
        ("sendMessage", {"chat_id": 2, "text": "x"}, "chat not found"),
        ("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]}}, "BUTTON_DATA_INVALID"),
        ("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"txt": "b"}]]}}, "unknown field"),
        ("sendMessage", {"chat_id": 1, "text": "x", "message_thread_id": 5}, "message thread not found"),
    ],
)
async def test_refuses_what_telegram_refuses(fake, method, params, reason):
    status, body = await call(fake, method, **params)
    assert status == 400  # never 404: PTB would read that as a bad token
    assert body["ok"] is False and reason in body["description"]


async def test_accepts_valid_html_and_counts_visible_text(fake):
    text = "<b>" + "&lt;" * 4096 + "</b>"  # 4,096 visible characters
    status, body = await call(fake, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert status == 200 and body["result"]["text"] == "<" * 4096


async def test_injected_faults_then_success(fake):
    fake.fail("sendMessage", status=429, retry_after=3)
    fake.fail("sendMessage", status=503)
    fake.block(1)
    s1, b1 = await call(fake, "sendMessage", chat_id=1, text="x")
    s2, _ = await call(fake, "sendMessage", chat_id=1, text="x")
    s3, b3 = await call(fake, "sendMessage", chat_id=1, text="x")
    assert (s1, b1["parameters"]["retry_after"]) == (429, 3)
    assert s2 == 503
    assert s3 == 403 and "blocked" in b3["description"]


async def test_wrong_token_is_unauthorized(fake):
    async with aiohttp.ClientSession() as http, http.post(f"{fake.base_url}999:nope/getMe") as r:
        assert r.status == 401


async def test_forum_topics_are_real(fake):
    fake.add_group(-100, forum=True)
    status, body = await call(fake, "createForumTopic", chat_id=-100, name="#1")
    thread = body["result"]["message_thread_id"]
    assert (await call(fake, "sendMessage", chat_id=-100, text="x", message_thread_id=thread))[0] == 200
    fake.delete_topic(-100, thread)
    status, body = await call(fake, "sendMessage", chat_id=-100, text="x", message_thread_id=thread)
    assert status == 400 and "message thread not found" in body["description"]


def test_html_parser_visible_text():
    assert parse_html('<b>a</b> &amp; <a href="https://x">l</a> &#128512;') == "a & l 😀"
    with pytest.raises(ApiError):
        parse_html("&nbsp;")
