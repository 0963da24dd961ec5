"""``/api/v1/draws/{id}/events``: a draw's live feed as Server-Sent Events.

Server-Sent Events rather than WebSocket: the feed only flows from server to browser
(actions are ordinary POSTs with their CSRF and idempotency rules), SSE is plain HTTP that
every reverse proxy passes, the browser's ``EventSource`` carries the session cookie, and
resuming is built into the protocol (``id:`` lines, ``Last-Event-ID``). docs/api.md says
what a WebSocket would have cost.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import AsyncGenerator, Callable
from types import FrameType
from typing import Annotated, Any, Protocol, cast
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import Response
from starlette._utils import create_collapsing_task_group
from starlette.types import Receive, Scope, Send

from fairdraw.domain import errors
from fairdraw.domain.errors import CrossOriginRefused, DrawNotFound, InvalidInput
from fairdraw.domain.event_ids import event_id_key
from fairdraw.domain.moments import now_ms
from fairdraw.services.live import LiveHub, Sink
from fairdraw.services.viewing import require_draw_viewer
from fairdraw.web.api.schemas import draw_out
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/draws", tags=["live"])

ROUND_ID_LENGTH = 16

FEED_ERRORS = (
    errors.DrawNotFound,
    errors.InvalidInput,
    errors.CrossOriginRefused,
    errors.TooManyConnections,
)
PRIVATE_ERRORS = (*FEED_ERRORS, errors.NotAuthenticated, errors.Forbidden)
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A stream of Server-Sent Events (see docs/api.md)",
        "content": {"text/event-stream": {}},
    }
}


def end_feeds_on_signals(hub: LiveHub) -> None:
    """End ``hub``'s feeds as soon as the server is told to stop (SIGINT, SIGTERM).

    uvicorn waits for every response to finish before it stops, and a live feed never
    finishes by itself, so without this a stop would wait for the first open page to go.
    uvicorn has no hook for it; its own handlers are in place by the time the app starts
    (this runs in the lifespan), so ours run first and then call them."""
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach only the main thread; whoever runs this server stops it
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)

        def handle(number: int, frame: FrameType | None, previous: Any = previous) -> None:
            hub.close_soon()
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handle)


# Where LiveFastAPI keeps the server's own ``send`` in the scope.
SERVER_SEND = "fairdraw.server_send"


class LiveFastAPI(FastAPI):
    """FastAPI that keeps the server's own ``send`` in each request's scope (before any
    middleware wraps it), so a live feed can find its connection: see
    :func:`transport_sink`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SERVER_SEND] = send
        await super().__call__(scope, receive, send)


