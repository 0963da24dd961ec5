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
from typing import Any, TypeVar

import anyio

from fairdraw.domain import fairness, tickets
from fairdraw.store.ledger import LedgerTerms, refs_of

# Below this many entries, starting worker processes costs more than it saves.
PARALLEL_FROM = 4 * fairness.CHUNK_LEAVES

# read(start, stop) → the references of entries start .. stop-1.
ReadRefs = Callable[[int, int], Awaitable[list[str]]]
# hash_chunk(chunk number, start, stop) → the root of that chunk.
HashChunk = Callable[[int, int, int], Awaitable[bytes]]
T = TypeVar("T")

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
    return await compute(fairness.chunk_root, start, refs, in_pool=True)


async def ledger_chunk_root(start: int, elements: list[str], terms: LedgerTerms) -> bytes:
    """The root of one complete chunk of ledger ``elements`` (read with ``terms``): their
    refs are computed and hashed in a worker process, away from the event loop."""
    return await compute(_ledger_chunk_root, start, elements, terms, in_pool=True)


def _ledger_chunk_root(start: int, elements: list[str], terms: LedgerTerms) -> bytes:
    return fairness.chunk_root(start, refs_of(elements, terms, start))


def ticket_chunk(
    key: bytes, size: int, start: int, stop: int, commitments: list[str] | None = None
) -> tuple[list[int], bytes]:
    """The ticket numbers of a raffle's claims ``start .. stop-1`` (one ledger chunk) and
    that chunk's Merkle root: the public reference of a claim is its ticket number, and
    in a fairdraw/2 raffle (``commitments``, one per claim) ``number:commitment``."""
    numbers = tickets.ticket_numbers(key, size, start, stop)
    return numbers, fairness.chunk_root(start, raffle_refs(numbers, commitments))


def raffle_refs(numbers: list[int], commitments: list[str] | None) -> list[str]:
    """The public references of claims with ticket ``numbers`` (and code
    ``commitments`` in a fairdraw/2 raffle)."""
    if commitments is None:
        return [str(n) for n in numbers]
    return [fairness.raffle_ref_v2(n, c) for n, c in zip(numbers, commitments, strict=True)]


async def compute(function: Callable[..., T], *args: Any, in_pool: bool) -> T:
    """``function(*args)`` in a worker process (``in_pool``) or in a thread."""
    if in_pool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_workers(), function, *args)
    return await anyio.to_thread.run_sync(function, *args)


async def ledger_root(count: int, read: ReadRefs, known: Mapping[int, bytes]) -> bytes:
    """The Merkle root of a ledger of ``count`` entries.

    ``known`` holds roots of complete chunks hashed earlier (by chunk number); only the
    other chunks, and the last one if it is partial, are read (``read(start, stop)``
    answers the references of entries ``start .. stop-1``) and hashed.
    """
    in_pool = len(missing_chunks(count, known)) * fairness.CHUNK_LEAVES >= PARALLEL_FROM

    async def hash_chunk(chunk: int, start: int, stop: int) -> bytes:
        refs = await read(start, stop)
        return await compute(fairness.chunk_root, start, refs, in_pool=in_pool)

    return await root_from_chunks(count, known, hash_chunk, parallel=in_pool)


def missing_chunks(count: int, known: Mapping[int, bytes]) -> list[int]:
    """The chunks of a ledger of ``count`` entries that still need hashing: those without
    a known root, and the last one if it is partial."""
    size = fairness.CHUNK_LEAVES
    return [
        k
        for k, start in enumerate(fairness.chunk_starts(count))
        if k not in known or start + size > count
    ]


async def root_from_chunks(
    count: int, known: Mapping[int, bytes], hash_chunk: HashChunk, *, parallel: bool
) -> bytes:
    """The Merkle root of ``count`` entries: ``known`` chunk roots as they are, the
    missing chunks by ``hash_chunk(chunk, start, stop)``, one per core at a time
    (``parallel``: the hashing runs in worker processes) or one after another."""
    if count == 0:
        return fairness.merkle_root([])
    size = fairness.CHUNK_LEAVES
    starts = fairness.chunk_starts(count)
    at_once = asyncio.Semaphore((os.cpu_count() or 1) if parallel else 1)

    async def one(chunk: int) -> bytes:
        async with at_once:  # the next chunk is read while the previous ones hash
            return await hash_chunk(chunk, starts[chunk], min(starts[chunk] + size, count))

    todo = missing_chunks(count, known)
    hashed = dict(zip(todo, await asyncio.gather(*map(one, todo)), strict=True))
    roots = [hashed[k] if k in hashed else known[k] for k in range(len(starts))]
    return fairness.join_chunk_roots(roots, count)
