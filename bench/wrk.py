"""Driving ``wrk`` with entry_load.lua and reading the line its done() prints.

The script sends a different participant per request (giveaway entries, raffle claims) or
ballots under rotating bearer tokens; it prints one ``RESULT key=value ...`` line and a
``FIRST_UNEXPECTED`` line.
"""

from __future__ import annotations

import resource
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from bench.harness import BenchError

ENTRY_SCRIPT = Path(__file__).with_name("entry_load.lua")
# What each request does (entry_load.lua's header says how).
Load = Literal["entries", "claims", "ballots", "seed"]


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: what it sent, what came back, and how long it took."""

    command: list[str]
    completed: int
    duration_s: float
    issued: int
    non_201: int
    socket_errors: int
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    max_ms: float
    first_unexpected: str
    output: str
    cpu_seconds: float = 0.0
    # entry_load.lua: the participant number the next run should start from.
    next_base: int = 0

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        """Every request that did not end in 201 Created (200 OK for the seed load)."""
        return self.non_201 + self.socket_errors + self.timeouts


def run_entry_load(
    wrk: str,
    base_url: str,
    path: str,
    *,
    base: int,
    threads: int,
    connections: int,
    seconds: float,
    load: Load = "entries",
    tokens_file: Path | None = None,
) -> WrkRun:
    """POST logins b<base>, b<base+1>, ... to ``path`` for ``seconds``; with ``load``
    "seed", GET ``path`` + b<base>, ...; with "claims", POST nothing, from client
    addresses 10.0.0.0 + base, + base+1, ...; with "ballots", POST nothing under the
    bearer tokens of ``tokens_file`` in turn."""
    script_args = [path, str(base), str(threads), load]
    if load == "ballots":
        if tokens_file is None:
            raise BenchError("a ballot load needs a tokens file")
        script_args.append(str(tokens_file))
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds:g}s",
        "--timeout=5s",
        "--latency",
        f"--script={ENTRY_SCRIPT}",
        base_url,
        "--",
        *script_args,
    ]
    # wrk is gone before anyone could sample /proc; its own rusage says what it used.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return replace(_parse(command, done.stdout), cpu_seconds=cpu_seconds)


def _parse(command: list[str], output: str) -> WrkRun:
    result: dict[str, float] = {}
    first_unexpected = ""
    for line in output.splitlines():
        if line.startswith("RESULT "):
            result = {k: float(v) for k, v in (w.split("=", 1) for w in line.split()[1:])}
        elif line.startswith("FIRST_UNEXPECTED"):
            first_unexpected = line.removeprefix("FIRST_UNEXPECTED").strip()
    if not result:
        raise BenchError(f"wrk printed no RESULT line:\n{output}")
    return WrkRun(
        command=command,
        completed=int(result["completed"]),
        duration_s=result["duration_us"] / 1e6,
        issued=int(result["issued"]),
        non_201=int(result["non201"]),
        socket_errors=int(
            result["connect_errors"] + result["read_errors"] + result["write_errors"]
        ),
        timeouts=int(result["timeouts"]),
        p50_ms=result["p50_us"] / 1000,
        p90_ms=result["p90_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        p999_ms=result["p999_us"] / 1000,
        mean_ms=result["mean_us"] / 1000,
        max_ms=result["max_us"] / 1000,
        first_unexpected=first_unexpected,
        output=output,
        next_base=int(result["next_base"]),
    )
