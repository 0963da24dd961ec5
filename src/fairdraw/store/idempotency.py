"""Idempotency records in the store.

Two kinds (see :mod:`fairdraw.store.keys`):

- ``idem:NAME``, one hash per keyed API request: pending while the request runs (with a
  lease, so a request whose process died does not hold its key for good), then the sealed
  response, kept for the configured time. Written by the web layer around any route.
- ``{d:ID}:idem:NAME``, one string per keyed entry, claim or ballot, written by the
  ``enter``, ``claim_ticket`` and ``cast_ballot`` scripts together with the action itself:
  the record a retry recovers from when the first answer was lost. This module reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts


class BeginState(StrEnum):
    new = "new"
    mismatch = "mismatch"
    in_flight = "in_flight"
    done = "done"


@dataclass(frozen=True)
class Begun:
    """What ``begin`` found: ``new`` (the caller now owns the key), ``mismatch``,
    ``in_flight``, or ``done`` with the ``sealed`` response."""

    state: BeginState
    sealed: str = ""


@dataclass(frozen=True)
class KeptAction:
    """A keyed action's record in a draw: the request's fingerprint, the ledger index of
    what it did, and what else its answer needs (a claim's sealed code, a ballot's count
    of ballots), as the scripts write it: ``fingerprint \\t index [\\t extra]``."""

    fingerprint: str
    index: int
    extra: str = ""

    @classmethod
    def parse(cls, text: str) -> KeptAction:
        fingerprint, index, *rest = text.split("\t", 2)
        return cls(fingerprint, int(index), rest[0] if rest else "")


class IdempotencyStore:
    """Idempotency-Key records: one script each to take and to settle a request's key."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def begin(self, name: str, fingerprint: str, owner: str, lease_ms: int) -> Begun:
        """Take the record ``name`` for a request (pending for ``lease_ms``), or say why not."""
        reply = await self._scripts.call(
            "idempotency_begin", [self._keys.idempotency(name)], [fingerprint, owner, lease_ms]
        )
        state = BeginState(reply[0])
        return Begun(state, str(reply[1]) if len(reply) > 1 else "")

    async def finish(self, name: str, owner: str, sealed: str | None, ttl_ms: int) -> bool:
        """Keep ``sealed`` as the response of ``name`` for ``ttl_ms``, or drop the record
        (``sealed`` None); False if the record was no longer ``owner``'s."""
        (done,) = await self._scripts.call(
            "idempotency_finish", [self._keys.idempotency(name)], [owner, sealed or "", ttl_ms]
        )
        return bool(done)


async def kept_actions(
    redis: Redis, keys: Keys, draw_ids: Sequence[str], name: str
) -> list[tuple[str, KeptAction]]:
    """The records of the keyed action ``name`` in any of ``draw_ids`` (one round trip)."""
    async with redis.pipeline(transaction=False) as pipe:
        for draw_id in draw_ids:
            pipe.get(keys.draw_idempotency(draw_id, name))
        replies = await pipe.execute()
    return [
        (draw_id, KeptAction.parse(str(text)))
        for draw_id, text in zip(draw_ids, replies, strict=True)
        if text is not None
    ]
