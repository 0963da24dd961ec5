"""Opening a connection to the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import (
    ClusterDownError,
    NoScriptError,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from fairdraw.domain.errors import StoreError
from fairdraw.metrics import store_answered, store_failed
from fairdraw.store.batching import CommandBatcher, batchable
from fairdraw.store.replica_acks import DEFAULT_TIMEOUT_MS, NotReplicated, replica_acked

# Failures that mean "the store is unreachable right now" (a 503 for the user, not a 500).
# Every round trip raises them as the domain's StoreError instead (see observed), so no
# layer above the store names the client library's exceptions.
# A cluster adds its own: a master down and not yet replaced, slots not served, every node
# unreachable, or a key whose slot is moving (TRYAGAIN). With FAIRDRAW_STORE_REPLICA_ACKS,
# a write its replicas did not confirm in time (NotReplicated) is not acknowledged either.
STORE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,
    NotReplicated,
    RedisTimeoutError,
    ClusterDownError,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
    TryAgainError,
)

DEFAULT_MAX_CONNECTIONS = 64
# How long a request waits for a free connection before it fails (seconds).
POOL_TIMEOUT = 10.0
# A cluster's client tries a command again this often (a node that moved or is failing
# over), waiting 50 ms at first and at most 0.5 s between tries: a request waits at most
# about 1.5 s before it answers 503, rather than through the whole failover.
CLUSTER_RETRIES = 4
# How long a connection to a node may take to open (an unreachable host, not a refusal).
CONNECT_TIMEOUT = 5.0
# A Redis/Valkey Cluster: any of its nodes, with TLS (``rediss+cluster``) or without.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def cluster_url(url: str) -> str | None:
    """The node URL (``redis://`` or ``rediss://``) of a cluster URL, or None if ``url``
    names a single server."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower()) if sep else None
    return f"{plain}://{rest}" if plain else None


def connect(
    url: str,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    read_timeout: float | None = None,
    replica_acks: int = 0,
    replica_acks_timeout_ms: int = DEFAULT_TIMEOUT_MS,
    batching: bool = False,
) -> Redis:
    """A client for ``redis://``, ``rediss://`` or ``unix://`` URLs, or for a cluster
    (``redis+cluster://`` or ``rediss+cluster://`` and any one node's address), answering
    str.

    The pool blocks when all its connections are busy, so a burst of requests queues
    for a connection instead of failing; one process never opens more than
    ``max_connections`` connections (per node of a cluster). ``read_timeout`` (seconds)
    replaces the client's default wait for an answer: blocking reads need longer than
    they block. ``replica_acks`` > 0: every write waits until that many replicas hold it
    (at most ``replica_acks_timeout_ms``) or raises ``NotReplicated``
    (:mod:`fairdraw.store.replica_acks`). ``batching``: the commands that the tasks
    of the event loop issue in one turn go out as one pipeline
    (:mod:`fairdraw.store.batching`; a single server's client only).
    """
    extra = {} if read_timeout is None else {"socket_timeout": read_timeout}
    node = cluster_url(url)
    if node is not None:
        # The cluster client answers the same commands, scripts and pipelines for the keys
        # fairdraw gives it (every script's and transaction's keys share a hash slot), so
        # the stores take it where they take a single server's client.
        cluster = ObservedRedisCluster.from_url(
            node,
            max_connections=max_connections,
            decode_responses=True,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), CLUSTER_RETRIES),
            socket_connect_timeout=CONNECT_TIMEOUT,
            **extra,
        )
        if replica_acks:
            # Before the first command: every node's connections are made from these.
            connection_kwargs = cluster.nodes_manager.connection_kwargs
            acked = replica_acked(
                connection_kwargs["connection_class"], replica_acks, replica_acks_timeout_ms
            )
            connection_kwargs["connection_class"] = acked
            for startup in cluster.nodes_manager.startup_nodes.values():
                startup.connection_class = cast(type[Connection], acked)
        return cast(Redis, cluster)
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=POOL_TIMEOUT,
        decode_responses=True,
        health_check_interval=30,
        **extra,
    )
    if replica_acks:
        acked = replica_acked(pool.connection_class, replica_acks, replica_acks_timeout_ms)
        pool.connection_class = cast(type[Connection], acked)
    client = cast(ObservedRedis, ObservedRedis.from_pool(pool))
    if batching:
        client.batcher = CommandBatcher(client)
    return client


