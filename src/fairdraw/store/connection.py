"""Opening a connection to the store."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from fairdraw.metrics import store_answered, store_failed

# Failures that mean "the store is unreachable right now" (a 503 for the user, not a 500);
# the web layer maps them without importing the client library itself.
STORE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)

DEFAULT_MAX_CONNECTIONS = 64
# How long a request waits for a free connection before it fails (seconds).
POOL_TIMEOUT = 10.0


def connect(
    url: str, max_connections: int = DEFAULT_MAX_CONNECTIONS, read_timeout: float | None = None
) -> Redis:
    """A client for ``redis://``, ``rediss://`` or ``unix://`` URLs, answering str.

    The pool blocks when all its connections are busy, so a burst of requests queues
    for a connection instead of failing; one process never opens more than
    ``max_connections`` connections. ``read_timeout`` (seconds) replaces the client's
    default wait for an answer: blocking reads need longer than they block.
    """
    extra = {} if read_timeout is None else {"socket_timeout": read_timeout}
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=POOL_TIMEOUT,
        decode_responses=True,
        health_check_interval=30,
        **extra,
    )
    return ObservedRedis.from_pool(pool)


# What the layers above hold when they pass a store client around without using it.
StoreClient = Redis


class ObservedRedis(Redis):
    """The client, with each round trip timed and each failure counted for the metrics
    (``fairdraw_store_*``): a command or script, or a whole pipeline.

    ``NOSCRIPT`` is not a failure: it is how a script is loaded on first use (the
    client then sends it and runs it again).
    """

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        command = str(args[0])
        started = time.perf_counter()
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except NoScriptError:
            raise
        except Exception as error:
            store_failed(command, error)
            raise
        finally:
            store_answered(command, time.perf_counter() - started)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return ObservedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class ObservedPipeline(Pipeline):
    """A pipeline (or MULTI/EXEC transaction) timed as one round trip."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        command = "MULTI" if self.is_transaction or self.explicit_transaction else "PIPELINE"
        started = time.perf_counter()
        try:
            return await super().execute(raise_on_error)
        except Exception as error:
            store_failed(command, error)
            raise
        finally:
            store_answered(command, time.perf_counter() - started)


def pool_usage(client: Redis) -> tuple[int, int, int]:
    """The connections of ``client``'s pool: in use, idle, and the most it may open.

    redis-py keeps the first two in attributes of its pools without a public accessor;
    where they are missing, both read 0.
    """
    pool = client.connection_pool
    in_use = len(getattr(pool, "_in_use_connections", ()))
    idle = len(getattr(pool, "_available_connections", ()))
    return in_use, idle, int(pool.max_connections)
