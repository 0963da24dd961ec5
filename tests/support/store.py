"""Pytest plugin: a real store for the tests, flushed before each one.

``FAIRDRAW_TEST_REDIS_URL`` points the suite at an existing server (its current database
is flushed before every test, so give it one of its own); ``FAIRDRAW_TEST_CLUSTER=1`` starts
a Valkey cluster of three masters and three replicas (tests/support/cluster.py) and runs
the suite against it; without either a private
:class:`~fairdraw.store.embedded.EmbeddedStore` runs for the whole session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import pytest
import pytest_asyncio
from redis import Redis, RedisCluster
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster

from fairdraw.store.connection import cluster_url
from fairdraw.store.embedded import EmbeddedStore
from tests.support.cluster import running_cluster

TEST_REDIS_URL_VARIABLE = "FAIRDRAW_TEST_REDIS_URL"
TEST_CLUSTER_VARIABLE = "FAIRDRAW_TEST_CLUSTER"


def cluster_wanted() -> bool:
    return os.environ.get(TEST_CLUSTER_VARIABLE, "") not in ("", "0")


class WholeCluster(AsyncRedisCluster):
    """A cluster client whose ``keys`` and ``scan_iter`` see every master's keys, as
    they see the one server's (tests look at everything stored; fairdraw never does)."""

    async def keys(self, pattern: Any = "*", **kwargs: Any) -> Any:
        kwargs.setdefault("target_nodes", self.PRIMARIES)
        return await super().keys(pattern, **kwargs)

    def scan_iter(
        self, match: Any = None, count: Any = None, _type: Any = None, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("target_nodes", self.PRIMARIES)
        return super().scan_iter(match, count, _type, **kwargs)


class WholeSyncCluster(RedisCluster):
    """:class:`WholeCluster`, synchronous."""

    def keys(self, pattern: Any = "*", **kwargs: Any) -> Any:
        kwargs.setdefault("target_nodes", self.PRIMARIES)
        return super().keys(pattern, **kwargs)

    def scan_iter(
        self, match: Any = None, count: Any = None, _type: Any = None, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("target_nodes", self.PRIMARIES)
        return super().scan_iter(match, count, _type, **kwargs)


def pause_writes(client: Redis, milliseconds: int) -> None:
    """``CLIENT PAUSE … WRITE`` on the server, or on every master of a cluster (the keys a
    test then writes may live on any of them)."""
    if isinstance(client, RedisCluster):
        client.execute_command(
            "CLIENT", "PAUSE", str(milliseconds), "WRITE", target_nodes=RedisCluster.PRIMARIES
        )
    else:
        client.execute_command("CLIENT", "PAUSE", str(milliseconds), "WRITE")


def async_client(store_url: str) -> AsyncRedis:
    """An asyncio client of ``store_url`` answering str (a cluster's, seeing every node)."""
    node = cluster_url(store_url)
    if node is not None:
        return cast(AsyncRedis, WholeCluster.from_url(node, decode_responses=True))
    return AsyncRedis.from_url(store_url, decode_responses=True)


def sync_client(store_url: str) -> Redis:
    """A synchronous client of ``store_url`` answering str (a cluster's, seeing every node)."""
    node = cluster_url(store_url)
    if node is not None:
        return cast(Redis, WholeSyncCluster.from_url(node, decode_responses=True))
    return Redis.from_url(store_url, decode_responses=True)


async def flush(client: AsyncRedis) -> None:
    """Empty the store (every master of a cluster)."""
    if isinstance(client, AsyncRedisCluster):
        await client.flushall(target_nodes=AsyncRedisCluster.PRIMARIES)
    else:
        await client.flushdb()


@pytest.fixture(scope="session")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of the store the tests share."""
    external = os.environ.get(TEST_REDIS_URL_VARIABLE)
    if external:
        yield external
        return
    if cluster_wanted():
        with running_cluster(tmp_path_factory.mktemp("cluster")) as cluster:
            yield cluster.url
        return
    store = EmbeddedStore(tmp_path_factory.mktemp("store"))
    url = store.start()
    try:
        yield url
    finally:
        store.stop()


@pytest_asyncio.fixture(name="redis")
async def redis_client(store_url: str) -> AsyncIterator[AsyncRedis]:
    """An asyncio client answering str, on an empty database (every master of a
    cluster emptied)."""
    client = async_client(store_url)
    await flush(client)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(name="redis_sync")
def redis_sync_client(store_url: str) -> Iterator[Redis]:
    """A synchronous client answering str, on an empty database (every master of a
    cluster emptied)."""
    client = sync_client(store_url)
    if isinstance(client, RedisCluster):
        client.flushall(target_nodes=RedisCluster.PRIMARIES)
    else:
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
