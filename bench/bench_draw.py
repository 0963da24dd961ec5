"""Seal and draw at scale: close + seal and draw of 10^5 and 10^6 entries (10^7 on request),
as ``fairdraw/2`` draws (the default for new draws) and, beside them, ``fairdraw/1`` draws.

For each size and algorithm, a private embedded store (the configuration ``fairdraw
serve`` runs: AOF, ``appendfsync always``) in a temporary directory gets one open
giveaway, created and opened through ``DrawingService`` wired as the server wires it:
``DrawProofs`` with a real ``DrawLogService`` on the same store, an Ed25519
``SigningKey``, and a ``BeaconClient`` pinned to a test drand chain that a loopback relay
serves (``tests/support/drand_relay.py``: one round a second), bound with a margin of 0 s,
so a draw waits at most a second for its round. A ``fairdraw/1`` draw is the same giveaway
with its hash's ``algorithm`` and ``beacon`` fields removed before it opens, which is how
draws made before ``fairdraw/2`` are stored.

The ledger and entrants hash are bulk-loaded in the exact format of enter.lua, with the
references of the draw's algorithm (``fairdraw/2``: sha256 of the nonce the service derives
from the draw's salt and the identity, so that the bundle's openings verify). The chunk
hashing a running server does while entries arrive (``seal_complete_chunks``: every
complete 65,536-entry chunk, in worker processes started before anything is timed) is
timed on its own; then, timed apart:

- close + seal: ``DrawingService.close()`` (close script, the rest of the ledger read and
  hashed, seal script binding the beacon round, the ``seal`` leaf appended to the log);
- the beacon wait: from the end of the seal to the bound round's time. The benchmark
  sleeps it before the draw, so the draw itself never sleeps;
- the draw: ``draw_winners()`` (the round fetched from the relay and its BLS signature
  verified, selection, openings, the bundle, the ``draw`` leaf appended to the log with
  its inclusion proof and a signed tree head, the result recorded);

beside the ledger read alone, ``fairness.merkle_root`` alone on one core (the CPU floor of
a seal from scratch), a whole seal from scratch with warm hashing workers, and the round's
fetch and verification alone. Peak RSS is the benchmark process's (where the services
run, as in a server worker): its high-water mark from the start of the close to the end
of the draw (``VmHWM``, reset through ``/proc/self/clear_refs``). Store memory per entry is
``MEMORY USAGE ... SAMPLES 0`` of the two keys and the ``used_memory`` delta, each divided
by the entry count. Every bundle is checked with ``verify_bundle_bytes`` against the
draw's entries file, the test chain pinned; the benchmark fails if one does not pass.

GitHub is a refusing port; the winners' profiles are put in the cache before the draw
(as they are when a draw follows its entries within the cache's hour), and a lookup that
missed would show in the output.

Run from the repository root: .venv/bin/python bench/bench_draw.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from bench import cpu, harness
from bench.harness import (
    BenchError,
    Stopwatch,
    print_section,
    refused_tcp_port,
    reproduce_command,
)
from bench.ledger import (
    bulk_load,
    check_loaded,
)
from bench.machine import describe_machine
from bench.profiles import PROFILE_TTL_SECONDS, bench_profile, prefill_profiles
from fairdraw.domain import fairness
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.beacon import Chain
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw, DrawStatus
from fairdraw.domain.signing import SigningKey
from fairdraw.domain.verification import verify_bundle_bytes
from fairdraw.services import sealing
from fairdraw.services.beacon import BeaconClient
from fairdraw.services.draw_log import DrawLogService
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.proofs import DrawProofs
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.connection import connect
from fairdraw.store.draw_log import DrawLogStore
from fairdraw.store.draws import DrawStore, LedgerEntry
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache
from tests.support.drand_relay import DrandRelays, TestChain, sign_round

DEFAULT_SIZES = "100000,1000000"
ALGORITHMS = (fairness.ALGORITHM_V2, fairness.ALGORITHM)
TARGET_SECONDS_AT_1M = 2.0
TARGET_BYTES_PER_ENTRY = 80.0
# Six days after the draw opened: how late the synthetic entries are (ms).
ENTRY_OFFSET_MS = 6 * 86_400_000
IDLE_THRESHOLD = 0.10
# The seal binds the first round after the seal time itself: the wait is under a period.
BEACON_MARGIN_SECONDS = 0
RELAY_TIMEOUT_SECONDS = 5.0
# Past the round's time, so that neither the relay nor the client sees it as early.
PAST_ROUND_SECONDS = 0.005
ROUND_FETCHES = 5
PRIZES = [
    {"name": "Grand prize", "quantity": 1},
    {"name": "Runner-up", "quantity": 2},
    {"name": "Sticker pack", "quantity": 7},
]
ACTOR = Caller(user=User(username="bench", display_name="bench", role=Role.admin, created_ms=0))


@dataclass(frozen=True)
class SizeFigures:
    """Everything measured for one ledger size under one algorithm."""

    algorithm: str
    entries: int
    load_s: float
    read_s: float
    merkle_s: float
    open_hash_s: float
    close_s: float
    wait_s: float
    draw_s: float
    round_fetch_s: float
    warm_root_s: float
    verify_s: float
    rss_before: int
    rss_peak: int
    ledger_bytes: int
    entrants_bytes: int
    used_memory_delta: int
    profile_misses: int
    log_size: int
    other_cores: float
    stolen_cores: float

    @property
    def seal_and_draw_s(self) -> float:
        """Close + seal and draw, the beacon wait excluded."""
        return self.close_s + self.draw_s

    @property
    def binds_beacon(self) -> bool:
        return self.algorithm == fairness.ALGORITHM_V2

    def per_entry(self, size: int) -> float:
        return size / self.entries if self.entries else 0.0


@dataclass(frozen=True)
class Beacon:
    """The test chain and the loopback relay that serves it."""

    test_chain: TestChain
    relay: str


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(word.replace("_", "")) for word in text.split(",") if word.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Close + seal and draw of large ledgers, and store memory per entry.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=DEFAULT_SIZES,
        help="comma-separated entry counts, e.g. 100000,1000000,10000000",
    )
    parser.add_argument(
        "--algorithms",
        type=harness.parts_parser(ALGORITHMS),
        default=",".join(ALGORITHMS),
        help=f"comma-separated, of {', '.join(ALGORITHMS)}",
    )
    harness.add_wait_idle_option(parser, "each size")
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> list[str]:
    return [
        f"--sizes={','.join(str(s) for s in args.sizes)}",
        f"--algorithms={','.join(args.algorithms)}",
        f"--wait-idle={args.wait_idle:g}",
    ]


async def info_int(redis: Redis, section: str, field: str) -> int:
    info = await redis.info(section)
    return int(info[field])


async def wait_for_persistence(redis: Redis) -> None:
    """Wait until no AOF rewrite runs: a rewrite forks the store and competes for the
    two cores with whatever is being timed."""
    while True:
        info = await redis.info("persistence")
        if not int(info["aof_rewrite_in_progress"]) and not int(info["aof_rewrite_scheduled"]):
            return
        await asyncio.sleep(0.2)


async def memory_usage(redis: Redis, key: str) -> int:
    # SAMPLES 0 measures every element, not an estimate from a sample.
    size = await redis.memory_usage(key, samples=0)
    if size is None:
        raise BenchError(f"{key} does not exist")
    return size


def process_memory(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (peak RSS) of this process, bytes."""
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    if found is None:
        raise BenchError(f"/proc/self/status has no {field}")
    return int(found[1]) * 1024


