"""Webhook deliveries reach public addresses only: the check is made when the connection
is opened, on the addresses the host resolves to then, so a receiver's name that
resolves to this host or its network gets nothing unless the operator allows it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fairdraw.config import Settings
from fairdraw.services.outbound import AddressPolicy, policy_client
from fairdraw.services.webhooks import WebhookService
from tests.support.app import MANAGER, login, make_settings
from tests.support.github_server import GitHubStandIn
from tests.support.webhook_receiver import WebhookReceiver

TIMEOUT = httpx.Timeout(5)


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn) -> Settings:
    return make_settings(store_url, github.url, webhook_allow_http=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_loopback_receiver_gets_nothing_by_default(
    receiver: WebhookReceiver, host: str
) -> None:
    url = f"http://{host}:{receiver.port}/hook"
    async with policy_client(AddressPolicy(), TIMEOUT) as client:
        with pytest.raises(httpx.ConnectError, match="resolves to no public address"):
            await client.post(url, content=b"{}")
    assert receiver.received == []


@pytest.mark.parametrize(
    "policy", [AddressPolicy(loopback=True), AddressPolicy(private=True)], ids=str
)
async def test_an_allowed_loopback_receiver_gets_the_request(
    receiver: WebhookReceiver, policy: AddressPolicy
) -> None:
    async with policy_client(policy, TIMEOUT) as client:
        answer = await client.post(f"http://localhost:{receiver.port}/hook", content=b"{}")
    assert answer.status_code == 204
    assert [r.body for r in receiver.received] == [b"{}"]


async def test_redirects_are_not_followed(receiver: WebhookReceiver) -> None:
    receiver.status = 307
    async with policy_client(AddressPolicy(loopback=True), TIMEOUT) as client:
        answer = await client.post(receiver.url, content=b"{}")
    assert answer.status_code == 307
    assert len(receiver.received) == 1


async def test_a_registered_receiver_on_this_host_is_refused_at_delivery(
    app: FastAPI, app_client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    csrf = await login(app_client, MANAGER)
    created = await app_client.post(
        "/api/v1/draws",
        json={"title": "Hooked", "prizes": [{"name": "Mug", "quantity": 1}], "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    draw_id = created.json()["id"]
    registered = await app_client.post(
        f"/api/v1/draws/{draw_id}/webhooks",
        json={"url": f"http://localhost:{receiver.port}/hook", "events": ["cancelled"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert registered.status_code == 201, registered.text
    cancelled = await app_client.post(
        f"/api/v1/draws/{draw_id}/cancel", headers={"X-CSRF-Token": csrf}
    )
    assert cancelled.status_code == 200, cancelled.text
    service: WebhookService = app.state.services.webhooks
    async with policy_client(AddressPolicy(), TIMEOUT) as client:
        assert await service.deliver_due(client) == 1
    assert receiver.received == []
    listed = await app_client.get(f"/api/v1/draws/{draw_id}/webhooks")
    (endpoint,) = listed.json()
    last: dict[str, Any] = endpoint["last_delivery"]
    assert last["status"] == "retrying"
    assert (last["response_status"], last["attempts"]) == (None, 1)
    assert "localhost resolves to no public address" in last["error"]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://10.0.0.7/hook", "10.0.0.7"),
        ("https://192.168.1.20:8443/hook", "192.168.1.20"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("https://172.16.5.4/hook", "172.16.5.4"),
    ],
)
async def test_a_receiver_written_as_a_private_address_is_refused_when_registered(
    app_client: httpx.AsyncClient, url: str, address: str
) -> None:
    csrf = await login(app_client, MANAGER)
    created = await app_client.post(
        "/api/v1/draws",
        json={"title": "Hooked", "prizes": [{"name": "Mug", "quantity": 1}]},
        headers={"X-CSRF-Token": csrf},
    )
    draw_id = created.json()["id"]
    refused = await app_client.post(
        f"/api/v1/draws/{draw_id}/webhooks",
        json={"url": url, "events": ["cancelled"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "invalid_input"
    assert problem["errors"] == {
        "url": f"{address} is not a public address: webhooks are delivered to public addresses only"
    }
    assert (await app_client.get(f"/api/v1/draws/{draw_id}/webhooks")).json() == []
    public = await app_client.post(
        f"/api/v1/draws/{draw_id}/webhooks",
        json={"url": "https://93.184.216.34/hook", "events": ["cancelled"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert public.status_code == 201, public.text
