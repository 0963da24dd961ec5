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

Ownership is the ``lock`` file: whoever holds its ``flock`` owns the directory and its
server, for as long as it runs; a second fairdraw that would start a server there is
refused with :class:`DataDirectoryInUse`. The kernel drops the lock when its holder dies,
however it dies, while the server (in a session of its own) may live on: a fairdraw
killed with SIGKILL leaves an orphan that keeps the data open. The next start recognises
it (its pid file names a process whose command line is a server binary on this
directory's config, or something answers on this directory's socket), shuts it down
gracefully (SHUTDOWN, so the append-only file is complete) and starts a fresh server of
its own; a pid file naming any other process is simply discarded.

While it runs, a supervisor thread watches the server: a server that dies is restarted
on the same socket after a short delay that doubles up to ``RESTART_DELAYS[-1]``, and the
death and the recovery are logged once each. Clients reconnect by themselves.

A crash in the middle of a write can leave an incomplete last command in the
append-only file; the server drops it and loads the rest (``aof-load-truncated``), and
fairdraw logs one warning saying so. Any other damage stops the server from loading:
start-up then fails with :class:`DamagedAppendOnlyFile` (one line), and ``fairdraw store
repair`` (:meth:`EmbeddedStore.repair_aof`) backs the files up and cuts them after their
last sound write, with the server binary's own ``check-aof`` mode.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from fairdraw.store.valkey_server import (
    POLL_SECONDS,
    AofCheck,
    DamagedAppendOnlyFile,
    DataDirectoryInUse,
    EmbeddedStoreError,
    aof_damage,
    check_aof,
    describe_exit,
    find_server_binary,
    log_tail,
    read_log,
    read_pid,
    runs_config,
    send_command,
    stop_server,
    truncated_tail,
    write_config,
)

__all__ = ["DamagedAppendOnlyFile", "DataDirectoryInUse", "EmbeddedStore", "EmbeddedStoreError"]

logger = logging.getLogger("fairdraw.store")

MAX_SOCKET_PATH_BYTES = 107
# How often the supervisor looks at its server (a dead one is noticed this fast).
SUPERVISE_SECONDS = 0.1
# Waits before each restart of a server that died; the last one repeats.
RESTART_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
# A server that stayed up this long counts as healthy: its next death starts the
# delays over.
STABLE_SECONDS = 60.0
AOF_DIR_NAME = "appendonlydir"
MANIFEST_NAME = "appendonly.aof.manifest"


