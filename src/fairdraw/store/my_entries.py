"""The "My entries" list: each user's entries, tickets and ballots, newest first.

One sorted set per user (``mine:NAME``: ``kind:draw id:ledger index`` → when, in ms).
The user's key has a hash tag of its own, so it cannot be written by the draw's script
(every script stays on one hash tag, legal on Redis Cluster): it is written right after
the entry, claim or ballot, with ``ZADD``, which is harmless to repeat. A keyed retry of
the same request writes it again, so a process that died between the two steps is
repaired by the client's retry; the draw's own keys stay the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

# Each user keeps this many of their newest items; older ones drop off the list (they
# stay in their draws: only the index forgets them).
KEPT_PER_USER = 1000
# The last three: what reading a ledger element needs (store/ledger.py: LedgerTerms).
_META_FIELDS = (
    *("title", "kind", "status", "lottery_id", "round_date", "winners"),
    *("salt", "algorithm", "opened_ms"),
)


@dataclass(frozen=True)
class IndexedItem:
    """One item of a user's list: what it is (``e`` entry, ``t`` ticket, ``b`` ballot),
    in which draw, at which ledger index, and when."""

    kind: str
    draw_id: str
    index: int
    at_ms: int

    @property
    def member(self) -> str:
        return f"{self.kind}:{self.draw_id}:{self.index}"

    @classmethod
    def parse(cls, member: str, score: float) -> IndexedItem:
        kind, draw_id, index = member.split(":", 2)
        return cls(kind, draw_id, int(index), int(score))


@dataclass(frozen=True)
class ItemDetails:
    """What the store holds of an item's draw (None fields: gone) and its ledger line."""

    item: IndexedItem
    meta: dict[str, str]
    element: str | None


class MyEntriesStore:
    """The per-user index of entries, tickets and ballots."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def add(self, username: str, item: IndexedItem) -> None:
        """Add ``item`` to ``username``'s list (harmless to repeat), keeping the newest."""
        # A script, not MULTI: it shares a round trip with other requests' commands.
        await self._scripts.call(
            "remember_entry",
            [self._keys.my_entries(username)],
            [item.member, item.at_ms, KEPT_PER_USER],
        )

    async def page(self, username: str, offset: int, limit: int) -> tuple[int, list[IndexedItem]]:
        """The total and the items ``offset .. offset+limit-1``, newest first."""
        key = self._keys.my_entries(username)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcard(key)
            pipe.zrevrange(key, offset, offset + limit - 1, withscores=True)
            total, members = await pipe.execute()
        return int(total), [IndexedItem.parse(str(m), float(s)) for m, s in members]

    async def details(self, items: Sequence[IndexedItem]) -> list[ItemDetails]:
        """Each item's draw (title, kind, status, lottery, winners) and ledger line, in
        one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in items:
                pipe.hmget(self._keys.draw_meta(item.draw_id), list(_META_FIELDS))
                pipe.lindex(self._keys.ledger(item.draw_id), item.index)
            replies = await pipe.execute()
        found = []
        for i, item in enumerate(items):
            values, element = replies[2 * i], replies[2 * i + 1]
            meta = {
                name: str(value)
                for name, value in zip(_META_FIELDS, values, strict=True)
                if value is not None
            }
            found.append(ItemDetails(item, meta, str(element) if element is not None else None))
        return found
