"""Live feeds: watchers of one giveaway, what they cost, and the dashboard's search.

Starts ``fairdraw serve --workers 2`` with the embedded store in a temporary directory,
as bench_entries.py does, and runs two parts (``--parts``):

- **feed**: one open giveaway. Entries per second (wrk, closed loop, 64 connections) with
  nobody watching; then 1,000 watchers of the draw's public feed
  (``/api/v1/draws/{id}/events``) from a process of their own (bench/watchers.py), with
  the web processes' memory and the store's connections before and after they join;
  then entries at a fixed 500 a second (open loop, bench/paced.py) for 20 s, timing each
  entry from its 201 to the moment the last watcher has a count that includes it; then
  the closed-loop load again with the watchers connected, and once more after they have
  left. That pair is repeated (``--rounds``, a fresh watcher process each time), and
  each run with watchers is read against the mean of the runs without them just before
  and after it, so the host's drift during the part does not count as their cost; the
  drop is the median of the rounds. As a floor, the paced load is repeated with a
  single watcher.
- **search**: a second giveaway filled with 10^6 GitHub-like logins through the real
  ``enter`` script (pipelined), 1,000 prefix searches of 2-4 characters over HTTP as
  the draw's manager, the same searches against the store alone, and the store memory
  of every key of the draw (``MEMORY USAGE``), per entry.

Needs wrk: apt-get install -y wrk.
Run from the repository root: .venv/bin/python bench/bench_live.py [--help]
A quick run: .venv/bin/python bench/bench_live.py --watchers 50 --seconds 3 --entrants 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis
import uvloop
from redis.asyncio import Redis as AsyncRedis

from bench import cpu, harness
from bench.bench_entries import PROCESS_GROUPS, HttpFigures, print_http, verdict
from bench.harness import Stopwatch, print_section, refused_tcp_port, reproduce_command
from bench.live_search import (
    LIVE_KINDS,
    SearchTimes,
    draw_memory,
    fill,
    first_two_spread,
    github_logins,
    search_in_store,
    search_over_http,
    search_queries,
)
from bench.machine import describe_machine
from bench.paced import PacedRun, paced_entries
from bench.profiles import bench_login, prefill_profiles
from bench.server import AdminApi, FairdrawServer
from bench.watchers import FeedFigures, WatcherProcess, feed_latency, percentile
from bench.wrk import WrkRun, run_entry_load
from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys

PARTS = ("feed", "search")
TARGET_FEED_P99_MS = 250.0
TARGET_DROP_PERCENT = 10.0
TARGET_SEARCH_P99_MS = 100.0
TARGET_LIVE_BYTES_PER_ENTRY = 20.0
# docs/benchmarks.md, "Seal and draw at scale": ledger + entrants at 10^6 entries.
PREVIOUS_BYTES_PER_ENTRY = 118.6
PRIZES = [{"name": "Sticker pack", "quantity": 3}]
IDLE_THRESHOLD = 0.10
# Every watcher comes from 127.0.0.1: a per-address limit no run reaches.
SERVER_SETTINGS = {"FAIRDRAW_LIVE_CONNECTIONS_PER_ADDRESS": "10000"}
# After a load, how long every watcher may take to have the last count.
DRAIN_TIMEOUT = 30.0
# Repeats of the search for the fullest bucket (its two first characters).
WORST_CASE_SEARCHES = 100

T = TypeVar("T")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Live feeds under load, and the dashboard's search at 10^6 entrants.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--parts", type=harness.parts_parser(PARTS), default=list(PARTS), help="parts to run"
    )
    parser.add_argument("--watchers", type=int, default=1000, help="feed: watchers of the draw")
    parser.add_argument("--rate", type=float, default=500.0, help="feed: paced entries a second")
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="feed: seconds of the paced load, and of each measured closed-loop load",
    )
    parser.add_argument(
        "--count-interval",
        type=float,
        default=0.2,
        help="feed: FAIRDRAW_LIVE_COUNT_INTERVAL_SECONDS, least time between two count messages",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="feed: closed-loop runs with the watchers, each between two without them",
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="feed: wrk warm-up seconds")
    parser.add_argument("--connections", type=int, default=64, help="feed: wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="feed: wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="fairdraw serve --workers")
    parser.add_argument(
        "--profiles", type=int, default=1_000_000, help="feed: profiles pre-filled in the cache"
    )
    parser.add_argument(
        "--entrants", type=int, default=1_000_000, help="search: entries in the searched draw"
    )
    parser.add_argument("--searches", type=int, default=1000, help="search: searches timed")
    harness.add_wait_idle_option(parser, "each part")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def options_of(args: argparse.Namespace) -> list[str]:
    """Every option spelled out, so the printed command repeats this exact run."""
    return [
        f"--parts={','.join(args.parts)}",
        f"--watchers={args.watchers}",
        f"--rate={args.rate:g}",
        f"--seconds={args.seconds:g}",
        f"--count-interval={args.count_interval:g}",
        f"--rounds={args.rounds}",
        f"--warmup={args.warmup:g}",
        f"--connections={args.connections}",
        f"--threads={args.threads}",
        f"--workers={args.workers}",
        f"--profiles={args.profiles}",
        f"--entrants={args.entrants}",
        f"--searches={args.searches}",
        f"--wait-idle={args.wait_idle:g}",
    ]


# -- what the server processes hold ---------------------------------------------------------


def web_processes(root: int) -> list[int]:
    """``root`` and every process under it, but the store."""
    processes = cpu.snapshot().processes
    found = [root]
    for pid in processes:
        seen: set[int] = set()
        walk = pid
        while walk in processes and walk not in seen and walk != root:
            seen.add(walk)
            walk = processes[walk][1]
        if walk == root and pid != root and processes[pid][0] not in PROCESS_GROUPS:
            found.append(pid)
    return found


def rss_bytes(pids: Sequence[int]) -> int:
    """The resident memory of ``pids`` together (VmRSS)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue  # gone meanwhile
    return total