def reset_peak_memory() -> None:
    """Start this process's peak RSS afresh from its current RSS (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as exc:
        raise BenchError(f"cannot reset the peak RSS: {exc}") from exc


def v2_entry(salt: bytes, index: int, entered_ms: int) -> LedgerEntry:
    """Entrant ``index``'s ledger entry in a fairdraw/2 draw salted with ``salt``: the
    reference the entry service makes, from the nonce it derives."""
    profile = bench_profile(index)
    identity = profile.identity
    nonce = fairness.entry_nonce(salt, identity)
    return LedgerEntry(
        index=index,
        ref=fairness.entry_ref_v2(identity, nonce),
        entered_ms=entered_ms,
        identity=identity,
        label=profile.login,
    )


async def load_ledger(
    redis: Redis, keys: Keys, draws: DrawStore, draw: Draw, count: int
) -> list[str]:
    """Fill the open draw's ledger with ``count`` entrants, references of its algorithm,
    and read the first and last back through DrawStore; the refs in index order."""
    salt = (await draws.entry_terms(draw.id)).salt
    # As late as in a draw open for six days: the stored time offset has 9 digits.
    entered_ms = int(time.time() * 1000) + ENTRY_OFFSET_MS
    if draw.algorithm == fairness.ALGORITHM:
        refs = await bulk_load(redis, keys, draw.id, salt, count, entered_ms)
        await check_loaded(draws, draw.id, salt, count)
        return refs
    refs = await bulk_load(redis, keys, draw.id, salt, count, entered_ms, v2_entry)
    for entry in await draws.entries_at(draw.id, [0, count - 1]):
        if entry != v2_entry(salt, entry.index, entry.entered_ms):
            raise BenchError(f"ledger entry {entry.index} reads back as {entry!r}")
    return refs


@dataclass(frozen=True)
class DrawStack:
    """DrawingService and the parts of its fairdraw/2 proofs the benchmark looks at."""

    service: DrawingService
    client: BeaconClient
    draw_log: DrawLogService


@contextmanager
def beacon_relay() -> Iterator[Beacon]:
    """A test chain of one round a second, served by a relay on loopback."""
    with DrandRelays(TestChain()) as relays:
        yield Beacon(relays.test_chain, relays.add_relay("ok"))


@asynccontextmanager
async def draw_stack(
    redis: Redis,
    keys: Keys,
    github_url: str,
    beacon: Beacon,
    tickets: TicketLedger | None = None,
) -> AsyncIterator[DrawStack]:
    """DrawingService with its fairdraw/2 proofs (draw log, signing key, beacon client),
    as the server wires it; with ``tickets``, for raffles too."""
    github = GitHubClient(github_url, None, 5.0, ProfileCache(redis, keys, PROFILE_TTL_SECONDS))
    signing = SigningKey.generate()
    client = BeaconClient(beacon.test_chain.chain, [beacon.relay], RELAY_TIMEOUT_SECONDS)
    draw_log = DrawLogService(DrawLogStore(redis, keys), signing)
    proofs = DrawProofs(draw_log, signing, client, BEACON_MARGIN_SECONDS)
    service = DrawingService(DrawStore(redis, keys), github, tickets=tickets, proofs=proofs)
    try:
        yield DrawStack(service, client, draw_log)
    finally:
        await proofs.aclose()
        await github.aclose()


async def open_draw(
    service: DrawingService, redis: Redis, keys: Keys, algorithm: str, entries: int
) -> Draw:
    """An open giveaway of ``algorithm``: a fairdraw/1 draw is stored without the fields
    that make a draw fairdraw/2, as draws made before it are."""
    draft = await service.create(ACTOR, title=f"bench: {entries:,} entries", prizes=PRIZES)
    if algorithm == fairness.ALGORITHM:
        await redis.hdel(keys.draw_meta(draft.id), "algorithm", "beacon")
    opened = await service.open(ACTOR, draft.id)
    if opened.algorithm != algorithm:
        raise BenchError(f"the draw is {opened.algorithm}, not {algorithm}")
    return opened


async def measure_size(
    entries: int, algorithm: str, github_url: str, beacon: Beacon
) -> SizeFigures:
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        store = EmbeddedStore(Path(tmp))
        url = store.start()
        redis = connect(url)
        try:
            async with draw_stack(redis, Keys(), github_url, beacon) as stack:
                return await _measure(redis, stack, beacon, algorithm, entries)
        finally:
            await redis.aclose()
            store.stop()


def expected_picks(draw: Draw, root: str, seed: bytes, beacon: Beacon) -> list[int]:
    """The winners and alternates the draw will pick, for the profile cache: the bench
    holds the test chain's key, so it knows the bound round's randomness in advance."""
    assert draw.seal is not None
    randomness = None
    if draw.seal.beacon_round is not None:
        signature = sign_round(beacon.test_chain, draw.seal.beacon_round)
        randomness = hashlib.sha256(signature).digest()
    if draw.algorithm == fairness.ALGORITHM:
        key = fairness.stream_key(bytes.fromhex(root), seed)
    else:
        key = fairness.stream_key_v2(bytes.fromhex(root), draw.seal.entry_count, seed, randomness)
    outcome = fairness.select_winners(
        bytes.fromhex(root),
        seed,
        draw.seal.entry_count,
        [(p.name, p.quantity) for p in draw.prizes],
        draw.slot_count,
        key=key,
    )
    return [w.index for w in outcome.winners] + list(outcome.alternates)


async def sleep_until_round(draw: Draw, chain: Chain) -> None:
    """Sleep until the draw's bound round of ``chain`` exists (no time for a draw without
    one)."""
    assert draw.seal is not None
    if draw.seal.beacon_round is None:
        return
    due = chain.round_time(draw.seal.beacon_round) + PAST_ROUND_SECONDS
    await asyncio.sleep(max(0.0, due - time.time()))


async def round_fetch_seconds(draw: Draw, client: BeaconClient) -> float:
    """Median seconds of fetching and verifying the draw's round alone (0: no round)."""
    assert draw.seal is not None
    if draw.seal.beacon_round is None:
        return 0.0
    seconds = []
    for _ in range(ROUND_FETCHES):
        with Stopwatch() as fetch:
            await client.fetch_round(draw.seal.beacon_round)
        seconds.append(fetch.seconds)
    return statistics.median(seconds)


