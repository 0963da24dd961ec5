"""Daily lotteries in the store: the lottery itself, ballots, and closing rounds.

Each round of a lottery is a draw of kind ``lottery`` (see :mod:`fairdraw.store.draws`),
under its own ``{d:ID}`` hash tag; it is created by its first ballot, or closed empty by
the scheduler when its day ends without one. The lottery's own hash only holds its terms
and how far its rounds have been drawn.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from fairdraw.domain.errors import LotteryNotFound
from fairdraw.domain.idempotency import RetryKey
from fairdraw.store.draws import NO_ATTEMPT_LIMIT, AttemptLimit
from fairdraw.store.idempotency import KeptAction, kept_actions
from fairdraw.store.keys import Keys
from fairdraw.store.ledger import LedgerEntry, LedgerTerms
from fairdraw.store.scripts import Scripts

# Rounds whose ledger terms are kept (they never change once the round exists).
TERMS_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Cast:
    """A ballot's outcome: cast (``index`` in the round, ``cast_ms``, the caster's
    ballots in that round); or ``elsewhere``: the store's clock (``cast_ms``) is outside
    the round asked for; or ``new_round``: the round does not exist yet and the ballot
    came without the fields to create it. Nothing is stored unless it was cast."""

    cast: bool
    cast_ms: int = 0
    index: int = -1
    mine: int = 0
    new_round: bool = False
    replayed: bool = False
    ref: str = ""


@dataclass(frozen=True)
class RoundRecord:
    """What the store holds of one round's draw (None fields: no such draw yet)."""

    draw_id: str
    status: str | None
    ballots: int
    drawn_ms: int | None
    winners_json: str | None


