"""One lottery round of many ballots: filling it, drawing it, and what it costs the store.

A private embedded store (the configuration ``fairdraw serve`` runs: AOF, ``appendfsync
always``) gets a UTC lottery created through ``LotteryService``, starting today. The
service casts the round's first ballot (``at_ms`` inside today), which creates the round's
draw with its fields; the rest are pipelined ``EVALSHA cast_ballot`` calls with the same
keys and ballot arguments (an injected ``at_ms`` spread over the day, identities
``u:bench-NNNNNN`` in rotation, a fresh random reference each), without the round fields:
the script stores those only when a ballot creates the round. Then
``LotteryService.draw_round`` (close_round + seal + draw) is timed as the scheduler would
call it after midnight, with its three steps timed inside it by thin store subclasses.

Afterwards, on the same ledger: the ledger read and ``fairness.merkle_root`` alone, the
whole seal again with the hashing workers warm, and the seal as it would be if complete
chunks had been hashed while the round was open (as giveaways do): the chunks hashed one
by one, then the seal with their roots known.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

from redis.asyncio import Redis

from bench.bench_draw import info_int, memory_usage, wait_for_persistence
from bench.harness import BenchError, Stopwatch, refused_tcp_port
from bench.lottery_http import LOTTERY_ZONE, participant_name
from bench.profiles import PROFILE_TTL_SECONDS
from fairdraw.domain import fairness, lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, DrawStatus, Seal
from fairdraw.services import sealing
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.lotteries import LotteryService
from fairdraw.store.connection import connect
from fairdraw.store.draws import BeaconBinding, DrawStore
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore, ballot_keys
from fairdraw.store.profiles import ProfileCache
from fairdraw.store.scripts import script_source

# EVALSHA calls per pipeline round trip while filling.
FILL_BATCH = 5_000
MANAGER = Caller(User(username="bench", display_name="bench", role=Role.manager, created_ms=0))


@dataclass(frozen=True)
class RoundFigures:
    """Everything measured on one round (times in seconds, sizes in bytes)."""

    ballots: int
    identities: int
    fill_s: float
    draw_round_s: float
    close_s: float
    seal_s: float
    draw_s: float
    read_s: float
    merkle_s: float
    warm_seal_s: float
    chunks: int
    chunks_hash_s: float
    seal_with_chunks_s: float
    used_memory_delta: int
    key_bytes_filled: dict[str, int]
    key_bytes_drawn: dict[str, int]
    winner: int

    @property
    def fill_rate(self) -> float:
        return (self.ballots - 1) / self.fill_s if self.fill_s else 0.0

    def per_ballot(self, size: int) -> float:
        return size / self.ballots if self.ballots else 0.0


@dataclass
class _Marks:
    """perf_counter() when the round was closed and when its seal was stored."""

    closed: float = 0.0
    sealed: float = 0.0
    seals: list[str] = field(default_factory=list)


class _MarkingLotteryStore(LotteryStore):
    """LotteryStore that notes when close_round returns, to split draw_round's time."""

    def __init__(self, redis: Redis, keys: Keys, marks: _Marks) -> None:
        super().__init__(redis, keys)
        self._marks = marks

    async def close_round(
        self, round_id: str, end_ms: int, round_fields: Mapping[str, str], at_ms: int | None = None
    ) -> int:
        count = await super().close_round(round_id, end_ms, round_fields, at_ms)
        self._marks.closed = time.perf_counter()
        return count


class _MarkingDrawStore(DrawStore):
    """DrawStore that notes when the seal is stored, to split draw_round's time."""

    def __init__(self, redis: Redis, keys: Keys, marks: _Marks) -> None:
        super().__init__(redis, keys)
        self._marks = marks

    async def seal(
        self, draw_id: str, root: str, entry_count: int, binding: BeaconBinding | None = None
    ) -> Seal:
        sealed = await super().seal(draw_id, root, entry_count, binding)
        self._marks.sealed = time.perf_counter()
        self._marks.seals.append(root)
        return sealed


async def fill_round(
    redis: Redis,
    keys: Keys,
    round_id: str,
    bounds: tuple[int, int],
    first: int,
    count: int,
    identities: int,
) -> None:
    """Ballots ``first .. count-1`` through cast_ballot, pipelined; ballot n is cast by
    participant n mod ``identities`` at a time that grows with n inside ``bounds``."""
    sha = str(await redis.script_load(script_source("cast_ballot")))
    start_ms, end_ms = bounds
    span = end_ms - start_ms - 2
    pipe = redis.pipeline(transaction=False)
    expected = first
    for n in range(first, count):
        name = participant_name(n % identities)
        round_keys = ballot_keys(keys, round_id, name)
        pipe.execute_command(
            "EVALSHA",
            sha,
            len(round_keys),
            *round_keys,
            start_ms + 1 + n * span // count,
            start_ms,
            end_ms,
            ACCOUNT_PREFIX + name,
            "",  # as the service sends: the store derives the ref
            name,
            name,
        )
        if len(pipe) >= FILL_BATCH or n == count - 1:
            for reply in await pipe.execute():
                if reply[:3] != ["ok", "cast", expected]:
                    raise BenchError(f"ballot {expected} answered {reply!r}")
                expected += 1


async def round_key_sizes(redis: Redis, round_id: str) -> dict[str, int]:
    """MEMORY USAGE (every element counted) of each key of the round's draw."""
    names = [str(k) async for k in redis.scan_iter(match=f"*{{d:{round_id}}}*", count=1000)]
    return {name.rsplit(":", 1)[-1]: await memory_usage(redis, name) for name in sorted(names)}


