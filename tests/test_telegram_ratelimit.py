"""The rate limiter: Telegram's flood limits per chat and group, and which failures it retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram_send import SamvagRateLimiter


class Flaky:
    """A Bot API call that fails with the given errors first, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> dict:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True}


async def send(limiter: SamvagRateLimiter, call, chat_id: int, endpoint: str = "sendMessage"):
    return await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)


@pytest.fixture
async def limiter():
    lim = SamvagRateLimiter(backoff=0.01)
    await lim.initialize()
    yield lim
    await lim.shutdown()


async def test_group_gets_twenty_messages_a_minute(limiter):
    for _ in range(20):
        await asyncio.wait_for(send(limiter, Flaky(), -100123), 0.5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(send(limiter, Flaky(), -100123), 0.3)
    # another chat is not held up by the group's budget
    await asyncio.wait_for(send(limiter, Flaky(), 42), 0.5)
    # and reading the group (membership checks) never waits
    await asyncio.wait_for(send(limiter, Flaky(), -100123, "getChatMember"), 0.5)


async def test_private_chat_gets_a_short_burst_then_about_one_a_second(limiter):
    for _ in range(3):
        await asyncio.wait_for(send(limiter, Flaky(), 42), 0.5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(send(limiter, Flaky(), 42), 0.3)


async def test_limits_off_for_benchmarks():
    lim = SamvagRateLimiter(limits=False)
    await lim.initialize()
    for _ in range(50):
        await asyncio.wait_for(send(lim, Flaky(), -100123), 0.5)


async def test_flood_answer_is_waited_out_and_retried(limiter, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # as the channel sets it
    call = Flaky(RetryAfter(timedelta(seconds=0)))
    assert await send(limiter, call, 42) == {"ok": True}
    assert call.calls == 2


async def test_network_errors_are_retried_then_given_up(limiter):
    call = Flaky(TimedOut(), NetworkError("Bad Gateway"))
    assert await send(limiter, call, 42) == {"ok": True}
    down = Flaky(*[NetworkError("Service Unavailable")] * 10)
    with pytest.raises(NetworkError):
        await send(limiter, down, 42)
    assert down.calls == 1 + limiter.network_retries


@pytest.mark.parametrize("error", [BadRequest("message is too long"), Forbidden("bot was blocked by the user")])
async def test_refusals_are_not_retried(limiter, error):
    call = Flaky(error)
    with pytest.raises(type(error)):
        await send(limiter, call, 42)
    assert call.calls == 1
