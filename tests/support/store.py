"""Pytest plugin: a real store for the tests, flushed before each one.

``FAIRDRAW_TEST_REDIS_URL`` points the suite at an existing server (its current database
is flushed before every test, so give it one of its own); without it a private
:class:`~fairdraw.store.embedded.EmbeddedStore` runs for the whole session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from fairdraw.store.embedded import EmbeddedStore

TEST_REDIS_URL_VARIABLE = "FAIRDRAW_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of the store the tests share."""
    external = os.environ.get(TEST_REDIS_URL_VARIABLE)
    if external:
        yield external
        return
    store = EmbeddedStore(tmp_path_factory.mktemp("store"))
    url = store.start()
    try:
        yield url
    finally:
        store.stop()


@pytest_asyncio.fixture(name="redis")
async def redis_client(store_url: str) -> AsyncIterator[AsyncRedis]:
    """An asyncio client answering str, on an empty database."""
    client = AsyncRedis.from_url(store_url, decode_responses=True)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(name="redis_sync")
def redis_sync_client(store_url: str) -> Iterator[Redis]:
    """A synchronous client answering str, on an empty database."""
    client = Redis.from_url(store_url, decode_responses=True)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


async def everything_stored(redis: AsyncRedis) -> list[str]:
    """Every key name, field, member and value in the database, as text."""
    found: list[Any] = []
    async for key in redis.scan_iter(count=100):
        found.append(key)
        kind = await redis.type(key)
        if kind == "string":
            found.append(await redis.get(key))
        elif kind == "hash":
            found.extend(itertools.chain.from_iterable((await redis.hgetall(key)).items()))
        elif kind == "zset":
            found.extend(await redis.zrange(key, 0, -1))
        elif kind == "list":
            found.extend(await redis.lrange(key, 0, -1))
        elif kind == "set":
            found.extend(await redis.smembers(key))
        elif kind == "stream":
            entries: Any = await redis.xrange(key)
            for _, fields in entries:
                found.extend(itertools.chain.from_iterable(fields.items()))
        else:
            raise AssertionError(f"unexpected type {kind!r} of {key!r}")
    assert all(isinstance(item, str) for item in found)
    return found