async def measure_round(ballots: int, identities: int) -> RoundFigures:
    """Fill a round with ``ballots`` ballots from ``identities`` participants in a private
    embedded store, draw it, and measure."""
    with TemporaryDirectory(prefix="fdbench-") as tmp, refused_tcp_port() as github_port:
        store = EmbeddedStore(Path(tmp))
        url = store.start()
        redis = connect(url)
        # GitHub is never asked: every ballot is an account's. A refusing port says so.
        github = GitHubClient(
            f"http://127.0.0.1:{github_port}",
            None,
            5.0,
            ProfileCache(redis, Keys(), PROFILE_TTL_SECONDS),
        )
        try:
            return await _measure(redis, github, ballots, identities)
        finally:
            await github.aclose()
            await redis.aclose()
            store.stop()


async def _measure(
    redis: Redis, github: GitHubClient, ballots: int, identities: int
) -> RoundFigures:
    keys = Keys()
    marks = _Marks()
    draws = _MarkingDrawStore(redis, keys, marks)
    service = LotteryService(
        _MarkingLotteryStore(redis, keys, marks), DrawingService(draws, github), LOTTERY_ZONE
    )
    zone = lotteries.zone_of(LOTTERY_ZONE)
    day = lotteries.local_day(zone, await LotteryStore(redis, keys).now_ms())
    lottery = await service.create(
        MANAGER,
        name="bench: one round",
        prize="Coffee",
        timezone=LOTTERY_ZONE,
        start=day.isoformat(),
    )
    start_ms, end_ms = lotteries.day_bounds(zone, day)
    await wait_for_persistence(redis)
    memory_before = await info_int(redis, "memory", "used_memory")

    first = Caller(User(participant_name(0), participant_name(0), Role.participant, 0))
    receipt = await service.cast(lottery.id, first, at_ms=start_ms + 1)
    round_id = receipt.round_id
    with Stopwatch() as fill:
        await fill_round(redis, keys, round_id, (start_ms, end_ms), 1, ballots, identities)
    await wait_for_persistence(redis)
    used_memory_delta = await info_int(redis, "memory", "used_memory") - memory_before
    filled = await round_key_sizes(redis, round_id)
    for entry in await draws.entries_at(round_id, [0, ballots - 1]):
        if not entry.identity.startswith(ACCOUNT_PREFIX) or entry.index >= ballots:
            raise BenchError(f"ballot {entry.index} reads back as {entry!r}")

    started = time.perf_counter()
    await service.draw_round(lottery.id, day, at_ms=end_ms)
    finished = time.perf_counter()
    drawn = await draws.get(round_id)
    if drawn.status is not DrawStatus.drawn or drawn.seal is None or drawn.result is None:
        raise BenchError(f"the round ended {drawn.status.value}, not drawn")
    if drawn.seal.entry_count != ballots or marks.seals != [drawn.seal.root]:
        raise BenchError(f"unexpected seal {drawn.seal!r}")
    root = drawn.seal.root
    after = await _after_the_draw(draws, round_id, ballots, root)
    return RoundFigures(
        ballots=ballots,
        identities=min(identities, ballots),
        fill_s=fill.seconds,
        draw_round_s=finished - started,
        close_s=marks.closed - started,
        seal_s=marks.sealed - marks.closed,
        draw_s=finished - marks.sealed,
        read_s=after.read_s,
        merkle_s=after.merkle_s,
        warm_seal_s=after.warm_seal_s,
        chunks=after.chunks,
        chunks_hash_s=after.chunks_hash_s,
        seal_with_chunks_s=after.seal_with_chunks_s,
        used_memory_delta=used_memory_delta,
        key_bytes_filled=filled,
        key_bytes_drawn=await round_key_sizes(redis, round_id),
        winner=drawn.result.winners[0].index if drawn.result.winners else -1,
    )


@dataclass(frozen=True)
class _Rework:
    read_s: float
    merkle_s: float
    warm_seal_s: float
    chunks: int
    chunks_hash_s: float
    seal_with_chunks_s: float


async def _after_the_draw(draws: DrawStore, round_id: str, count: int, root: str) -> _Rework:
    """The seal's parts again on the drawn round, each checked against its root."""

    async def read(start: int, stop: int) -> list[str]:
        return await draws.refs_slice(round_id, start, stop)

    with Stopwatch() as read_all:
        refs = await draws.ledger_refs(round_id, count)
    with Stopwatch() as merkle:
        alone = fairness.merkle_root(refs).hex()
    del refs
    with Stopwatch() as warm:
        whole = (await sealing.ledger_root(count, read, {})).hex()
    # What hashing each chunk as it fills would have done while the round was open:
    # one chunk at a time, as EnteringService does for giveaways.
    known: dict[int, bytes] = {}
    size = fairness.CHUNK_LEAVES
    with Stopwatch() as chunks:
        for chunk in range(count // size):
            start = chunk * size
            known[chunk] = await sealing.chunk_root(start, await read(start, start + size))
    with Stopwatch() as with_chunks:
        rest = (await sealing.ledger_root(count, read, known)).hex()
    if not alone == whole == rest == root:
        raise BenchError(f"roots disagree: seal {root}, {alone}, {whole}, {rest}")
    return _Rework(
        read_all.seconds,
        merkle.seconds,
        warm.seconds,
        len(known),
        chunks.seconds,
        with_chunks.seconds,
    )
