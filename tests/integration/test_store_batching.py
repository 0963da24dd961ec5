"""The store client's batching: the commands of many tasks issued in one turn of the
event loop go out as one pipeline, and every caller gets its own reply or error."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from fairdraw.domain.errors import StoreError
from fairdraw.store.connection import cluster_url, connect, pool_usage
from fairdraw.store.embedded import EmbeddedStore
from tests.support.store import flush


@pytest_asyncio.fixture
async def batched(store_url: str) -> AsyncIterator[Redis]:
    if cluster_url(store_url) is not None:
        pytest.skip("a cluster's client sends each command on its own")
    client = connect(store_url, batching=True)
    await flush(client)
    try:
        yield client
    finally:
        await client.aclose()


async def test_commands_of_one_turn_share_one_connection(batched: Redis) -> None:
    await batched.mset({f"k{i}": str(i) for i in range(200)})
    await batched.connection_pool.disconnect()
    answers = await asyncio.gather(*(batched.get(f"k{i}") for i in range(200)))
    assert answers == [str(i) for i in range(200)]
    in_use, idle, _ = pool_usage(batched)
    assert (in_use, idle) == (0, 1)


async def test_without_batching_the_same_commands_take_many_connections(store_url: str) -> None:
    if cluster_url(store_url) is not None:
        pytest.skip("a cluster's client keeps connections per node")
    plain = connect(store_url)
    try:
        await plain.set("k", "v")
        await plain.connection_pool.disconnect()
        await asyncio.gather(*(plain.get("k") for _ in range(50)))
        in_use, idle, _ = pool_usage(plain)
        assert in_use == 0
        assert idle > 1
    finally:
        await plain.aclose()


async def test_an_error_reaches_only_its_own_caller(batched: Redis) -> None:
    await batched.set("text", "a")
    await batched.rpush("list", "x")
    results = await asyncio.gather(
        batched.get("text"),
        batched.incr("text"),  # not an integer
        batched.lrange("list", 0, -1),
        batched.get("list"),  # wrong type
        batched.incr("counter"),
        return_exceptions=True,
    )
    assert results[0] == "a"
    assert "not an integer" in str(results[1])
    assert results[2] == ["x"]
    assert "WRONGTYPE" in str(results[3])
    assert results[4] == 1
    assert await batched.get("text") == "a"


async def test_scripts_are_loaded_on_first_use_inside_a_batch(batched: Redis) -> None:
    await batched.script_flush()
    script = batched.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    totals = await asyncio.gather(*(script(keys=["total"], args=[1]) for _ in range(40)))
    assert sorted(totals) == list(range(1, 41))
    assert await batched.get("total") == "40"


async def test_a_blocking_command_does_not_hold_up_the_others(batched: Redis) -> None:
    await batched.set("k", "v")
    blocked = asyncio.ensure_future(batched.blpop(["nothing"], timeout=2))
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await batched.get("k") == "v"
    assert time.monotonic() - started < 1.0
    assert not blocked.done()
    await batched.rpush("nothing", "x")
    assert tuple(await blocked) == ("nothing", "x")


async def test_a_caller_that_stops_waiting_leaves_the_others_their_replies(
    batched: Redis,
) -> None:
    await batched.set("k", "v")
    gone = asyncio.ensure_future(batched.get("k"))
    kept = asyncio.ensure_future(batched.get("k"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == "v"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await batched.get("k") == "v"


async def test_a_lost_store_fails_every_command_of_the_batch_as_a_store_error() -> None:
    with tempfile.TemporaryDirectory() as data:
        store = EmbeddedStore(data)
        url = store.start()
        client = connect(url, batching=True)
        try:
            await client.set("k", "v")
            store.stop()
            results = await asyncio.gather(
                *(client.get("k") for _ in range(5)), return_exceptions=True
            )
            assert [type(result) for result in results] == [StoreError] * 5
        finally:
            await client.aclose()
            store.stop()
