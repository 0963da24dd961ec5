"""JSON bodies carry text: an unpaired surrogate is refused before anything reads it.

JSON may spell a UTF-16 surrogate on its own (``"\\ud800"``), and Python's ``json`` reads
one (and a surrogate encoded in UTF-8, which is no UTF-8) into a ``str`` that no later
step can encode: storing it, hashing it or logging it would fail deep inside a service.
:class:`JsonText` answers such a body with 400 ``malformed_request`` instead, before the
body reaches a route (or the idempotency layer), so nothing is stored.

Only a body whose bytes could hold a surrogate (an escape ``\\uD800`` to ``\\uDFFF`` or the
bytes of an encoded one) is decoded here to look closer; every other body passes at the
cost of one scan.
"""

from __future__ import annotations

import functools
import json
import re
from email.message import Message as ContentType

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairdraw.web.deps import raw_header
from fairdraw.web.problems import MalformedRequest, problem_response

# A surrogate escape (paired or not: the decoded text says which), or the UTF-8 encoding
# of a surrogate, which no valid UTF-8 holds.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@functools.lru_cache(maxsize=64)
def is_json(content_type: str | None) -> bool:
    """Whether a body of ``content_type`` is read as JSON: ``application/json`` or
    ``application/*+json``. Remembered for the last few types: parsing one costs more
    than the rest of the middleware, and a client sends the same few."""
    if not content_type:
        return False
    parsed = ContentType()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def holds_unpaired_surrogate(body: bytes) -> bool:
    """Whether the JSON ``body`` decodes to text with a surrogate code point in it (a
    body that does not decode is left to the route, which refuses it)."""
    if _MAYBE_SURROGATE.search(body) is None:
        return False
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return False
    # Walked without recursion: the nesting is as deep as the body makes it.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JsonText:
    """Pure ASGI middleware: a JSON body with an unpaired surrogate is 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        if not is_json(raw_header(scope, b"content-type")):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if holds_unpaired_surrogate(b"".join(chunks)):
            error = MalformedRequest("The JSON body holds a lone surrogate (\\uD800 to \\uDFFF).")
            await problem_response(error, Request(scope))(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
