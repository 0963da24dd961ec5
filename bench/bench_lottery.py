"""Daily lotteries: ballots per second over HTTP, and one round of many ballots drawn.

Two parts, chosen with ``--parts`` (both by default):

http   ballots per second against ``fairdraw serve --workers 2`` (embedded store,
       temporary directory), 64 connections, in ``--rounds`` runs on the same server
       (the reading is the median: the host's speed drifts by more than the figure's
       margin), every request a logged-in participant's ballot:
       ``POST /api/v1/lotteries/{id}/ballots`` with an API access token, the tokens of
       ``--participants`` accounts in rotation (bench/entry_load.lua, load "ballots").
       The accounts are made beforehand and their tokens come from the token endpoint
       (bench/lottery_http.py). The per-address ballot limit is out of reach (every
       request comes from 127.0.0.1); the limiter runs and its cost is included. In the
       same run, two ceilings: ``cast_ballot.lua`` alone from redis-benchmark (EVALSHA
       over the unix socket, with the arguments the service sends), and PING.
round  one round of ``--ballots`` ballots (10^6 by default) from ``--identities``
       participants in a private embedded store: the time to fill it (pipelined
       script calls), ``LotteryService.draw_round`` as the scheduler runs it after
       midnight (close, seal, draw; cold: no chunk hashed beforehand), the seal again
       as it is when the complete chunks were hashed while the round was open (what
       casting does), and the store memory per ballot (bench/lottery_round.py).

Needs wrk and redis-benchmark for the http part: apt-get install -y wrk redis-tools.
Run from the repository root: .venv/bin/python bench/bench_lottery.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bench import cpu, harness
from bench.bench_entries import (
    HttpFigures,
    measure_load,
    print_http,
    print_store,
    script_ceilings,
)
from bench.harness import (
    print_section,
    refused_tcp_port,
    reproduce_command,
    require_tool,
)
from bench.lottery_http import (
    LotteryApi,
    LotteryServer,
    access_tokens,
    ballots_path,
    cast_ballot_words,
    create_participants,
)
from bench.lottery_round import RoundFigures, measure_round
from bench.machine import describe_machine
from bench.redis_benchmark import StoreRun
from bench.wrk import run_entry_load
from fairdraw.domain.draws import ACCOUNT_PREFIX
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import script_source

PARTS = ("http", "round")
TARGET_BALLOTS_PER_SECOND = 2500
IDLE_THRESHOLD = 0.10


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Daily lotteries: ballots over HTTP, and one round sealed and drawn.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--parts",
        type=harness.parts_parser(PARTS),
        default=",".join(PARTS),
        help="comma-separated parts",
    )
    parser.add_argument(
        "--participants", type=int, default=256, help="http: accounts whose tokens rotate"
    )
    harness.add_load_options(parser, "cast_ballot", part="http")
    parser.add_argument(
        "--rounds", type=int, default=3, help="http: measured runs, the median is read"
    )
    parser.add_argument(
        "--ballots", type=int, default=1_000_000, help="round: ballots in the round"
    )
    parser.add_argument(
        "--identities", type=int, default=10_000, help="round: participants casting them"
    )
    harness.add_wait_idle_option(parser, "each part")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def options_of(args: argparse.Namespace) -> list[str]:
    """Every option that matters to the parts run, spelled out."""
    parts: list[str] = args.parts
    options = [f"--parts={','.join(parts)}"]
    if "http" in parts:
        options += [
            f"--participants={args.participants}",
            f"--rounds={args.rounds}",
            *harness.load_options(args),
        ]
    if "round" in parts:
        options += [f"--ballots={args.ballots}", f"--identities={args.identities}"]
    options.append(f"--wait-idle={args.wait_idle:g}")
    return options


@dataclass(frozen=True)
class HttpBallots:
    """Everything the http part measured."""

    rounds: list[HttpFigures]
    script: StoreRun
    script_ballots: int
    ping: StoreRun


def measure_http(args: argparse.Namespace) -> HttpBallots:
    wrk = require_tool("wrk", "wrk")
    redis_benchmark = require_tool("redis-benchmark", "redis-tools")
    keys = Keys()
    with (
        refused_tcp_port() as github_port,
        LotteryServer(args.workers, f"http://127.0.0.1:{github_port}") as server,
        redis.Redis(unix_socket_path=str(server.socket_path), decode_responses=True) as store,
    ):
        names = asyncio.run(create_participants(server.store_url, args.participants))
        tokens = access_tokens(server.base_url, names)
        tokens_file = server.data_dir / "tokens.txt"
        tokens_file.touch(mode=0o600)
        tokens_file.write_text("\n".join(tokens) + "\n")
        with LotteryApi(server.base_url, server.admin_password) as api:
            http_lottery = api.create_lottery("bench: http")
            first = api.cast(http_lottery, tokens[0])
            script_ballot = api.cast(api.create_lottery("bench: script"), tokens[0])
        path = ballots_path(http_lottery)
        ballots = functools.partial(
            run_entry_load,
            wrk,
            server.base_url,
            path,
            base=0,
            threads=args.threads,
            connections=args.connections,
            load="ballots",
            tokens_file=tokens_file,
        )
        rounds: list[HttpFigures] = []
        for round_ in range(1, args.rounds + 1):
            warmup = ballots(seconds=args.warmup)
            measured, cores = measure_load(server, lambda: ballots(seconds=args.duration))
            ledger = int(store.llen(keys.ledger(first.round_id)))
            rounds.append(HttpFigures(warmup, measured, ledger, cores))
            print_http(
                f"fairdraw serve --workers {args.workers}: POST /api/v1/lotteries/ID/ballots"
                f" (round {round_})",
                rounds[-1],
                "ballots",
                "ballot",
            )
        print(f"participants     {len(tokens):,} access tokens in rotation")

        meta = store.hgetall(keys.draw_meta(script_ballot.round_id))
        sha = str(store.script_load(script_source("cast_ballot")))
        words = cast_ballot_words(
            sha, keys, script_ballot, meta, ACCOUNT_PREFIX + names[0], names[0]
        )
        script, made, ping = script_ceilings(
            redis_benchmark, server, store, keys.ledger(script_ballot.round_id), words, args
        )
        print_store(
            f"ceiling: cast_ballot.lua alone, EVALSHA, {args.connections} clients, unix socket",
            script,
            f"  ({made:,} ballots cast by {args.store_requests:,} calls)",
        )
        print_store(f"ceiling: PING, {args.connections} clients, unix socket", ping)
    return HttpBallots(rounds, script, made, ping)


def print_http_reading(result: HttpBallots) -> None:
    rates = [r.measured.requests_per_second for r in result.rounds]
    rate = statistics.median(rates)
    print_section("reading: ballots over HTTP")
    listed = ", ".join(f"{r:,.0f}" for r in rates)
    print(f"fairdraw ballots/s               {rate:,.0f}, the median of {listed}")
    print(f"fairdraw / cast_ballot.lua       {rate / result.script.requests_per_second:.1%}")
    met = "met" if rate >= TARGET_BALLOTS_PER_SECOND else "NOT met"
    print(f"target >= {TARGET_BALLOTS_PER_SECOND:,} ballots/s: {met}")


def print_round(f: RoundFigures) -> None:
    print(f"ballots          {f.ballots:,} from {f.identities:,} participants")
    print(f"fill             {f.fill_s:.1f} s  ({f.fill_rate:,.0f} ballots/s, pipelined)")
    print(
        f"draw_round       {f.draw_round_s:.2f} s  (close {f.close_s:.2f}, seal {f.seal_s:.2f},"
        f" draw {f.draw_s:.2f}); winner: ballot {f.winner + 1:,}"
    )
    print(
        f"seal, pieces     ledger read {f.read_s:.2f} s, Merkle root alone {f.merkle_s:.2f} s,"
        f" whole seal again (warm workers) {f.warm_seal_s:.2f} s"
    )
    print(
        f"hashed while     {f.chunks} complete chunks hashed one by one in {f.chunks_hash_s:.2f} s;"
        f" the seal with their roots known {f.seal_with_chunks_s:.2f} s"
    )
    print(
        f"store memory     {f.used_memory_delta:,} bytes after filling"
        f" ({f.per_ballot(f.used_memory_delta):.1f} per ballot, INFO used_memory)"
    )
    for name, size in f.key_bytes_filled.items():
        drawn = f.key_bytes_drawn.get(name, 0)
        print(
            f"  key {name:<10} {size:>13,} bytes ({f.per_ballot(size):.1f} per ballot);"
            f" {drawn:,} after the draw"
        )


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    errors = 0
    if "http" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        result = measure_http(args)
        print_http_reading(result)
        errors += sum(r.measured.errors + r.warmup.errors for r in result.rounds)
    if "round" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        print_section(f"round: {args.ballots:,} ballots, filled, closed, sealed and drawn")
        print_round(asyncio.run(measure_round(args.ballots, args.identities)))
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_lottery.py", options_of(args)))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
