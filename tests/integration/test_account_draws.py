"""Draws entered with a fairdraw account instead of a GitHub username."""

from __future__ import annotations

import re

import httpx
from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, PARTICIPANT, login

KEYS = Keys()


async def account_draw(client: httpx.AsyncClient) -> str:
    csrf = await login(client, ADMIN)
    body = {
        "title": "Staff raffle",
        "prizes": [{"name": "Day off", "quantity": 1}],
        "open": True,
        "entry_identity": "account",
    }
    response = await client.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    assert response.json()["entry_identity"] == "account"
    draw_id: str = response.json()["id"]
    return draw_id


async def test_api_entry_needs_an_account_and_counts_once(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await account_draw(app_client)
    anonymous = await anon_client.post(f"/api/v1/draws/{draw_id}/entries", json={})
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert await redis.exists(KEYS.ledger(draw_id)) == 0

    csrf = await login(anon_client, PARTICIPANT)
    headers = {"X-CSRF-Token": csrf}
    first = await anon_client.post(f"/api/v1/draws/{draw_id}/entries", json={}, headers=headers)
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert (receipt["account"], receipt["github"], receipt["index"]) == (PARTICIPANT[0], None, 0)
    # A GitHub username given to an account draw is ignored: the entrant is the caller.
    again = await anon_client.post(
        f"/api/v1/draws/{draw_id}/entries", json={"github": "octocat"}, headers=headers
    )
    assert again.status_code == 409
    assert again.json()["receipt"] == receipt
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    assert await redis.hgetall(KEYS.entrants(draw_id)) == {f"u:{PARTICIPANT[0]}": "0"}


async def test_account_draw_runs_to_a_result(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    draw_id = await account_draw(app_client)
    csrf = await login(anon_client, PARTICIPANT)
    await anon_client.post(
        f"/api/v1/draws/{draw_id}/entries", json={}, headers={"X-CSRF-Token": csrf}
    )
    admin_csrf = (await app_client.get("/api/v1/session")).json()["csrf_token"]
    await app_client.post(f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": admin_csrf})
    result = await app_client.post(
        f"/api/v1/draws/{draw_id}/draw", headers={"X-CSRF-Token": admin_csrf}
    )
    winner = result.json()["result"]["winners"][0]
    assert (winner["login"], winner["avatar_url"]) == (PARTICIPANT[0], None)


async def test_pages_send_anonymous_entrants_to_log_in_and_back(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await account_draw(app_client)
    page = await anon_client.get(f"/draws/{draw_id}")
    assert f'href="/login?next=/draws/{draw_id}"' in page.text
    assert 'name="github"' not in page.text
    # A hand-made POST still meets the rule (the login page supplies a valid token).
    login_page = await anon_client.get("/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', login_page.text)
    assert token is not None
    refused = await anon_client.post(
        f"/draws/{draw_id}/enter", data={"csrf_token": token[1]}, follow_redirects=False
    )
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/login?next=/draws/{draw_id}"
    assert await redis.exists(KEYS.ledger(draw_id)) == 0

    await login(anon_client, PARTICIPANT)
    page = await anon_client.get(f"/draws/{draw_id}")
    assert "Enter as" in page.text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token is not None
    posted = await anon_client.post(f"/draws/{draw_id}/enter", data={"csrf_token": token[1]})
    assert posted.status_code == 303
    entered = await anon_client.get(posted.headers["location"])
    assert entered.status_code == 200
    assert PARTICIPANT[0] in entered.text
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


async def test_entry_identity_is_validated(app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, ADMIN)
    body = {"title": "x", "prizes": [{"name": "A"}], "entry_identity": "email"}
    response = await app_client.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


async def test_unknown_page_actions_are_404_and_change_nothing(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await account_draw(app_client)
    before = await redis.hgetall(KEYS.draw_meta(draw_id))
    page = await app_client.get(f"/draws/{draw_id}")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token is not None
    response = await app_client.post(f"/draws/{draw_id}/reopen", data={"csrf_token": token[1]})
    assert response.status_code == 404
    assert await redis.hgetall(KEYS.draw_meta(draw_id)) == before
