"""A real Valkey cluster for the tests, started from the same ``valkey-server`` binary
the embedded store runs: three masters, each with one replica, on loopback ports.

The cluster is made the way an operator makes one by hand: every node starts with
``cluster-enabled yes``, the masters take a third of the 16,384 slots each
(``CLUSTER ADDSLOTSRANGE``), all nodes meet, and each replica follows its master
(``CLUSTER REPLICATE``). It is ready when every node reports ``cluster_state:ok`` and
knows all six nodes.

``FAIRDRAW_TEST_CLUSTER=1`` runs the whole suite against one such cluster (the store
fixtures then hand out ``redis+cluster://`` URLs and flush every master before a test).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from fairdraw.store.valkey_server import find_server_binary

SLOTS = 16384
READY_SECONDS = 30.0


def _free_ports(count: int) -> list[int]:
    """``count`` loopback ports that are free now, each with its bus port (+10000) free."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


def _node_command(binary: str, port: int, directory: Path) -> list[str]:
    return [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000",
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "no",
        "--protected-mode", "no",
        "--logfile", str(directory / "valkey.log"),
    ]  # fmt: skip


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]
    directory: Path

    def client(self) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, decode_responses=True)


@dataclass
class ValkeyCluster:
    """Masters and replicas started in ``root``; ``url`` is what fairdraw is given."""

    root: Path
    masters: int = 3
    replicas_each: int = 1
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    @property
    def master_nodes(self) -> list[Node]:
        return self.nodes[: self.masters]

    def start(self) -> str:
        binary = find_server_binary()
        count = self.masters * (1 + self.replicas_each)
        for port in _free_ports(count):
            directory = self.root / str(port)
            directory.mkdir(parents=True)
            command = _node_command(binary, port, directory)
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            self.nodes.append(Node(port, process, directory))
        try:
            self._wait(lambda node: bool(node.client().ping()))
            self._form()
        except BaseException:
            self.stop()
            raise
        return self.url

    def restart(self, node: Node) -> None:
        """Start a killed node again on its port and directory: it rejoins the cluster
        (a master replaced meanwhile comes back as its replacement's replica)."""
        command = _node_command(find_server_binary(), node.port, node.directory)
        node.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)

    def _form(self) -> None:
        share = SLOTS // self.masters
        for n, node in enumerate(self.master_nodes):
            last = SLOTS - 1 if n == self.masters - 1 else (n + 1) * share - 1
            node.client().execute_command("CLUSTER", "ADDSLOTSRANGE", n * share, last)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            first.client().execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        self._wait(self._knows_all)
        for n, node in enumerate(self.nodes[self.masters :]):
            master = self.master_nodes[n % self.masters]
            master_id = master.client().execute_command("CLUSTER", "MYID")
            node.client().execute_command("CLUSTER", "REPLICATE", master_id)
        self._wait(self._ready)

    def _knows_all(self, node: Node) -> bool:
        lines = node.client().execute_command("CLUSTER", "NODES").splitlines()
        return len(lines) == len(self.nodes)

    def _ready(self, node: Node) -> bool:
        """The node sees the whole cluster serving every slot, and a replica has its
        master's data (so that it could take over)."""
        client = node.client()
        if "cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            return False
        lines = client.execute_command("CLUSTER", "NODES").splitlines()
        replicas = sum(1 for line in lines if " slave " in line or ",slave " in line)
        if len(lines) != len(self.nodes) or replicas != len(self.nodes) - self.masters:
            return False
        replication = client.info("replication")
        return replication["role"] == "master" or replication["master_link_status"] == "up"

    def _wait(self, check: Callable[[Node], bool]) -> None:
        deadline = time.monotonic() + READY_SECONDS
        pending = list(self.nodes)
        while pending:
            node = pending[0]
            with contextlib.suppress(Exception):
                if check(node):
                    pending.pop(0)
                    continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster node {node.port} not ready; see {node.directory}")
            time.sleep(0.05)

    def flush(self) -> None:
        """Empty every master (replicas follow)."""
        for node in self.master_nodes:
            node.client().flushall()

    def stop(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.process.wait(timeout=10)
            if node.process.poll() is None:
                node.process.kill()
                node.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(root: Path) -> Iterator[ValkeyCluster]:
    cluster = ValkeyCluster(root)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
