"""Live feeds: one store reader per watched draw in this process, fanned out to watchers.

Every script that changes a draw appends its event to the draw's stream in the same step
(``store/lua/_live.lua``), so the stream holds exactly the accepted changes, in order.
This module turns those events into Server-Sent Events messages:

- :class:`LiveHub` keeps, per process, one :class:`_Feed` for each draw that has
  watchers. The feed's task reads the stream with a blocking ``XREAD`` from the last id it
  saw (never ``$``), encodes each event once per audience, and puts the same bytes in
  every watcher's queue: 1,000 watchers of one draw cost one store connection.
- A watcher resumes from the last id it saw: it first joins the feed, waits until the
  feed knows where it starts, then reads what it missed with ``XRANGE``; later messages
  at or before what it has sent are skipped, so nothing is lost and nothing repeats.
  When the events it missed were trimmed away, it gets a ``snapshot`` of the draw instead
  (``resumed: true``) and continues from there.
- The public audience sees counts, states, the seal and reveal steps, never who entered;
  its counts are sent at most once per ``count_interval`` slot of the wall clock (the
  newest wins; every process sends at the same moments), so a rush of
  entries costs each public watcher a few messages a second, not one per entry.
- A watcher whose queue fills up (a client that reads too slowly) is dropped; its
  browser reconnects and resumes.
- Once a watcher has caught up, the web layer may hand it a :class:`Sink`, a synchronous
  write to its connection: the reader then writes each message to every such watcher
  itself, in one loop, instead of waking one task per watcher per message (the fan-out's
  cost, measured in docs/benchmarks.md). A sink reports a client too far behind, which
  is dropped the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from fairdraw.domain.errors import TooManyConnections
from fairdraw.domain.moments import iso
from fairdraw.store.events import ORIGIN, EventStore, StoredEvent, event_id_key

log = logging.getLogger("fairdraw.live")

# Event types of one new ledger entry, by kind of draw.
ENTRY_TYPES = frozenset({"entry", "claim", "ballot"})
PING = b": ping\n\n"
# How long one XREAD waits for a new event before it asks again.
LIVE_BLOCK_MS = 15_000
# Events one XREAD takes at most.
READ_COUNT = 1000

# number_of(draw_id) → a function from ledger index to the number people see (entry
# number, or a raffle's ticket number); asked once per feed.
Numbering = Callable[[str], Awaitable[Callable[[int], int]]]
# The draw's public state for a snapshot: {"draw": the draw as the API shows it, or None}.
Snapshot = Callable[[], Awaitable[dict[str, Any]]]


def _ms_iso(value: str | None) -> str | None:
    return iso(int(value)) if value else None


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def public_message(event: StoredEvent) -> tuple[str, dict[str, Any]] | None:
    """What the public sees of ``event``: its type and data, or None (nothing)."""
    f = event.fields
    at = _ms_iso(f.get("at"))
    if event.type in ENTRY_TYPES:
        return "count", {"count": _int(f.get("n")), "at": at}
    if event.type == "status":
        return "status", {"status": f.get("s"), "count": _int(f.get("n")), "at": at}
    if event.type == "sealed":
        return "sealed", {"root": f.get("root"), "count": _int(f.get("n")), "at": at}
    if event.type == "reveal":
        return "reveal", {"step": _int(f.get("step")), "at": at}
    if event.type == "forfeit":
        return "forfeit", {"position": _int(f.get("p")), "at": at}
    return None


def private_message(
    event: StoredEvent, number: Callable[[int], int]
) -> tuple[str, dict[str, Any]] | None:
    """What the draw's managers see of ``event``: entries with who made them."""
    if event.type not in ENTRY_TYPES:
        return public_message(event)
    f = event.fields
    index = int(f.get("i", "0"))
    data = {
        "kind": event.type,
        "index": index,
        "number": number(index),
        "who": f.get("w", ""),
        "at": _ms_iso(f.get("at")),
        "count": _int(f.get("n")),
    }
    return "entry", data