@dataclass(frozen=True)
class StoreClients:
    """The store's clients: INFO clients, and CLIENT LIST's blocked XREADs."""

    connected: int
    blocked: int
    xread: int

    def line(self) -> str:
        return (
            f"{self.connected} connected, {self.blocked} blocked "
            f"({self.xread} in XREAD; INFO clients / CLIENT LIST)"
        )


def store_clients(store: redis.Redis) -> StoreClients:
    info = store.info("clients")
    listed = store.client_list()
    return StoreClients(
        connected=int(info["connected_clients"]),
        blocked=int(info["blocked_clients"]),
        xread=sum(1 for c in listed if c.get("cmd") == "xread" and "b" in c.get("flags", "")),
    )


def measured(
    server: FairdrawServer, watchers: WatcherProcess | None, load: Callable[[], T]
) -> tuple[T, dict[str, float]]:
    """``load()``, and the cores each group of processes used meanwhile."""
    roots = {server.pid: "web server", os.getpid(): "benchmark script"}
    if watchers is not None:
        roots[watchers.pid] = "watchers"
    before = cpu.snapshot()
    result = load()
    after = cpu.snapshot()
    cores = cpu.usage_by_group(before, after, roots=roots, by_name=PROCESS_GROUPS)
    cores["machine total"] = cpu.machine_cores_busy(before, after)
    cores["stolen"] = cpu.machine_cores_stolen(before, after)
    return result, cores


def unseen_cores(cores: dict[str, float]) -> float:
    """Cores the machine spent that no group accounts for: processes that started and
    ended during the measurement (on a shared machine, other people's tests)."""
    totals = ("machine total", "stolen")
    accounted = sum(used for group, used in cores.items() if group not in totals)
    return max(0.0, cores.get("machine total", 0.0) - accounted)


