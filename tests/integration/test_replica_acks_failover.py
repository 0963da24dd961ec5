"""Acknowledged entries across a failover: a cluster master killed (SIGKILL) under
concurrent entry load over real HTTP, its replica promoted. With
FAIRDRAW_STORE_REPLICA_ACKS=1 no entry answered 201 is lost; without, the count is
recorded (replication on loopback is fast, so it may well be zero too)."""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairdraw.domain import errors
from fairdraw.store.connection import connect
from fairdraw.store.replica_acks import NotReplicated
from tests.support.app import create_accounts, make_settings, serve
from tests.support.cluster import Node, ValkeyCluster, running_cluster
from tests.support.failover_load import entrant, master_of, run_entry_load
from tests.support.github_server import GitHubStandIn

ENTRANTS = 20_000


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ValkeyCluster]:
    """A cluster of its own: the test kills one of its masters."""
    with running_cluster(tmp_path / "cluster") as started:
        yield started


@pytest.mark.parametrize("acks", [0, 1])
def test_acknowledged_entries_survive_a_failover(
    cluster: ValkeyCluster, github: GitHubStandIn, acks: int
) -> None:
    settings = make_settings(
        cluster.url,
        github.url,
        store_replica_acks=acks,
        store_replica_acks_timeout_ms=1000,
    )
    asyncio.run(create_accounts(settings))
    for n in range(ENTRANTS):
        github.add_user(*entrant(n))
    with serve(settings) as server:
        run = asyncio.run(
            run_entry_load(
                server.url, cluster, itertools.count(), workers=8, seconds=2.0, kill_after=1.5
            )
        )
    statuses = [answer.status for answer in run.answers]
    acknowledged = len(run.acknowledged)
    print(
        f"acks={acks}: {acknowledged} entries acknowledged, {len(run.lost)} of them lost "
        f"across the failover, {statuses.count(503)} answers 503, "
        f"paused {run.paused_seconds():.1f} s"
    )
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    assert all(
        answer.retry_after.isdigit() and int(answer.retry_after) >= 1
        for answer in run.answers
        if answer.status == 503
    )
    assert run.killed_at is not None
    assert any(answer.status == 201 and answer.at < run.killed_at for answer in run.answers)
    if acks:
        assert run.lost == []


def replica_of(cluster: ValkeyCluster, master: Node) -> Node:
    for node in cluster.nodes:
        if node.client().info("replication").get("master_port") == master.port:
            return node
    raise AssertionError(f"no replica of the master on port {master.port}")


def test_cluster_writes_wait_for_the_owning_masters_replica(cluster: ValkeyCluster) -> None:
    asyncio.run(write_on_a_cluster(cluster))


async def write_on_a_cluster(cluster: ValkeyCluster) -> None:
    # Long enough for a replica on a busy machine; the stalled one below waits it out.
    client = connect(cluster.url, replica_acks=1, replica_acks_timeout_ms=2000)
    try:
        keys = [f"{{d:{n}}}:meta" for n in range(12)]  # spread over the three masters
        for key in keys:
            await client.hset(key, "status", "open")
            # No sleep: the write was acknowledged only once its master's replica had it.
            replica = replica_of(cluster, master_of(cluster, key)).client()
            replica.execute_command("READONLY")
            assert replica.hget(key, "status") == "open"
        stalled = replica_of(cluster, master_of(cluster, keys[0]))
        stalled.process.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(errors.StoreError) as refused:
                await client.hset(keys[0], "status", "closed")
            assert isinstance(refused.value.__cause__, NotReplicated)
            assert await client.hget(keys[0], "status") == "closed"  # made, not acknowledged
            # Keys of the other masters go on.
            first = master_of(cluster, keys[0])
            other = next(key for key in keys if master_of(cluster, key) is not first)
            await client.hset(other, "status", "closed")
        finally:
            stalled.process.send_signal(signal.SIGCONT)
    finally:
        await client.aclose()
