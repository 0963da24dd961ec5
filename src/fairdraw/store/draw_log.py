"""The public draw log in the store: its leaves and the hashes that answer proofs.

Every key is under the hash tag ``{log}`` (see :mod:`fairdraw.store.keys`): the head
(size and frontier), the entries by leaf index, the leaf ids, and one string per tree
level holding the hash of every complete aligned subtree of that level. A tree head, an
audit path or a consistency proof reads a few of those hashes (``GETRANGE``), never the
leaves. Hashing is the caller's (Lua has no SHA-256): an append carries the hashes it
computed from the head it read (size and frontier), and ``log_append.lua`` writes them
only if the log is still that tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.domain.transparency import HASH_BYTES, Node
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

_HEX = 2 * HASH_BYTES


@dataclass(frozen=True)
class LogHead:
    """The log's size and frontier: the hashes of ``subtree_nodes(0, size)``."""

    size: int
    frontier: tuple[bytes, ...]

    @classmethod
    def parse(cls, size: object, frontier: object) -> LogHead:
        text = str(frontier or "")
        hashes = tuple(bytes.fromhex(text[i : i + _HEX]) for i in range(0, len(text), _HEX))
        return cls(int(str(size or 0)), hashes)

    def frontier_hex(self) -> str:
        """The frontier as the head hash keeps it."""
        return _hex(self.frontier)


def _hex(hashes: Sequence[bytes]) -> str:
    return b"".join(hashes).hex()


@dataclass(frozen=True)
class Appended:
    """What an append did: ``index`` is the leaf's (new or already there); ``moved``
    is the head the log has grown to instead, when nothing was written."""

    index: int | None
    created: bool = False
    moved: LogHead | None = None


class DrawLogStore:
    """The draw log's keys: one script to append, plain reads for everything else."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def head(self) -> LogHead:
        """The current size and frontier (one command, so they agree)."""
        size, frontier = await self._redis.hmget(self._keys.log_head(), ["size", "frontier"])
        return LogHead.parse(size, frontier)

    async def append(
        self,
        leaf_id: str,
        entry_json: str,
        head: LogHead,
        completed: Sequence[bytes],
        frontier: Sequence[bytes],
    ) -> Appended:
        """Append ``entry_json`` as leaf ``head.size`` under ``leaf_id``, writing the
        complete subtrees it finishes (``completed[h]`` at level ``h``) and the new
        frontier, unless ``leaf_id`` already has a leaf or the log is no longer ``head``."""
        keys = [self._keys.log_head(), self._keys.log_ids(), self._keys.log_entries()]
        keys += [self._keys.log_level(level) for level in range(len(completed))]
        args = [leaf_id, entry_json, head.size, head.frontier_hex(), _hex(frontier)]
        args += [node.hex() for node in completed]
        reply = await self._scripts.call("log_append", keys, args)
        status = reply[0]
        if status == "moved":
            return Appended(None, moved=LogHead.parse(reply[1], reply[2]))
        return Appended(int(reply[1]), created=status == "appended")

    async def nodes(self, nodes: Sequence[Node]) -> list[bytes]:
        """The hashes of complete subtrees ``(level, index)`` (one round trip); each
        must exist (be inside the log)."""
        if not nodes:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for level, index in nodes:
                start = index * _HEX
                pipe.getrange(self._keys.log_level(level), start, start + _HEX - 1)
            replies = await pipe.execute()
        hashes = [bytes.fromhex(str(reply)) for reply in replies]
        if any(len(found) != HASH_BYTES for found in hashes):
            raise LookupError("a subtree asked for is not in the draw log")
        return hashes

    async def entries(self, start: int, stop: int) -> list[str]:
        """The entries (canonical JSON) of leaves ``start .. stop - 1`` that exist."""
        if stop <= start:
            return []
        found = await self._redis.lrange(self._keys.log_entries(), start, stop - 1)
        return [str(text) for text in found]

    async def leaves_of(self, leaf_ids: Sequence[str]) -> list[tuple[int, str]]:
        """``(leaf index, entry)`` of each of ``leaf_ids`` that has a leaf, by index."""
        indexes = await self._redis.hmget(self._keys.log_ids(), list(leaf_ids))
        present = sorted(int(index) for index in indexes if index is not None)
        if not present:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for index in present:
                pipe.lindex(self._keys.log_entries(), index)
            entries = await pipe.execute()
        return [(index, str(entry)) for index, entry in zip(present, entries, strict=True)]
