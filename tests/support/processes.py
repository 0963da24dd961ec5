"""``fairdraw serve`` as a real process: started on a free port, stopped by a signal."""

from __future__ import annotations

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
    process.kill()
    raise AssertionError(f"fairdraw serve did not start:\n{process.communicate()[0]}")


def stop_serve(process: subprocess.Popen[str], signum: int = signal.SIGINT) -> str:
    process.send_signal(signum)
    output, _ = process.communicate(timeout=30)
    expected = 0 if signum == signal.SIGINT else 128 + signum
    assert process.returncode == expected, output
    assert "embedded store stopped" in output
    return output