def cores_line(cores: dict[str, float]) -> str:
    """The groups' cores, and what the machine ran that no group accounts for: processes
    that started and ended during the measurement (other people's tests, browsers)."""
    totals = ("machine total", "stolen")
    ranked = sorted(((g, c) for g, c in cores.items() if g not in totals), key=lambda i: -i[1])
    total = cores.get("machine total", 0.0)
    return (
        ", ".join(f"{group} {used:.2f}" for group, used in ranked)
        + f", short-lived processes {unseen_cores(cores):.2f}; machine total {total:.2f}"
        + f" (+ {cores.get('stolen', 0.0):.2f} stolen)"
    )


# -- part 1: the feed -------------------------------------------------------------------------


@dataclass
class FeedPart:
    # Closed loops, alternating: quiet[0], watched[0], quiet[1], watched[1], quiet[2] …
    quiet: list[HttpFigures]
    watched: list[HttpFigures]
    rss_without: int
    rss_with: int
    clients_without: StoreClients
    clients_with: StoreClients
    connect_seconds: float
    paced: PacedRun
    paced_cores: dict[str, float]
    feed: FeedFigures
    # What every watcher had after each closed loop with watchers.
    after_loads: list[FeedFigures]
    floor_paced: PacedRun
    floor_feed: FeedFigures
    watchers: int

    def quiet_rate(self, round_: int) -> float:
        """Entries/s with nobody watching around round ``round_``: the mean of the runs
        just before the watchers joined and just after they left, so that the host's
        drift during the part does not read as the watchers' cost."""
        before, after = self.quiet[round_], self.quiet[round_ + 1]
        return (before.measured.requests_per_second + after.measured.requests_per_second) / 2

    @property
    def drops(self) -> list[float]:
        """Each round's drop of entries/s with the watchers, in %."""
        drops = []
        for round_, watched in enumerate(self.watched):
            quiet = self.quiet_rate(round_)
            rate = watched.measured.requests_per_second
            drops.append((1 - rate / quiet) * 100 if quiet else 0.0)
        return drops

    @property
    def drop_percent(self) -> float:
        """The median of the rounds' drops."""
        return statistics.median(self.drops)

    @property
    def loads_clean(self) -> bool:
        return all(run.measured.errors == 0 for run in (*self.quiet, *self.watched))

    @property
    def bytes_per_watcher(self) -> float:
        return (self.rss_with - self.rss_without) / self.watchers if self.watchers else 0.0


@dataclass
class WatchedLoad:
    figures: HttpFigures
    # What every watcher had once the load's entries were all answered.
    after_load: FeedFigures


