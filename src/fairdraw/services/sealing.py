"""Computing a ledger's Merkle root without stalling the server.

The root is pure CPU work: two SHA-256 per entry. Small ledgers are hashed in a worker
thread; large ones are cut into the chunks of :func:`fairness.chunk_root` (complete
subtrees) and hashed in worker processes, one per core, while the next chunks are still
being read from the store. The event loop keeps serving requests meanwhile.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

import anyio

from fairdraw.domain import fairness

# Below this many entries, starting worker processes costs more than it saves.
PARALLEL_FROM = 4 * fairness.CHUNK_LEAVES

_pool: ProcessPoolExecutor | None = None


def _workers() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # forkserver: the workers do not inherit the server's threads and sockets.
        context = multiprocessing.get_context("forkserver")
        _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context)
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


async def ledger_root(chunks: AsyncIterator[list[str]], count: int) -> bytes:
    """The Merkle root of a ledger of ``count`` entries whose references arrive in chunks
    of exactly :data:`fairness.CHUNK_LEAVES` (the last one shorter)."""
    if count < PARALLEL_FROM:
        refs: list[str] = []
        async for chunk in chunks:
            refs.extend(chunk)
        return await anyio.to_thread.run_sync(fairness.merkle_root, refs)
    loop = asyncio.get_running_loop()
    pool = _workers()
    pending: list[asyncio.Future[bytes]] = []
    start = 0
    async for chunk in chunks:
        pending.append(loop.run_in_executor(pool, fairness.chunk_root, start, chunk))
        start += len(chunk)
    roots = await asyncio.gather(*pending)
    return fairness.join_chunk_roots(roots, count)
