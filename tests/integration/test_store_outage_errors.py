"""An unreachable store reaches the layers above ``store/`` as the domain's StoreError
(503, ``Retry-After``), whatever the round trip: a command, a pipeline, a store method."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from fairdraw.domain.errors import STORE_RETRY_AFTER_SECONDS, StoreError
from fairdraw.store.connection import connect
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from tests.support.processes import free_port


@pytest.fixture
def nowhere() -> str:
    """A store URL nothing listens on."""
    return f"redis://127.0.0.1:{free_port()}"


async def test_a_command_raises_store_error(nowhere: str) -> None:
    client = connect(nowhere)
    try:
        with pytest.raises(StoreError) as raised:
            await client.get("anything")
    finally:
        await client.aclose()
    assert raised.value.status == 503
    assert raised.value.extra["retry_after"] == STORE_RETRY_AFTER_SECONDS
    assert isinstance(raised.value.__cause__, RedisConnectionError)


async def test_a_pipeline_raises_store_error(nowhere: str) -> None:
    client = connect(nowhere)
    try:
        pipe = client.pipeline()
        pipe.get("a")
        pipe.get("b")
        with pytest.raises(StoreError):
            await pipe.execute()
    finally:
        await client.aclose()


async def test_a_store_read_raises_store_error(nowhere: str) -> None:
    client = connect(nowhere)
    try:
        with pytest.raises(StoreError):
            await DrawStore(client, Keys("fd-test")).get("abcdefghijkl")
    finally:
        await client.aclose()


async def test_ping_reads_an_outage_as_no_answer(nowhere: str) -> None:
    client = connect(nowhere)
    try:
        assert await DrawStore(client, Keys("fd-test")).ping() is False
    finally:
        await client.aclose()