async def verify_result(service: DrawingService, draw: Draw, beacon: Beacon) -> float:
    """Check the draw's bundle against its entries file as a verifier does; the seconds
    it took. BenchError if it does not pass."""
    bundle = await service.proof_bundle(draw.id)
    entries = (await service.entries_file(draw.id)).encode()
    with Stopwatch() as verifying:
        report = verify_bundle_bytes(bundle, entries, chains=(beacon.test_chain.chain,))
    if not report.ok or report.algorithm != draw.algorithm:
        raise BenchError(f"the {draw.algorithm} bundle does not verify: {report.verdict}")
    if draw.algorithm == fairness.ALGORITHM_V2 and report.trusts_operator:
        raise BenchError("the bundle trusts its operator: the draw bound no beacon round")
    return verifying.seconds


async def _measure(
    redis: Redis, stack: DrawStack, beacon: Beacon, algorithm: str, entries: int
) -> SizeFigures:
    service, client = stack.service, stack.client
    keys = Keys()
    draws = DrawStore(redis, keys)
    draw = await open_draw(service, redis, keys, algorithm, entries)
    memory_before = await info_int(redis, "memory", "used_memory")
    with Stopwatch() as load:
        refs = await load_ledger(redis, keys, draws, draw, entries)
    await wait_for_persistence(redis)
    used_memory_delta = await info_int(redis, "memory", "used_memory") - memory_before
    ledger_bytes = await memory_usage(redis, keys.ledger(draw.id))
    entrants_bytes = await memory_usage(redis, keys.entrants(draw.id))

    with Stopwatch() as read:
        read_refs = await draws.ledger_refs(draw.id, entries)
    with Stopwatch() as merkle:
        root = fairness.merkle_root(refs).hex()
    if read_refs != refs:
        raise BenchError("the ledger read back differs from what was loaded")
    del read_refs, refs

    # While a draw is open, each complete 65,536-entry chunk is hashed in the
    # background as it fills; the bulk load skipped that, so do it here, timed apart.
    with Stopwatch() as open_hash:
        await service.seal_complete_chunks(draw.id)
    gc.collect()
    rss_before = process_memory("VmRSS")
    reset_peak_memory()
    timed_from = cpu.snapshot()
    with Stopwatch() as close:
        closed = await service.close(ACTOR, draw.id)
    sealed_at = time.time()
    if closed.seal is None or closed.seal.root != root or closed.seal.entry_count != entries:
        raise BenchError(f"unexpected seal after close: {closed.seal!r}")
    if (closed.seal.beacon_round is not None) != (algorithm == fairness.ALGORITHM_V2):
        raise BenchError(f"a {algorithm} seal bound beacon round {closed.seal.beacon_round}")

    # Untimed, while the round is not out yet.
    seed = await draws.seed(draw.id)
    assert seed is not None
    picks = expected_picks(closed, root, seed, beacon)
    await prefill_profiles(redis, keys, picks)
    await wait_for_persistence(redis)

    await sleep_until_round(closed, client.chain)
    wait_s = time.time() - sealed_at if closed.seal.beacon_round is not None else 0.0
    with Stopwatch() as drawing:
        drawn = await service.draw_winners(ACTOR, draw.id)
    # The store is a child of this process: everything else is a neighbour.
    timed_to = cpu.snapshot()
    rss_peak = process_memory("VmHWM")
    usage = cpu.usage_by_group(timed_from, timed_to, {os.getpid(): "bench"}, {})
    if drawn.status is not DrawStatus.drawn or drawn.result is None:
        raise BenchError(f"the draw ended {drawn.status.value}, not drawn")
    people = drawn.result.winners + drawn.result.alternates

    # A seal with no chunk hashed beforehand (all of it at the close, in worker
    # processes that are already running).
    async def read_slice(start: int, stop: int) -> list[str]:
        return await draws.refs_slice(draw.id, start, stop)

    with Stopwatch() as warm_root:
        again = await sealing.ledger_root(entries, read_slice, {})
    if again.hex() != root:
        raise BenchError("sealing.ledger_root disagrees with fairness.merkle_root")

    return SizeFigures(
        algorithm=algorithm,
        entries=entries,
        load_s=load.seconds,
        read_s=read.seconds,
        merkle_s=merkle.seconds,
        open_hash_s=open_hash.seconds,
        close_s=close.seconds,
        wait_s=wait_s,
        draw_s=drawing.seconds,
        round_fetch_s=await round_fetch_seconds(drawn, client),
        warm_root_s=warm_root.seconds,
        verify_s=await verify_result(service, drawn, beacon),
        rss_before=rss_before,
        rss_peak=rss_peak,
        ledger_bytes=ledger_bytes,
        entrants_bytes=entrants_bytes,
        used_memory_delta=used_memory_delta,
        # Without a cached profile the service falls back to the bare login.
        profile_misses=sum(1 for person in people if person.html_url is None),
        log_size=(await stack.draw_log.tree_head())["statement"]["tree_size"],
        other_cores=usage.get("other processes", 0.0),
        stolen_cores=cpu.machine_cores_stolen(timed_from, timed_to),
    )


