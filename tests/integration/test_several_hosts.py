"""Two servers on one store, standing for two hosts behind a load balancer (no shared
disk, no shared memory): whichever one a request reaches, an entrant's session, API
tokens, rate limits, live feeds, the scheduler's single leader and a draw's seal work as
on one. With ``make test-cluster`` the store is a cluster."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from redis import Redis

from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, MANAGER, create_accounts, make_settings, serve
from tests.support.github_server import GitHubStandIn
from tests.support.live import reading

KEYS = Keys()
PRIZES = [{"name": "Mug", "quantity": 1}]


def log_in(client: httpx.Client, credentials: tuple[str, str]) -> str:
    """Log ``client`` in; its CSRF token."""
    answer = client.post(
        "/api/v1/session", json={"username": credentials[0], "password": credentials[1]}
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["csrf_token"]
    return token


def enter(url: str, draw_id: str, login: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=30) as entrant:
        return entrant.post(f"/api/v1/draws/{draw_id}/entries", json={"github": login})


def test_two_servers_on_one_store_serve_as_one(
    store_url: str, github: GitHubStandIn, redis_sync: Redis
) -> None:
    settings = make_settings(store_url, github.url, scheduler=True, rate_limit_entries="3/minute")
    asyncio.run(create_accounts(settings))
    for n in range(5):
        github.add_user(f"host{n}", 70_000 + n)
    with serve(settings) as a, serve(settings) as b:
        # A session opened on A is the same session on B, its CSRF token too.
        with (
            httpx.Client(base_url=a.url, timeout=30) as on_a,
            httpx.Client(base_url=b.url, timeout=30) as on_b,
        ):
            csrf = log_in(on_a, MANAGER)
            on_b.cookies = on_a.cookies
            made = on_b.post(
                "/api/v1/draws",
                json={"title": "Two hosts", "prizes": PRIZES, "open": True},
                headers={"X-CSRF-Token": csrf},
            )
            assert made.status_code == 201, made.text
            draw_id: str = made.json()["id"]
            assert on_b.get("/api/v1/session").json()["username"] == MANAGER[0]

            # A live page on B sees an entry made on A, at once.
            with reading(f"{b.url}/api/v1/draws/{draw_id}/events") as feed:
                feed.until("snapshot")
                assert enter(a.url, draw_id, "host0").status_code == 201
                assert feed.until("count", timeout=5).data["count"] == 1

            # One rate limit for an address, whichever server counts it (3 a minute).
            statuses = [enter(url, draw_id, f"host{n}").status_code
                        for n, url in ((1, b.url), (2, a.url), (3, b.url))]  # fmt: skip
            assert statuses == [201, 201, 429]

            # The draw entered through both is closed on A and drawn on B.
            assert (
                on_a.post(
                    f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf}
                ).status_code
                == 200
            )
            drawn = on_b.post(f"/api/v1/draws/{draw_id}/draw", headers={"X-CSRF-Token": csrf})
            assert drawn.status_code == 200, drawn.text
            assert drawn.json()["entry_count"] == 3
            result: dict[str, Any] = drawn.json()["result"]
            assert len(result["winners"]) == 1
            assert on_a.get(f"/api/v1/draws/{draw_id}/winners").json()["result"] == result

        # An API token issued by B is good on A.
        with httpx.Client(base_url=b.url, timeout=30) as client:
            granted = client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]},
            )
            assert granted.status_code == 200, granted.text
            token = granted.json()["access_token"]
        with httpx.Client(base_url=a.url, timeout=30) as client:
            mine = client.get("/api/v1/me/entries", headers={"Authorization": f"Bearer {token}"})
            assert mine.status_code == 200, mine.text

        # Both run a scheduler; exactly one of them leads, through the store's lease.
        instances = {served.app.state.services.scheduler.instance for served in (a, b)}
        assert len(instances) == 2
        deadline = time.monotonic() + 10
        while (leader := redis_sync.get(KEYS.schedule_lease())) is None:
            assert time.monotonic() < deadline, "no scheduler took the lease"
            time.sleep(0.05)
        assert leader in instances
        time.sleep(1.5)  # several passes of both: the lease stays with the one
        assert redis_sync.get(KEYS.schedule_lease()) == leader
