"""The scheduler's shared state: the leader lease and the record of its last run."""

from __future__ import annotations

from collections.abc import Mapping

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts


class ScheduleStore:
    """One lease for all scheduler instances; the leader writes what it did."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def hold_lease(self, instance: str, lease_ms: int) -> bool:
        """Take the lease, or renew it if ``instance`` holds it; False if another does."""
        (held,) = await self._scripts.call(
            "acquire_lease", [self._keys.schedule_lease()], [instance, lease_ms]
        )
        return bool(held)

    async def release_lease(self, instance: str) -> None:
        await self._scripts.call("release_lease", [self._keys.schedule_lease()], [instance])

    async def leader(self) -> str | None:
        value = await self._redis.get(self._keys.schedule_lease())
        return str(value) if value is not None else None

    async def record_run(self, fields: Mapping[str, str]) -> None:
        """Record a run: ``fields`` replace the fields of the same names."""
        items = [v for pair in fields.items() for v in pair]
        await self._redis.hset(self._keys.schedule_status(), items=items)

    async def last_run(self) -> dict[str, str]:
        fields = await self._redis.hgetall(self._keys.schedule_status())
        return {str(k): str(v) for k, v in fields.items()}
