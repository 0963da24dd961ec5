"""Draws in the store: the only code that reads or writes a draw's keys."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from fairdraw.domain import fairness
from fairdraw.domain.draws import (
    Draw,
    DrawKind,
    DrawResult,
    DrawStatus,
    EntryIdentity,
    NewDraw,
    Prize,
    RaffleTerms,
    Seal,
    WinnerView,
)
from fairdraw.domain.errors import DrawNotFound, StoreError
from fairdraw.domain.idempotency import RetryKey
from fairdraw.domain.zones import DEFAULT_ZONE
from fairdraw.store.keys import Keys
from fairdraw.store.ledger import LedgerEntry as LedgerEntry
from fairdraw.store.ledger import LedgerTerms, refs_of
from fairdraw.store.scripts import Scripts

# Ledger elements read per LRANGE: one Merkle chunk, so hashing can start per read.
LEDGER_CHUNK = fairness.CHUNK_LEAVES
TERMS_CACHE_SIZE = 4096


@dataclass(frozen=True)
class EntryTerms:
    """What entering needs to know of a draw and never changes after creation."""

    salt: bytes
    entry_identity: EntryIdentity
    kind: DrawKind = DrawKind.giveaway
    raffle: RaffleTerms | None = None
    # A raffle's secret ticket permutation key.
    perm_key: bytes | None = field(default=None, repr=False)
    # The proof version: how entry references are made.
    algorithm: str = fairness.ALGORITHM
    # Entrants prove their GitHub account: a typed username is refused.
    github_sign_in: bool = False
    # When the draw opened (0 while a draft): ledger entry times count from it.
    opened_ms: int = 0

    @property
    def ledger(self) -> LedgerTerms:
        """What reading this draw's ledger elements needs."""
        lottery = self.kind is DrawKind.lottery
        return LedgerTerms(self.algorithm, self.salt, self.opened_ms, ballots=lottery)


@dataclass(frozen=True)
class EntryOutcome:
    """``created`` for a new entry (and for a keyed request's replay of one); ``replayed``
    when the entry is the one a keyed request made before."""

    created: bool
    entry: LedgerEntry
    replayed: bool = False


@dataclass(frozen=True)
class BeaconBinding:
    """What the seal script needs to fix a draw's beacon round: the chain's timing and
    how far after the seal the round must be."""

    genesis_time: int
    period: int
    margin_seconds: int


@dataclass(frozen=True)
class Closing:
    status: DrawStatus
    entry_count: int
    closed_ms: int


@dataclass(frozen=True)
class Recorded:
    recorded: bool
    bundle_json: str
    winners_json: str
    drawn_ms: int


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _winner_view(item: dict[str, Any]) -> WinnerView:
    return WinnerView(
        slot=int(item.get("slot", -1)),
        prize=str(item.get("prize", "")),
        index=int(item["index"]),
        ref=str(item["ref"]),
        login=str(item.get("login", "")),
        name=str(item.get("name", "")),
        avatar_url=item.get("avatar_url"),
        html_url=item.get("html_url"),
    )


