"""The embedded store: a private ``valkey-server`` that fairdraw starts, supervises and stops.

With no ``FAIRDRAW_REDIS_URL``, ``fairdraw serve`` runs its own server so that one command
is enough on a laptop. The server listens on a unix socket only (``port 0``), keeps its
data in an append-only file fsynced after every write (``appendfsync always``: an
acknowledged entry survives a crash of fairdraw, of the server, or of the machine), and
stops when fairdraw stops. Everything lives under ``DATA_DIR/store``::

    lock            flock held by the fairdraw that owns this directory
    valkey.conf     rewritten on every start
    valkey.sock     the unix socket (mode 0700)
    valkey.pid      written by the server, removed when it exits cleanly
    valkey.log      the server's log, including start-up failures
    appendonlydir/  the data

The socket path must fit in ``sun_path`` (107 bytes plus NUL). A data directory too deep
for that is refused with an error asking for a shorter ``FAIRDRAW_DATA_DIR``, rather than
moving the socket to a shared directory such as ``/tmp``, where another local user could
squat the name.

A fairdraw that dies without stopping its server leaves an orphan that keeps the data
open. The next start recognises it (its pid file names a server running this
directory's config, or something answers on this directory's socket) and shuts it down
before starting a fresh one; a pid file naming any other process is simply discarded.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from fairdraw.store.valkey_server import (
    POLL_SECONDS,
    EmbeddedStoreError,
    find_server_binary,
    read_pid,
    runs_config,
    send_command,
    stop_server,
)

logger = logging.getLogger("fairdraw.store")

MAX_SOCKET_PATH_BYTES = 107
LOG_TAIL_LINES = 20


class EmbeddedStore:
    """A private server on ``data_dir``; ``start()`` returns its ``unix://`` URL.

    Synchronous on purpose: the CLI starts the store before the web workers exist and
    stops it after they are gone. The server runs in its own session, so a Ctrl-C in
    the terminal reaches fairdraw alone and the store is stopped in order; ``atexit``
    stops it too if the caller forgets.
    """

    def __init__(self, data_dir: Path, binary: str | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.store_dir = self.data_dir / "store"
        self.config_path = self.store_dir / "valkey.conf"
        self.socket_path = self.store_dir / "valkey.sock"
        self.pid_path = self.store_dir / "valkey.pid"
        self.log_path = self.store_dir / "valkey.log"
        self.lock_path = self.store_dir / "lock"
        self._explicit_binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None

    @property
    def url(self) -> str:
        """The client URL of this store (``unix:///abs/path/valkey.sock``)."""
        return "unix://" + quote(str(self.socket_path))

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs, else None."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and return its URL once it answers PING.

        Raises EmbeddedStoreError if another fairdraw uses the data directory, if no
        server binary is found, or if the server exits or stays silent for ``timeout``
        seconds (the message then ends with the server's last log lines).
        """
        if self._process is not None:
            if self._process.poll() is None:
                return self.url
            self.stop()
        self._check_socket_path()
        binary = find_server_binary(self._explicit_binary)
        self._make_store_dir()
        self._acquire_lock()
        try:
            self._stop_orphan(binary, timeout)
            self._write_config()
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._process = process = self._spawn(binary)
            self._wait_until_ready(process, binary, log_offset, timeout)
        except BaseException:
            self._kill_child()
            self._release_lock()
            raise
        atexit.register(self.stop)
        logger.info("embedded store started: %s (pid %d, %s)", self.url, process.pid, binary)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server: SHUTDOWN, then SIGTERM, then SIGKILL. Harmless if stopped."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                stop_server(process.pid, self.socket_path, lambda: process.poll() is None, timeout)
            process.wait()
            self._remove_runtime_files()
            logger.info("embedded store stopped (exit status %s)", process.returncode)
        self._release_lock()
        atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _check_socket_path(self) -> None:
        size = len(os.fsencode(self.socket_path))
        if size > MAX_SOCKET_PATH_BYTES:
            raise EmbeddedStoreError(
                f"the data directory {self.data_dir} is too deep for the store's unix socket "
                f"({size} bytes, at most {MAX_SOCKET_PATH_BYTES}); "
                "set FAIRDRAW_DATA_DIR to a shorter path"
            )

    def _make_store_dir(self) -> None:
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            # The data holds hashed credentials and entrants' references: owner only.
            self.store_dir.chmod(0o700)
        except OSError as exc:
            raise EmbeddedStoreError(f"cannot prepare {self.store_dir}: {exc}") from exc

    def _acquire_lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            by = f" (pid {holder})" if holder.isdigit() else ""
            raise EmbeddedStoreError(
                f"another fairdraw{by} is already using {self.data_dir}"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise EmbeddedStoreError(f"cannot lock {self.lock_path}: {exc}") from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing drops the flock

    def _stop_orphan(self, binary: str, timeout: float) -> None:
        """Stop a server left running by a fairdraw that died, and clear stale files.

        Holding the lock means no live fairdraw owns this directory, so a server on its
        socket or named by its pid file running its config is an orphan.
        """
        pid = read_pid(self.pid_path)
        if pid is not None and not runs_config(pid, self.config_path, binary):
            logger.info(
                "discarding stale pid file %s (pid %d is not our server)", self.pid_path, pid
            )
            pid = None

        def alive() -> bool:
            if pid is not None:
                return runs_config(pid, self.config_path, binary)
            # Anything that answers, even -LOADING, on this private socket is ours.
            return send_command(self.socket_path, "PING") is not None

        if alive():
            logger.warning(
                "a store server left running by a previous fairdraw (pid %s) uses %s; stopping it",
                pid if pid is not None else "unknown",
                self.data_dir,
            )
            stop_server(pid, self.socket_path, alive, timeout)
        self._remove_runtime_files()

    def _write_config(self) -> None:
        settings: list[tuple[str, str]] = [
            ("port", "0"),
            ("unixsocket", str(self.socket_path)),
            ("unixsocketperm", "700"),
            ("protected-mode", "yes"),
            ("daemonize", "no"),
            # Keeps the config path in the process's command line, so that an orphan
            # can be told apart from an unrelated process that reused its pid.
            ("set-proc-title", "no"),
            ("dir", str(self.store_dir)),
            ("pidfile", str(self.pid_path)),
            ("logfile", str(self.log_path)),
            ("appendonly", "yes"),
            ("appendfsync", "always"),
            ("aof-use-rdb-preamble", "yes"),
            ("save", ""),
            # The store is the system of record: refuse writes rather than evict data.
            ("maxmemory-policy", "noeviction"),
        ]
        lines = [name.encode() + b" " + _config_quote(value) for name, value in settings]
        self.config_path.write_bytes(b"\n".join(lines) + b"\n")
        self.config_path.chmod(0o600)

    def _spawn(self, binary: str) -> subprocess.Popen[bytes]:
        try:
            with self.log_path.open("ab") as log:
                # Output goes to the log because config errors are printed before the
                # server opens its own log file.
                return subprocess.Popen(  # noqa: S603 (the binary comes from find_server_binary)
                    [binary, str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.store_dir,
                    start_new_session=True,
                )
        except OSError as exc:
            raise EmbeddedStoreError(f"cannot run {binary}: {exc}") from exc

    def _wait_until_ready(
        self, process: subprocess.Popen[bytes], binary: str, log_offset: int, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            status = process.poll()
            if status is not None:
                problem = f"{binary} exited with status {status} while starting"
                break
            # Answers -LOADING while it replays the append-only file.
            if send_command(self.socket_path, "PING") == b"+PONG":
                return
            if time.monotonic() >= deadline:
                problem = f"{binary} did not answer within {timeout:g} s"
                break
            time.sleep(POLL_SECONDS)
        tail = _log_tail(self.log_path, log_offset)
        raise EmbeddedStoreError(f"{problem}; the end of {self.log_path}:\n{tail}")

    def _kill_child(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            self._remove_runtime_files()

    def _remove_runtime_files(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        self.pid_path.unlink(missing_ok=True)


def _config_quote(value: str) -> bytes:
    """A config-file string literal; bytes outside printable ASCII as ``\\xHH``."""
    out = bytearray(b'"')
    for byte in os.fsencode(value):
        if 0x20 <= byte < 0x7F and byte not in b'"\\':
            out.append(byte)
        else:
            out += b"\\x%02x" % byte
    return bytes(out) + b'"'


def _log_tail(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    lines = text.strip().splitlines()[-LOG_TAIL_LINES:]
    return "\n".join(lines) if lines else "(the log is empty)"
