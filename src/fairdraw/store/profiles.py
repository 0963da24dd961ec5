"""The GitHub profile cache: one JSON string per login, expiring after a configured time."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from fairdraw.domain.identity import GitHubProfile, is_github_login
from fairdraw.store.keys import Keys


class ProfileCache:
    """GitHub profiles by login (case-folded), each kept for ``ttl_seconds``.

    Entries are keyed by the login that was asked for: after a rename GitHub no longer
    answers for the old login, so the old key simply expires.
    """

    def __init__(self, redis: Redis, keys: Keys, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("the profile cache TTL must be at least one second")
        self._redis = redis
        self._keys = keys
        self._ttl_seconds = ttl_seconds

    @property
    def ttl_seconds(self) -> int:
        """How long a cached profile lives."""
        return self._ttl_seconds

    async def get(self, login: str) -> GitHubProfile | None:
        """The cached profile for ``login``, or None if absent, expired or unreadable."""
        raw = await self._redis.get(self._keys.github_profile(login))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                return None
            return GitHubProfile.from_json(data)
        except ValueError:
            # A value written by another version, or damaged: a miss, to be overwritten.
            return None

    async def put(self, profile: GitHubProfile, login: str | None = None) -> None:
        """Cache ``profile`` under ``login`` (default: the profile's own login)."""
        login = profile.login if login is None else login
        if not is_github_login(login):
            # Keys must match the schema in keys.py; callers pass normalised logins.
            raise ValueError(f"not a GitHub login: {login!r}")
        key = self._keys.github_profile(login)
        value = json.dumps(profile.to_json(), separators=(",", ":"), ensure_ascii=False)
        await self._redis.set(key, value, ex=self._ttl_seconds)
