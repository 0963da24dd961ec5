"""Reading a draw's ledger in tests the way the service does (through ``DrawStore``, so a
compact element's ref and time come out as every reader sees them)."""

from __future__ import annotations

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from fairdraw.store.draws import DrawStore, LedgerEntry
from fairdraw.store.keys import Keys
from fairdraw.store.ledger import LedgerTerms


async def stored_entries(redis: Redis, draw_id: str, keys: Keys | None = None) -> list[LedgerEntry]:
    """Every entry of the giveaway's or lottery round's ledger, in index order."""
    store = DrawStore(redis, keys or Keys())
    return await store.entries_slice(draw_id, 0, await store.ledger_length(draw_id))


def stored_entry_sync(redis: SyncRedis, draw_id: str, index: int) -> LedgerEntry:
    """Entry ``index`` of the ledger, read with a synchronous client."""
    keys = Keys()
    terms = LedgerTerms.from_fields(redis.hgetall(keys.draw_meta(draw_id)))
    return LedgerEntry.parse(index, str(redis.lindex(keys.ledger(draw_id), index)), terms)
