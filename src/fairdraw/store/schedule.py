"""The scheduler's shared state: the leader lease, the record of its last run, and the
deadlines of open draws (``schedule:deadlines``: draw id → deadline ms)."""

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

    # -- deadlines of open draws -------------------------------------------------------
    async def add_deadline(self, draw_id: str, deadline_ms: int) -> None:
        """Schedule ``draw_id`` to be settled at ``deadline_ms``; adding it again is
        harmless (a draw's deadline never changes once it is open)."""
        await self._redis.zadd(self._keys.schedule_deadlines(), {draw_id: deadline_ms})

    async def due_deadlines(self, now_ms: int, limit: int) -> list[str]:
        """Up to ``limit`` draws whose deadline is at or before ``now_ms``, earliest first."""
        due = await self._redis.zrangebyscore(
            self._keys.schedule_deadlines(), "-inf", now_ms, start=0, num=limit
        )
        return [str(draw_id) for draw_id in due]

    async def remove_deadline(self, draw_id: str) -> None:
        await self._redis.zrem(self._keys.schedule_deadlines(), draw_id)

    async def next_deadline(self) -> tuple[str, int] | None:
        """The draw with the earliest scheduled deadline, and that deadline (ms)."""
        first = await self._redis.zrange(self._keys.schedule_deadlines(), 0, 0, withscores=True)
        return (str(first[0][0]), int(first[0][1])) if first else None