class EmbeddedStore:
    """A private server on ``data_dir``; ``start()`` returns its ``unix://`` URL.

    Synchronous on purpose: the CLI starts the store before the web workers exist and
    stops it after they are gone. The server runs in its own session, so a Ctrl-C in
    the terminal reaches fairdraw alone and the store is stopped in order; ``atexit``
    stops it too if the caller forgets. Between ``start()`` and ``stop()`` a daemon
    thread restarts the server whenever it dies.
    """

    def __init__(self, data_dir: Path, binary: str | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.store_dir = self.data_dir / "store"
        self.config_path = self.store_dir / "valkey.conf"
        self.socket_path = self.store_dir / "valkey.sock"
        self.pid_path = self.store_dir / "valkey.pid"
        self.log_path = self.store_dir / "valkey.log"
        self.lock_path = self.store_dir / "lock"
        self.aof_dir = self.store_dir / AOF_DIR_NAME
        self._explicit_binary = binary
        self._binary: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._restarts = 0

    @property
    def url(self) -> str:
        """The client URL of this store (``unix:///abs/path/valkey.sock``)."""
        return "unix://" + quote(str(self.socket_path))

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs, else None."""
        process = self._process
        if process is None or process.poll() is not None:
            return None
        return process.pid

    def start(self, timeout: float = 10.0) -> str:
        """Start the server, and its supervisor, and return its URL once it answers PING.

        Raises DataDirectoryInUse if another fairdraw holds the data directory,
        DamagedAppendOnlyFile if the server cannot load its data, and EmbeddedStoreError
        if no server binary is found, or if the server exits or stays silent for
        ``timeout`` seconds (the message then ends with the server's last log lines).
        """
        if self._supervisor is not None:
            return self.url
        self._stopping.clear()
        binary = self._claim_directory(timeout)
        try:
            self._write_config()
            self._launch(binary, timeout)
        except BaseException:
            self._kill_child()
            self._release_lock()
            raise
        self._binary = binary
        self._restarts = 0
        self._supervisor = threading.Thread(
            target=self._supervise, args=(binary, timeout), name="store-supervisor", daemon=True
        )
        self._supervisor.start()
        atexit.register(self.stop)
        assert self._process is not None
        logger.info("embedded store started: %s (pid %d, %s)", self.url, self._process.pid, binary)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the supervisor, then the server: SHUTDOWN, then SIGTERM, then SIGKILL.
        Harmless if stopped."""
        self._stopping.set()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.join()
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

    # -- maintenance -------------------------------------------------------------------
    @contextmanager
    def offline(self, timeout: float = 10.0) -> Iterator[None]:
        """Hold the data directory with no server running, for :meth:`check_aof` and
        :meth:`repair_aof`. Refused (DataDirectoryInUse) while a fairdraw uses it; a
        server orphaned by a fairdraw that died is shut down first."""
        if self._supervisor is not None:
            raise EmbeddedStoreError("the store is running; stop it first")
        self._binary = self._claim_directory(timeout)
        try:
            yield
        finally:
            self._release_lock()

    def check_aof(self) -> AofCheck | None:
        """What the server's own checker finds in the append-only files (None when there
        are none yet). Only inside :meth:`offline`."""
        binary = self._offline_binary()
        manifest = self.aof_dir / MANIFEST_NAME
        return check_aof(binary, manifest) if manifest.exists() else None

    def repair_aof(self) -> Path:
        """Copy the append-only files aside, then cut the damaged one after its last
        sound command; the copy's path. Only inside :meth:`offline`.

        Raises EmbeddedStoreError when the checker cannot repair the damage (a damaged
        snapshot at the start of the files, say): the copy is kept either way.
        """
        binary = self._offline_binary()
        stamp = time.strftime("%Y%m%dT%H%M%S")
        backup = self.store_dir / f"{AOF_DIR_NAME}.before-repair-{stamp}"
        try:
            shutil.copytree(self.aof_dir, backup)
        except OSError as exc:
            raise EmbeddedStoreError(f"cannot copy {self.aof_dir} to {backup}: {exc}") from exc
        fixed = check_aof(binary, self.aof_dir / MANIFEST_NAME, fix=True)
        after = check_aof(binary, self.aof_dir / MANIFEST_NAME)
        if not (fixed.valid and after.valid):
            raise EmbeddedStoreError(
                f"the append-only file cannot be repaired automatically ({after.summary}); "
                f"restore {self.store_dir} from a backup (the files as they were are in {backup})"
            )
        return backup

    def _offline_binary(self) -> str:
        if self._lock_fd is None or self._binary is None or self._supervisor is not None:
            raise EmbeddedStoreError("the append-only file is checked only inside offline()")
        return self._binary

    # -- ownership ---------------------------------------------------------------------
    def _claim_directory(self, timeout: float) -> str:
        """Lock the data directory and clear what a dead owner left; the server binary."""
        self._check_socket_path()
        binary = find_server_binary(self._explicit_binary)
        self._make_store_dir()
        self._acquire_lock()
        try:
            self._stop_orphan(binary, timeout)
        except BaseException:
            self._release_lock()
            raise
        return binary

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
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise EmbeddedStoreError(f"cannot open {self.lock_path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            by = f" (pid {holder})" if holder.isdigit() else ""
            raise DataDirectoryInUse(
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
        socket or named by its pid file running its config is an orphan. A pid is
        signalled only while its command line is a server binary on this config.
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

    # -- the server process ------------------------------------------------------------
    def _write_config(self) -> None:
        write_config(
            self.config_path,
            store_dir=self.store_dir,
            socket_path=self.socket_path,
            pid_path=self.pid_path,
            log_path=self.log_path,
            aof_dir_name=AOF_DIR_NAME,
        )

    def _launch(self, binary: str, timeout: float) -> None:
        """Spawn the server and wait until it answers; warn if it cut a torn write."""
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._process = process = self._spawn(binary)
        self._wait_until_ready(process, binary, log_offset, timeout)
        cut = truncated_tail(read_log(self.log_path, log_offset))
        if cut is not None:
            logger.warning(
                "the store's append-only file %s ended in an incomplete write, cut short by "
                "a crash (never acknowledged); the store dropped it at byte %d and loaded "
                "everything before it",
                self.aof_dir / cut[0],
                cut[1],
            )

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
            if self._stopping.is_set():
                raise EmbeddedStoreError("the store was stopped while it started")
            if time.monotonic() >= deadline:
                problem = f"{binary} did not answer within {timeout:g} s"
                break
            time.sleep(POLL_SECONDS)
        damage = aof_damage(read_log(self.log_path, log_offset))
        if damage is not None:
            raise DamagedAppendOnlyFile(
                f"the store cannot load its data in {self.aof_dir} ({damage}); "
                "repair it with: fairdraw store repair"
            )
        tail = log_tail(self.log_path, log_offset)
        raise EmbeddedStoreError(f"{problem}; the end of {self.log_path}:\n{tail}", summary=problem)

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

    # -- supervision -------------------------------------------------------------------
    def _supervise(self, binary: str, timeout: float) -> None:
        """Restart the server whenever it dies, until ``stop()``."""
        up_since = time.monotonic()
        while not self._stopping.wait(SUPERVISE_SECONDS):
            process = self._process
            status = process.poll() if process is not None else None
            if process is None or status is None:
                continue
            down_since = time.monotonic()
            if down_since - up_since >= STABLE_SECONDS:
                self._restarts = 0
            logger.error(
                "embedded store (pid %d) %s; restarting it", process.pid, describe_exit(status)
            )
            if not self._restart(binary, timeout):
                return
            up_since = time.monotonic()
            logger.warning(
                "embedded store recovered after %.1f s (pid %s)",
                up_since - down_since,
                self.pid,
            )

    def _restart(self, binary: str, timeout: float) -> bool:
        """Start the server again, waiting longer after each failure; False if stopped."""
        reported: str | None = None
        while True:
            delay = RESTART_DELAYS[min(self._restarts, len(RESTART_DELAYS) - 1)]
            self._restarts += 1
            if self._stopping.wait(delay):
                return False
            self._kill_child()  # reaps the dead one and clears its socket and pid file
            try:
                self._write_config()
                self._launch(binary, timeout)
                return True
            except EmbeddedStoreError as exc:
                if self._stopping.is_set():
                    return False  # stop() stops whatever is still starting
                self._kill_child()
                reason = str(exc.extra.get("summary", exc.detail))
                if reason != reported:
                    # Once per reason, not once per attempt: the attempts go on quietly.
                    logger.error(
                        "embedded store could not be restarted: %s; trying again every %g s "
                        "at most (see %s)",
                        reason,
                        RESTART_DELAYS[-1],
                        self.log_path,
                    )
                    reported = reason
            except OSError as exc:
                # A full disk or a vanished directory: keep trying, the owner may fix it.
                self._kill_child()
                if str(exc) != reported:
                    logger.error("embedded store could not be restarted: %s", exc)
                    reported = str(exc)
