"""``fairdraw serve`` as a real process: started on a free port, stopped by a signal.

Its output (logs, one access line per request) is read as it comes, by a thread: a
server that writes to a pipe nobody reads blocks in its log call, event loop and all,
once the pipe holds 64 KiB, and every request then hangs. ``communicate()`` returns all
of it, as a plain pipe's would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServeProcess(subprocess.Popen[str]):
    """A process whose output a thread reads into memory from the start (see the
    module's description); ``communicate()`` waits for the process and returns it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._output: list[str] = []
        self._reader = threading.Thread(target=self._read, name="serve-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.stdout is not None
        with self.stdout:
            for line in self.stdout:
                self._output.append(line)

    def communicate(
        self, input: str | None = None, timeout: float | None = None
    ) -> tuple[str, Any]:
        """The whole output once the process has exited and its pipe is closed, and None
        (errors go to the output); raises ``TimeoutExpired`` as ``Popen.communicate``
        does. ``input`` is not supported."""
        assert input is None
        deadline = None if timeout is None else time.monotonic() + timeout
        self.wait(timeout)
        self._reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if self._reader.is_alive():
            assert timeout is not None
            raise subprocess.TimeoutExpired(self.args, timeout)
        return "".join(self._output), None


def start_serve(
    data_dir: Path, port: int, env: dict[str, str], *options: str
) -> subprocess.Popen[str]:
    """``fairdraw serve --port PORT [options]`` in ``data_dir``'s parent, once it answers."""
    process = ServeProcess(
        [sys.executable, "-m", "fairdraw", "serve", "--port", str(port), *options],
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group: a serve that does not start is killed with its workers,
        # which would otherwise keep the output pipe open.
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/draws", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
        if process.poll() is not None:
            break
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    output = process.communicate(timeout=30)[0]
    raise AssertionError(f"fairdraw serve did not start:\n{output}")


def stop_serve(process: subprocess.Popen[str], signum: int = signal.SIGINT) -> str:
    process.send_signal(signum)
    output, _ = process.communicate(timeout=30)
    expected = 0 if signum == signal.SIGINT else 128 + signum
    assert process.returncode == expected, output
    assert "embedded store stopped" in output
    return output


def run_fairdraw(
    data_dir: Path, env: dict[str, str], *args: str, input_text: str = ""
) -> subprocess.CompletedProcess[str]:
    """``fairdraw ARGS`` to completion in ``data_dir``'s parent; output and errors together."""
    return subprocess.run(
        [sys.executable, "-m", "fairdraw", *args],
        env=env,
        cwd=data_dir.parent,
        input=input_text,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )


def embedded_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This environment without any ``FAIRDRAW_*`` variable, then the embedded store on
    ``data_dir`` and ``settings`` (``admin_password="…"`` → ``FAIRDRAW_ADMIN_PASSWORD``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env["FAIRDRAW_DATA_DIR"] = str(data_dir)
    # No internet here: draws trust their operator unless a test says otherwise.
    env["FAIRDRAW_BEACON"] = "none"
    env |= {f"FAIRDRAW_{name.upper()}": value for name, value in settings.items()}
    return env


def store_server_pids(data_dir: Path) -> list[int]:
    """Live (not zombie) server processes running the embedded store of ``data_dir``,
    found by the config path on their command line."""
    config = os.fsencode(data_dir.resolve() / "store" / "valkey.conf")
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if config in argv and state != "Z":
            found.append(int(entry.name))
    return sorted(found)
