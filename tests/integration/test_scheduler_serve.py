"""The real ``fairdraw serve`` draws lottery rounds by itself: its scheduler loop finds
yesterday's round due, draws it, says so in the schedule status, and hands its lease
back when the server is stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import lotteries
from fairdraw.domain.moments import iso, now_ms
from fairdraw.store.keys import Keys
from tests.integration.test_cli import free_port, start_serve
from tests.integration.test_lottery_api import (
    ANN,
    BERLIN,
    BOB,
    midday,
    services_of,
    stored_lottery,
    today_in,
)
from tests.support.app import MANAGER

KEYS = Keys()
# The server's first pass runs as it starts; a few more intervals cover a busy machine.
WITHIN_SECONDS = 10.0
SIGTERM_EXIT = 128 + signal.SIGTERM


async def test_serve_draws_yesterdays_round_by_itself(
    app: FastAPI, app_settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    today = today_in(BERLIN)
    yesterday = today - timedelta(days=1)
    lottery_id = await stored_lottery(redis, yesterday)
    lottery_service = services_of(app).lotteries
    for offset, caller in enumerate([ANN, BOB, BOB]):
        await lottery_service.cast(lottery_id, caller, at_ms=midday(BERLIN, yesterday) + offset)
    assert (await lottery_service.round(lottery_id, yesterday)).state.value == "not_drawn"

    assert app_settings.redis_url
    secret = app_settings.secret_key
    assert isinstance(secret, SecretStr)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env |= {
        "FAIRDRAW_REDIS_URL": app_settings.redis_url,
        "FAIRDRAW_SECRET_KEY": secret.get_secret_value(),
        "FAIRDRAW_SCHEDULER": "true",
        "FAIRDRAW_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "FAIRDRAW_DATA_DIR": str(tmp_path / "var"),
    }
    port = free_port()
    started_ms = now_ms()
    server = start_serve(tmp_path / "var", port, env)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            url = f"/api/v1/lotteries/{lottery_id}/rounds/{yesterday}"
            view = (await client.get(url)).json()
            deadline = time.monotonic() + WITHIN_SECONDS
            while view["state"] != "drawn" and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                view = (await client.get(url)).json()
            assert view["state"] == "drawn", view
            assert view["ballots"] == 3
            [winner] = view["winners"]
            assert winner["name"] == ("Ann" if winner["ballot"] == 1 else "Bob")
            lottery = (await client.get(f"/api/v1/lotteries/{lottery_id}")).json()
            assert lottery["last_drawn_day"] == yesterday.isoformat()

            session = await client.post(
                "/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]}
            )
            assert session.status_code == 200, session.text
            status = (await client.get("/api/v1/scheduler")).json()
            assert status["enabled"] is True
            assert status["leader"] == status["instance"]
            assert status["last_run_at"] is not None
            assert status["overdue_ms"] == 0  # nothing is due until tonight
            assert status["next_due_lottery"] == lottery_id
            assert status["next_due_at"] == iso(lotteries.day_bounds(BERLIN, today)[1])
            # Passes keep coming every 0.2 s: the last one is recent.
            await asyncio.sleep(0.5)
            again = (await client.get("/api/v1/scheduler")).json()
            assert again["last_run_at"] > status["last_run_at"] >= iso(started_ms)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode in (0, SIGTERM_EXIT), output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert f"drew lottery {lottery_id} round {yesterday}" in output
    # The loop stopped and gave its lease back, so another server can lead at once.
    assert await redis.exists(KEYS.schedule_lease()) == 0