def draw_from_hash(draw_id: str, fields: dict[str, str], live_count: int) -> Draw:
    """Build a Draw from its meta hash; ``live_count`` is the ledger length right now."""
    status = DrawStatus(fields["status"])
    seal = None
    if fields.get("root"):
        seal = Seal(
            root=fields["root"],
            entry_count=int(fields["entry_count"]),
            sealed_ms=int(fields["sealed_ms"]),
            beacon_round=_int(fields.get("beacon_round")),
            beacon_due_ms=_int(fields.get("beacon_due_ms")),
            beacon_chain=fields["beacon"] if fields.get("beacon", "none") != "none" else None,
        )
    result = None
    if status is DrawStatus.drawn and fields.get("bundle"):
        result = result_from_json(fields["bundle"], fields["winners"], int(fields["drawn_ms"]))
    entry_count = _int(fields.get("entry_count"))
    return Draw(
        id=draw_id,
        kind=DrawKind(fields["kind"]),
        title=fields["title"],
        description=fields.get("description", ""),
        prizes=tuple(Prize(p["name"], int(p["quantity"])) for p in json.loads(fields["prizes"])),
        status=status,
        created_ms=int(fields["created_ms"]),
        created_by=fields.get("created_by", ""),
        entry_count=entry_count if entry_count is not None else live_count,
        deadline_ms=_int(fields.get("deadline_ms")),
        duration_ms=_int(fields.get("duration_ms")),
        opened_ms=_int(fields.get("opened_ms")),
        closed_ms=_int(fields.get("closed_ms")),
        commitment=fields.get("commitment"),
        entry_identity=EntryIdentity(fields.get("entry_identity", EntryIdentity.github.value)),
        seal=seal,
        result=result,
        raffle=RaffleTerms.from_fields(fields) if fields["kind"] == DrawKind.raffle else None,
        reveal_step=_int(fields.get("reveal")),
        auto_draw=fields.get("auto_draw") == "1",
        algorithm=fields.get("algorithm", fairness.ALGORITHM),
        trusts_operator=fields.get("beacon") == "none",
        embed_origins=tuple(fields.get("embed_origins", "").split()),
        github_sign_in=fields.get("github_sign_in") == "1",
        imported=fields.get("source") == "list",
        time_zone=fields.get("time_zone") or DEFAULT_ZONE,
        lottery_id=fields.get("lottery_id", ""),
    )


def result_from_json(bundle_json: str, winners_json: str, drawn_ms: int) -> DrawResult:
    winners = json.loads(winners_json)
    return DrawResult(
        bundle=json.loads(bundle_json),
        winners=tuple(_winner_view(w) for w in winners["winners"]),
        alternates=tuple(_winner_view(w) for w in winners["alternates"]),
        unawarded=tuple(winners["unawarded"]),
        drawn_ms=drawn_ms,
    )


def new_draw_fields(beacon: str | None) -> dict[str, str]:
    """The proof fields of a new draw: fairdraw/2, and the chain hash of the beacon it
    binds at its seal ("none": it trusts its operator, and says so for good)."""
    return {"algorithm": fairness.ALGORITHM_V2, "beacon": beacon or "none"}


# The ``enter`` script's limit arguments that count nothing.
NO_ATTEMPT_LIMIT: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class AttemptLimit:
    """How many entry attempts one client address bucket may make on a draw per window
    (a sliding window counter, counted by the ``enter`` script itself)."""

    address: str
    allowed: int
    window_ms: int


def enter_keys(keys: Keys, draw_id: str, label: str, address: str = "unknown") -> list[str]:
    """The KEYS of the ``enter`` script for an entry labelled ``label`` from the client
    address bucket ``address``."""
    return [
        *keys.draw_keys(draw_id),
        keys.events(draw_id),
        keys.minutes(draw_id),
        keys.names(draw_id, label),
        keys.entry_attempts(draw_id, address),
    ]