class FeedLoads:
    """The loads of the feed part, each on entrants no earlier load used."""

    def __init__(
        self, args: argparse.Namespace, server: FairdrawServer, store: redis.Redis, draw_id: str
    ) -> None:
        self._args = args
        self._server = server
        self._store = store
        self._draw_id = draw_id
        self._path = f"/api/v1/draws/{draw_id}/entries"
        self._next = 0
        self._wrk = harness.require_tool("wrk", "wrk")

    def closed_loop(self, watchers: WatcherProcess | None) -> HttpFigures:
        """A warm-up, then the measured run, as bench_entries.py drives its draw."""
        args = self._args

        def wrk(seconds: float) -> WrkRun:
            run = run_entry_load(
                self._wrk,
                self._server.base_url,
                self._path,
                base=self._next,
                threads=args.threads,
                connections=args.connections,
                seconds=seconds,
            )
            self._next = run.next_base
            return run

        warm = wrk(args.warmup)
        run, cores = measured(self._server, watchers, lambda: wrk(args.seconds))
        cores["wrk"] = run.cpu_seconds / run.duration_s
        length = int(self._store.llen(Keys().ledger(self._draw_id)))
        return HttpFigures(warm, run, length, cores)

    def paced(self, watchers: WatcherProcess) -> tuple[PacedRun, dict[str, float]]:
        args = self._args
        logins = [
            bench_login(n) for n in range(self._next, self._next + int(args.rate * args.seconds))
        ]
        self._next += len(logins)
        url = f"{self._server.base_url}{self._path}"
        return measured(
            self._server, watchers, lambda: uvloop.run(paced_entries(url, logins, args.rate))
        )

    def watched_closed_loop(self, watchers: WatcherProcess, round_: int) -> WatchedLoad:
        """The closed loop with ``watchers`` connected, and whether each then had every
        count its worker sent and the last one."""
        args = self._args
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        figures = self.closed_loop(watchers)
        # Entries wrk left in flight are still answered: wait for the ledger to settle.
        final = settled_length(self._store, Keys().ledger(self._draw_id))
        drained = drain(watchers, final)
        after_load = feed_latency(watchers.dump(), [(final, time.monotonic())], args.workers)
        print_http(
            f"entries, closed loop, {args.watchers:,} watchers connected (round {round_})",
            figures,
        )
        print_short_lived(figures)
        print(f"watchers         {states_line(after_load)}")
        print(f"last count       {drain_line(*drained)}")
        return WatchedLoad(figures, after_load)

    def quiet_closed_loop(self, round_: int) -> HttpFigures:
        """The closed loop once the watchers of round ``round_`` have left."""
        cpu.settle(self._args.wait_idle, IDLE_THRESHOLD)
        figures = self.closed_loop(None)
        print_http(f"entries, closed loop, 0 watchers again (round {round_}: they left)", figures)
        print_short_lived(figures)
        return figures

    def check_profiles(self) -> None:
        if self._next > self._args.profiles:
            print(
                f"WARNING: the loads needed {self._next:,} entrants but only "
                f"{self._args.profiles:,} were cached; raise --profiles"
            )


