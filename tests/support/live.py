"""Live-feed tests' client: a Server-Sent Events reader over real HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx


@dataclass(frozen=True)
class Message:
    id: str | None
    event: str
    data: dict[str, Any]


class FeedReader:
    """Reads one SSE response in a thread and hands its messages over a queue, so a test
    can wait for the next message with a timeout. ``close`` shuts the socket down, as a
    browser closing the page does."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        cookies: httpx.Cookies | None = None,
    ) -> None:
        self.messages: queue.Queue[Message | None] = queue.Queue()
        self.status: int | None = None
        self.body = b""
        self._ready = threading.Event()
        parts = urlsplit(url)
        self._connection = http.client.HTTPConnection(parts.netloc, timeout=60)
        self._target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Accept": "text/event-stream", **(headers or {})}
        if cookies:
            self._headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"no answer from {url}")

    def _run(self) -> None:
        try:
            self._connection.request("GET", self._target, headers=self._headers)
            response = self._connection.getresponse()
            self.status = response.status
            self._ready.set()
            if response.status != 200:
                self.body = response.read()
                return
            fields: dict[str, str] = {}
            while line_bytes := response.readline():
                line = line_bytes.decode().rstrip("\r\n")
                if line == "":
                    if "data" in fields:
                        self.messages.put(
                            Message(
                                fields.get("id"),
                                fields.get("event", "message"),
                                json.loads(fields["data"]),
                            )
                        )
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            # AttributeError: http.client's reader after close() from another thread.
            pass
        finally:
            self._ready.set()
            self.messages.put(None)

    def next(self, timeout: float = 5.0) -> Message:
        """The next message; AssertionError if none comes in time or the feed ended."""
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout} s") from None
        if message is None:
            raise AssertionError("the feed ended")
        return message

    def until(self, event: str, timeout: float = 5.0) -> Message:
        """Skip messages until one of type ``event``."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if message.event == event:
                return message

    def quiet(self, seconds: float) -> list[Message]:
        """Every message that arrives within ``seconds``."""
        found: list[Message] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if message is None:
                break
            found.append(message)
        return found

    def ended(self, timeout: float = 5.0) -> bool:
        """True when the server ends the feed within ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self.messages.get(timeout=left) is None:
                    return True
            except queue.Empty:
                return False
        return False

    def close(self) -> None:
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()
        self._thread.join(timeout=5)


@contextmanager
def reading(url: str, **kwargs: Any) -> Iterator[FeedReader]:
    reader = FeedReader(url, **kwargs)
    try:
        yield reader
    finally:
        reader.close()
