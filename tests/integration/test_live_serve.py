"""Live feeds from ``fairdraw serve --workers 2``: every worker's watchers see every
event once, and pages resume across a restart of the whole service without a gap."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.support.app import ADMIN
from tests.support.live import FeedReader
from tests.support.processes import free_port, start_serve, stop_serve

WATCHERS = 8


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
    first = start_serve(data_dir, port, env, "--workers", "2")
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
        stop_serve(first)
    for reader in readers:
        assert reader.ended(), "a stopping server ends its feeds"
        reader.close()

    second = start_serve(data_dir, port, env, "--workers", "2")
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
        stop_serve(second)
