"""Raffle claims in the store: claiming tickets, reading claims, kept ticket numbers.

A raffle is a draw (see :mod:`fairdraw.store.draws` for its meta hash and lifecycle); this
module owns what only raffles have: the claim script, the claimants hash and the ticket
numbers kept per ledger chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.domain.idempotency import RetryKey
from fairdraw.store.draws import ledger_elements
from fairdraw.store.idempotency import KeptAction, kept_actions
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

_SEPARATOR = ","


@dataclass(frozen=True)
class Claim:
    """What one successful claim did: its place in the ledger and whether it took the
    last ticket (which also closed the raffle); ``replayed`` with the ``sealed_code`` a
    keyed request's first claim kept."""

    index: int
    claimed_ms: int
    sold_out: bool
    replayed: bool = False
    sealed_code: str = ""


@dataclass(frozen=True)
class ClaimRecord:
    """One claim as stored: the keyed hash of its code, when, and by whom; in a
    fairdraw/2 raffle also the public commitment to the code."""

    index: int
    code_hash: str
    claimed_ms: int
    claimant: str
    commitment: str | None = None

    @classmethod
    def parse(cls, index: int, element: str) -> ClaimRecord:
        code, claimed_ms, claimant = element.split("\t", 2)
        code_hash, _, commitment = code.partition(":")
        return cls(
            index=index,
            code_hash=code_hash,
            claimed_ms=int(claimed_ms),
            claimant=claimant,
            commitment=commitment or None,
        )


def claim_commitment(element: str) -> str:
    """The code commitment of a stored fairdraw/2 claim (its first field's second part)."""
    return element[element.index(":") + 1 : element.index("\t")]


def claim_keys(keys: Keys, draw_id: str, name: str = "") -> list[str]:
    """The KEYS of ``claim_ticket`` for a claim by the holder ``name`` ("" if anonymous)."""
    return [
        keys.draw_meta(draw_id),
        keys.ledger(draw_id),
        keys.claimants(draw_id),
        keys.events(draw_id),
        keys.minutes(draw_id),
        keys.names(draw_id, name),
    ]


class RaffleStore:
    """Raffle-only persistence; every change is one script on the raffle's keys."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def claim(
        self,
        draw_id: str,
        claimant: str,
        code_hash: str,
        name: str = "",
        retry: RetryKey | None = None,
        sealed_code: str = "",
    ) -> Claim:
        """Append a claim by ``claimant`` (raises SoldOut, TicketLimitReached,
        DrawNotOpen, WrongDrawKind or DrawNotFound, storing nothing); ``name`` is the
        holder's account name, searchable by the raffle's managers ("" if anonymous).

        With ``retry``, the claim's record (``sealed_code``, the code sealed under the
        client's key) is written in the same script, and a request whose record exists
        gets its first claim back instead (IdempotencyKeyReused if the record belongs to
        another request)."""
        keys = claim_keys(self._keys, draw_id, name)
        args: list[str | int] = [claimant, code_hash, name]
        if retry is not None:
            keys.append(self._keys.draw_idempotency(draw_id, retry.name))
            args += [retry.fingerprint, sealed_code, retry.ttl_ms]
        index, claimed_ms, sold_out, replayed, sealed = await self._scripts.call(
            "claim_ticket", keys, args
        )
        return Claim(
            index=int(index),
            claimed_ms=int(claimed_ms),
            sold_out=bool(sold_out),
            replayed=bool(replayed),
            sealed_code=str(sealed),
        )

    async def kept_claim(self, draw_id: str, name: str) -> KeptAction | None:
        """The record a keyed claim kept under ``name`` (index and sealed code), if any."""
        found = await kept_actions(self._redis, self._keys, [draw_id], name)
        return found[0][1] if found else None

    async def claim_at(self, draw_id: str, index: int) -> ClaimRecord | None:
        """Claim ``index``, or None if no such claim was made."""
        element = await self._redis.lindex(self._keys.ledger(draw_id), index)
        return ClaimRecord.parse(index, str(element)) if element is not None else None

    async def claims_at(self, draw_id: str, indexes: Sequence[int]) -> list[ClaimRecord]:
        """The claims at ``indexes`` (each must exist), in that order."""
        elements = await ledger_elements(self._redis, self._keys.ledger(draw_id), indexes)
        return [ClaimRecord.parse(i, e) for i, e in zip(indexes, elements, strict=True)]

    async def claims_held(self, draw_id: str, claimant: str) -> int:
        """How many tickets ``claimant`` has claimed."""
        value = await self._redis.hget(self._keys.claimants(draw_id), claimant)
        return int(value) if value is not None else 0

    async def chunk_numbers(self, draw_id: str, chunk: int) -> list[int] | None:
        """The ticket numbers kept for ledger chunk ``chunk``, or None if none are."""
        text = await self._redis.hget(self._keys.chunk_numbers(draw_id), str(chunk))
        if text is None:
            return None
        return [int(n) for n in str(text).split(_SEPARATOR)] if text else []

    async def save_chunk(
        self, draw_id: str, chunk: int, numbers: Sequence[int], root: bytes | None
    ) -> None:
        """Keep the ticket numbers of ledger chunk ``chunk`` and, for a complete chunk,
        its Merkle ``root``. A partial chunk's numbers are kept only once the ledger is
        sealed and no longer grows."""
        await self._scripts.call(
            "save_raffle_chunk",
            [self._keys.chunk_numbers(draw_id), self._keys.chunk_roots(draw_id)],
            [chunk, _SEPARATOR.join(map(str, numbers)), root.hex() if root else ""],
        )
