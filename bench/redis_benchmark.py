"""Driving ``redis-benchmark`` over the store's unix socket and reading its CSV."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import BenchError

# __rand_int__ becomes a 12-digit number below this; redis-benchmark reads -r as a C int.
RANDOM_RANGE = 1_000_000_000


@dataclass(frozen=True)
class StoreRun:
    """One redis-benchmark test: requests per second and latency percentiles."""

    command: list[str]
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def run_store_benchmark(
    redis_benchmark: str,
    socket_path: Path,
    words: Sequence[str],
    *,
    clients: int,
    requests: int,
    random_keys: bool = False,
) -> StoreRun:
    """Send the command ``words`` ``requests`` times from ``clients`` connections,
    one command per round trip (no pipelining), as a web worker does."""
    command = [
        redis_benchmark,
        "-s",
        str(socket_path),
        "-c",
        str(clients),
        "-n",
        str(requests),
        *(["-r", str(RANDOM_RANGE)] if random_keys else []),
        "--csv",
        *words,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    rows = list(csv.reader(line for line in done.stdout.splitlines() if line.startswith('"')))
    if done.returncode != 0 or len(rows) < 2:
        raise BenchError(
            f"redis-benchmark failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
        )
    # The first column names the test by its command, which redis-benchmark does not
    # quote for CSV (a JSON argument splits it): read the figures from the right.
    header, last = rows[0], rows[-1]
    row = dict(zip(header[1:], last[len(last) - len(header) + 1 :], strict=True))
    return StoreRun(
        command=command,
        requests_per_second=float(row["rps"]),
        p50_ms=float(row["p50_latency_ms"]),
        p99_ms=float(row["p99_latency_ms"]),
        max_ms=float(row["max_latency_ms"]),
    )
