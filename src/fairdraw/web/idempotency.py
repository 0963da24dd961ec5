"""``Idempotency-Key`` on every state-changing API call (the IETF httpapi draft).

:class:`IdempotencyMiddleware` wraps each ``POST``, ``PUT``, ``PATCH`` and ``DELETE`` under
``/api/v1/`` that carries the header:

- a malformed key is 400 ``idempotency_key_invalid``;
- the first request with a key runs; its answer is kept, sealed under the key, for
  ``FAIRDRAW_IDEMPOTENCY_SECONDS`` (2xx, and 4xx other than 401, 403, 408, 425 and 429,
  which a retry may well change; never a 5xx);
- the same key with the same request (method, path, body, caller) gets that answer again,
  marked ``Idempotent-Replayed: true``; with another request, 422
  ``idempotency_key_reused``; while the first is still running, 409
  ``idempotency_key_in_flight``.

Keys belong to their caller (:func:`fairdraw.services.idempotency.caller_scope`): the same
key from someone else is a different key. Entries, claims and ballots go further: their
routes hand the request's :class:`~fairdraw.domain.idempotency.RetryKey` (``RetryDep``) to
the service, whose script stores the action and its record together, so a retry recovers
the answer even if this process died before it could keep it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairdraw.domain import errors
from fairdraw.domain.idempotency import (
    HEADER,
    KEY_MAX_LENGTH,
    KEY_MIN_LENGTH,
    KEY_PATTERN,
    RetryKey,
)
from fairdraw.services.idempotency import KeptResponse, Started
from fairdraw.web.deps import Services, bearer_scheme, get_visitor, raw_header, services_of
from fairdraw.web.problems import problem_response

log = logging.getLogger("fairdraw.web")

REPLAYED_HEADER = "Idempotent-Replayed"
API_PREFIX = "/api/v1/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Headers worth giving back with a replayed answer; the rest (dates, security headers,
# a renewed session cookie) belong to the response that replays it.
KEPT_HEADERS = frozenset(
    {"content-type", "location", "cache-control", "pragma", "set-cookie", "content-disposition"}
)
# Answers a retry could change: not kept, so the retry runs again.
UNKEPT_STATUSES = frozenset({401, 403, 408, 425, 429})
_STATE_KEY = "idempotency"


def keeps(status: int) -> bool:
    """Whether an answer with ``status`` is kept for replay."""
    return 200 <= status < 300 or (400 <= status < 500 and status not in UNKEPT_STATUSES)


async def request_retry(request: Request) -> RetryKey | None:
    """The RetryKey of this request, if it came with an ``Idempotency-Key``."""
    return retry_of(request)


def retry_of(request: Request) -> RetryKey | None:
    """:func:`request_retry`, called directly."""
    retry = request.scope.get("state", {}).get(_STATE_KEY)
    return retry if isinstance(retry, RetryKey) else None


RetryDep = Annotated[RetryKey | None, Depends(request_retry)]


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's body messages, and the body unless the client went away. Its size
    is bounded by RequestLimits, which wraps this middleware (FAIRDRAW_MAX_BODY_BYTES)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives the messages already read, then the real ones."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class _Capture:
    """Holds a response back until its record is kept."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start is not None else 500

    def kept(self) -> KeptResponse:
        raw = self.start.get("headers", []) if self.start is not None else []
        headers = tuple(
            (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
            for k, v in raw
            if bytes(k).decode("latin-1").lower() in KEPT_HEADERS
        )
        return KeptResponse(self.status, headers, b"".join(self.chunks))

    async def forward(self, send: Send) -> None:
        if self.start is None:
            return
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.chunks)})


async def _send_kept(kept: KeptResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers]
    headers.append((b"content-length", str(len(kept.body)).encode()))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": kept.status, "headers": headers})
    await send({"type": "http.response.body", "body": kept.body})


class IdempotencyMiddleware:
    """Keeps and replays the answers of keyed API calls (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or not scope["path"].startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        raw_key = raw_header(scope, HEADER.lower().encode())
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        receive = _replaying(messages, receive)
        if body is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        services = services_of(request)
        try:
            visitor = await get_visitor(request, services, await bearer_scheme(request))
        except errors.StoreError as error:
            await problem_response(error, request)(scope, receive, send)
            return
        except errors.FairdrawError:
            # A bad bearer token: the route answers it, as it would without a key.
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope["path"] + ("?" + query if query else "")
        try:
            retry = services.idempotency.retry_key(
                visitor.caller,
                raw_key,
                scope["method"],
                target,
                body,
                raw_header(scope, b"content-type") or "",
            )
            started = await services.idempotency.begin(retry)
        except errors.FairdrawError as error:  # StoreError too: 503 with Retry-After
            await problem_response(error, request)(scope, receive, send)
            return
        if isinstance(started, KeptResponse):
            await _send_kept(started, send)
            return
        await self._run(scope, receive, send, services, retry, started)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        services: Services,
        retry: RetryKey,
        started: Started,
    ) -> None:
        scope.setdefault("state", {})[_STATE_KEY] = retry
        capture = _Capture()
        try:
            await self.app(scope, receive, capture.send)
        except BaseException:
            await _settle(services, retry, started, None)
            raise
        await _settle(services, retry, started, capture.kept() if keeps(capture.status) else None)
        await capture.forward(send)


async def _settle(
    services: Services, retry: RetryKey, started: Started, kept: KeptResponse | None
) -> None:
    # Kept before the client hears the answer: a client that heard it can always replay it.
    try:
        await services.idempotency.finish(retry, started, kept)
    except errors.StoreError as error:
        # The key stays in flight until its lease ends; entries, claims and ballots keep
        # their own record, so their retries still get the first answer.
        log.warning("could not keep the answer of an idempotent request: %s", error)


_KEY_DESCRIPTION = (
    f"Makes the call safe to retry ({KEY_MIN_LENGTH} to {KEY_MAX_LENGTH} characters of "
    "`A-Z a-z 0-9 . _ ~ : + / = -`; a random UUID is a good key). The same key with the "
    "same request returns the first answer again (`Idempotent-Replayed: true`), kept 24 h "
    "by default; with another request, 422 `idempotency_key_reused`; while the first is "
    "still running, 409 `idempotency_key_in_flight`. Keys are per caller."
)
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def document_idempotency(app: FastAPI) -> None:
    """Add the ``Idempotency-Key`` header, and the answers it can cause, to every
    state-changing ``/api/v1`` operation of the OpenAPI document."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(API_PREFIX):
                continue
            for method, operation in operations.items():
                if method.upper() not in UNSAFE_METHODS:
                    continue
                parameters = operation.setdefault("parameters", [])
                parameters.append(
                    {
                        "name": HEADER,
                        "in": "header",
                        "required": False,
                        "description": _KEY_DESCRIPTION,
                        "schema": {
                            "type": "string",
                            "minLength": KEY_MIN_LENGTH,
                            "maxLength": KEY_MAX_LENGTH,
                            "pattern": f"^{KEY_PATTERN.pattern}$",
                        },
                    }
                )
                responses = operation.setdefault("responses", {})
                for kind in (
                    errors.IdempotencyKeyInvalid,
                    errors.IdempotencyKeyInFlight,
                    errors.IdempotencyKeyReused,
                ):
                    entry = responses.setdefault(
                        str(kind.status),
                        {
                            "description": "",
                            "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
                        },
                    )
                    note = f"`{kind.code}`: {kind.title}"
                    entry["description"] = "; ".join(filter(None, [entry.get("description"), note]))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
