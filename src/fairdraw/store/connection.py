"""Opening a connection to the store."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
    return Redis.from_pool(pool)
