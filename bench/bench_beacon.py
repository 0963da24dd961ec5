"""BLS verification of drand beacon rounds: what checking one round costs a draw.

Verifies the real quicknet rounds recorded in tests/data/quicknet_rounds.json with
``fairdraw.domain.beacon.verify_round``, ``--verifications`` times in all (the rounds in
turn), and prints the median, p99, mean and extremes per verification. Next to it, from
the same run, the library's parts that make up a verification (py_arkworks_bls12381):
decoding the signature with its subgroup check, hashing the round's message to G1 (RFC
9380) and the two-pairing check; and decoding the chain's public key, which fairdraw does
once per chain and caches. A draw verifies one round, so the figure is also the time the
beacon adds to a draw beyond waiting for the round.

Run from the repository root: .venv/bin/python bench/bench_beacon.py [--help]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from py_arkworks_bls12381 import GT, G1Point, G2Point

from bench import cpu, harness
from bench.harness import REPO_ROOT, BenchError, print_section, reproduce_command
from bench.machine import describe_machine
from bench.watchers import percentile
from fairdraw.domain.beacon import DST, QUICKNET, round_message, verify_round

ROUNDS_FILE = REPO_ROOT / "tests" / "data" / "quicknet_rounds.json"
IDLE_THRESHOLD = 0.10
WARMUP = 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="BLS verification time per drand round (quicknet), and its parts.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--verifications", type=int, default=2000, help="rounds verified, each timed"
    )
    harness.add_wait_idle_option(parser, "measuring")
    args = parser.parse_args(argv)
    if args.verifications < 1:
        parser.error("--verifications must be positive")
    return args


def options_of(args: argparse.Namespace) -> list[str]:
    return [f"--verifications={args.verifications}", f"--wait-idle={args.wait_idle:g}"]


def recorded_rounds() -> list[tuple[int, bytes]]:
    """The real quicknet rounds: (round, signature)."""
    try:
        recorded = json.loads(ROUNDS_FILE.read_text())
    except OSError as exc:
        raise BenchError(f"cannot read the recorded rounds: {exc}") from exc
    return [(entry["round"], bytes.fromhex(entry["signature"])) for entry in recorded["rounds"]]


def timed(count: int, call: Callable[[int], object]) -> list[float]:
    """Seconds of each of ``count`` calls ``call(i)``, after a few untimed ones."""
    for i in range(WARMUP):
        call(i)
    seconds: list[float] = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def print_times(label: str, seconds: Sequence[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{label:<36} median {statistics.median(ms):6.3f}  p99 {percentile(ms, 0.99):6.3f}"
        f"  mean {statistics.fmean(ms):6.3f}  min {min(ms):6.3f}  max {max(ms):7.3f}  ms"
    )


def run(args: argparse.Namespace) -> int:
    rounds = recorded_rounds()
    n = args.verifications
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    print(f"library py_arkworks_bls12381 {version('py_arkworks_bls12381')}")
    cpu.settle(args.wait_idle, IDLE_THRESHOLD)

    def verify(i: int) -> None:
        round, signature = rounds[i % len(rounds)]
        verify_round(QUICKNET, round, signature)

    print_section(
        f"verify_round: {n:,} verifications of {len(rounds)} real quicknet rounds, one core"
    )
    verifications = timed(n, verify)
    print_times("verify_round (whole check)", verifications)
    print(f"{'verifications per second':<36} {1 / statistics.median(verifications):,.0f}")

    print_section("its parts, same run (py_arkworks_bls12381)")
    signatures = [G1Point.from_compressed_bytes(signature) for _, signature in rounds]
    hashed = [G1Point.hash_to_curve(round_message(round), DST) for round, _ in rounds]
    public_key = G2Point.from_compressed_bytes(QUICKNET.public_key)
    negated_g2 = -G2Point()
    print_times(
        "signature decode + subgroup check",
        timed(n, lambda i: G1Point.from_compressed_bytes(rounds[i % len(rounds)][1])),
    )
    print_times(
        "hash_to_curve G1 (RFC 9380)",
        timed(n, lambda i: G1Point.hash_to_curve(round_message(rounds[i % len(rounds)][0]), DST)),
    )
    print_times(
        "pairing check (two pairings)",
        timed(
            n,
            lambda i: GT.pairing_check(
                [signatures[i % len(rounds)], hashed[i % len(rounds)]], [negated_g2, public_key]
            ),
        ),
    )
    print_times(
        "public key decode (once per chain)",
        timed(n, lambda i: G2Point.from_compressed_bytes(QUICKNET.public_key)),
    )
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_beacon.py", options_of(args)))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