async def start_hashing_workers() -> None:
    """Start the worker processes that hash ledger chunks."""
    await sealing.compute(fairness.merkle_root, [], in_pool=True)


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def print_figures(figures: SizeFigures) -> None:
    f = figures
    print_section(f"{f.entries:,} entries, {f.algorithm}")
    print(f"bulk load              {f.load_s:8.2f} s  (setup, not a product path)")
    print(f"chunks while open      {f.open_hash_s:8.3f} s  (background as entries arrive)")
    print(f"close + seal           {f.close_s:8.3f} s  (DrawingService.close)")
    print(f"  ledger read alone    {f.read_s:8.3f} s  (DrawStore.ledger_refs)")
    print(f"  merkle_root alone    {f.merkle_s:8.3f} s  (fairness.merkle_root, one core)")
    print(f"  whole seal at close  {f.warm_root_s:8.3f} s  (no chunk hashed before, workers warm)")
    if f.binds_beacon:
        print(f"beacon wait            {f.wait_s:8.3f} s  (seal to the bound round's time)")
    print(f"draw                   {f.draw_s:8.3f} s  (DrawingService.draw_winners, no wait)")
    if f.binds_beacon:
        print(f"  round fetch + verify {f.round_fetch_s:8.4f} s  (BeaconClient.fetch_round alone)")
    print(f"close + seal + draw    {f.seal_and_draw_s:8.3f} s  (beacon wait excluded)")
    print(
        f"peak RSS               {mib(f.rss_peak)} (bench process, close to result;"
        f" {mib(f.rss_before)} before, +{mib(f.rss_peak - f.rss_before)})"
    )
    print(f"verify                 {f.verify_s:8.3f} s  (verify_bundle_bytes: PASS)")
    print(f"draw log               {f.log_size} leaves")
    print(
        f"store bytes/entry      ledger {f.per_entry(f.ledger_bytes):.1f} + entrants "
        f"{f.per_entry(f.entrants_bytes):.1f} = "
        f"{f.per_entry(f.ledger_bytes + f.entrants_bytes):.1f} (MEMORY USAGE SAMPLES 0)"
    )
    print(f"used_memory delta      {f.per_entry(f.used_memory_delta):.1f} bytes/entry")
    print(
        f"other processes        {f.other_cores:.2f} cores busy during the timed steps"
        f" (+ {f.stolen_cores:.2f} stolen by the host)"
    )
    if f.profile_misses:
        print(f"WARNING: {f.profile_misses} winner profiles missed the cache (GitHub refused)")


