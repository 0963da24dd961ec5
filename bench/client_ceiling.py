"""The store layer alone: ``DrawStore.enter`` from one Python process, many at a time.

This is the part of an entry that fairdraw's web workers cannot avoid (the redis-py
asyncio client and the enter script), measured without HTTP or FastAPI: calls per
second from one process (so at most one core) and the CPU each call costs it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.profiles import bench_profile
from fairdraw.store.connection import connect
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys


@dataclass(frozen=True)
class ClientRun:
    calls: int
    created: int
    seconds: float
    cpu_seconds: float

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu_seconds / self.calls * 1000 if self.calls else 0.0


async def run_concurrently(
    call: Callable[[int], Awaitable[bool]], numbers: range, concurrency: int
) -> ClientRun:
    """``call(n)`` for every ``n`` of ``numbers``, ``concurrency`` at a time from this one
    process: the wall and CPU time it took, and how many calls answered True."""
    pending = iter(numbers)
    created = 0

    async def client() -> None:
        nonlocal created
        for number in pending:
            made = await call(number)  # awaited first: `created += await ...` loses counts
            created += made

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return ClientRun(
        calls=len(numbers),
        created=created,
        seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
    )


async def _enter_many(store_url: str, draw_id: str, calls: int, concurrency: int) -> ClientRun:
    redis = connect(store_url)
    try:
        store = DrawStore(redis, Keys())

        async def enter(number: int) -> bool:
            profile = bench_profile(number)
            return (await store.enter(draw_id, profile.identity, profile.login)).created

        await redis.ping()
        return await run_concurrently(enter, range(calls), concurrency)
    finally:
        await redis.aclose()


def run_client_ceiling(store_url: str, draw_id: str, calls: int, concurrency: int) -> ClientRun:
    """``calls`` entries of distinct entrants into ``draw_id``, ``concurrency`` at a time."""
    return asyncio.run(_enter_many(store_url, draw_id, calls, concurrency))
