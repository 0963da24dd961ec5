"""Imported lists in the store: staged in chunks, then made a draw's ledger in one script.

A list of a million rows is far too much for one script call, and a half-written ledger
must never be seen. So the rows are first pushed, a chunk per round trip, onto a staging
list of their own (:meth:`Keys.import_staging`, one per upload, expiring after
:data:`STAGING_TTL_MS`), and ``import_list.lua`` then renames it into place and seals the
draw in one atomic step. An import that dies half-way leaves only staged keys, which
expire.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from redis.asyncio import Redis

from fairdraw.store.draws import BeaconBinding
from fairdraw.store.keys import Keys, name_bucket
from fairdraw.store.scripts import Scripts

# How long a staged list waits for the script that seals it.
STAGING_TTL_MS = 3600 * 1000
# A staged list's search buckets: bucket (hex) → one name in it, to spell its keys.
Buckets = dict[str, str]


class StagedEntry(NamedTuple):
    """One row of a list being staged: its ledger element, its name (for search) and its
    ledger index. A tuple: a million of them are made per import."""

    element: str
    name: str
    position: int


@dataclass(frozen=True)
class ImportSeal:
    """What the sealing script fixes: the file, how it was read, the seed and the root."""

    sha256: str
    options: dict[str, object]
    entry_count: int
    seed: bytes
    commitment: str
    root: str


class ImportStore:
    """Staging and sealing imported lists."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def imported(self, draw_id: str) -> tuple[str, dict[str, object]] | None:
        """The sha256 and reading options of the list imported into ``draw_id``, if any."""
        sha, options = await self._redis.hmget(
            self._keys.draw_meta(draw_id), ["import_sha256", "import_options"]
        )
        if sha is None:
            return None
        return str(sha), json.loads(str(options))

    async def stage(self, draw_id: str, token: str, chunk: Sequence[StagedEntry]) -> Buckets:
        """Append ``chunk`` to the staged list ``token`` and to its staged search buckets;
        the buckets it wrote (bucket → a name in it)."""
        staging = self._keys.import_staging(draw_id, token)
        written: Buckets = {}
        by_key: dict[str, list[str]] = {}
        for entry in chunk:
            written.setdefault(name_bucket(entry.name), entry.name)
            key = self._keys.import_staging_names(draw_id, token, entry.name)
            by_key.setdefault(key, []).append(f"{entry.name}\t{_base36(entry.position)}")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.rpush(staging, *(e.element for e in chunk))
            pipe.pexpire(staging, STAGING_TTL_MS)
            for key, elements in by_key.items():
                pipe.rpush(key, *elements)
                pipe.pexpire(key, STAGING_TTL_MS)
            await pipe.execute()
        return written

    async def seal(
        self,
        draw_id: str,
        token: str,
        buckets: Buckets,
        seal: ImportSeal,
        binding: BeaconBinding | None,
    ) -> bool:
        """Make the staged list the draw's ledger and seal the draw; True when the same
        list had been imported before (its staged copy is dropped)."""
        keys = [
            self._keys.draw_meta(draw_id),
            self._keys.import_staging(draw_id, token),
            self._keys.ledger(draw_id),
            self._keys.events(draw_id),
        ]
        for _, name in sorted(buckets.items()):
            keys += [
                self._keys.import_staging_names(draw_id, token, name),
                self._keys.names(draw_id, name),
            ]
        args: list[str | int] = [
            seal.sha256,
            options_json(seal.options),
            seal.entry_count,
            seal.seed.hex(),
            seal.commitment,
            seal.root,
        ]
        if binding is not None:
            args += [binding.genesis_time, binding.period, binding.margin_seconds]
        (replayed,) = await self._scripts.call("import_list", keys, args)
        return bool(replayed)

    async def discard(self, draw_id: str, token: str, buckets: Buckets) -> None:
        """Remove a staged list that will not be sealed."""
        await self._redis.delete(
            self._keys.import_staging(draw_id, token),
            *(self._keys.import_staging_names(draw_id, token, n) for n in buckets.values()),
        )


def options_json(options: dict[str, object]) -> str:
    """The reading options as stored, the same text for the same options."""
    return json.dumps(options, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    """``n`` in base 36, as the name search buckets hold indexes (``_live.lua``)."""
    digits = ""
    while True:
        n, d = divmod(n, 36)
        digits = _DIGITS[d] + digits
        if n == 0:
            return digits