def run_feed(args: argparse.Namespace, server: FairdrawServer, store: redis.Redis) -> FeedPart:
    with Stopwatch() as prefill:
        asyncio.run(_prefill(server.store_url, args.profiles))
    print(f"\nprofile cache: {args.profiles:,} profiles in {prefill.seconds:.1f} s")
    with AdminApi(server.base_url, server.admin_password) as api:
        draw_id = api.create_open_draw("bench: a watched giveaway", PRIZES)
    loads = FeedLoads(args, server, store, draw_id)
    feed_url = f"{server.base_url}/api/v1/draws/{draw_id}/events"

    cpu.settle(args.wait_idle, IDLE_THRESHOLD)
    quiet = [loads.closed_loop(None)]
    print_http(
        f"entries, closed loop, 0 watchers (fairdraw serve --workers {args.workers})", quiet[0]
    )
    print_short_lived(quiet[0])

    time.sleep(1.0)
    web = web_processes(server.pid)
    rss_without, clients_without = rss_bytes(web), store_clients(store)
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        with WatcherProcess(feed_url, args.watchers, Path(tmp)) as watchers:
            time.sleep(2.0)  # every reader is back in its blocking XREAD
            rss_with, clients_with = rss_bytes(web_processes(server.pid)), store_clients(store)
            watchers.dump()  # forget the connecting phase
            cpu.settle(args.wait_idle, IDLE_THRESHOLD)
            paced, paced_cores = loads.paced(watchers)
            paced_drain = drain(watchers, max(c for c, _ in paced.acks))
            feed = feed_latency(watchers.dump(), paced.acks, args.workers)
            print_feed(
                f"{args.watchers:,} watchers, {args.rate:g} entries/s paced for {args.seconds:g} s",
                paced,
                paced_cores,
                feed,
                paced_drain,
            )
            watched = [loads.watched_closed_loop(watchers, 1)]
            connect_seconds = watchers.connect_seconds
        quiet.append(loads.quiet_closed_loop(1))
        for round_ in range(2, args.rounds + 1):
            with WatcherProcess(feed_url, args.watchers, Path(tmp)) as watchers:
                time.sleep(2.0)
                watchers.dump()
                watched.append(loads.watched_closed_loop(watchers, round_))
            quiet.append(loads.quiet_closed_loop(round_))

        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        with WatcherProcess(feed_url, 1, Path(tmp)) as single:
            single.dump()
            floor_paced, floor_cores = loads.paced(single)
            floor_drain = drain(single, max(c for c, _ in floor_paced.acks))
            floor_feed = feed_latency(single.dump(), floor_paced.acks, 1)
        print_feed(
            f"floor: 1 watcher, {args.rate:g} entries/s paced",
            floor_paced,
            floor_cores,
            floor_feed,
            floor_drain,
        )
    loads.check_profiles()
    part = FeedPart(
        quiet=quiet,
        watched=[w.figures for w in watched],
        rss_without=rss_without,
        rss_with=rss_with,
        clients_without=clients_without,
        clients_with=clients_with,
        connect_seconds=connect_seconds,
        paced=paced,
        paced_cores=paced_cores,
        feed=feed,
        after_loads=[w.after_load for w in watched],
        floor_paced=floor_paced,
        floor_feed=floor_feed,
        watchers=args.watchers,
    )
    print_section(f"cost of {args.watchers:,} watchers")
    print(f"connecting       {part.connect_seconds:.1f} s for all of them (64 at a time)")
    print(
        f"web RSS          {rss_without / 2**20:.1f} MiB with 0 watchers, "
        f"{rss_with / 2**20:.1f} MiB with {args.watchers:,}: "
        f"{part.bytes_per_watcher / 1024:.1f} KiB per watcher"
    )
    # The entries' own web CPU at the same pace: the single-watcher run's, scaled to the
    # entries the watched run answered; the rest of the web CPU went to the feed.
    frames = args.watchers * feed.messages_per_watcher / paced.seconds
    entries_cores = floor_cores.get("web server", 0.0) * paced.achieved_rate
    entries_cores /= floor_paced.achieved_rate or 1.0
    feed_cores = paced_cores.get("web server", 0.0) - entries_cores
    print(
        f"web CPU, feed    ~{feed_cores:.2f} cores for {frames:,.0f} messages/s to watchers, "
        f"~{feed_cores / frames * 1e6 if frames else 0:.0f} µs each (the paced run's web "
        f"cores, {paced_cores.get('web server', 0.0):.2f}, less the single-watcher run's "
        f"for as many entries, {entries_cores:.2f})"
    )
    print(
        f"watchers' CPU    {paced_cores.get('watchers', 0.0):.2f} cores in their own process "
        f"(~{paced_cores.get('watchers', 0.0) / frames * 1e6 if frames else 0:.0f} µs a message)"
    )
    print(f"store, 0         {clients_without.line()}")
    print(f"store, {args.watchers:<9} {clients_with.line()}")
    for round_, drop in enumerate(part.drops):
        print(
            f"entries/s, {round_ + 1:<6}{part.quiet_rate(round_):,.0f} with 0 watchers (mean of "
            f"{quiet[round_].measured.requests_per_second:,.0f} before and "
            f"{quiet[round_ + 1].measured.requests_per_second:,.0f} after), "
            f"{watched[round_].figures.measured.requests_per_second:,.0f} with "
            f"{args.watchers:,}: {drop:+.1f} % drop"
        )
    print(
        f"drop             {part.drop_percent:+.1f} %, the median of {len(part.drops)} rounds "
        f"({', '.join(f'{d:+.1f}' for d in part.drops)})"
    )
    return part


def print_short_lived(run: HttpFigures) -> None:
    print(
        f"short-lived      {unseen_cores(run.cores_used):.2f} cores (processes that came and went)"
    )


def drain(watchers: WatcherProcess, count: int) -> tuple[int, float | None]:
    """Wait until every watcher has ``count``: (count, seconds it took, or None)."""
    return count, watchers.wait_for(count, DRAIN_TIMEOUT)


