"""Many watchers of one draw's public live feed, in a process of their own.

``python -m bench.watchers URL COUNT`` opens COUNT Server-Sent Events connections to URL
(a ``/api/v1/draws/{id}/events`` feed on 127.0.0.1) from one asyncio process on uvloop,
each a bare ``asyncio.Protocol`` that undoes the chunked transfer coding and splits the
stream into messages: as little client CPU as one connection can cost, because on two
cores every cycle the watchers spend is taken from the server under test. Once a watcher
has its snapshot, what arrives is only stored with ``time.monotonic()`` (the same clock in
every process of the machine, so the load generator's acknowledgement times compare with
it) and read when asked, after the load: every ``count`` message then carries the time
its bytes arrived.

It prints ``READY <connected> <seconds>`` once every watcher has its snapshot, then obeys
lines on its standard input: ``least`` prints ``LEAST <count>``, the smallest of the
newest counts the watchers have; ``dump PATH`` writes what each watcher received since
the last dump as JSON to PATH (and prints ``DUMPED``); ``stop`` (or end of input) closes
every connection and exits. :class:`WatcherProcess` drives it; :func:`feed_latency` reads the
dumps.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import resource
import subprocess
import sys
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, cast
from urllib.parse import urlsplit

from bench.harness import BenchError

# Connections being opened at once: a burst of 1,000 would only queue in the backlog.
CONNECT_CONCURRENCY = 64
READY_TIMEOUT = 120.0


class SseWatcher(asyncio.Protocol):
    """One watcher: a GET of the feed, then every message it sends, as it arrives."""

    def __init__(self, request: bytes) -> None:
        self._request = request
        self._raw = bytearray()
        self._text = bytearray()
        self._headers_done = False
        self._chunk_left = -1  # bytes left of the current chunk; -1: a size line is next
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.snapshot_count: int | None = None
        self.snapshot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.counts: array[int] = array("q")
        self.times: array[float] = array("d")
        self.others: list[tuple[str, float]] = []
        self.closed = False
        # The newest count this watcher knows: its snapshot's, then each count message's.
        self.last = -1
        # After the snapshot, what arrives is kept with its time and read later
        # (settle): the watchers' CPU during a load is only the receiving.
        self._unread: list[tuple[float, bytes]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.snapshot.done():
            self.snapshot.set_exception(ConnectionError(f"closed (HTTP {self.status})"))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.snapshot.done():
            self._unread.append((now, data))
            return
        self._read(now, data)

    def settle(self) -> None:
        """Read what arrived since the last call, each part with its arrival time."""
        unread, self._unread = self._unread, []
        for now, data in unread:
            self._read(now, data)

    def _read(self, now: float, data: bytes) -> None:
        self._raw += data
        if not self._headers_done:
            end = self._raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._raw[:end]).decode("latin-1")
            del self._raw[: end + 4]
            self._headers_done = True
            self.status = int(head.split(" ", 2)[1])
            if self.status != 200 or "chunked" not in head.lower():
                if not self.snapshot.done():
                    self.snapshot.set_exception(ConnectionError(f"HTTP {self.status}: {head}"))
                self.close()
                return
        self._dechunk()
        self._messages(now)

    def _dechunk(self) -> None:
        raw = self._raw
        while raw:
            if self._chunk_left < 0:
                line_end = raw.find(b"\r\n")
                if line_end < 0:
                    return
                size = int(bytes(raw[:line_end]).split(b";", 1)[0], 16)
                del raw[: line_end + 2]
                if size == 0:
                    self.close()
                    return
                self._chunk_left = size
            if len(raw) < self._chunk_left + 2:
                return
            self._text += raw[: self._chunk_left]
            del raw[: self._chunk_left + 2]
            self._chunk_left = -1

    def _messages(self, now: float) -> None:
        text = self._text
        while (end := text.find(b"\n\n")) >= 0:
            block = bytes(text[:end])
            del text[: end + 2]
            event = data = ""
            for line in block.decode().split("\n"):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
            if not data:
                continue  # "retry:" or a keep-alive comment
            if event == "count":
                self.last = int(json.loads(data)["count"])
                self.counts.append(self.last)
                self.times.append(now)
            elif event == "snapshot":
                draw = json.loads(data)["draw"] or {}
                self.snapshot_count = self.last = int(draw.get("entry_count", 0))
                if not self.snapshot.done():
                    self.snapshot.set_result(None)
            else:
                self.others.append((event, now))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def take(self) -> dict[str, Any]:
        """What this watcher received since the last take, and forget it."""
        self.settle()
        taken = {
            "counts": self.counts.tolist(),
            "times": self.times.tolist(),
            "others": self.others,
            "closed": self.closed,
        }
        self.counts, self.times, self.others = array("q"), array("d"), []
        return taken


async def _watch(url: str, count: int) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    watchers: list[SseWatcher] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one() -> None:
        async with gate:
            _, watcher = await loop.create_connection(lambda: SseWatcher(request), host, port)
            watchers.append(watcher)
            await watcher.snapshot

    started = time.monotonic()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(open_one() for _ in range(count))), timeout=READY_TIMEOUT
        )
    except (OSError, TimeoutError) as error:
        print(f"FAILED {len(watchers)} connected: {error!r}", flush=True)
        return
    print(f"READY {len(watchers)} {time.monotonic() - started:.3f}", flush=True)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        command, _, argument = line.partition(" ")
        if command == "dump":
            _write_json(Path(argument), [w.take() for w in watchers])
            print("DUMPED", flush=True)
        elif command == "least":
            for watcher in watchers:
                watcher.settle()
            print(f"LEAST {min((w.last for w in watchers), default=-1)}", flush=True)
        elif command == "stop":
            break
    for watcher in watchers:
        watcher.close()


def _write_json(path: Path, records: list[dict[str, Any]]) -> None:
    # Blocks the loop for a moment, between two measurements, when nothing is timed.
    path.write_text(json.dumps(records, separators=(",", ":")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Watchers of one live feed (bench_live.py).")
    parser.add_argument("url", help="the feed: http://127.0.0.1:PORT/api/v1/draws/ID/events")
    parser.add_argument("count", type=int, help="how many watchers")
    args = parser.parse_args(argv)
    # One descriptor per watcher, and the default soft limit may be 1,024.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import uvloop

    uvloop.run(_watch(args.url, args.count))
    return 0


# -- the benchmark's side --------------------------------------------------------------


class WatcherProcess:
    """``python -m bench.watchers`` as a child process, ready when ``with`` returns."""

    def __init__(self, url: str, count: int, work_dir: Path) -> None:
        self.url = url
        self.count = count
        self._dir = work_dir
        self._dumps = 0
        self._process: subprocess.Popen[str] | None = None
        self.connect_seconds = 0.0

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.watchers", self.url, str(self.count)],
            cwd=Path(__file__).resolve().parents[1],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._line()
        if not ready.startswith("READY "):
            self.__exit__()
            raise BenchError(f"the watchers did not start: {ready!r}")
        connected, seconds = ready.split()[1:]
        if int(connected) != self.count:
            raise BenchError(f"{connected} of {self.count} watchers connected")
        self.connect_seconds = float(seconds)
        return self

    def _line(self) -> str:
        assert self._process is not None
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            raise BenchError(f"the watchers' process exited ({code})")
        return line.strip()

    def _send(self, line: str) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def wait_for(self, count: int, timeout: float) -> float | None:
        """Wait until every watcher has a count of at least ``count``: the seconds it
        took, or None if some still had not after ``timeout`` seconds."""
        started = time.monotonic()
        while True:
            self._send("least")
            least = int(self._line().split()[1])
            waited = time.monotonic() - started
            if least >= count:
                return waited
            if waited > timeout:
                return None
            time.sleep(0.05)

    def dump(self) -> list[WatcherRecord]:
        """What every watcher received since the previous dump."""
        self._dumps += 1
        path = self._dir / f"watchers-{self._dumps}.json"
        self._send(f"dump {path}")
        if self._line() != "DUMPED":
            raise BenchError("the watchers did not dump")
        raw = json.loads(path.read_text())
        path.unlink()
        return [WatcherRecord(r["counts"], r["times"], r["closed"]) for r in raw]

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.poll() is None and process.stdin is not None:
                process.stdin.write("stop\n")
                process.stdin.close()
            process.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()


@dataclass(frozen=True)
class WatcherRecord:
    """The counts one watcher received, with the time each arrived, oldest first."""

    counts: list[int]
    times: list[float]
    closed: bool


@dataclass(frozen=True)
class FeedFigures:
    """How fast entries reached every watcher.

    ``to_last_ms`` holds, per acknowledged entry, the time from its 201 to the moment
    the last watcher received a count at least the entry's; ``to_first_ms`` the same to
    the first watcher. Each web process coalesces counts on its own clock, so the
    watchers of one process all receive one sequence of counts and those of another
    process a different one: ``complete`` counts the watchers, still connected, that
    received exactly one of the ``processes`` most common sequences — every state their
    process sent, none missed — and ``reached`` those whose last count covers every
    acknowledged entry."""

    to_last_ms: list[float]
    to_first_ms: list[float]
    undelivered: int
    messages: int
    complete: int
    reached: int
    watchers: int
    sequences: int
    messages_per_watcher: float = 0.0
    spread_ms: list[float] = field(default_factory=list)
    # Per message of one process, from its first watcher's receipt to its last one's.
    process_spread_ms: list[float] = field(default_factory=list)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5 for the median); NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def feed_latency(
    records: Sequence[WatcherRecord], acks: Sequence[tuple[int, float]], processes: int
) -> FeedFigures:
    """Match the acknowledged entries ``acks`` (count after the entry, monotonic time of
    its 201) with what the watchers of ``processes`` web processes received."""
    union = sorted({c for r in records for c in r.counts})
    latest = [-math.inf] * len(union)
    earliest = [math.inf] * len(union)
    for record in records:
        if record.counts != sorted(record.counts):
            raise ValueError("a watcher received counts out of order")
        # A watcher learns of an entry at the first count it receives that includes it.
        j = 0
        for k, wanted in enumerate(union):
            while j < len(record.counts) and record.counts[j] < wanted:
                j += 1
            arrived = record.times[j] if j < len(record.counts) else math.inf
            latest[k] = max(latest[k], arrived)
            earliest[k] = min(earliest[k], arrived)
    sequences = Counter(tuple(r.counts) for r in records)
    sent = {sequence for sequence, _ in sequences.most_common(processes)}
    process_spread: list[float] = []
    for sequence in sent:
        group = [r.times for r in records if tuple(r.counts) == sequence]
        for k in range(len(sequence)):
            arrivals = [times[k] for times in group]
            process_spread.append((max(arrivals) - min(arrivals)) * 1000)
    highest = max((count for count, _ in acks), default=0)
    to_last: list[float] = []
    to_first: list[float] = []
    undelivered = 0
    for count, acked in acks:
        k = bisect.bisect_left(union, count)
        if k == len(union) or math.isinf(latest[k]):
            undelivered += 1
            continue
        to_last.append((latest[k] - acked) * 1000)
        to_first.append((earliest[k] - acked) * 1000)
    received = sum(len(r.counts) for r in records)
    return FeedFigures(
        to_last_ms=to_last,
        to_first_ms=to_first,
        undelivered=undelivered,
        messages=len(union),
        complete=sum(1 for r in records if not r.closed and tuple(r.counts) in sent),
        reached=sum(1 for r in records if r.counts and r.counts[-1] >= highest),
        watchers=len(records),
        sequences=len(sequences),
        messages_per_watcher=received / len(records) if records else 0.0,
        spread_ms=[
            (last - first) * 1000
            for last, first in zip(latest, earliest, strict=True)
            if not math.isinf(last)
        ],
        process_spread_ms=process_spread,
    )


if __name__ == "__main__":
    sys.exit(main())
