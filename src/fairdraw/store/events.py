"""A draw's live events in the store: the stream every draw script appends to.

The scripts write (``fd_event`` in ``lua/_live.lua``); this module only reads. Event ids
are the stream's ids (``<ms>-<seq>``), totally ordered, so a reader that remembers the
last id it saw can always ask for exactly what came after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from fairdraw.domain.event_ids import ORIGIN as ORIGIN
from fairdraw.domain.event_ids import event_id_key as event_id_key
from fairdraw.store.keys import Keys


@dataclass(frozen=True)
class StoredEvent:
    """One event as a script wrote it: its id and its fields (``t`` is the type)."""

    id: str
    fields: dict[str, str]

    @property
    def type(self) -> str:
        return self.fields.get("t", "")


def _events(reply: Any) -> list[StoredEvent]:
    return [StoredEvent(str(i), {str(k): str(v) for k, v in f.items()}) for i, f in reply]


class EventStore:
    """Reads of draws' event streams. ``reader`` serves the blocking reads, each of which
    holds a connection while it waits, so they never starve the request pool."""

    def __init__(self, redis: Redis, keys: Keys, reader: Redis | None = None) -> None:
        self._redis = redis
        self._reader = reader or redis
        self._keys = keys

    async def last_id(self, draw_id: str) -> str:
        """The id of the draw's newest event ever written (trimmed or not), or ORIGIN."""
        info = await self._info(draw_id)
        return str(info.get("last-generated-id", ORIGIN)) if info else ORIGIN

    async def missed_since(self, draw_id: str, last_id: str) -> bool:
        """True when events after ``last_id`` may have been trimmed away (or expired), so
        a reader resuming from it cannot be given every event it missed.

        Trimming removes the oldest events, so nothing after ``last_id`` is gone when
        ``last_id`` is at or after the oldest event kept, or when nothing was ever
        removed. Otherwise some may be gone: the reader gets a snapshot, which is always
        right, rather than a guess."""
        info = await self._info(draw_id)
        if not info:
            # No stream: nothing was ever written, or it expired after the draw ended.
            return last_id != ORIGIN
        if int(info.get("entries-added", 0)) == int(info.get("length", 0)):
            return False
        last = event_id_key(last_id)
        if int(info.get("length", 0)) == 0:
            return last < event_id_key(str(info.get("last-generated-id", ORIGIN)))
        return last < event_id_key(str(info.get("recorded-first-entry-id", ORIGIN)))

    async def after(self, draw_id: str, last_id: str, count: int) -> list[StoredEvent]:
        """Up to ``count`` events after ``last_id``, oldest first."""
        reply = await self._redis.xrange(
            self._keys.events(draw_id), min=f"({last_id}", max="+", count=count
        )
        return _events(reply)

    async def wait(
        self, draw_id: str, last_id: str, block_ms: int, count: int
    ) -> list[StoredEvent]:
        """Events after ``last_id``, waiting up to ``block_ms`` for the first (``XREAD
        BLOCK`` from that id: never ``$``, so nothing written between two calls is lost)."""
        key = self._keys.events(draw_id)
        reply: Any = await self._reader.xread({key: last_id}, count=count, block=block_ms)
        if not reply:
            return []
        # RESP2 answers [[key, entries]], RESP3 {key: [entries]}.
        entries = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        return _events(entries)

    async def _info(self, draw_id: str) -> dict[str, Any]:
        try:
            info: dict[str, Any] = await self._redis.xinfo_stream(self._keys.events(draw_id))
        except ResponseError as error:
            if "no such key" in str(error).lower():
                return {}
            raise
        return info