# What the layers above hold when they pass a store client around without using it.
StoreClient = Redis


async def observed(command: str, call: Awaitable[Any]) -> Any:
    """Await ``call`` (one round trip: ``command``, a script, or a pipeline), timed and,
    if it fails, counted for the metrics (``fairdraw_store_*``). ``NOSCRIPT`` is not a
    failure: it is how a script is loaded on first use (the client then sends it and
    runs it again).

    This is where an unreachable store becomes a domain error: the failures in
    :data:`STORE_UNAVAILABLE_ERRORS` are raised as :class:`StoreError` (503 with
    ``Retry-After``), from the client's own, after its retries."""
    started = time.perf_counter()
    try:
        return await call
    except NoScriptError:
        raise
    except STORE_UNAVAILABLE_ERRORS as error:
        store_failed(command, error)
        raise StoreError() from error
    except Exception as error:
        store_failed(command, error)
        raise
    finally:
        store_answered(command, time.perf_counter() - started)


class ObservedRedis(Redis):
    """The client, with each round trip :func:`observed`: a command or script, or a
    whole pipeline. With a :class:`CommandBatcher` (``batcher``), the commands of many
    tasks share round trips."""

    batcher: CommandBatcher | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        name = str(args[0])
        if self.batcher is not None and batchable(name):
            return await observed(name, self.batcher.submit(args, options))
        call = super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        return await observed(name, call)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return ObservedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class ObservedRedisCluster(RedisCluster):
    """A cluster client, each command and pipeline timed and each failure counted as
    :class:`ObservedRedis` does.

    redis-py's cluster client refuses a command (MaxConnectionsError) when its node's
    connections are all busy, where a single server's pool makes it wait; so this one
    lets at most ``max_connections`` commands and pipelines run at once and queues the
    rest, as the single server's pool does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_commands = int(kwargs.get("max_connections", DEFAULT_MAX_CONNECTIONS))
        self.turns = asyncio.Semaphore(self.max_commands)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.turns:
            return await observed(str(args[0]), super().execute_command(*args, **kwargs))

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # refused as redis-py does
        # As redis-py's own pipeline() makes it (its stubs call the class abstract).
        return ObservedClusterPipeline(self, transaction)  # type: ignore[abstract]


class ObservedClusterPipeline(ClusterPipeline):
    """A cluster pipeline (or single-slot transaction), timed as one round trip."""

    async def execute(
        self, raise_on_error: bool = True, allow_redirections: bool = True
    ) -> list[Any]:
        client = cast(ObservedRedisCluster, self.cluster_client)
        command = "MULTI" if self._transaction else "PIPELINE"
        async with client.turns:
            answers: list[Any] = await observed(
                command, super().execute(raise_on_error, allow_redirections)
            )
            return answers


class ObservedPipeline(Pipeline):
    """A pipeline (or MULTI/EXEC transaction) timed as one round trip."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        command = "MULTI" if self.is_transaction or self.explicit_transaction else "PIPELINE"
        answers: list[Any] = await observed(command, super().execute(raise_on_error))
        return answers


def pool_usage(client: Redis) -> tuple[int, int, int]:
    """The connections of ``client``'s pool: in use, idle, and the most it may open.

    redis-py keeps the first two in attributes of its pools without a public accessor;
    where they are missing, both read 0. A cluster client keeps connections per node:
    they are added up, and its most is the commands it lets run at once.
    """
    if isinstance(client, RedisCluster):
        nodes = client.get_nodes()
        opened = sum(len(getattr(node, "_connections", ())) for node in nodes)
        idle = sum(len(getattr(node, "_free", ())) for node in nodes)
        return opened - idle, idle, int(getattr(client, "max_commands", 0))
    pool = client.connection_pool
    in_use = len(getattr(pool, "_in_use_connections", ()))
    idle = len(getattr(pool, "_available_connections", ()))
    return in_use, idle, int(pool.max_connections)
