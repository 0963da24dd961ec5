"""Bulk-loading a synthetic ledger into an open draw, in the exact format enter.lua writes.

Entrant ``i`` (0-based) is GitHub user id ``i + 1`` with login ``b<i>``
(:func:`bench.profiles.bench_profile`), entered at index ``i``: the ledger element is
``ref \\t entered_ms \\t identity \\t label`` and the entrants hash maps identity → index,
as the ``enter`` script leaves them.
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bench.harness import BenchError
from bench.profiles import bench_profile
from fairdraw.domain import fairness
from fairdraw.store.draws import DrawStore, LedgerEntry
from fairdraw.store.keys import Keys
from fairdraw.store.ledger import compact_element

# Elements per RPUSH / fields per HSET, and commands per round trip.
COMMAND_BATCH = 10_000
COMMANDS_PER_ROUND_TRIP = 10


def synthetic_entry(salt: bytes, index: int, entered_ms: int) -> LedgerEntry:
    """Entrant ``index``'s ledger entry in a draw salted with ``salt``."""
    profile = bench_profile(index)
    identity = profile.identity
    return LedgerEntry(
        index=index,
        ref=fairness.entry_ref(salt, identity),
        entered_ms=entered_ms,
        identity=identity,
        label=profile.login,
    )


def ledger_element(entry: LedgerEntry, opened_ms: int) -> str:
    """The list element enter.lua stores for ``entry`` in a draw opened at ``opened_ms``."""
    return compact_element(entry, opened_ms)


async def bulk_load(
    redis: Redis,
    keys: Keys,
    draw_id: str,
    salt: bytes,
    count: int,
    entered_ms: int,
    make_entry: Callable[[bytes, int, int], LedgerEntry] = synthetic_entry,
) -> list[str]:
    """Append entrants 0..count-1 (``make_entry(salt, index, entered_ms)`` each) to an
    empty ledger; their refs, in index order."""
    ledger, entrants = keys.ledger(draw_id), keys.entrants(draw_id)
    if await redis.llen(ledger):
        raise BenchError(f"the ledger of {draw_id} is not empty")
    refs: list[str] = []
    opened_ms = int(await redis.hget(keys.draw_meta(draw_id), "opened_ms") or 0)
    pipe = redis.pipeline(transaction=False)
    for start in range(0, count, COMMAND_BATCH):
        elements: list[str] = []
        indexes: dict[FieldT, EncodableT] = {}
        for index in range(start, min(start + COMMAND_BATCH, count)):
            entry = make_entry(salt, index, entered_ms)
            refs.append(entry.ref)
            elements.append(ledger_element(entry, opened_ms))
            indexes[entry.identity] = index
        pipe.rpush(ledger, *elements)
        pipe.hset(entrants, mapping=indexes)
        if len(pipe) >= 2 * COMMANDS_PER_ROUND_TRIP:
            await pipe.execute()
    if len(pipe):
        await pipe.execute()
    return refs


async def check_loaded(store: DrawStore, draw_id: str, salt: bytes, count: int) -> None:
    """Read the first and last entries back through DrawStore, as the service will."""
    if count == 0:
        return
    for entry in await store.entries_at(draw_id, [0, count - 1]):
        expected = synthetic_entry(salt, entry.index, entry.entered_ms)
        if entry != expected:
            raise BenchError(f"ledger entry {entry.index} reads back as {entry!r}")
