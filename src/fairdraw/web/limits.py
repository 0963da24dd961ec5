"""Bounds on what one request may make a server process hold, and for how long.

- The body: at most ``FAIRDRAW_MAX_BODY_BYTES``, counted as it streams in, before
  anything is buffered (:class:`RequestLimits`, pure ASGI). A ``Content-Length`` over the
  limit is refused before the app sees the request; a chunked body is refused at the
  chunk that crosses it. Either way the answer is 413 ``content_too_large`` and the
  connection is closed, so the rest of the body is never read.
- The time a body may take to arrive once the app reads it (:data:`BODY_TIMEOUT_SECONDS`):
  408 ``request_timeout`` after that.
- The request head (the request line and the headers): its size and the time it may take
  (:data:`MAX_HEAD_BYTES`, :data:`HEAD_TIMEOUT_SECONDS`), enforced by the HTTP protocol
  that ``fairdraw serve`` runs (:mod:`fairdraw.web.bounded_http`), since the head is read
  before any ASGI middleware runs.

Live feeds are bodiless GETs that stay open for hours: nothing here times them.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairdraw.domain.errors import FairdrawError
from fairdraw.web.problems import ContentTooLarge, RequestTimeout, problem_response

# The whole body must arrive within this long of the app asking for it. fairdraw's
# largest legitimate body is about 185 KB; at a dial-up 8 KB/s that is under 25 s.
BODY_TIMEOUT_SECONDS = 30.0
# The request line and headers together. The same as nginx's default ceiling (four 8 KiB
# buffers), so nothing a default proxy forwards is refused; a browser's are under 4 KiB.
MAX_HEAD_BYTES = 32 * 1024
# From the connection (or the first byte of a request on a kept-alive connection) to the
# end of its headers. A head is one packet for any real client; 20 s covers several lost
# and retransmitted packets on a bad mobile link, and a slowloris client must reconnect
# every 20 s, holding no more than one small buffer meanwhile.
HEAD_TIMEOUT_SECONDS = 20.0
# uvicorn's default: an idle connection between two requests is closed after this long.
# A reverse proxy that keeps connections to fairdraw open must close them sooner
# (docs/operations.md), or it may send a request on a connection being closed.
KEEP_ALIVE_SECONDS = 5

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def server_options() -> dict[str, Any]:
    """uvicorn's options for ``fairdraw serve``: the HTTP protocol that bounds the request
    head (uvicorn's pure-Python h11 protocol, bounded by its own option, where httptools
    is not installed) and the keep-alive timeout.

    No ``limit_concurrency``: uvicorn counts every open connection against it, live feeds
    included, which stay open for hours; any cap low enough to matter would answer 503 to
    ordinary requests while pages watch draws. Live feeds are capped per client address
    (``FAIRDRAW_LIVE_CONNECTIONS_PER_ADDRESS``); connections per address are the reverse
    proxy's to cap (docs/operations.md)."""
    bounded = importlib.util.find_spec("httptools") is not None
    return {
        "http": "fairdraw.web.bounded_http:BoundedHttpToolsProtocol" if bounded else "h11",
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


class BodyRefused(HTTPException):
    """Raised where the app reads the body. An ``HTTPException``, so that FastAPI lets it
    through unchanged (it turns any other error of a body read into a 400) and the app's
    error handler renders it like every other refusal."""


class RequestLimits:
    """Pure ASGI middleware: the body size limit and the body timeout."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, body_timeout: float | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = BODY_TIMEOUT_SECONDS if body_timeout is None else body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = _framing(scope)
        if length is None and not chunked and scope["method"] in _BODYLESS_METHODS:
            # No body (a page, a live feed): nothing to count and nothing to time.
            await self.app(scope, receive, send)
            return
        if length is not None and length > self.max_body_bytes:
            await _answer(scope, receive, send, self._too_large())
            return
        await _LimitedRequest(self, scope, receive, send).run()

    def _too_large(self) -> ContentTooLarge:
        return ContentTooLarge(f"A request body may hold at most {self.max_body_bytes:,} bytes.")

    def _too_slow(self) -> RequestTimeout:
        return RequestTimeout(f"The body must arrive within {self.body_timeout:g} seconds.")


class _LimitedRequest:
    """One request whose body is counted and timed as the app reads it."""

    def __init__(self, limits: RequestLimits, scope: Scope, receive: Receive, send: Send) -> None:
        self.limits = limits
        self.scope = scope
        self.receive_from_server = receive
        self.send_to_server = send
        self.received = 0
        self.body_done = False
        self.deadline: float | None = None
        self.refused: FairdrawError | None = None
        self.response_started = False

    async def run(self) -> None:
        try:
            await self.limits.app(self.scope, self.receive, self.send)
        except BodyRefused:
            if self.response_started or self.refused is None:
                raise
            await _answer(self.scope, self.receive_from_server, self.send_to_server, self.refused)

    async def receive(self) -> Message:
        if self.refused is not None:
            return {"type": "http.disconnect"}  # what is left of the body is never read
        if self.body_done:
            return await self.receive_from_server()
        loop = asyncio.get_running_loop()
        if self.deadline is None:
            self.deadline = loop.time() + self.limits.body_timeout
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self.receive_from_server()
        except TimeoutError:
            raise self._refuse(self.limits._too_slow()) from None
        if message["type"] != "http.request":
            self.body_done = True  # the client went away
            return message
        self.received += len(message.get("body", b""))
        if self.received > self.limits.max_body_bytes:
            raise self._refuse(self.limits._too_large())
        if not message.get("more_body", False):
            self.body_done = True
        return message

    def _refuse(self, error: FairdrawError) -> BodyRefused:
        self.refused = error
        return BodyRefused(error.status, error.detail)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
            if self.refused is not None:
                # The rest of the body is still on its way; stop reading it.
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
        await self.send_to_server(message)


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The request's ``Content-Length`` (None if absent or unreadable) and whether its
    body is chunked."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


async def _answer(scope: Scope, receive: Receive, send: Send, error: FairdrawError) -> None:
    """Answer ``error`` as problem+json and close the connection, without reading the body."""
    response = problem_response(error, Request(scope), {"Connection": "close"})
    await response(scope, receive, send)
