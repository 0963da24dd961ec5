"""``fairdraw serve`` as a real process: started on a free port, stopped by a signal."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_serve(
    data_dir: Path, port: int, env: dict[str, str], *options: str
) -> subprocess.Popen[str]:
    """``fairdraw serve --port PORT [options]`` in ``data_dir``'s parent, once it answers."""
    process = subprocess.Popen(
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
