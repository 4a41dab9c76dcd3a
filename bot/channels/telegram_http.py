"""A python-telegram-bot request backend on aiohttp.

PTB's default backend (httpx/httpcore) scans its whole connection pool for every request and
spends most of a busy bot's CPU there; aiohttp's connector does not. PTB documents BaseRequest
as the seam for exactly this (https://docs.python-telegram-bot.org/en/stable/telegram.request.baserequest.html).
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool."""

    __slots__ = ("_connect", "_pool", "_read", "_session", "_size", "_write")

    def __init__(
        self,
        *,
        connection_pool_size: int = 32,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        write_timeout: float | None = 5.0,
    ) -> None:
        self._size = connection_pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._write = write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._size, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = self._write if isinstance(write_timeout, DefaultValue) else write_timeout
        # aiohttp has no separate write timeout: the whole exchange gets read + write.
        total = None if read is None else read + (write or 0) + (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if connect is None else connect + (pool or 0),
            sock_connect=connect,
            sock_read=read,
        )
        data: aiohttp.FormData | bytes | None = None
        headers = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    body = content if isinstance(content, bytes) else content.read()
                    form.add_field(name, body, filename=filename, content_type=mime)
                data = form
            else:
                # A JSON body of the same string values (the Bot API takes application/json,
                # and reads a string field as it would read the form's): PTB's own encoding
                # (json's C encoder), where urlencode quoted a long answer byte by byte in
                # Python (and FormData before it was a tenth of a busy bot's CPU).
                data = request_data.json_payload
                headers = _JSON
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as res:
                return res.status, await res.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