def print_table(results: list[SizeFigures]) -> None:
    print_section("summary (s, beacon wait excluded from total)")
    print(
        f"{'entries':>12} {'algorithm':>10} {'open':>6} {'close+seal':>10} {'wait':>6}"
        f" {'draw':>6} {'total':>6} {'whole':>6} {'read':>6} {'merkle':>6}"
        f" {'peak RSS':>9} {'ledger B':>9} {'entrants B':>10} {'used B':>7}"
    )
    for f in results:
        print(
            f"{f.entries:>12,} {f.algorithm:>10} {f.open_hash_s:>6.3f} {f.close_s:>10.3f}"
            f" {f.wait_s:>6.3f} {f.draw_s:>6.3f} {f.seal_and_draw_s:>6.3f}"
            f" {f.warm_root_s:>6.3f} {f.read_s:>6.3f} {f.merkle_s:>6.3f}"
            f" {mib(f.rss_peak):>9} {f.per_entry(f.ledger_bytes):>9.1f}"
            f" {f.per_entry(f.entrants_bytes):>10.1f} {f.per_entry(f.used_memory_delta):>7.1f}"
        )
    print("(B = store bytes per entry; peak RSS of the bench process, close to result)")


def print_targets(results: list[SizeFigures]) -> None:
    for f in results:
        if f.entries != 1_000_000:
            continue
        time_ok = f.seal_and_draw_s < TARGET_SECONDS_AT_1M
        per_entry = f.per_entry(f.ledger_bytes + f.entrants_bytes)
        memory_ok = per_entry < TARGET_BYTES_PER_ENTRY
        print(
            f"target ({f.algorithm}): seal + draw of 10^6 < {TARGET_SECONDS_AT_1M:g} s, "
            f"beacon wait excluded: {'met' if time_ok else 'NOT met'}"
            f" ({f.seal_and_draw_s:.2f} s; wait {f.wait_s:.2f} s); "
            f"< {TARGET_BYTES_PER_ENTRY:g} store bytes/entry: "
            f"{'met' if memory_ok else 'NOT met'} ({per_entry:.1f})"
        )


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    results: list[SizeFigures] = []
    # Started before anything is timed, as in a server that has hashed a chunk before.
    asyncio.run(start_hashing_workers())
    with refused_tcp_port() as github_port, beacon_relay() as beacon:
        for entries in args.sizes:
            for algorithm in args.algorithms:
                cpu.settle(args.wait_idle, IDLE_THRESHOLD)
                github_url = f"http://127.0.0.1:{github_port}"
                figures = asyncio.run(measure_size(entries, algorithm, github_url, beacon))
                print_figures(figures)
                results.append(figures)
    print_table(results)
    print_targets(results)
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_draw.py", options_of(args)))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