class DrawStore:
    """Draw persistence: one script per state change, all keys under the draw's hash tag."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)
        # A draw's entry terms never change once created: entering needs no extra round trip.
        self._terms: OrderedDict[str, EntryTerms] = OrderedDict()

    async def ping(self) -> bool:
        """True when the store answers PING."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, StoreError):
            return False

    async def create(
        self,
        draw_id: str,
        new: NewDraw,
        created_by: str,
        salt: bytes,
        perm_key: bytes | None = None,
        proof: Mapping[str, str] | None = None,
    ) -> Draw:
        """Store a new draft draw; a raffle (``new.raffle``) needs its ``perm_key``.
        ``proof`` is :func:`new_draw_fields` (a fairdraw/2 draw), or nothing: fairdraw/1."""
        fields: dict[str, str] = {
            "id": draw_id,
            **(proof or {}),
            "kind": new.kind.value,
            "entry_identity": new.entry_identity.value,
            "title": new.title,
            "description": new.description,
            "prizes": json.dumps([p.to_json() for p in new.prizes], ensure_ascii=False),
            "created_by": created_by,
            "salt": salt.hex(),
        }
        if new.deadline_ms is not None:
            fields["deadline_ms"] = str(new.deadline_ms)
        if new.duration_ms is not None:
            fields["duration_ms"] = str(new.duration_ms)
        if new.auto_draw:
            fields["auto_draw"] = "1"
        if new.embed_origins:
            fields["embed_origins"] = " ".join(new.embed_origins)
        if new.github_sign_in:
            fields["github_sign_in"] = "1"
        if new.time_zone != DEFAULT_ZONE:
            fields["time_zone"] = new.time_zone
        if new.raffle is not None:
            if perm_key is None:
                raise ValueError("a raffle needs its ticket permutation key")
            fields.update(new.raffle.to_fields(), perm_key=perm_key.hex())
        args = [item for pair in fields.items() for item in pair]
        (created_ms,) = await self._scripts.call(
            "create_draw", [self._keys.draw_meta(draw_id)], args
        )
        # The global index is written after the draw; readers skip ids whose draw is gone.
        await self._redis.zadd(self._keys.draws_index(), {draw_id: int(created_ms)})
        return await self.get(draw_id)

    async def get(self, draw_id: str) -> Draw:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._keys.draw_meta(draw_id))
            pipe.llen(self._keys.ledger(draw_id))
            fields, count = await pipe.execute()
        if not fields:
            raise DrawNotFound()
        return draw_from_hash(draw_id, fields, int(count))

    async def list_recent(self, limit: int = 50, offset: int = 0) -> list[Draw]:
        ids = [
            str(i)
            for i in await self._redis.zrevrange(
                self._keys.draws_index(), offset, offset + limit - 1
            )
        ]
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for draw_id in ids:
                pipe.hgetall(self._keys.draw_meta(draw_id))
                pipe.llen(self._keys.ledger(draw_id))
            replies = await pipe.execute()
        draws = []
        for i, draw_id in enumerate(ids):
            fields, count = replies[2 * i], replies[2 * i + 1]
            if fields:
                draws.append(draw_from_hash(draw_id, fields, int(count)))
        return draws

    async def open(self, draw_id: str, seed: bytes, commitment: str) -> int | None:
        """Open a draft (harmless when open); returns its deadline (ms), if it has one."""
        (deadline,) = await self._scripts.call(
            "open_draw",
            [self._keys.draw_meta(draw_id), self._keys.events(draw_id)],
            [seed.hex(), commitment],
        )
        return _int(deadline)

    async def edit_draft(self, draw_id: str, new: NewDraw) -> Draw:
        """Replace the settings of draft ``draw_id`` with ``new`` (InvalidTransition once
        it is no draft); its id, kind, creator, salt and proof fields stay."""
        fields: dict[str, str] = {
            "entry_identity": new.entry_identity.value,
            "title": new.title,
            "description": new.description,
            "prizes": json.dumps([p.to_json() for p in new.prizes], ensure_ascii=False),
        }
        optional = {
            "deadline_ms": str(new.deadline_ms) if new.deadline_ms is not None else "",
            "duration_ms": str(new.duration_ms) if new.duration_ms is not None else "",
            "auto_draw": "1" if new.auto_draw else "",
            "embed_origins": " ".join(new.embed_origins),
            "github_sign_in": "1" if new.github_sign_in else "",
            "time_zone": new.time_zone if new.time_zone != DEFAULT_ZONE else "",
        }
        fields.update((name, value) for name, value in optional.items() if value)
        if new.raffle is not None:
            fields.update(new.raffle.to_fields())
        cleared = [name for name, value in optional.items() if not value]
        args = [str(len(cleared)), *cleared, *(item for pair in fields.items() for item in pair)]
        await self._scripts.call("edit_draft", [self._keys.draw_meta(draw_id)], args)
        return await self.get(draw_id)

    async def entry_terms(self, draw_id: str) -> EntryTerms:
        """The draw's secret salt for entry references, who may enter and, for a raffle,
        its terms and ticket permutation key (cached once the draw has opened: none of
        these change after that, while a draft's may be edited)."""
        terms = self._terms.get(draw_id)
        if terms is None:
            names = ["salt", "entry_identity", "kind", "perm_key", "algorithm", "status"]
            names += ["github_sign_in", "opened_ms", *RaffleTerms.FIELDS]
            values = await self._redis.hmget(self._keys.draw_meta(draw_id), names)
            stored = {k: str(v) for k, v in zip(names, values, strict=True) if v is not None}
            if "salt" not in stored:
                raise DrawNotFound()
            kind = DrawKind(stored["kind"])
            raffle = kind is DrawKind.raffle
            terms = EntryTerms(
                salt=bytes.fromhex(stored["salt"]),
                entry_identity=EntryIdentity(
                    stored.get("entry_identity", EntryIdentity.github.value)
                ),
                kind=kind,
                raffle=RaffleTerms.from_fields(stored) if raffle else None,
                perm_key=bytes.fromhex(stored["perm_key"]) if raffle else None,
                algorithm=stored.get("algorithm", fairness.ALGORITHM),
                github_sign_in=stored.get("github_sign_in") == "1",
                opened_ms=int(stored.get("opened_ms") or 0),
            )
            if stored.get("status") == DrawStatus.draft.value:
                return terms
            self._terms[draw_id] = terms
            if len(self._terms) > TERMS_CACHE_SIZE:
                self._terms.popitem(last=False)
        return terms

    async def seed(self, draw_id: str) -> bytes | None:
        value = await self._redis.hget(self._keys.draw_meta(draw_id), "seed")
        return bytes.fromhex(str(value)) if value else None

    async def enter(
        self,
        draw_id: str,
        identity: str,
        label: str,
        retry: RetryKey | None = None,
        limit: AttemptLimit | None = None,
    ) -> EntryOutcome:
        """Append an entry; with ``retry``, its record is written in the same script, and a
        request whose record exists gets its entry back (IdempotencyKeyReused if the record
        belongs to another request). With ``limit``, the attempt is counted first, in the
        same step, and refused with RateLimited over it."""
        address = limit.address if limit is not None else "unknown"
        keys = enter_keys(self._keys, draw_id, label, address)
        args: list[str | int] = [identity, label]
        args += [limit.allowed, limit.window_ms] if limit is not None else NO_ATTEMPT_LIMIT
        if retry is not None:
            keys.append(self._keys.draw_idempotency(draw_id, retry.name))
            args += [retry.fingerprint, retry.ttl_ms]
        created, index, element, replayed = await self._scripts.call("enter", keys, args)
        terms = await self.ledger_terms(draw_id)
        return EntryOutcome(
            created=bool(created),
            entry=LedgerEntry.parse(int(index), element, terms),
            replayed=bool(replayed),
        )

    async def close(self, draw_id: str) -> Closing:
        status, count, closed_ms = await self._scripts.call(
            "close_draw",
            [self._keys.draw_meta(draw_id), self._keys.ledger(draw_id), self._keys.events(draw_id)],
        )
        return Closing(DrawStatus(status), int(count), int(closed_ms))

    async def seal(
        self, draw_id: str, root: str, entry_count: int, binding: BeaconBinding | None = None
    ) -> Seal:
        """Record the root; with ``binding`` (a draw that binds a beacon), the round is
        fixed from the store's clock at the seal, in the same step."""
        args: list[str | int] = [root, entry_count]
        if binding is not None:
            args += [binding.genesis_time, binding.period, binding.margin_seconds]
        root, sealed_ms, beacon_round = await self._scripts.call(
            "seal_draw", [self._keys.draw_meta(draw_id), self._keys.events(draw_id)], args
        )
        return Seal(
            root=root,
            entry_count=entry_count,
            sealed_ms=int(sealed_ms),
            beacon_round=_int(beacon_round),
        )

    async def record_result(self, draw_id: str, bundle_json: str, winners_json: str) -> Recorded:
        recorded, bundle, winners, drawn_ms = await self._scripts.call(
            "record_result",
            [self._keys.draw_meta(draw_id), self._keys.events(draw_id)],
            [bundle_json, winners_json],
        )
        return Recorded(bool(recorded), bundle, winners, int(drawn_ms))

    async def request_draw(self, draw_id: str) -> None:
        """Mark the draw to be drawn by the scheduler as soon as it can be (a manager
        asked, and the draw waits for its beacon round)."""
        await self._redis.hset(self._keys.draw_meta(draw_id), "auto_draw", "1")

    async def cancel(self, draw_id: str) -> None:
        await self._scripts.call(
            "cancel_draw", [self._keys.draw_meta(draw_id), self._keys.events(draw_id)]
        )

    async def reveal(self, draw_id: str, step: int, last_step: int) -> bool:
        """Record that a drawn draw's presentation shows ``step`` (0..``last_step``);
        True if that changed the step (and announced it)."""
        _, changed = await self._scripts.call(
            "reveal_step",
            [self._keys.draw_meta(draw_id), self._keys.events(draw_id)],
            [step, last_step],
        )
        return bool(changed)

    async def iter_ledger(self, draw_id: str, count: int) -> AsyncIterator[list[str]]:
        """The first ``count`` ledger elements, in chunks, in index order."""
        for start in range(0, count, LEDGER_CHUNK):
            yield await self.ledger_slice(draw_id, start, min(start + LEDGER_CHUNK, count))

    async def ledger_slice(self, draw_id: str, start: int, stop: int) -> list[str]:
        """Ledger elements ``start .. stop-1``."""
        key = self._keys.ledger(draw_id)
        # decode_responses=True: the client answers str.
        return cast(list[str], await self._redis.lrange(key, start, stop - 1))

    async def refs_slice(self, draw_id: str, start: int, stop: int) -> list[str]:
        """Public references of entries ``start .. stop-1``."""
        elements = await self.ledger_slice(draw_id, start, stop)
        return refs_of(elements, await self.ledger_terms(draw_id), start)

    async def entries_slice(self, draw_id: str, start: int, stop: int) -> list[LedgerEntry]:
        """Ledger entries ``start .. stop-1`` of a giveaway or lottery round."""
        elements = await self.ledger_slice(draw_id, start, stop)
        terms = await self.ledger_terms(draw_id)
        return [LedgerEntry.parse(start + n, e, terms) for n, e in enumerate(elements)]

    async def ledger_terms(self, draw_id: str) -> LedgerTerms:
        """What reading the draw's ledger elements needs (its salt, proof version and
        opening time; cached with its entry terms)."""
        return (await self.entry_terms(draw_id)).ledger

    async def ledger_length(self, draw_id: str) -> int:
        return int(await self._redis.llen(self._keys.ledger(draw_id)))

    async def chunk_roots(self, draw_id: str) -> dict[int, bytes]:
        """Merkle roots of complete ledger chunks hashed so far, by chunk number."""
        stored = await self._redis.hgetall(self._keys.chunk_roots(draw_id))
        return {int(k): bytes.fromhex(str(v)) for k, v in stored.items()}

    async def save_chunk_root(self, draw_id: str, chunk: int, root: bytes) -> None:
        """Record the root of complete chunk ``chunk`` (the first one recorded stays:
        every process computes the same root from the same immutable entries)."""
        await self._redis.hsetnx(self._keys.chunk_roots(draw_id), str(chunk), root.hex())

    async def iter_refs(self, draw_id: str, count: int) -> AsyncIterator[list[str]]:
        """The public references of entries 0..count-1, in chunks of LEDGER_CHUNK."""
        terms = await self.ledger_terms(draw_id)
        start = 0
        async for chunk in self.iter_ledger(draw_id, count):
            yield refs_of(chunk, terms, start)
            start += len(chunk)

    async def ledger_refs(self, draw_id: str, count: int) -> list[str]:
        """The public references of entries 0..count-1."""
        refs: list[str] = []
        async for chunk in self.iter_refs(draw_id, count):
            refs.extend(chunk)
        return refs

    async def entries_at(self, draw_id: str, indexes: Sequence[int]) -> list[LedgerEntry]:
        elements = await ledger_elements(self._redis, self._keys.ledger(draw_id), indexes)
        terms = await self.ledger_terms(draw_id)
        return [LedgerEntry.parse(i, e, terms) for i, e in zip(indexes, elements, strict=True)]


async def ledger_elements(redis: Redis, key: str, indexes: Sequence[int]) -> list[str]:
    """The elements at ``indexes`` of the ledger list ``key`` (each must exist), in one
    round trip."""
    if not indexes:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for index in indexes:
            pipe.lindex(key, index)
        elements = await pipe.execute()
    return [str(e) for e in elements]