def drain_line(count: int, waited: float | None) -> str:
    if waited is None:
        return f"NOT every watcher had the count {count:,} {DRAIN_TIMEOUT:g} s after the load"
    return f"every watcher had the count {count:,} {waited:.2f} s after the load ended"


def settled_length(store: redis.Redis, ledger: str) -> int:
    """The ledger's length once it has not changed for half a second."""
    length = int(store.llen(ledger))
    while True:
        time.sleep(0.5)
        now = int(store.llen(ledger))
        if now == length:
            return length
        length = now


def ms_line(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.1f}  p90 {percentile(values, 0.9):.1f}  "
        f"p99 {percentile(values, 0.99):.1f}  max {max(values, default=float('nan')):.1f}"
    )


def print_feed(
    title: str,
    run: PacedRun,
    cores: dict[str, float],
    feed: FeedFigures,
    drained: tuple[int, float | None],
) -> None:
    print_section(title)
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(run.statuses.items()))
    print(
        f"entries          {len(run.latency_ms):,} answered of {run.planned:,} planned "
        f"({statuses}; socket errors {run.socket_errors}); {run.achieved_rate:,.0f}/s"
    )
    print(f"entry latency ms {ms_line(run.latency_ms)}  (due time to 201)")
    print(
        f"schedule         {run.late} sent > 5 ms late (worst {run.max_late_ms:.1f} ms), "
        f"{run.connections} connections"
    )
    if run.first_unexpected:
        print(f"first non-201    {run.first_unexpected}")
    print(f"feed, last ms    {ms_line(feed.to_last_ms)}  (201 to the last watcher's count)")
    print(f"feed, first ms   {ms_line(feed.to_first_ms)}  (201 to the first watcher's count)")
    print(f"fan-out ms       {ms_line(feed.spread_ms)}  (first to last watcher, per count)")
    print(
        f"one process ms   {ms_line(feed.process_spread_ms)}  (first to last watcher of one "
        "web process, per message it sent)"
    )
    print(f"watchers         {states_line(feed)}")
    print(f"last count       {drain_line(*drained)}")
    print(f"cores used       {cores_line(cores)}")
    if run.achieved_rate < 0.95 * run.rate:
        print(
            f"WARNING: the server did not keep up with {run.rate:g} entries/s "
            f"({run.achieved_rate:,.0f}/s answered): the feed's figures include the backlog"
        )


def states_line(feed: FeedFigures) -> str:
    return (
        f"{feed.complete:,} of {feed.watchers:,} received every count their process sent "
        f"({feed.sequences} distinct sequences, {feed.messages_per_watcher:.0f} messages "
        f"each); {feed.reached:,} got the last count; {feed.undelivered} entries reached "
        "no watcher"
    )


# -- part 2: the search -----------------------------------------------------------------------


@dataclass
class SearchPart:
    entrants: int
    fill_seconds: float
    used_memory_delta: int
    http: SearchTimes
    store: SearchTimes
    get_only: SearchTimes
    worst_query: str
    worst_http: SearchTimes
    by_kind: dict[str, int]
    buckets: int
    names_text: int
    largest_bucket: tuple[str, int]
    stream_length: int
    minute_fields: int
    mean_login: float

    def per_entry(self, *kinds: str) -> float:
        return sum(self.by_kind.get(k, 0) for k in kinds) / self.entrants

    @property
    def live_per_entry(self) -> float:
        return self.per_entry(*LIVE_KINDS)

    @property
    def total_per_entry(self) -> float:
        return sum(self.by_kind.values()) / self.entrants


