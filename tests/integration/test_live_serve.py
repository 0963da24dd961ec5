"""Live feeds from ``fairdraw serve --workers 2``: every worker's watchers see every
event once, and pages resume across a restart of the whole service without a gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.app import ADMIN
from tests.support.live import FeedReader, free_port

WATCHERS = 8


def start(data_dir: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fairdraw", "serve", "--port", str(port), "--workers", "2"],
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


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def claim(base: str, draw_id: str) -> None:
    response = httpx.post(f"{base}/api/v1/draws/{draw_id}/tickets", timeout=10)
    assert response.status_code == 201, response.text


def test_two_workers_and_a_restart_lose_and_repeat_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env |= {
        "FAIRDRAW_DATA_DIR": str(data_dir),
        "FAIRDRAW_ADMIN_PASSWORD": ADMIN[1],
        "FAIRDRAW_RATE_LIMIT_ENTRIES": "10000/minute",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = start(data_dir, port, env)
    readers: list[FeedReader] = []
    try:
        admin = httpx.Client(base_url=base, timeout=10)
        session = admin.post(
            "/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()
        created = admin.post(
            "/api/v1/raffles",
            json={
                "title": "Workers",
                "prizes": [{"name": "Mug", "quantity": 1}],
                "ticket_count": 100,
                "per_claimant": 100,
                "open": True,
            },
            headers={"X-CSRF-Token": session["csrf_token"]},
        )
        assert created.status_code == 201, created.text
        draw_id = created.json()["id"]
        url = f"{base}/api/v1/draws/{draw_id}/events/private"
        # Separate connections: the kernel spreads them over both workers.
        readers = [FeedReader(url, cookies=admin.cookies) for _ in range(WATCHERS)]
        for reader in readers:
            assert reader.next().event == "snapshot"
        for _ in range(5):
            claim(base, draw_id)
        last_ids = []
        for reader in readers:
            claims = [reader.until("entry") for _ in range(5)]
            assert [c.data["index"] for c in claims] == [0, 1, 2, 3, 4]
            last_ids.append(claims[-1].id)
            assert reader.quiet(0.2) == []
    finally:
        output = stop(first)
    for reader in readers:
        assert reader.ended(), "a stopping server ends its feeds"
        reader.close()
    assert "embedded store stopped" in output

    second = start(data_dir, port, env)
    try:
        for _ in range(3):  # while every page is away
            claim(base, draw_id)
        resumed = [
            FeedReader(url, cookies=admin.cookies, headers={"Last-Event-ID": str(last)})
            for last in last_ids
        ]
        try:
            for reader in resumed:
                missed = [reader.next() for _ in range(3)]
                assert [(m.event, m.data["index"]) for m in missed] == [
                    ("entry", 5),
                    ("entry", 6),
                    ("entry", 7),
                ]
            claim(base, draw_id)
            for reader in resumed:
                assert reader.next().data["index"] == 8
                assert reader.quiet(0.2) == []
        finally:
            for reader in resumed:
                reader.close()
    finally:
        stop(second)
