"""A drawn draw's substitutions (forfeit and promote) in the store: one list under the
draw's hash tag, appended by ``record_forfeit.lua``."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts


@dataclass(frozen=True)
class Recorded:
    """What recording a substitution did: ``position`` is its place in the list (new or
    already there, then ``existing`` is the stored one); ``moved`` is the number of
    substitutions the list holds instead, when another came first and nothing was
    written."""

    position: int | None
    created: bool = False
    existing: str | None = None
    moved: int | None = None


class SubstitutionStore:
    """The substitutions list of each drawn draw."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def all(self, draw_id: str) -> list[str]:
        """The draw's substitutions, canonical JSON, in order."""
        found = await self._redis.lrange(self._keys.substitutions(draw_id), 0, -1)
        return [str(text) for text in found]

    async def record(self, draw_id: str, forfeited: int, known: int, text: str) -> Recorded:
        """Append ``text`` (the substitution of entry ``forfeited``, computed from the
        first ``known`` substitutions) unless that entry already forfeited or the list
        has grown; the draw must be drawn (else InvalidTransition)."""
        reply = await self._scripts.call(
            "record_forfeit",
            [
                self._keys.draw_meta(draw_id),
                self._keys.substitutions(draw_id),
                self._keys.events(draw_id),
            ],
            [forfeited, known, text],
        )
        status = reply[0]
        if status == "moved":
            return Recorded(None, moved=int(reply[1]))
        if status == "exists":
            return Recorded(int(reply[1]), existing=str(reply[2]))
        return Recorded(int(reply[1]), created=True)