def run_search(args: argparse.Namespace, server: FairdrawServer) -> SearchPart:
    with Stopwatch() as made:
        logins = github_logins(args.entrants)
    buckets, top_share = first_two_spread(logins)
    mean_login = sum(map(len, logins)) / len(logins)
    print(
        f"\nlogins: {len(logins):,} made in {made.seconds:.1f} s, {mean_login:.1f} characters"
        f" on average, in {buckets:,} search buckets (the fullest holds {top_share:.1%})"
    )
    with AdminApi(server.base_url, server.admin_password) as api:
        draw_id = api.create_open_draw("bench: a searched giveaway", PRIZES)
    keys = Keys()
    filled, fill_cores = measured(
        server,
        None,
        lambda: _in_store(
            server.store_url, lambda r: fill(r, server.socket_path, keys, draw_id, logins)
        ),
    )
    print(
        f"fill: {filled.entries:,} entries through the enter script (pipelined) in "
        f"{filled.seconds:.1f} s, {filled.rate:,.0f}/s; cores used: {cores_line(fill_cores)}"
    )
    queries = search_queries(logins, args.searches)
    cpu.settle(args.wait_idle, IDLE_THRESHOLD)
    http = search_over_http(server.base_url, server.admin_password, draw_id, queries)
    store_times, get_only = _in_store(
        server.store_url, lambda r: search_in_store(r, keys, draw_id, queries)
    )
    memory = _in_store(server.store_url, lambda r: draw_memory(r, keys, draw_id))
    worst = memory.largest_bucket[0]
    worst_http = search_over_http(
        server.base_url, server.admin_password, draw_id, [worst] * WORST_CASE_SEARCHES
    )
    part = SearchPart(
        entrants=filled.entries,
        fill_seconds=filled.seconds,
        used_memory_delta=filled.used_memory_delta,
        http=http,
        store=store_times,
        get_only=get_only,
        worst_query=worst,
        worst_http=worst_http,
        by_kind=memory.by_kind,
        buckets=memory.buckets,
        names_text=memory.names_text,
        largest_bucket=memory.largest_bucket,
        stream_length=memory.stream_length,
        minute_fields=memory.minute_fields,
        mean_login=mean_login,
    )
    print_search(part)
    return part


def print_search(part: SearchPart) -> None:
    n = part.entrants
    print_section(f"search at {n:,} entrants: {len(part.http.ms):,} prefixes of 2-4 characters")
    hits = part.http.hits
    print(
        f"HTTP ms          {ms_line(part.http.ms)}  (GET /api/v1/draws/ID/entries?q=..., "
        "as the draw's manager, one at a time)"
    )
    print(
        f"results          {sum(h == 50 for h in hits):,} searches found 50 (the limit), "
        f"{sum(h == 0 for h in hits):,} found none; mean {sum(hits) / len(hits):.1f}"
    )
    print(
        f"store side ms    {ms_line(part.store.ms)}  (bucket LRANGE pieces + scan + the hits' "
        "entries)"
    )
    sizes = part.get_only.hits
    print(
        f"bucket LRANGE ms {ms_line(part.get_only.ms)}  (the whole bucket's LRANGE alone; "
        f"buckets hold {sum(sizes) / len(sizes):,.0f} names on average)"
    )
    print(
        f"fullest bucket   {part.worst_query!r}, {part.largest_bucket[1] / 1024:.0f} KiB "
        "of store memory: "
        f"HTTP ms {ms_line(part.worst_http.ms)}"
    )
    print_section(f"store memory of the searched draw, {n:,} entries (MEMORY USAGE SAMPLES 0)")
    for kind, size in sorted(part.by_kind.items(), key=lambda item: -item[1]):
        live = "  (live)" if kind in LIVE_KINDS else ""
        print(f"{kind:<16} {size:>14,} bytes  {size / n:7.1f} per entry{live}")
    print(
        f"{'total':<16} {sum(part.by_kind.values()):>14,} bytes  {part.total_per_entry:7.1f} "
        f"per entry (used_memory grew {part.used_memory_delta / n:.1f} per entry in the fill)"
    )
    print(
        f"live keys        {part.live_per_entry:.1f} bytes per entry: {part.buckets:,} name "
        f"buckets, {part.stream_length:,} events in the stream, {part.minute_fields:,} "
        f"minute/hour counters"
    )
    print(
        f"name buckets     {part.names_text / n:.1f} bytes of text per entry "
        f'("login\\tindex", index in base 36), {part.by_kind.get("names", 0) / n:.1f} held '
        "in their lists"
    )
    print(
        f"before the live  ledger + entrants {part.per_entry('ledger', 'entrants'):.1f} bytes "
        f"per entry here (logins of {part.mean_login:.1f} characters); "
        f"{PREVIOUS_BYTES_PER_ENTRY} in docs/benchmarks.md (logins b0..b999999)"
    )


