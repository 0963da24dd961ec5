"""Where the CPU went during a measurement, from /proc (Linux).

On a two-core machine the load generator, the web workers and the store share the
same cores, and anything else running skews every figure; these samples say how much
each took, so a reading can tell a saturated server from a busy neighbour.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSnapshot:
    """Machine-wide busy, stolen and total ticks, and each process's (name, parent,
    ticks). Stolen ticks are time a virtual machine wanted to run and its host ran
    something else instead."""

    busy_ticks: int
    steal_ticks: int
    total_ticks: int
    processes: dict[int, tuple[str, int, int]]


def snapshot() -> CpuSnapshot:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    steal = fields[7]
    total = sum(fields[:8])  # user .. steal; guest time is already in user
    processes: dict[int, tuple[str, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid ..." — comm may contain spaces and parentheses.
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        processes[int(entry.name)] = (name, int(rest[1]), int(rest[11]) + int(rest[12]))
    return CpuSnapshot(total - idle - steal, steal, total, processes)


def machine_busy(seconds: float = 1.0) -> float:
    """Share of all cores busy over ``seconds`` (0.0 to 1.0)."""
    before = snapshot()
    time.sleep(seconds)
    after = snapshot()
    return (after.busy_ticks - before.busy_ticks) / max(1, after.total_ticks - before.total_ticks)


def wait_until_idle(limit_seconds: float, threshold: float = 0.10) -> float:
    """Wait up to ``limit_seconds`` for the machine to be less than ``threshold`` busy;
    the last busy share measured."""
    deadline = time.monotonic() + limit_seconds
    busy = machine_busy()
    while busy >= threshold and time.monotonic() < deadline:
        busy = machine_busy(2.0)
    return busy


def settle(limit_seconds: float, threshold: float = 0.10) -> None:
    """wait_until_idle, and a warning on standard output when the machine stayed busy."""
    busy = wait_until_idle(limit_seconds, threshold)
    if busy >= threshold:
        print(f"WARNING: {busy:.0%} of the CPU busy with other processes at the start")


def machine_cores_busy(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """Cores busy running this machine's work between two snapshots (2.0 = both of
    two cores), stolen time not included."""
    return _cores(before, after, after.busy_ticks - before.busy_ticks)


def machine_cores_stolen(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """Cores' worth of time the host gave to others while this machine wanted to run."""
    return _cores(before, after, after.steal_ticks - before.steal_ticks)


def _cores(before: CpuSnapshot, after: CpuSnapshot, ticks: int) -> float:
    total = after.total_ticks - before.total_ticks
    return ticks / total * (os.cpu_count() or 1) if total else 0.0


def usage_by_group(
    before: CpuSnapshot, after: CpuSnapshot, roots: dict[int, str], by_name: dict[str, str]
) -> dict[str, float]:
    """Cores used per group between two snapshots (1.0 = one core fully busy).

    A process belongs to the group of its name in ``by_name``, else to the group of its
    nearest ancestor in ``roots``, else to "other processes".
    """
    cores = os.cpu_count() or 1
    seconds = (after.total_ticks - before.total_ticks) / CLOCK_TICKS / cores
    usage: dict[str, float] = defaultdict(float)
    for pid, (name, _parent, ticks) in after.processes.items():
        spent = ticks - before.processes.get(pid, (name, 0, 0))[2]
        if spent > 0:
            usage[_group_of(pid, after.processes, roots, by_name)] += spent / CLOCK_TICKS
    return {group: spent / seconds for group, spent in usage.items()} if seconds else {}


def _group_of(
    pid: int,
    processes: dict[int, tuple[str, int, int]],
    roots: dict[int, str],
    by_name: dict[str, str],
) -> str:
    name = processes[pid][0]
    if name in by_name:
        return by_name[name]
    seen = set()
    while pid in processes and pid not in seen:
        if pid in roots:
            return roots[pid]
        seen.add(pid)
        pid = processes[pid][1]
    return "other processes"
