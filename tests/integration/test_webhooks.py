"""Webhooks: endpoints registered over the API, messages queued in the store where draws
change, delivered signed (Standard Webhooks, checked here by an independent verifier)
to a real receiver on loopback, retried with backoff while it is down or failing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.exceptions import InvalidTag
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import webhooks
from fairdraw.domain.errors import InvalidInput
from fairdraw.services.webhooks import WebhookService
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from fairdraw.store.webhooks import WebhookStore
from fairdraw.web.deps import Services
from tests.support.app import (
    ADMIN,
    MANAGER,
    PARTICIPANT,
    create_accounts,
    login,
    make_settings,
    serve,
)
from tests.support.github_server import GitHubStandIn
from tests.support.store import everything_stored
from tests.support.webhook_receiver import Received, WebhookReceiver

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}]
ALL_EVENTS = ["entry_milestone", "closed", "sealed", "drawn", "cancelled"]


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn) -> Settings:
    return make_settings(store_url, github.url, webhook_allow_http=True)


@pytest_asyncio.fixture
async def manager(app_client: httpx.AsyncClient) -> str:
    """``app_client`` logged in as the manager; the CSRF token."""
    return await login(app_client, MANAGER)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The client deliveries are made with."""
    async with httpx.AsyncClient(timeout=5, follow_redirects=False) as client:
        yield client


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