def _in_store(store_url: str, work: Callable[[AsyncRedis], Awaitable[T]]) -> T:
    """``work`` on a fresh client of the store, in an event loop of its own."""

    async def go() -> T:
        client = connect(store_url)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


# -- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    harness.require_tool("wrk", "wrk")
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    busy = cpu.wait_until_idle(args.wait_idle, IDLE_THRESHOLD)
    print(f"busy    {busy:.0%} of all cores before the start (other processes)")
    if busy >= IDLE_THRESHOLD:
        print("WARNING: the machine is not idle; every figure below is lower than it should be")
    # The server holds a descriptor per watcher; children inherit the raised limit.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    feed: FeedPart | None = None
    search: SearchPart | None = None
    with (
        refused_tcp_port() as github_port,
        FairdrawServer(
            args.workers,
            f"http://127.0.0.1:{github_port}",
            settings={
                **SERVER_SETTINGS,
                "FAIRDRAW_LIVE_COUNT_INTERVAL_SECONDS": f"{args.count_interval:g}",
            },
        ) as server,
        redis.Redis(unix_socket_path=str(server.socket_path), decode_responses=True) as store,
    ):
        if "feed" in args.parts:
            feed = run_feed(args, server, store)
        if "search" in args.parts:
            search = run_search(args, server)

    print_section("targets")
    ok = True
    if feed is not None:
        p99 = percentile(feed.feed.to_last_ms, 0.99)
        delivered = all(
            f.undelivered == 0 and f.complete == f.reached == f.watchers
            for f in (feed.feed, *feed.after_loads)
        )
        clean = feed.paced.errors == 0 and feed.loads_clean
        readers = feed.clients_with.xread <= args.workers
        print(
            f"feed p99 < {TARGET_FEED_P99_MS:g} ms: {verdict(p99 < TARGET_FEED_P99_MS)} ({p99:.1f})"
        )
        print(
            f"throughput drop < {TARGET_DROP_PERCENT:g} %: "
            f"{verdict(feed.drop_percent < TARGET_DROP_PERCENT)} ({feed.drop_percent:.1f} %, "
            f"the median of {', '.join(f'{d:.1f}' for d in feed.drops)})"
        )
        print(
            f"every watcher saw every state: {verdict(delivered)}; one blocked reader per "
            f"process: {verdict(readers)} ({feed.clients_with.xread} for {args.workers} workers);"
            f" 0 errors: {verdict(clean)}"
        )
        ok = ok and clean and delivered
    if search is not None:
        p99 = percentile(search.http.ms, 0.99)
        print(
            f"search p99 < {TARGET_SEARCH_P99_MS:g} ms: "
            f"{verdict(p99 < TARGET_SEARCH_P99_MS)} ({p99:.1f})"
        )
        live = search.live_per_entry
        print(
            f"live keys <= {TARGET_LIVE_BYTES_PER_ENTRY:g} bytes per entry: "
            f"{verdict(live <= TARGET_LIVE_BYTES_PER_ENTRY)} ({live:.1f})"
        )
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_live.py", options_of(args)))
    return 0 if ok else 1


async def _prefill(store_url: str, entrants: int) -> None:
    client = connect(store_url)
    try:
        await prefill_profiles(client, Keys(), range(entrants))
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
