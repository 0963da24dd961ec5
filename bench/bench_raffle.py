"""Numbered raffles at scale: creating, claiming, claiming over HTTP, sealing and drawing.

Four parts, chosen with ``--parts`` (all by default):

create  creating and opening raffles of 10^3, 10^7 and 10^9 tickets: time, the store
        memory each creation adds (``INFO memory``) and ``MEMORY USAGE`` of the raffle's
        keys — the same whatever the size, since no ticket exists before it is claimed;
claims  claim latency (p50/p99) through ``RaffleService.claim``, the claim script alone
        and the rate limiter alone, with about 10^3 and about N claims in the ledger
        (``--claims``, 10^7 by default); the ledger is filled in between through the claim
        script itself, pipelined, by N distinct anonymous claimants; store memory per
        claimed ticket at N;
http    claims per second over HTTP against ``fairdraw serve --workers 2``, 64 connections,
        every claim from a different address (X-Forwarded-For through a trusted proxy),
        with four ceilings measured in the same run (bench/raffle_http.py);
draw    seal + draw of 100 prizes among N claimed tickets, with the complete chunks
        numbered and hashed while the raffle was open (timed apart) and cold, and the
        entries file after the draw (bench/raffle_draw.py).

Every part but http runs in a private embedded store of its own (the configuration of
``fairdraw serve``: AOF, ``appendfsync always``). With the default 10^7 claims, claims
and draw take 6 to 8 minutes each; ``--claims=1000000`` is a quick run.
Needs wrk and redis-benchmark for the http part: apt-get install -y wrk redis-tools.
Run from the repository root: .venv/bin/python bench/bench_raffle.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cpu, harness
from bench.bench_draw import parse_sizes
from bench.harness import print_section, reproduce_command
from bench.machine import describe_machine
from bench.raffle_draw import measure_seal_and_draw, print_seal_and_draw
from bench.raffle_http import measure_http_claims, print_http_reading
from bench.raffle_scale import measure_claims, measure_creation, print_claims, print_creation

PARTS = ("create", "claims", "http", "draw")
IDLE_THRESHOLD = 0.10


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Numbered raffles: creation, claim latency and memory, claims over HTTP,"
        " seal and draw.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--parts",
        type=harness.parts_parser(PARTS),
        default=",".join(PARTS),
        help="comma-separated parts",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default="1000,10000000,1000000000",
        help="create: ticket counts of the raffles created",
    )
    parser.add_argument("--repeats", type=int, default=20, help="create: raffles per size")
    parser.add_argument(
        "--claims",
        type=int,
        default=10_000_000,
        help="claims and draw: tickets of the raffle, claimed to the last but one (claims) or"
        " all (draw)",
    )
    parser.add_argument(
        "--samples", type=int, default=2000, help="claims: timed claims of each kind per level"
    )
    harness.add_load_options(parser, "claim_ticket", "RaffleService.claim", part="http")
    parser.add_argument(
        "--no-bare-app", action="store_true", help="http: skip the bare FastAPI ceiling"
    )
    harness.add_wait_idle_option(parser, "each part")
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> list[str]:
    """Every option that matters to the parts run, spelled out."""
    parts: list[str] = args.parts
    options = [f"--parts={','.join(parts)}"]
    if "create" in parts:
        options += [f"--sizes={','.join(map(str, args.sizes))}", f"--repeats={args.repeats}"]
    if "claims" in parts or "draw" in parts:
        options.append(f"--claims={args.claims}")
    if "claims" in parts:
        options.append(f"--samples={args.samples}")
    if "http" in parts:
        options += harness.load_options(args)
        if args.no_bare_app:
            options.append("--no-bare-app")
    options.append(f"--wait-idle={args.wait_idle:g}")
    return options


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    errors = 0
    if "create" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        print_section(f"create: {args.repeats} raffles of each size, created and opened")
        print_creation(asyncio.run(measure_creation(args.sizes, args.repeats)))
    if "claims" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        print_section(f"claims: latency at about 10^3 and {args.claims:,} claims; memory")
        print_claims(asyncio.run(measure_claims(args.claims, args.samples)))
    if "http" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        result = measure_http_claims(args)
        print_http_reading(result)
        errors += result.fairdraw.measured.errors + result.fairdraw.warmup.errors
    if "draw" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        print_section(f"draw: seal + draw of 100 prizes among {args.claims:,} claimed tickets")
        print_seal_and_draw(*asyncio.run(measure_seal_and_draw(args.claims)))
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_raffle.py", options_of(args)))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
