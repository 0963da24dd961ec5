"""GitHub sign-ins under way: one short-lived hash per OAuth state, by its hash.

A sign-in is bound to one draw and to the browser that began it (the hash of a cookie
only that browser holds), and its callback is taken once. Neither the state itself nor
anything GitHub returns (the code, the token) is ever written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts


class Claim(StrEnum):
    """What a callback found of its sign-in."""

    fresh = "fresh"  # the first callback: go on and enter
    used = "used"  # a callback again: show what the first one did
    other_browser = "other_browser"  # begun in another browser
    missing = "missing"  # unknown or expired


@dataclass(frozen=True)
class ClaimedSignIn:
    claim: Claim
    draw_id: str | None = None
    # The entry the first callback made (a "used" claim whose first callback finished).
    index: int | None = None


class SignInStore:
    """Sign-ins by the sha256 (hex) of their state, each kept for ``ttl_seconds``."""

    def __init__(self, redis: Redis, keys: Keys, ttl_seconds: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_seconds = ttl_seconds
        self._scripts = Scripts(redis)

    async def begin(self, state_hash: str, draw_id: str, browser_hash: str) -> None:
        """Record a new sign-in into ``draw_id`` for the browser ``browser_hash``."""
        key = self._keys.github_sign_in(state_hash)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"draw": draw_id, "browser": browser_hash})
            pipe.expire(key, self._ttl_seconds)
            await pipe.execute()

    async def claim(self, state_hash: str, browser_hash: str) -> ClaimedSignIn:
        """Take the sign-in for its callback from the browser ``browser_hash``."""
        reply = await self._scripts.call(
            "claim_github_sign_in", [self._keys.github_sign_in(state_hash)], [browser_hash]
        )
        claim = Claim(reply[0])
        draw_id = str(reply[1]) if len(reply) > 1 else None
        index = str(reply[2]) if len(reply) > 2 else ""
        return ClaimedSignIn(claim, draw_id, int(index) if index.isdecimal() else None)

    async def finish(self, state_hash: str, index: int) -> None:
        """Keep the entry a sign-in made, for a callback that comes again (its TTL
        stays); a sign-in that expired meanwhile is not brought back."""
        await self._scripts.call(
            "finish_github_sign_in", [self._keys.github_sign_in(state_hash)], [str(index)]
        )

    async def forget(self, state_hash: str) -> None:
        """Drop a sign-in that failed: it leaves nothing behind."""
        await self._redis.delete(self._keys.github_sign_in(state_hash))
