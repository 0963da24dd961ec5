"""Rate-limit counters in the store, kept by the ``limits`` library.

Every key lives under :meth:`Keys.rate_limit_prefix` (``Pratelimit:{…}`` and
``Pratelimit:{…}/-1``); ``limits`` names, writes and expires them with its own Lua
scripts, each key with a TTL of at most two windows.

The strategy is the **sliding-window counter**, not the moving window:

- it keeps two integers per limit and identifier, where the moving window keeps a list of
  up to N timestamps (a "60/minute" limit per address would cost 60 list items per
  client);
- its arithmetic runs on the store's clock (``PTTL`` inside the script), while the moving
  window stamps entries with each app server's ``time.time()``: with several app servers
  the store's clock is the one they agree on (as for draw deadlines);
- unlike a fixed window, it does not let a client spend two full quotas across a window
  boundary; its price is a weighted approximation of the previous window, which is
  exact enough for abuse control.

The client is redis-py's asyncio client on a connection pool built from the URL exactly
as :func:`fairdraw.store.connection.connect` builds it, so ``redis://``, ``rediss://`` and
``unix://`` (the embedded store) mean the same here as everywhere else in fairdraw; for a
cluster URL (``redis+cluster://``, ``rediss+cluster://``) it is redis-py's cluster client.
"""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import BlockingConnectionPool

from fairdraw.domain.errors import StoreError
from fairdraw.store.connection import POOL_TIMEOUT, STORE_UNAVAILABLE_ERRORS, cluster_url
from fairdraw.store.keys import Keys

# Each check is one short script; a handful of connections serves a busy process.
DEFAULT_MAX_CONNECTIONS = 16
# A rate-limit check must not hold a request for long when the store is unreachable.
SOCKET_TIMEOUT = 5.0


class RateLimitStore:
    """Sliding-window counters for rate limits, under the rate-limit key prefix.

    Its methods raise :class:`~fairdraw.domain.errors.StoreError` when the store is
    unreachable; the caller decides whether to fail open.
    """

    def __init__(
        self, url: str, keys: Keys, max_connections: int = DEFAULT_MAX_CONNECTIONS
    ) -> None:
        self._pool: BlockingConnectionPool | None = None
        node = cluster_url(url)
        storage: RedisStorage
        if node is not None:
            # A cluster: limits builds its own cluster client from the node's address
            # (its two keys per limit share a hash tag, so each check is one slot's).
            parsed = urlsplit(node)
            tls: dict[str, Any] = {"ssl": True} if parsed.scheme == "rediss" else {}
            storage = RedisClusterStorage(
                f"async+redis+cluster://{parsed.netloc}",
                implementation="redispy",
                key_prefix=keys.rate_limit_prefix(),
                socket_connect_timeout=SOCKET_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                **tls,
            )
        else:
            self._pool = BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=POOL_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                health_check_interval=30,
            )
            # limits documents ``connection_pool`` among the client options it passes on;
            # the URI then only selects the storage class and is not dialled.
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=keys.rate_limit_prefix(),
                **options,
            )
        self._storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, limit: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit and return True, or return False (counting nothing) if
        ``limit`` is already spent for ``identifiers``."""
        try:
            return await self._limiter.hit(limit, *identifiers)
        except STORE_UNAVAILABLE_ERRORS as exc:
            raise StoreError() from exc

    async def test(self, limit: RateLimitItem, *identifiers: str) -> bool:
        """Whether ``limit`` would allow a hit for ``identifiers`` now (counts nothing)."""
        try:
            return await self._limiter.test(limit, *identifiers)
        except STORE_UNAVAILABLE_ERRORS as exc:
            raise StoreError() from exc

    async def seconds_until_free(self, limit: RateLimitItem, *identifiers: str) -> int:
        """Whole seconds (at least 1) until ``limit`` should allow another hit.

        This is the library's estimate from the window counters: the weighted previous
        window decays gradually, so a retry at that time may occasionally be refused
        once more.
        """
        try:
            stats = await self._limiter.get_window_stats(limit, *identifiers)
        except STORE_UNAVAILABLE_ERRORS as exc:
            raise StoreError() from exc
        # The library adds its local clock to a duration read from the store; taking
        # the same clock off again leaves the duration, whatever the clock skew.
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def aclose(self) -> None:
        """Close the connections of this store."""
        if self._pool is not None:
            await self._pool.disconnect()
            return
        # limits has no close of its own; its cluster client is the bridge's ``storage``.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
