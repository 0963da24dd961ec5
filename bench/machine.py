"""The machine a benchmark ran on, as docs/benchmarks.md records it."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fairdraw.store.valkey_server import find_server_binary


@dataclass(frozen=True)
class Machine:
    cpu_model: str
    cores: int
    ram: str
    os: str
    python: str
    store_server: str

    def lines(self) -> list[str]:
        return [
            f"CPU     {self.cpu_model}, {self.cores} cores",
            f"RAM     {self.ram}",
            f"OS      {self.os}",
            f"Python  {self.python}",
            f"store   {self.store_server}",
        ]


def _cpu_model() -> str:
    """The model name, with family/model/stepping and clock: virtual machines often
    report only a generic name such as "Intel(R) Xeon(R) Processor"."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break  # the first processor is enough
            name, _, value = line.partition(":")
            fields[name.strip()] = value.strip()
    except OSError:
        return platform.processor() or "unknown"
    flags = fields.get("flags", "").split()
    details = [
        f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')} "
        f"stepping {fields.get('stepping', '?')}",
        f"{float(fields.get('cpu MHz', '0')):.0f} MHz",
    ]
    if "hypervisor" in flags:
        details.append("virtual machine")
    return f"{fields.get('model name', 'unknown')} ({', '.join(details)})"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _os() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip().strip('"')
                return f"{name}, Linux {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _server_version(binary: str) -> str:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError as exc:
        return f"{binary} ({exc})"
    # "Valkey server v=8.1.8 sha=... malloc=libc bits=64 build=..."
    words = dict(w.split("=", 1) for w in out.split() if "=" in w)
    name = out.split(" v=", 1)[0] if " v=" in out else Path(binary).name
    return f"{name} {words.get('v', '?')} (malloc={words.get('malloc', '?')})"


def describe_machine() -> Machine:
    """CPU model, cores, RAM, OS, Python and the store server the embedded store runs."""
    return Machine(
        cpu_model=_cpu_model(),
        cores=os.cpu_count() or 0,
        ram=_ram(),
        os=_os(),
        python=platform.python_version(),
        store_server=_server_version(find_server_binary()),
    )