def sse_frame(event_id: str, kind: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Events message."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {kind}\ndata: {body}\n\n".encode()


class Sink(Protocol):
    """A watcher's connection, written without waiting."""

    def write(self, data: bytes) -> bool:
        """Send ``data`` (whole Server-Sent Events messages); False when the connection
        is gone or its client too far behind (the sink has then ended it)."""
        ...


@dataclass(eq=False)
class _Frame:
    id: str
    key: tuple[int, int]
    data: bytes
    # Counts may be left out when a newer count follows (public audience only).
    count: bool = False


@dataclass(eq=False)
class _Watcher:
    private: bool
    queue: asyncio.Queue[_Frame]
    dropped: bool = False
    # Set once the watcher has caught up and its connection can be written directly:
    # then the reader writes to it, frames newer than ``sent`` only, until ``ended``.
    sink: Sink | None = None
    sent: tuple[int, int] = (0, 0)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def drop(self) -> None:
        self.dropped = True
        self.ended.set()


@dataclass(eq=False)
class _Feed:
    draw_id: str
    watchers: set[_Watcher] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    position: str = ORIGIN
    task: asyncio.Task[None] | None = None


class LiveHub:
    """This process's live feeds. ``watch`` is the one way to follow a draw."""

    def __init__(
        self,
        events: EventStore,
        numbering: Numbering,
        *,
        queue_size: int = 1024,
        buffer_bytes: int = 256 * 1024,
        block_ms: int = LIVE_BLOCK_MS,
        count_interval: float = 0.2,
        ping_seconds: float = 15.0,
        connections_per_address: int = 20,
    ) -> None:
        self._events = events
        self._numbering = numbering
        self._queue_size = queue_size
        self.buffer_bytes = buffer_bytes
        self._block_ms = block_ms
        self._count_interval = count_interval
        self._ping_seconds = ping_seconds
        self._per_address_limit = connections_per_address
        self._feeds: dict[str, _Feed] = {}
        self._slots = 0  # the slot counter when counts are not coalesced
        # Slots follow the wall clock as it was when the hub started, advanced by the
        # monotonic clock: aligned across processes, and never stepping back when the
        # wall clock is corrected (a backward step would hold a pending count).
        self._clock_offset = time.time() - time.monotonic()
        self._connections: Counter[str] = Counter()
        self._closing = False
        # The loop the feeds run on: close_soon may be called from elsewhere.
        self._loop = asyncio.get_running_loop()

    def close_soon(self) -> None:
        """``close`` from any thread or a signal handler."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)

    def close(self) -> None:
        """End every feed now (the server is stopping: an open feed would hold the
        shutdown forever); browsers reconnect to wherever the service comes back."""
        self._closing = True
        for feed in list(self._feeds.values()):
            for watcher in list(feed.watchers):
                watcher.drop()
                with contextlib.suppress(asyncio.QueueFull):
                    watcher.queue.put_nowait(_Frame(ORIGIN, (0, 0), b""))

    # -- what the web layer and tests ask --------------------------------------------
    def watchers(self, draw_id: str | None = None) -> int:
        """How many watchers this process serves (of one draw, or of all)."""
        feeds = [self._feeds.get(draw_id)] if draw_id else list(self._feeds.values())
        return sum(len(f.watchers) for f in feeds if f is not None)

    def direct(self, draw_id: str) -> int:
        """How many of the draw's watchers the reader writes to directly (their sink)."""
        feed = self._feeds.get(draw_id)
        return 0 if feed is None else sum(1 for w in feed.watchers if w.sink is not None)

    def readers(self) -> int:
        """How many store readers this process runs (one per watched draw)."""
        return len(self._feeds)

    @contextlib.contextmanager
    def admit(self, address: str) -> Iterator[None]:
        """Count one open connection of ``address``; TooManyConnections past the limit."""
        if self._connections[address] >= self._per_address_limit:
            raise TooManyConnections()
        self._connections[address] += 1
        try:
            yield
        finally:
            self._connections[address] -= 1
            if self._connections[address] <= 0:
                del self._connections[address]

    async def watch(
        self,
        draw_id: str,
        last_id: str | None,
        *,
        private: bool,
        snapshot: Snapshot,
        sink: Sink | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """The draw's messages after ``last_id`` (a snapshot first when None, or when the
        events after it are gone), then live ones as they happen, with a comment line as
        a keep-alive while nothing happens. Ends when the watcher is dropped for reading
        too slowly; the caller ends it by closing the generator.

        With a ``sink``, the live messages after the catch-up go to the sink, written by
        the feed's reader, and the generator yields nothing more until the watcher ends."""
        if last_id is not None:
            event_id_key(last_id)  # ValueError for a malformed id, before anything starts
        if self._closing:
            return
        feed = self._join(draw_id)
        watcher = _Watcher(private, asyncio.Queue(self._queue_size))
        feed.watchers.add(watcher)
        try:
            await feed.ready.wait()
            number = await self._numbering(draw_id) if private else _entry_number
            sent = ORIGIN
            if last_id is None or await self._events.missed_since(draw_id, last_id):
                sent = await self._events.last_id(draw_id)
                state = await snapshot()
                yield sse_frame(sent, "snapshot", {**state, "resumed": last_id is not None})
            else:
                sent = last_id
                async for frame in self._catch_up(draw_id, last_id, private, number):
                    sent = frame.id
                    yield frame.data
            sent_key = event_id_key(sent)
            queue = watcher.queue
            if sink is not None:
                # What the reader queued meanwhile goes out first; once nothing is
                # queued (no await between that check and setting the sink, so the
                # reader cannot deliver in between), the reader writes to the sink.
                while not watcher.dropped:
                    frames = []
                    while not queue.empty():
                        frames.append(queue.get_nowait())
                    fresh = [f for f in frames if f.key > sent_key]
                    if not fresh:
                        watcher.sent, watcher.sink = sent_key, sink
                        await watcher.ended.wait()
                        return
                    sent_key = fresh[-1].key
                    yield b"".join(f.data for f in fresh)
                return
            while not watcher.dropped:
                try:
                    # asyncio.timeout, not wait_for: no task per message per watcher.
                    async with asyncio.timeout(self._ping_seconds):
                        frames = [await queue.get()]
                except TimeoutError:
                    yield PING
                    continue
                while not queue.empty():  # everything queued goes out as one write
                    frames.append(queue.get_nowait())
                if watcher.dropped:
                    break
                fresh = [f for f in frames if f.key > sent_key]
                if fresh:
                    sent_key = fresh[-1].key
                    yield fresh[0].data if len(fresh) == 1 else b"".join(f.data for f in fresh)
        finally:
            self._leave(feed, watcher)

    # -- feeds -----------------------------------------------------------------------------
    def _join(self, draw_id: str) -> _Feed:
        feed = self._feeds.get(draw_id)
        if feed is None or feed.task is None or feed.task.done():
            feed = _Feed(draw_id)
            self._feeds[draw_id] = feed
            feed.task = asyncio.create_task(self._read(feed), name=f"live feed {draw_id}")
        return feed

    def _leave(self, feed: _Feed, watcher: _Watcher) -> None:
        feed.watchers.discard(watcher)
        if not feed.watchers:
            if feed.task is not None:
                feed.task.cancel()
            if self._feeds.get(feed.draw_id) is feed:
                del self._feeds[feed.draw_id]

    async def _catch_up(
        self, draw_id: str, last_id: str, private: bool, number: Callable[[int], int]
    ) -> AsyncIterator[_Frame]:
        """Frames of the events after ``last_id`` still in the stream; for the public,
        a count followed by another count is left out."""
        cursor = last_id
        while True:
            batch = await self._events.after(draw_id, cursor, 1000)
            if not batch:
                return
            frames = self._frames(batch, private, number)
            for i, frame in enumerate(frames):
                if frame.count and i + 1 < len(frames) and frames[i + 1].count:
                    continue
                yield frame
            cursor = batch[-1].id

    @staticmethod
    def _frames(
        batch: list[StoredEvent], private: bool, number: Callable[[int], int]
    ) -> list[_Frame]:
        frames = []
        for event in batch:
            message = private_message(event, number) if private else public_message(event)
            if message is not None:
                kind, data = message
                frame = _Frame(event.id, event_id_key(event.id), sse_frame(event.id, kind, data))
                frame.count = kind == "count"
                frames.append(frame)
        return frames

    async def _read(self, feed: _Feed) -> None:
        """The feed's one reader: from the stream's current end, forever, until the last
        watcher leaves (the task is cancelled). A store outage is waited out with backoff
        and jitter; the position is kept, so nothing written meanwhile is lost."""
        delay = 0.1
        number: Callable[[int], int] | None = None
        pending: StoredEvent | None = None  # the newest public count, not sent yet
        flushed = -1  # the slot of the last public count sent (see _slot)
        full = False  # the last read was cut at its count: more is waiting
        while True:
            try:
                if not feed.ready.is_set():
                    feed.position = await self._events.last_id(feed.draw_id)
                    feed.ready.set()
                private = any(w.private for w in feed.watchers)
                if number is None and private:
                    number = await self._numbering(feed.draw_id)
                # The public gets at most one count per slot, so a feed only it watches
                # reads at most that often while entries flow, and takes what came
                # meanwhile in one read: a store round trip per slot, not one per entry.
                # An idle feed's first event still goes at once.
                if not private and not full and self._slot() <= flushed:
                    await asyncio.sleep(self._until_next_slot())
                block = self._block_ms
                if pending is not None:
                    wait = self._until_next_slot() if self._slot() <= flushed else 0
                    block = max(1, min(block, int(wait * 1000)))
                batch = await self._events.wait(feed.draw_id, feed.position, block, READ_COUNT)
                full = len(batch) == READ_COUNT
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("live feed of draw %s: %s; retrying", feed.draw_id, error)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 5.0)
                continue
            if not batch and pending is None:
                self._ping(feed)  # a whole block without events: keep the sinks alive
            if batch:
                feed.position = batch[-1].id
                # Encoded only for an audience that is watching (no await from here to
                # the deliveries, so nobody joins in between; later joiners catch up).
                audiences = {w.private for w in feed.watchers}
                if True in audiences:
                    self._deliver(feed, self._frames(batch, True, number or _entry_number), True)
                for event in batch if False in audiences else ():
                    if event.type in ENTRY_TYPES:
                        pending = event  # encoded only if it is still the newest when sent
                        continue
                    frames = self._frames([event], False, _entry_number)
                    if pending is not None and frames:  # keep the order: the count came first
                        self._deliver(feed, self._frames([pending], False, _entry_number), False)
                        pending = None
                    self._deliver(feed, frames, False)
            slot = self._slot()
            if pending is not None and slot > flushed:
                self._deliver(feed, self._frames([pending], False, _entry_number), False)
                pending, flushed = None, slot

    def _slot(self) -> int:
        """The current count slot: counts go out at most once a slot, and the slots are
        the multiples of ``count_interval`` of the wall clock, the same in every process
        and host, so all of them send a count at the same moments (the last watcher of a
        draw is not one process's interval behind the first). Every call is a new slot
        when counts are not coalesced."""
        if self._count_interval <= 0:
            self._slots += 1
            return self._slots
        return int(self._now() // self._count_interval)

    def _until_next_slot(self) -> float:
        if self._count_interval <= 0:
            return 0.0
        return self._count_interval - self._now() % self._count_interval

    def _now(self) -> float:
        """Wall-clock seconds that only go forward (see ``_clock_offset``)."""
        return time.monotonic() + self._clock_offset

    def _deliver(self, feed: _Feed, frames: list[_Frame], private: bool) -> None:
        if not frames:
            return
        data = frames[0].data if len(frames) == 1 else b"".join(f.data for f in frames)
        first, last = frames[0].key, frames[-1].key
        for watcher in list(feed.watchers):
            if watcher.private is not private or watcher.dropped:
                continue
            sink = watcher.sink
            if sink is not None:
                if last <= watcher.sent:
                    continue  # its catch-up already sent these
                if first <= watcher.sent:
                    fresh = b"".join(f.data for f in frames if f.key > watcher.sent)
                else:
                    fresh = data
                watcher.sent = last
                if not sink.write(fresh):
                    self._drop(feed, watcher)
                continue
            try:
                for frame in frames:
                    watcher.queue.put_nowait(frame)
            except asyncio.QueueFull:
                self._drop(feed, watcher)

    def _ping(self, feed: _Feed) -> None:
        for watcher in list(feed.watchers):
            if watcher.sink is not None and not watcher.dropped and not watcher.sink.write(PING):
                self._drop(feed, watcher)

    @staticmethod
    def _drop(feed: _Feed, watcher: _Watcher) -> None:
        # A client this far behind is dropped, not allowed to grow our memory; it
        # reconnects and resumes from the last id it received.
        watcher.drop()
        feed.watchers.discard(watcher)
        log.info("dropped a slow watcher of draw %s", feed.draw_id)


def _entry_number(index: int) -> int:
    return index + 1
