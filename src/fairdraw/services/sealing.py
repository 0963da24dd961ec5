"""Computing a ledger's Merkle root without stalling the server.

The root is pure CPU work: two SHA-256 per entry. The ledger is cut into the chunks of
:func:`fairness.chunk_root` (complete subtrees of 65,536 entries). While a draw is open,
each chunk is hashed as soon as it fills (:func:`chunk_root`) and its root kept in the
store, so the seal only hashes what is left: the last, partial chunk and any chunk whose
root is missing. Missing chunks are hashed in worker processes, one per core, while the
next ones are still being read. The event loop keeps serving requests throughout.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ProcessPoolExecutor

import anyio

from fairdraw.domain import fairness

# Below this many entries, starting worker processes costs more than it saves.
PARALLEL_FROM = 4 * fairness.CHUNK_LEAVES

# read(start, stop) → the references of entries start .. stop-1.
ReadRefs = Callable[[int, int], Awaitable[list[str]]]

_pool: ProcessPoolExecutor | None = None


def _workers() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # forkserver: the workers do not inherit the server's threads and sockets.
        context = multiprocessing.get_context("forkserver")
        _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context)
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


async def chunk_root(start: int, refs: list[str]) -> bytes:
    """The root of one complete chunk, hashed in a worker process."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_workers(), fairness.chunk_root, start, refs)


async def ledger_root(count: int, read: ReadRefs, known: Mapping[int, bytes]) -> bytes:
    """The Merkle root of a ledger of ``count`` entries.

    ``known`` holds roots of complete chunks hashed earlier (by chunk number); only the
    other chunks, and the last one if it is partial, are read (``read(start, stop)``
    answers the references of entries ``start .. stop-1``) and hashed.
    """
    if count == 0:
        return fairness.merkle_root([])
    size = fairness.CHUNK_LEAVES
    starts = list(fairness.chunk_starts(count))
    todo = [k for k, start in enumerate(starts) if k not in known or start + size > count]
    hashed: dict[int, bytes] = {}
    if len(todo) * size < PARALLEL_FROM:
        for k in todo:
            refs = await read(starts[k], min(starts[k] + size, count))
            hashed[k] = await anyio.to_thread.run_sync(fairness.chunk_root, starts[k], refs)
    else:
        loop = asyncio.get_running_loop()
        pool = _workers()
        pending: dict[int, asyncio.Future[bytes]] = {}
        for k in todo:  # hashing starts while the next chunks are still being read
            refs = await read(starts[k], min(starts[k] + size, count))
            pending[k] = loop.run_in_executor(pool, fairness.chunk_root, starts[k], refs)
        hashed = dict(zip(pending, await asyncio.gather(*pending.values()), strict=True))
    roots = [hashed[k] if k in hashed else known[k] for k in range(len(starts))]
    return fairness.join_chunk_roots(roots, count)