def verify(secret: str, received: Received) -> dict[str, Any]:
    """Standard Webhooks verification, written from the specification: the HMAC-SHA256
    under the base64-decoded secret of "id.timestamp.body" must be one of the v1
    signatures, and the timestamp recent. Returns the JSON body."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg_id = received.headers["webhook-id"]
    stamp = received.headers["webhook-timestamp"]
    signed = f"{msg_id}.{stamp}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = received.headers["webhook-signature"].split(" ")
    assert any(
        s.partition(",")[0] == "v1" and hmac.compare_digest(s.partition(",")[2], expected)
        for s in signatures
    )
    assert abs(time.time() - int(stamp)) < 300
    assert received.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(received.body)
    return body


async def create_draw(client: httpx.AsyncClient, csrf: str) -> str:
    response = await client.post(
        "/api/v1/draws",
        json={"title": "Hooked giveaway", "prizes": PRIZES, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


async def register(
    client: httpx.AsyncClient,
    csrf: str,
    url: str,
    events: list[str],
    draw_id: str | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    path = f"/api/v1/draws/{draw_id}/webhooks" if draw_id else "/api/v1/webhooks"
    response = await client.post(
        path, json={"url": url, "events": events}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def act(client: httpx.AsyncClient, csrf: str, draw_id: str, action: str) -> None:
    response = await client.post(
        f"/api/v1/draws/{draw_id}/{action}", headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200, response.text


async def enter(client: httpx.AsyncClient, github: GitHubStandIn, draw_id: str, n: int) -> None:
    for i in range(n):
        handle = f"entrant{i}"
        github.add_user(handle, 9000 + i)
        response = await client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": handle})
        assert response.status_code == 201, response.text


async def drain(service: WebhookService, http: httpx.AsyncClient, passes: int = 20) -> int:
    """Deliver until nothing is due; the attempts made."""
    made = 0
    for _ in range(passes):
        attempts = await service.deliver_due(http)
        if not attempts:
            return made
        made += attempts
    return made


async def listed(client: httpx.AsyncClient, draw_id: str | None = None) -> list[dict[str, Any]]:
    path = f"/api/v1/draws/{draw_id}/webhooks" if draw_id else "/api/v1/webhooks"
    response = await client.get(path)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()
    return data


async def test_every_event_is_delivered_signed_and_in_order(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    manager: str,
    github: GitHubStandIn,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
    redis: Redis,
) -> None:
    service = services_of(app).webhooks
    draw_id = await create_draw(app_client, manager)
    hook = await register(app_client, manager, receiver.url, ALL_EVENTS, draw_id)
    admin_csrf = await login(anon_client, ADMIN)
    instance = await register(anon_client, admin_csrf, receiver.url + "?all", ["drawn"])
    await anon_client.delete("/api/v1/session", headers={"X-CSRF-Token": admin_csrf})

    await enter(anon_client, github, draw_id, 11)
    await act(app_client, manager, draw_id, "close")
    await act(app_client, manager, draw_id, "draw")
    # Retries of the triggering calls announce nothing new.
    await act(app_client, manager, draw_id, "close")
    await act(app_client, manager, draw_id, "draw")

    assert await drain(service, http) == 5
    got = receiver.wait_for(5)
    assert len(got) == 5
    mine = [r for r in got if r.path == "/hook"]
    theirs = [r for r in got if r.path == "/hook?all"]
    bodies = [verify(hook["secret"], r) for r in mine]
    assert [b["type"] for b in bodies] == [
        "draw.entry_milestone",
        "draw.closed",
        "draw.sealed",
        "draw.drawn",
    ]
    assert bodies[0]["data"] == {"draw_id": draw_id, "entry_count": 10}
    assert bodies[1]["data"] == {
        "draw_id": draw_id,
        "title": "Hooked giveaway",
        "kind": "giveaway",
        "status": "closed",
        "entry_count": 11,
    }
    draw = (await app_client.get(f"/api/v1/draws/{draw_id}")).json()
    assert bodies[2]["data"]["root"] == draw["seal"]["root"]
    assert bodies[3]["data"]["status"] == "drawn"
    assert all(b["timestamp"].endswith("Z") for b in bodies)
    assert len({r.headers["webhook-id"] for r in got}) == 5
    assert [verify(instance["secret"], r)["type"] for r in theirs] == ["draw.drawn"]
    # Each endpoint's secret signs its messages only.
    with pytest.raises(AssertionError):
        verify(instance["secret"], mine[0])

    (shown,) = await listed(app_client, draw_id)
    assert shown["id"] == hook["id"]
    assert shown["pending"] == 0
    assert shown["next_attempt_at"] is None
    assert "secret" not in shown
    last = shown["last_delivery"]
    assert last["type"] == "draw.drawn"
    assert last["status"] == "delivered"
    assert last["attempts"] == 1
    assert last["response_status"] == 204
    assert last["error"] is None
    assert last["message_id"] == mine[-1].headers["webhook-id"]
    # Nothing more is due, and nothing is sent twice.
    assert await drain(service, http) == 0
    assert len(receiver.received) == 5
    # Every webhook key is one keys.py names, and every kind of them was seen.
    patterns = KEYS.patterns()
    wh_keys = [k async for k in redis.scan_iter("fairdraw:{wh}:*")]
    assert [k for k in wh_keys if not any(p.fullmatch(k) for p in patterns)] == []
    kinds = {k.split(":")[2] for k in wh_keys}
    assert kinds == {"endpoint", "endpoints", "scope", "message"}


async def test_cancellation_is_delivered(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    manager: str,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    draw_id = await create_draw(app_client, manager)
    hook = await register(app_client, manager, receiver.url, ["cancelled", "closed"], draw_id)
    await act(app_client, manager, draw_id, "cancel")
    await act(app_client, manager, draw_id, "cancel")
    assert await drain(services_of(app).webhooks, http) == 1
    (got,) = receiver.wait_for(1)
    body = verify(hook["secret"], got)
    assert body["type"] == "draw.cancelled"
    assert body["data"]["status"] == "cancelled"


async def test_a_receiver_that_is_down_gets_everything_once_in_order_when_back(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    manager: str,
    redis: Redis,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    services = services_of(app)
    # The app's messages, delivered by a service with short backoffs over the same store.
    quick = WebhookService(
        WebhookStore(redis, KEYS), DrawStore(redis, KEYS), services.secret, backoff_base_ms=50
    )
    draw_id = await create_draw(app_client, manager)
    hook = await register(app_client, manager, receiver.url, ALL_EVENTS, draw_id)
    receiver.stop()
    await act(app_client, manager, draw_id, "close")

    for _ in range(3):
        assert await quick.deliver_due(http) == 1  # the first message only: order holds
        (shown,) = await listed(app_client, draw_id)
        assert shown["pending"] == 2
        assert shown["next_attempt_at"] is not None
        await asyncio.sleep(0.5)
    last = shown["last_delivery"]
    assert last["type"] == "draw.closed"
    assert last["status"] == "retrying"
    assert last["attempts"] == 3
    assert last["response_status"] is None
    assert last["error"].startswith("ConnectError")

    receiver.start()  # the same port again
    await act(app_client, manager, draw_id, "draw")
    deadline = time.monotonic() + 10
    while (await listed(app_client, draw_id))[0]["pending"] and time.monotonic() < deadline:
        await quick.deliver_due(http)
        await asyncio.sleep(0.1)
    got = receiver.wait_for(3)
    assert [verify(hook["secret"], r)["type"] for r in got] == [
        "draw.closed",
        "draw.sealed",
        "draw.drawn",
    ]
    (shown,) = await listed(app_client, draw_id)
    assert shown["pending"] == 0
    assert shown["last_delivery"]["status"] == "delivered"


async def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    manager: str,
    redis: Redis,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    now = [1_900_000_000_000]
    service = WebhookService(
        WebhookStore(redis, KEYS),
        DrawStore(redis, KEYS),
        services_of(app).secret,
        clock=lambda: now[0],
        backoff_base_ms=60_000,
        max_attempts=3,
    )
    draw_id = await create_draw(app_client, manager)
    await register(app_client, manager, receiver.url, ["cancelled"], draw_id)
    receiver.status = 500
    await act(app_client, manager, draw_id, "cancel")
    # Queued at the app's clock, which is before the service's.
    waits = []
    for attempt in (1, 2):
        assert await service.deliver_due(http) == 1
        (shown,) = await listed(app_client, draw_id)
        last = shown["last_delivery"]
        assert (last["status"], last["attempts"]) == ("retrying", attempt)
        assert (last["response_status"], last["error"]) == (500, "HTTP 500")
        assert shown["pending"] == 1
        due = await redis.zscore(KEYS.webhook_due(), shown["id"])
        assert due is not None
        wait = int(due) - now[0]
        full = 60_000 * 2 ** (attempt - 1)
        assert full // 2 <= wait <= full
        waits.append(wait)
        # Not due before its time.
        now[0] += wait - 1
        assert await service.deliver_due(http) == 0
        now[0] += 1
    assert await service.deliver_due(http) == 1
    (shown,) = await listed(app_client, draw_id)
    assert shown["last_delivery"]["status"] == "failed"
    assert shown["last_delivery"]["attempts"] == 3
    assert shown["pending"] == 0
    assert shown["next_attempt_at"] is None
    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert await service.deliver_due(http) == 0


async def test_the_secret_is_shown_once_and_not_readable_from_the_store(
    app_client: httpx.AsyncClient,
    manager: str,
    redis: Redis,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    draw_id = await create_draw(app_client, manager)
    hook = await register(app_client, manager, receiver.url, ["closed", "sealed"], draw_id)
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    (shown,) = await listed(app_client, draw_id)
    assert "secret" not in shown
    assert secret not in json.dumps(shown)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    stored = [str(item) for item in await everything_stored(redis)]
    wh_keys = [k for k in stored if k.startswith("fairdraw:{wh}:")]
    assert KEYS.webhook_endpoint(hook["id"]) in wh_keys
    for item in stored:
        assert secret.removeprefix("whsec_") not in item
        assert key.hex() not in item
        assert base64.urlsafe_b64encode(key).decode().rstrip("=") not in item
    # What is kept opens only with the server's secret, and only for this endpoint.
    sealed = await redis.hget(KEYS.webhook_endpoint(hook["id"]), "secret")
    assert sealed is not None
    with pytest.raises(InvalidTag):
        webhooks.open_secret(b"x" * 48, hook["id"], sealed)
    # A server with another secret key cannot sign for the endpoint: it sends nothing.
    stranger = WebhookService(WebhookStore(redis, KEYS), DrawStore(redis, KEYS), b"y" * 48)
    await act(app_client, manager, draw_id, "close")
    assert await stranger.deliver_due(http) == 0
    assert receiver.received == []
    (shown,) = await listed(app_client, draw_id)
    assert shown["pending"] == 2
    assert shown["last_delivery"] is None


async def test_only_the_draws_managers_and_admins_manage_its_webhooks(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    manager: str,
    redis: Redis,
    receiver: WebhookReceiver,
) -> None:
    draw_id = await create_draw(app_client, manager)
    path = f"/api/v1/draws/{draw_id}/webhooks"
    body = {"url": receiver.url, "events": ["closed"]}
    # Nobody logged in.
    assert (await anon_client.post(path, json=body)).status_code == 401
    assert (await anon_client.get(path)).status_code == 401
    assert (await anon_client.post("/api/v1/webhooks", json=body)).status_code == 401
    # A participant.
    csrf = await login(anon_client, PARTICIPANT)
    headers = {"X-CSRF-Token": csrf}
    assert (await anon_client.post(path, json=body, headers=headers)).status_code == 403
    assert (await anon_client.get(path)).status_code == 403
    # A manager is not an admin: no instance endpoints.
    response = await app_client.post(
        "/api/v1/webhooks", json=body, headers={"X-CSRF-Token": manager}
    )
    assert response.status_code == 403
    assert (await app_client.get("/api/v1/webhooks")).status_code == 403
    assert [k async for k in redis.scan_iter("fairdraw:{wh}:*")] == []

    hook = await register(app_client, manager, receiver.url, ["closed"], draw_id)
    one = f"{path}/{hook['id']}"
    assert (await anon_client.delete(one, headers=headers)).status_code == 403
    await anon_client.delete("/api/v1/session", headers=headers)
    # An admin manages every draw's endpoints, and the instance's.
    admin = await login(anon_client, ADMIN)
    assert len(await listed(anon_client, draw_id)) == 1
    assert await listed(anon_client) == []
    # An endpoint is removed only under the scope it belongs to.
    assert (
        await anon_client.delete(f"/api/v1/webhooks/{hook['id']}", headers={"X-CSRF-Token": admin})
    ).status_code == 404
    unknown = f"{path}/{'a' * 16}"
    assert (await app_client.delete(unknown, headers={"X-CSRF-Token": manager})).status_code == 404
    assert (await app_client.delete(one, headers={"X-CSRF-Token": manager})).status_code == 204
    assert await listed(app_client, draw_id) == []
    assert (await app_client.delete(one, headers={"X-CSRF-Token": manager})).status_code == 404
    assert [k async for k in redis.scan_iter("fairdraw:{wh}:*")] == []
    # No such draw.
    response = await app_client.post(
        "/api/v1/draws/aaaaaaaaaaaa/webhooks", json=body, headers={"X-CSRF-Token": manager}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("http://example.org/hook", ["closed"], "url"),
        ("http://10.0.0.1/hook", ["closed"], "url"),
        ("ftp://example.org/hook", ["closed"], "url"),
        ("https://user:pass@example.org/hook", ["closed"], "url"),
        ("https:///hook", ["closed"], "url"),
        ("https://example.org/hook#x", ["closed"], "url"),
        ("https://example.org/ho ok", ["closed"], "url"),
        ("https://example.org:99999/", ["closed"], "url"),
        ("not a url", ["closed"], "url"),
        ("https://example.org/" + "a" * 2048, ["closed"], "url"),
        ("https://example.org/hook", [], "events"),
        ("https://example.org/hook", ["promoted"], "events"),
        ("https://example.org/hook", "closed", "events"),
    ],
)
async def test_invalid_webhooks_are_refused_with_nothing_stored(
    app_client: httpx.AsyncClient,
    manager: str,
    redis: Redis,
    url: str,
    events: Any,
    field: str,
) -> None:
    draw_id = await create_draw(app_client, manager)
    response = await app_client.post(
        f"/api/v1/draws/{draw_id}/webhooks",
        json={"url": url, "events": events},
        headers={"X-CSRF-Token": manager},
    )
    assert response.status_code == 422, response.text
    assert field in response.text
    assert [k async for k in redis.scan_iter("fairdraw:{wh}:*")] == []


def test_plain_http_needs_the_setting_and_a_loopback_host() -> None:
    assert webhooks.check_url("http://127.0.0.1:8080/x", allow_http=True)
    assert webhooks.check_url("http://localhost/x", allow_http=True)
    assert webhooks.check_url("https://example.org/x", allow_http=False)
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x"):
        with pytest.raises(InvalidInput):
            webhooks.check_url(url, allow_http=False)
    for url in ("http://192.168.1.1/x", "http://example.org/x", "http://[::1]/x"):
        with pytest.raises(InvalidInput):
            webhooks.check_url(url, allow_http=True)


def test_milestones() -> None:
    assert [n for n in range(1, 100_001) if webhooks.is_milestone(n)] == [
        10,
        100,
        1000,
        10_000,
        100_000,
    ]


def test_the_serving_process_delivers_while_it_holds_the_scheduler_lease(
    store_url: str, github: GitHubStandIn, redis_sync: Any, receiver: WebhookReceiver
) -> None:
    settings = make_settings(
        store_url,
        github.url,
        scheduler=True,
        scheduler_interval_seconds=0.2,
        webhook_allow_http=True,
    )
    asyncio.run(create_accounts(settings))
    with serve(settings) as served, httpx.Client(base_url=served.url, timeout=10) as client:
        response = client.post(
            "/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]}
        )
        headers = {"X-CSRF-Token": response.json()["csrf_token"]}
        response = client.post(
            "/api/v1/draws",
            json={"title": "Served", "prizes": PRIZES, "open": True},
            headers=headers,
        )
        draw_id = response.json()["id"]
        response = client.post(
            f"/api/v1/draws/{draw_id}/webhooks",
            json={"url": receiver.url, "events": ["closed"]},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        secret = response.json()["secret"]
        assert client.post(f"/api/v1/draws/{draw_id}/close", headers=headers).status_code == 200
        got = receiver.wait_for(1, seconds=20)
        assert [verify(secret, r)["type"] for r in got] == ["draw.closed"]
        leader = redis_sync.get(KEYS.schedule_lease())
        assert leader == services_of(served.app).scheduler.instance
