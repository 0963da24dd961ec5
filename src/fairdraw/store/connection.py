"""Opening a connection to the store."""

from __future__ import annotations

from redis.asyncio import Redis


def connect(url: str) -> Redis:
    """A client for ``redis://``, ``rediss://`` or ``unix://`` URLs, answering str."""
    return Redis.from_url(url, decode_responses=True, health_check_interval=30)