def _pairs(fields: Mapping[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


def ballot_keys(keys: Keys, round_id: str, name: str, address: str = "unknown") -> list[str]:
    """The KEYS of ``cast_ballot`` for a ballot of participant ``name`` in ``round_id``
    from the client address bucket ``address``."""
    return [
        keys.draw_meta(round_id),
        keys.ledger(round_id),
        keys.entrants(round_id),
        keys.events(round_id),
        keys.minutes(round_id),
        keys.names(round_id, name),
        keys.round_top(round_id),
        keys.entry_attempts(round_id, address),
    ]


def _at(at_ms: int | None) -> str:
    return "" if at_ms is None else str(at_ms)


class LotteryStore:
    """Lottery persistence; every change of a round is one script on its draw's keys."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)
        self._terms: OrderedDict[str, LedgerTerms] = OrderedDict()

    async def _ledger_terms(self, round_id: str) -> LedgerTerms:
        """What reading the round's ballots needs (the round exists)."""
        terms = self._terms.get(round_id)
        if terms is None:
            names = ["algorithm", "salt", "opened_ms", "kind"]
            values = await self._redis.hmget(self._keys.draw_meta(round_id), names)
            fields = {k: str(v) for k, v in zip(names, values, strict=True) if v is not None}
            terms = self._terms[round_id] = LedgerTerms.from_fields(fields)
            if len(self._terms) > TERMS_CACHE_SIZE:
                self._terms.popitem(last=False)
        return terms

    async def now_ms(self) -> int:
        """The store's clock."""
        seconds, micros = await self._redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def create(self, lottery_id: str, fields: Mapping[str, str], first_due_ms: int) -> int:
        """Store a new lottery; returns its creation time. The global index and the
        schedule are written after the lottery itself."""
        (created_ms,) = await self._scripts.call(
            "create_lottery", [self._keys.lottery(lottery_id)], _pairs(fields)
        )
        await self._redis.zadd(self._keys.lotteries_index(), {lottery_id: int(created_ms)})
        await self.set_due(lottery_id, first_due_ms)
        return int(created_ms)

    async def get(self, lottery_id: str) -> dict[str, str]:
        fields = await self._redis.hgetall(self._keys.lottery(lottery_id))
        if not fields:
            raise LotteryNotFound()
        return {str(k): str(v) for k, v in fields.items()}

    async def list_recent(self, limit: int = 50) -> list[tuple[str, dict[str, str]]]:
        newest = await self._redis.zrevrange(self._keys.lotteries_index(), 0, limit - 1)
        ids = [str(i) for i in newest]
        async with self._redis.pipeline(transaction=False) as pipe:
            for lottery_id in ids:
                pipe.hgetall(self._keys.lottery(lottery_id))
            replies = await pipe.execute()
        return [
            (lottery_id, {str(k): str(v) for k, v in fields.items()})
            for lottery_id, fields in zip(ids, replies, strict=True)
            if fields
        ]

    async def cast_ballot(
        self,
        round_id: str,
        *,
        start_ms: int,
        end_ms: int,
        identity: str,
        label: str,
        name: str,
        ref: str = "",
        round_fields: Mapping[str, str] | None = None,
        at_ms: int | None = None,
        retry: RetryKey | None = None,
        limit: AttemptLimit | None = None,
    ) -> Cast:
        """Add a ballot to the round ``[start_ms, end_ms)`` if the store's clock (or
        ``at_ms``) is in it; DrawNotOpen if that round is already closed. Without
        ``round_fields`` a round that does not exist yet is not created (``new_round``):
        a day's first ballot sends them, the others need not. ``name`` (the participant's
        account name) is what the round's top list and search show.

        With ``retry``, the ballot's record is written in the same script, and a request
        whose record exists in this round gets its first ballot back (``replayed``).

        The ballot's ref (and a fairdraw/2 ballot's secret nonce, which opens it if the
        ballot wins) derive from the round's salt and the ballot's index: nothing of them
        is stored, and the answer carries the ref (store/ledger.py). A ``ref`` given is
        stored as it is, in the full layout (ballots written by hand in tests).

        With ``limit``, the attempt is counted in the same step, once it reaches the round,
        and refused with RateLimited over it (nothing written)."""
        address = limit.address if limit is not None else "unknown"
        keys = ballot_keys(self._keys, round_id, name, address)
        keyed: list[str | int] = ["", ""]
        if retry is not None:
            keys.append(self._keys.draw_idempotency(round_id, retry.name))
            keyed = [retry.fingerprint, retry.ttl_ms]
        reply = await self._scripts.call(
            "cast_ballot",
            keys,
            [
                _at(at_ms),
                start_ms,
                end_ms,
                identity,
                ref,
                label,
                name,
                *keyed,
                *([limit.allowed, limit.window_ms] if limit is not None else NO_ATTEMPT_LIMIT),
                *_pairs(round_fields or {}),
            ],
        )
        if reply[0] == "elsewhere":
            return Cast(cast=False, cast_ms=int(reply[1]))
        if reply[0] == "new_round":
            return Cast(cast=False, new_round=True)
        _, index, mine, replayed, element = reply
        ballot = LedgerEntry.parse(int(index), str(element), await self._ledger_terms(round_id))
        return Cast(
            cast=True,
            cast_ms=ballot.entered_ms,
            index=ballot.index,
            mine=int(mine),
            replayed=bool(replayed),
            ref=ballot.ref,
        )

    async def kept_ballots(
        self, round_ids: Sequence[str], name: str
    ) -> list[tuple[str, KeptAction]]:
        """The records a keyed ballot kept under ``name`` in any of ``round_ids``."""
        return await kept_actions(self._redis, self._keys, round_ids, name)

    async def ballot_at(self, round_id: str, index: int) -> tuple[str, int] | None:
        """The public ref and cast time of ballot ``index`` of a round, if it exists."""
        element = await self._redis.lindex(self._keys.ledger(round_id), index)
        if element is None:
            return None
        ballot = LedgerEntry.parse(index, str(element), await self._ledger_terms(round_id))
        return ballot.ref, ballot.entered_ms

    async def close_round(
        self, round_id: str, end_ms: int, round_fields: Mapping[str, str], at_ms: int | None = None
    ) -> int:
        """Close a round whose day has ended (RoundNotOver before ``end_ms``), creating
        it empty if nobody cast a ballot; returns its number of ballots."""
        k = self._keys
        reply = await self._scripts.call(
            "close_round",
            [k.draw_meta(round_id), k.ledger(round_id), k.events(round_id)],
            [_at(at_ms), end_ms, *_pairs(round_fields)],
        )
        return int(reply[1])

    async def advance(self, lottery_id: str, day: str, round_id: str) -> str:
        """Record that rounds up to ``day`` (ISO date) are drawn, adding that day's round
        ``round_id`` to the all-time top list; days only move forward, so a round is
        added once. Returns the last day drawn."""
        k = self._keys
        tops = await self._redis.zrange(k.round_top(round_id), 0, -1, withscores=True)
        pairs = [
            v
            for name, score in cast(list[tuple[str, float]], tops)
            for v in (name, str(int(score)))
        ]
        (last,) = await self._scripts.call(
            "advance_lottery", [k.lottery(lottery_id), k.lottery_top(lottery_id)], [day, *pairs]
        )
        return str(last)

    async def set_due(self, lottery_id: str, due_ms: int | None) -> None:
        """When the lottery's next round is due (None: no round is left)."""
        if due_ms is None:
            await self._redis.zrem(self._keys.schedule_due(), lottery_id)
        else:
            await self._redis.zadd(self._keys.schedule_due(), {lottery_id: due_ms})

    async def due(self, now_ms: int, limit: int = 100) -> list[str]:
        """Lotteries with a round due at or before ``now_ms``, the most overdue first."""
        ids = await self._redis.zrangebyscore(self._keys.schedule_due(), "-inf", now_ms, 0, limit)
        return [str(i) for i in ids]

    async def next_due(self) -> tuple[str, int] | None:
        """The lottery whose round is due next, and when."""
        first = await self._redis.zrange(self._keys.schedule_due(), 0, 0, withscores=True)
        return (str(first[0][0]), int(first[0][1])) if first else None

    async def rounds(self, round_ids: Sequence[str]) -> list[RoundRecord]:
        """What is stored of each round, in order."""
        fields = ["status", "entry_count", "drawn_ms", "winners"]
        async with self._redis.pipeline(transaction=False) as pipe:
            for round_id in round_ids:
                pipe.hmget(self._keys.draw_meta(round_id), fields)
                pipe.llen(self._keys.ledger(round_id))
            replies = await pipe.execute()
        records = []
        for i, round_id in enumerate(round_ids):
            status, count, drawn_ms, winners = replies[2 * i]
            live = int(replies[2 * i + 1])
            records.append(
                RoundRecord(
                    draw_id=round_id,
                    status=status,
                    ballots=int(count) if count is not None else live,
                    drawn_ms=int(drawn_ms) if drawn_ms else None,
                    winners_json=winners,
                )
            )
        return records

    async def ballots_of(self, round_ids: Sequence[str], identity: str) -> list[int]:
        """How many ballots ``identity`` cast in each round."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for round_id in round_ids:
                pipe.hget(self._keys.entrants(round_id), identity)
            replies = await pipe.execute()
        return [int(r) if r is not None else 0 for r in replies]
