"""A single store with one replica, started from the same ``valkey-server`` binary the
embedded store runs, on loopback ports: what ``FAIRDRAW_STORE_REPLICA_ACKS`` waits for.

The replica can be stopped (SIGSTOP: it neither reads nor acknowledges, as a stalled or
partitioned host) and resumed, or killed.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fairdraw.store.valkey_server import find_server_binary
from tests.support.cluster import Node

READY_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# One running valkey-server, as the cluster fixture keeps its nodes.
Server = Node


@dataclass
class ReplicatedStore:
    """A master and its replica; ``url`` is what fairdraw is given (the master)."""

    master: Server
    replica: Server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.master.port}/0"

    def stop_replica(self) -> None:
        """The replica stops reading and acknowledging (its process is suspended)."""
        self.replica.process.send_signal(signal.SIGSTOP)

    def resume_replica(self) -> None:
        self.replica.process.send_signal(signal.SIGCONT)
        self.wait_in_sync()

    def wait_in_sync(self) -> None:
        """Until the master counts the replica online and it has every write so far."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                info = self.master.client().info("replication")
                replica = info.get("slave0")
                if (
                    isinstance(replica, dict)
                    and replica.get("state") == "online"
                    and int(replica["offset"]) >= int(info["master_repl_offset"])
                ):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"replica not in sync; see {self.replica.directory}")


def _start(binary: str, root: Path, *options: str) -> Server:
    port = _free_port()
    directory = root / str(port)
    directory.mkdir(parents=True)
    command = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "no",
        "--protected-mode", "no",
        "--logfile", str(directory / "valkey.log"),
        *options,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    return Server(port, process, directory)


@contextlib.contextmanager
def running_replicated_store(root: Path) -> Iterator[ReplicatedStore]:
    """A master and a replica following it, in ``root``, until the block ends."""
    binary = find_server_binary()
    master = _start(binary, root)
    servers = [master]
    try:
        replica = _start(binary, root, "--replicaof", "127.0.0.1", str(master.port))
        servers.append(replica)
        store = ReplicatedStore(master, replica)
        store.wait_in_sync()
        yield store
    finally:
        for server in servers:
            with contextlib.suppress(ProcessLookupError):
                server.process.send_signal(signal.SIGCONT)
            if server.process.poll() is None:
                server.process.kill()
            server.process.wait()
        shutil.rmtree(root, ignore_errors=True)
