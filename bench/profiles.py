"""Filling the GitHub profile cache for many synthetic entrants, fast.

The keys and values are written by :class:`fairdraw.store.profiles.ProfileCache` itself,
so the benchmark cannot drift from what the service reads; only the transport differs:
the SETs are queued on a pipeline instead of awaited one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bench.harness import BenchError
from fairdraw.domain.identity import GitHubProfile
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache

PIPELINE_BATCH = 10_000
# One hour, like FAIRDRAW_GITHUB_CACHE_SECONDS' default: longer than any benchmark run.
PROFILE_TTL_SECONDS = 3600


def bench_login(number: int) -> str:
    """The GitHub login of synthetic entrant ``number`` (0-based): b0, b1, ..."""
    return f"b{number}"


def bench_profile(number: int) -> GitHubProfile:
    """The profile of synthetic entrant ``number``; its GitHub id is ``number + 1``."""
    login = bench_login(number)
    return GitHubProfile(
        id=number + 1,
        login=login,
        name=None,
        avatar_url=None,
        html_url=f"https://github.com/{login}",
    )


class _QueueingClient:
    """Stands in for the client ProfileCache writes to: its SET lands on a pipeline."""

    def __init__(self, pipe: Pipeline) -> None:
        self._pipe = pipe

    async def set(self, name: str, value: str, ex: int | None = None) -> None:
        self._pipe.set(name, value, ex=ex)


async def prefill_profiles(redis: Redis, keys: Keys, numbers: Sequence[int]) -> None:
    """Cache the profiles of the synthetic entrants ``numbers``, then check one back."""
    pipe = redis.pipeline(transaction=False)
    # ProfileCache only ever calls set() on its client; a stand-in that queues keeps the
    # key and value encoding in ProfileCache while sending 10,000 SETs per round trip.
    queueing = ProfileCache(cast(Redis, _QueueingClient(pipe)), keys, PROFILE_TTL_SECONDS)
    for number in numbers:
        await queueing.put(bench_profile(number))
        if len(pipe) >= PIPELINE_BATCH:
            await pipe.execute()
    if len(pipe):
        await pipe.execute()
    if numbers:
        reader = ProfileCache(redis, keys, PROFILE_TTL_SECONDS)
        for number in (numbers[0], numbers[-1]):
            cached = await reader.get(bench_login(number))
            if cached != bench_profile(number):
                raise BenchError(f"profile {number} reads back as {cached!r}")
