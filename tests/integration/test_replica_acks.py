"""FAIRDRAW_STORE_REPLICA_ACKS on a real master with a real replica: every write waits
for the replica on its own connection (WAIT), reads never do, and a write the replica
does not confirm in time is not acknowledged (503 with Retry-After)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from redis.exceptions import ResponseError

from fairdraw.domain import errors
from fairdraw.store.connection import StoreClient, connect
from fairdraw.store.keys import Keys
from fairdraw.store.replica_acks import WRITE_COMMANDS, NotReplicated
from fairdraw.store.scripts import Scripts
from fairdraw.store.tokens import TokenStore, new_family_id
from tests.support.app import ADMIN, create_accounts, login, make_settings, serve
from tests.support.github_server import GitHubStandIn
from tests.support.replicated import ReplicatedStore, running_replicated_store

TIMEOUT_MS = 300


@pytest.fixture(scope="module")
def replicated_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicatedStore]:
    with running_replicated_store(tmp_path_factory.mktemp("replicated")) as store:
        yield store


@pytest.fixture
def replicated(replicated_store: ReplicatedStore) -> Iterator[ReplicatedStore]:
    """The master and replica, emptied and in sync; the replica running again after."""
    replicated_store.master.client().flushall()
    replicated_store.wait_in_sync()
    yield replicated_store
    replicated_store.resume_replica()


@pytest_asyncio.fixture
async def acked(replicated: ReplicatedStore) -> AsyncIterator[StoreClient]:
    client = connect(replicated.url, replica_acks=1, replica_acks_timeout_ms=TIMEOUT_MS)
    yield client
    await client.aclose()


async def unknown_token(client: StoreClient) -> None:
    """Checks a well-formed but unknown access token: a read-only script (EVALSHA_RO)."""
    tokens = TokenStore(client, Keys("fairdraw:"), b"k" * 32)
    await tokens.access_holder(f"{new_family_id()}.{'b' * 43}")


def refused_as_not_replicated(error: BaseException) -> bool:
    return isinstance(error, errors.StoreError) and isinstance(error.__cause__, NotReplicated)


async def test_an_acknowledged_write_is_on_the_replica(
    acked: StoreClient, replicated: ReplicatedStore
) -> None:
    replica = replicated.replica.client()
    await acked.set("plain", "1")
    assert replica.get("plain") == "1"  # no sleep: WAIT answered only once it was there
    # A transaction waits behind its EXEC, a pipeline behind each write in it.
    async with acked.pipeline(transaction=True) as pipe:
        pipe.hset("hash", "field", "value").expire("hash", 60)
        assert await pipe.execute() == [1, True]
    assert replica.hget("hash", "field") == "value"
    async with acked.pipeline(transaction=False) as pipe:
        pipe.rpush("list", "a").get("plain").rpush("list", "b")
        assert await pipe.execute() == [1, "1", 2]
    assert replica.lrange("list", 0, -1) == ["a", "b"]
    # Scripts: a write (EVALSHA) waits; a read (EVALSHA_RO, flags=no-writes) does not.
    assert await Scripts(acked).call("release_lease", ["lease"], ["me"]) is not None
    with pytest.raises(errors.InvalidToken):
        await unknown_token(acked)


async def test_a_write_the_replica_does_not_confirm_is_refused(
    acked: StoreClient, replicated: ReplicatedStore
) -> None:
    await acked.set("before", "1")
    replicated.stop_replica()
    started = time.monotonic()
    with pytest.raises(errors.StoreError) as refused:
        await acked.set("during", "1")
    waited = time.monotonic() - started
    assert refused_as_not_replicated(refused.value)
    assert TIMEOUT_MS / 1000 <= waited < TIMEOUT_MS / 1000 + 2
    # The master made the write; it is only not known to survive the master's loss.
    assert replicated.master.client().get("during") == "1"
    with pytest.raises(errors.StoreError) as in_transaction:
        async with acked.pipeline(transaction=True) as pipe:
            await pipe.hset("hash", "field", "value").expire("hash", 60).execute()
    assert refused_as_not_replicated(in_transaction.value)
    # Reads answer at once, on the same connections, with the right replies.
    started = time.monotonic()
    assert await acked.get("before") == "1"
    assert await acked.hget("hash", "field") == "value"
    with pytest.raises(errors.InvalidToken):
        await unknown_token(acked)
    assert time.monotonic() - started < TIMEOUT_MS / 1000
    replicated.resume_replica()
    await acked.set("after", "2")
    assert [await acked.get(key) for key in ("before", "during", "after")] == ["1", "1", "2"]
    assert replicated.replica.client().get("after") == "2"


async def test_without_acks_writes_do_not_wait(replicated: ReplicatedStore) -> None:
    client = connect(replicated.url)
    try:
        replicated.stop_replica()
        started = time.monotonic()
        await client.set("unwaited", "1")
        assert time.monotonic() - started < TIMEOUT_MS / 1000
    finally:
        await client.aclose()


def test_every_write_command_of_the_server_waits(replicated: ReplicatedStore) -> None:
    commands = replicated.master.client().command()
    flagged = {name.upper() for name, info in commands.items() if "write" in info["flags"]}
    assert flagged <= WRITE_COMMANDS, sorted(flagged - WRITE_COMMANDS)


def test_an_entry_without_its_replica_answers_503_and_its_retry_is_safe(
    replicated: ReplicatedStore, github: GitHubStandIn
) -> None:
    settings = make_settings(
        replicated.url,
        github.url,
        store_replica_acks=1,
        store_replica_acks_timeout_ms=TIMEOUT_MS,
        idempotency_lease_seconds=1,
    )
    asyncio.run(create_accounts(settings))
    github.add_user("octocat", 583231)
    github.add_user("hubot", 1000)
    with serve(settings) as server:
        asyncio.run(enter_while_the_replica_stalls(server.url, replicated))


async def enter_while_the_replica_stalls(url: str, replicated: ReplicatedStore) -> None:
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as admin,
        httpx.AsyncClient(base_url=url, timeout=30) as entrant,
    ):
        csrf = await login(admin, ADMIN)
        body = {"title": "Acks", "prizes": [{"name": "Mug", "quantity": 1}], "open": True}
        made = await admin.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        draw = f"/api/v1/draws/{made.json()['id']}"
        first = await entrant.post(f"{draw}/entries", json={"github": "octocat"})
        assert first.status_code == 201, first.text
        replicated.stop_replica()
        key = {"Idempotency-Key": "replica-stalled-entry-1"}
        refused = await entrant.post(f"{draw}/entries", json={"github": "hubot"}, headers=key)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "store_unavailable"
        assert int(refused.headers["retry-after"]) >= 1
        replicated.resume_replica()
        # The refused entry was made on the master: its retry gets that entry, once. (The
        # request's lease could not be released without the replica either: until it
        # lapses, a retry is told the request is still in flight.)
        for _ in range(50):
            retried = await entrant.post(f"{draw}/entries", json={"github": "hubot"}, headers=key)
            if retried.status_code != 409:
                break
            assert retried.json()["code"] == "idempotency_key_in_flight"
            await asyncio.sleep(0.2)
        assert retried.status_code == 201, retried.text
        assert retried.json()["index"] == 1
        shown = await admin.get(draw)
        assert shown.json()["entry_count"] == 2


async def test_a_refused_write_keeps_its_connection_in_step(replicated: ReplicatedStore) -> None:
    """A write sent to a replica (as after a failover, before the client learns of it) is
    refused, and so is its WAIT: the write's own error is raised, both replies are read,
    and the connection answers the next command with its own reply."""
    replicated.master.client().set("kept", "1")
    replicated.wait_in_sync()
    replica = f"redis://127.0.0.1:{replicated.replica.port}/0"
    client = connect(replica, max_connections=1, replica_acks=1, replica_acks_timeout_ms=300)
    try:
        with pytest.raises(ResponseError, match="read only replica"):
            await client.set("refused", "1")
        assert await client.get("kept") == "1"
        with pytest.raises(ResponseError, match="read only replica"):
            async with client.pipeline(transaction=False) as pipe:
                await pipe.set("refused", "1").get("kept").execute()
        assert await client.get("kept") == "1"
    finally:
        await client.aclose()