class _Transport(Protocol):
    def write(self, data: bytes) -> None: ...
    def is_closing(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...
    def abort(self) -> None: ...


class TransportSink:
    """A feed's connection written directly, as HTTP/1.1 chunks, after the response's
    head went through the ASGI stack. A client that lets ``limit`` bytes pile up unsent
    is cut off (its page reconnects and resumes), so it cannot grow our memory."""

    def __init__(self, transport: _Transport, limit: int) -> None:
        self._transport = transport
        self._limit = limit

    def write(self, data: bytes) -> bool:
        transport = self._transport
        if transport.is_closing():
            return False
        if transport.get_write_buffer_size() > self._limit:
            transport.abort()
            return False
        transport.write(b"%x\r\n%b\r\n" % (len(data), data))
        return True


def transport_sink(scope: Scope, limit: int) -> TransportSink | None:
    """The direct sink of this response's connection, when the server is uvicorn's
    httptools protocol streaming it with the chunked coding (what ``fairdraw serve``
    runs); None otherwise, and the feed goes through ASGI ``send`` as any response.

    Why: through ASGI, each message to each watcher wakes that watcher's task and passes
    every middleware; written here, the feed's reader sends one message to 1,000
    watchers in one loop of 1,000 ``write`` calls (docs/benchmarks.md, "Live feeds").
    Only body chunks bypass the stack; no middleware of ours changes a feed's body.
    The last chunk is still sent through ``send``, so the server's state stays true."""
    cycle = getattr(scope.get(SERVER_SEND), "__self__", None)
    if cycle is None or type(cycle).__module__ != "uvicorn.protocols.http.httptools_impl":
        return None
    if getattr(cycle, "chunked_encoding", None) is not True:
        return None
    if getattr(cycle, "response_complete", True) or getattr(cycle, "disconnected", True):
        return None
    transport = getattr(cycle, "transport", None)
    needed = ("write", "is_closing", "get_write_buffer_size", "abort")
    if transport is None or not all(hasattr(transport, name) for name in needed):
        return None
    return TransportSink(cast(_Transport, transport), limit)


# A feed's messages, given the sink its live part may be written to (or None).
Stream = Callable[[Sink | None], AsyncGenerator[bytes, None]]


class EventStreamResponse(Response):
    """A feed as a streaming response: the head and the catch-up through ASGI ``send``,
    the live messages through the connection's sink when there is one. It also watches
    for the client going away, so a closed page frees its watcher at once rather than at
    the next keep-alive."""

    media_type = "text/event-stream"

    def __init__(
        self,
        stream: Stream,
        headers: dict[str, str],
        buffer_bytes: int,
        status_code: int = 200,  # FastAPI's OpenAPI reads the default status from here
    ) -> None:
        self.stream = stream
        self.buffer_bytes = buffer_bytes
        self.status_code = status_code
        self.background = None
        self.init_headers(headers)  # no body: no Content-Length, the server chunks it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        sink = transport_sink(scope, self.buffer_bytes)
        async with create_collapsing_task_group() as task_group:

            async def stream() -> None:
                chunks = self.stream(sink)
                try:
                    async for chunk in chunks:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                finally:
                    await chunks.aclose()
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                task_group.cancel_scope.cancel()

            task_group.start_soon(stream)
            while (await receive())["type"] != "http.disconnect":
                pass
            task_group.cancel_scope.cancel()


def check_origin(request: Request) -> None:
    """Refuse a feed to a page of another site (the browser sends ``Origin`` on
    cross-origin requests; same-origin ``EventSource`` requests may omit it)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise CrossOriginRefused()


def resume_id(header: str | None, query: str | None) -> str | None:
    """The id to resume after: the ``Last-Event-ID`` header the browser sends on its own
    reconnects, or ``last_event_id`` from the URL (our own reconnects)."""
    value = header or query
    if not value:
        return None
    try:
        event_id_key(value)
    except ValueError:
        raise InvalidInput(errors={"last_event_id": "Not an event id"}) from None
    return value


async def _feed(
    draw_id: str,
    request: Request,
    services: Services,
    visitor: Visitor,
    last_event_id: str | None,
    *,
    private: bool,
) -> EventStreamResponse:
    check_origin(request)
    try:
        draw = await services.drawing.get(draw_id)
    except DrawNotFound:
        # Today's lottery round exists from its first ballot on; its page follows it
        # from before then (round ids are the 16-character ones).
        if private or len(draw_id) != ROUND_ID_LENGTH:
            raise
        draw = None
    if private:
        assert draw is not None
        require_draw_viewer(visitor.caller, draw, services.drawing.manager_networks)
    hub = services.live
    guard = contextlib.ExitStack()
    guard.enter_context(hub.admit(str(visitor.address or "unknown")))

    async def snapshot() -> dict[str, Any]:
        try:
            state = draw_out(await services.drawing.get(draw_id), now_ms())
        except DrawNotFound:
            return {"draw": None}
        return {"draw": state.model_dump(mode="json")}

    async def stream(sink: Sink | None) -> AsyncGenerator[bytes, None]:
        with guard:
            # Tells EventSource how long to wait before its own reconnect attempts.
            yield b"retry: 2000\n\n"
            feed = hub.watch(draw_id, last_event_id, private=private, snapshot=snapshot, sink=sink)
            try:
                async for frame in feed:
                    yield frame
            finally:
                await feed.aclose()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStreamResponse(stream, headers, hub.buffer_bytes)


LastEventIdHeader = Annotated[str | None, Header(alias="Last-Event-ID")]
LastEventIdQuery = Annotated[str | None, Query(max_length=48)]


@router.get(
    "/{draw_id}/events",
    response_class=EventStreamResponse,
    responses={**SSE_RESPONSE, **problem_responses(*FEED_ERRORS)},
)
async def public_events(
    draw_id: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    last_event_id_header: LastEventIdHeader = None,
    last_event_id: LastEventIdQuery = None,
) -> EventStreamResponse:
    """The draw's public live feed: counts, states, the seal and reveal steps."""
    last = resume_id(last_event_id_header, last_event_id)
    return await _feed(draw_id, request, services, visitor, last, private=False)


@router.get(
    "/{draw_id}/events/private",
    response_class=EventStreamResponse,
    responses={**SSE_RESPONSE, **problem_responses(*PRIVATE_ERRORS)},
)
async def private_events(
    draw_id: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    last_event_id_header: LastEventIdHeader = None,
    last_event_id: LastEventIdQuery = None,
) -> EventStreamResponse:
    """The feed for the draw's managers and admins: every entry, with who made it."""
    last = resume_id(last_event_id_header, last_event_id)
    return await _feed(draw_id, request, services, visitor, last, private=True)
