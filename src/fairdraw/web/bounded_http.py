"""uvicorn's httptools HTTP/1.1 protocol, with the two bounds on the request head it
lacks: its size and the time it may take to arrive.

uvicorn bounds neither for httptools (``h11_max_incomplete_event_size`` applies to its
pure-Python h11 protocol only, and its keep-alive timeout runs only between two
requests), and llhttp buffers a header however long it grows. So a client could hold a
connection forever by never finishing its headers, or grow a worker's memory with one
endless header. ``fairdraw serve`` runs this protocol instead (``http=`` of uvicorn).

A head larger than :data:`~fairdraw.web.limits.MAX_HEAD_BYTES` is refused with 431:
one still incomplete is counted as its bytes arrive, before llhttp buffers them, so an
endless header costs at most one read beyond the limit; a complete one is measured by
its request target and headers before the app sees it. A head not complete
:data:`~fairdraw.web.limits.HEAD_TIMEOUT_SECONDS` after the connection opened (or after
its first byte, on a kept-alive connection) is answered 408, or closed without a word if
nothing arrived at all. Both answers are problem+json, and the connection is closed.

One more change, to what is written: uvicorn writes a response's status line and headers,
then its body, each with a system call of its own, and (the socket has ``TCP_NODELAY``)
each in a TCP segment of its own that the client must read apart. The connection's
writes are collected until the end of the event loop's turn and sent together
(:class:`CoalescedWrites`), so a response sent whole goes out as one segment.
Everything else after the head (bodies, responses, live feeds) is uvicorn's own code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from fairdraw.domain.errors import FairdrawError
from fairdraw.web.limits import HEAD_TIMEOUT_SECONDS, MAX_HEAD_BYTES
from fairdraw.web.problems import PROBLEM_JSON, HeadersTooLarge, RequestTimeout, problem_document

# Collected writes go out at once when they reach this size, whatever the turn: a stream
# whose producer never yields to the loop must not pile up in memory.
COALESCE_LIMIT_BYTES = 64 * 1024


class CoalescedWrites:
    """A connection's transport whose writes of one turn of the event loop are sent as
    one write at the end of the turn (or as soon as they reach
    :data:`COALESCE_LIMIT_BYTES`), in order. ``close()`` sends what is collected first, as
    a transport's ``close()`` sends what it buffered; ``abort()`` drops it. Everything
    else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= COALESCE_LIMIT_BYTES:
            self.flush()

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what is collected (nothing if the connection is closing: the peer is gone)."""
        pending, self._pending, self._size = self._pending, [], 0
        if not pending or self._transport.is_closing():
            return
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that refuses a request head too large or too slow."""

    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # until the first request's headers are complete
        self._head_started = False
        self._head_bytes = 0  # what arrived while the head was incomplete
        self._head_size = 0  # the request target and headers llhttp parsed
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, CoalescedWrites(transport, self.loop)))
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Only a head still incomplete after this data is too large: data that also
        # finished the head may carry the start of a body, which is no header.
        if self._reading_head and self._head_bytes > self.max_head_bytes:
            self._refuse(self._too_large())

    # llhttp's callbacks. After a refusal, the rest of the data it was fed is ignored.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_started = True
        self._head_size = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_started = False
        self._head_bytes = 0
        self._cancel_head_timer()
        if self._refused:
            return
        if self._head_size > self.max_head_bytes:
            self._refuse(self._too_large())  # arrived whole in one read: never reaches the app
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _too_large(self) -> HeadersTooLarge:
        return HeadersTooLarge(
            f"The request line and headers may take {self.max_head_bytes:,} bytes."
        )

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._reading_head or self.transport.is_closing():
            return
        if not self._head_started and self._head_bytes == 0:
            self.transport.close()  # an idle connection: nobody to answer
            return
        self._refuse(
            RequestTimeout(f"The headers must arrive within {self.head_timeout:g} seconds.")
        )

    def _refuse(self, error: FairdrawError) -> None:
        """Answer ``error`` and close, as uvicorn answers a request it cannot parse."""
        self._refused = True
        self._cancel_head_timer()
        body = json.dumps(problem_document(error, None)).encode()
        head = [STATUS_LINE[error.status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(
            b"content-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % (PROBLEM_JSON.encode(), len(body))
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()
