"""An open-loop load: giveaway entries sent at a fixed rate, whatever the answers do.

Entry ``i`` is due at ``start + i / rate``. It is sent then on an idle keep-alive
connection, or on a new one when all are busy (up to ``max_connections``), so a slow
answer never delays the next entry — unlike a closed loop (wrk), where the server's
pace sets the load's. A send that had to wait for a connection is counted as late.
The HTTP/1.1 client is a bare ``asyncio.Protocol`` on uvloop: on two cores the load
generator's CPU is taken from the server, so it does as little as it can.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

from bench.harness import BenchError

# Connections opened before the first entry is due.
WARM_CONNECTIONS = 8


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._length = -1
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("the server closed the connection"))

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        assert self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._length < 0:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            del self._buffer[: end + 4]
            self._status = int(head[0].split(" ", 2)[1])
            self._length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self._length = int(value)
        if len(self._buffer) < self._length:
            return
        body = bytes(self._buffer[: self._length])
        del self._buffer[: self._length]
        self._length = -1
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, body))


@dataclass
class PacedRun:
    """What a paced run sent and got back. Times are ``time.monotonic()`` seconds."""

    rate: float
    planned: int
    seconds: float = 0.0
    # (count after the entry, when its 201 arrived), for every entry created.
    acks: list[tuple[int, float]] = field(default_factory=list)
    # Due time to answer, ms, of every answered request (queueing included).
    latency_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0
    late: int = 0
    max_late_ms: float = 0.0
    connections: int = 0
    first_unexpected: str = ""

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201) + self.socket_errors

    @property
    def achieved_rate(self) -> float:
        return len(self.latency_ms) / self.seconds if self.seconds else 0.0


async def paced_entries(
    url: str, logins: Sequence[str], rate: float, max_connections: int = 512
) -> PacedRun:
    """POST ``{"github": login}`` to ``url`` (a draw's entries) for every login in turn,
    ``rate`` a second, open loop."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    run = PacedRun(rate=rate, planned=len(logins))
    idle: deque[_Connection] = deque()
    freed = asyncio.Event()

    async def opened() -> _Connection:
        _, connection = await loop.create_connection(_Connection, host, port)
        run.connections += 1
        return connection

    for _ in range(min(WARM_CONNECTIONS, max_connections)):
        idle.append(await opened())

    async def one(connection: _Connection, login: str, due: float) -> None:
        body = json.dumps({"github": login}).encode()
        request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            status, answer = await connection.send(request)
        except (ConnectionError, RuntimeError):
            # The server closed an idle keep-alive connection just as it was reused
            # (uvloop raises RuntimeError for a write to a closed transport): once more
            # on a new connection, as any HTTP client would.
            run.connections -= 1
            try:
                connection = await opened()
                status, answer = await connection.send(request)
            except (ConnectionError, RuntimeError, OSError):
                run.socket_errors += 1
                run.connections -= 1
                freed.set()
                return
        answered = time.monotonic()
        run.latency_ms.append((answered - due) * 1000)
        run.statuses[status] = run.statuses.get(status, 0) + 1
        if status == 201:
            run.acks.append((int(json.loads(answer)["index"]) + 1, answered))
        elif not run.first_unexpected:
            run.first_unexpected = f"{status} {answer[:200].decode(errors='replace')}"
        if connection.lost:
            run.connections -= 1
        else:
            idle.append(connection)
        freed.set()

    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic() + 0.05
    for i, login in enumerate(logins):
        due = start + i / rate
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        while not idle and run.connections >= max_connections:
            freed.clear()
            await freed.wait()
        while idle and idle[-1].lost:  # closed by the server's keep-alive timeout
            idle.pop()
            run.connections -= 1
        connection = idle.pop() if idle else await opened()
        late = (time.monotonic() - due) * 1000
        if late > 5.0:
            # More than scheduling jitter: the load fell behind its schedule.
            run.late += 1
        run.max_late_ms = max(run.max_late_ms, late)
        task = asyncio.create_task(one(connection, login, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    run.seconds = time.monotonic() - start
    for connection in idle:
        if connection.transport is not None:
            connection.transport.close()
    if not run.latency_ms:
        raise BenchError(f"no entry was answered: {run.first_unexpected or 'socket errors'}")
    return run
