"""The draw API end to end: real app, real store, GitHub stand-in on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from fairdraw.domain.moments import iso
from fairdraw.domain.verification import verify_bundle_bytes
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 2}]


async def create(
    client: httpx.AsyncClient, csrf: str, expect: int = 201, **body: Any
) -> dict[str, Any]:
    payload = {"title": "Meetup giveaway", "prizes": PRIZES, "open": True} | body
    response = await client.post("/api/v1/draws", json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def act(client: httpx.AsyncClient, csrf: str, draw_id: str, action: str) -> httpx.Response:
    return await client.post(f"/api/v1/draws/{draw_id}/{action}", headers={"X-CSRF-Token": csrf})


async def enter(client: httpx.AsyncClient, draw_id: str, handle: str) -> httpx.Response:
    return await client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": handle})


def add_users(github: GitHubStandIn, count: int) -> list[str]:
    logins = [f"user{i}" for i in range(count)]
    for i, login_ in enumerate(logins):
        github.add_user(login_, 1000 + i, f"User {i}")
    return logins


async def test_full_giveaway_flow(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    assert draw["status"] == "open"
    assert len(draw["commitment"]) == 64
    assert draw["accepting_entries"] is True
    for login_ in add_users(github, 5):
        response = await enter(anon_client, draw["id"], login_)
        assert response.status_code == 201, response.text
    closed = (await act(app_client, csrf, draw["id"], "close")).json()
    assert closed["status"] == "closed"
    assert closed["seal"]["entry_count"] == 5
    drawn = (await act(app_client, csrf, draw["id"], "draw")).json()
    assert drawn["status"] == "drawn"
    result = drawn["result"]
    assert [w["prize"] for w in result["winners"]] == ["Keyboard", "Sticker", "Sticker"]
    assert len({w["index"] for w in result["winners"]}) == 3
    assert all(w["name"].startswith("User ") for w in result["winners"])
    assert len(result["alternates"]) == 2  # 5 entries: 3 winners, the 2 others as alternates
    assert result["unawarded"] == []
    proof = (await app_client.get(f"/api/v1/draws/{draw['id']}/proof")).json()
    assert proof["algorithm"] == "fairdraw/2"
    assert proof["seed"] == result["seed"]
    download = await app_client.get(f"/api/v1/draws/{draw['id']}/entries.txt")
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="fairdraw-{draw["id"]}-entries.txt"'
    )
    assert [line.split("\t")[0] for line in download.text.splitlines()] == list("01234")
    assert verify_bundle_bytes(
        (await app_client.get(f"/api/v1/draws/{draw['id']}/proof")).content, download.content
    ).ok


async def test_entry_receipt_and_duplicate(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    github.add_user("OctoCat", 583231, "The Octocat")
    first = await enter(anon_client, draw["id"], "octocat")
    assert first.status_code == 201
    receipt = first.json()
    assert receipt["index"] == 0
    assert len(receipt["ref"]) == 64  # fairdraw/2: sha256 of the nonce and the identity
    assert receipt["opening"]["identity"] == "gh:583231"
    assert receipt["signed"]["statement"]["ref"] == receipt["ref"]
    # A typed username proves nothing about who typed it: the answer says it entered
    # and nothing of the entry.
    again = await enter(anon_client, draw["id"], "OCTOCAT")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    body = again.json()
    assert body == {
        "type": "about:blank",
        "title": "Already entered",
        "status": 409,
        "detail": "This GitHub account has already entered this draw",
        "code": "already_entered",
        "instance": f"/api/v1/draws/{draw['id']}/entries",
        "request_id": again.headers["x-request-id"],
    }
    nonce = receipt["opening"]["nonce"]
    for secret in (receipt["ref"], nonce, receipt["signed"]["signature"], receipt["entered_at"]):
        assert secret not in again.text
    assert (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()["entry_count"] == 1


@pytest.mark.parametrize(
    ("handle", "status", "code"),
    [
        ("octocat%3Fx", 422, "invalid_input"),
        ("octocat/", 422, "invalid_input"),
        ("octo cat", 422, "invalid_input"),
        ("nobody-here", 404, "github_user_not_found"),
    ],
)
async def test_bad_handles_store_nothing(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
    handle: str,
    status: int,
    code: str,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    response = await enter(anon_client, draw["id"], handle)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert await redis.exists(KEYS.ledger(draw["id"]), KEYS.entrants(draw["id"])) == 0


@pytest.mark.parametrize("mode", ["error", "rate_limited"])
async def test_github_down_is_503_and_stores_nothing(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
    mode: str,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    github.add_user("octocat", 583231)
    github.mode = mode
    response = await enter(anon_client, draw["id"], "octocat")
    assert response.status_code == 503
    assert response.json()["code"] == "github_unavailable"
    assert await redis.exists(KEYS.ledger(draw["id"]), KEYS.github_profile("octocat")) == 0


async def test_validation_errors_store_nothing(app_client: httpx.AsyncClient, redis: Redis) -> None:
    csrf = await login(app_client, ADMIN)
    before = await redis.dbsize()
    bad = await create(
        app_client,
        csrf,
        expect=422,
        title=" ",
        prizes=[{"name": "A", "quantity": 1}, {"name": "a", "quantity": 0}],
        duration="soon",
    )
    assert bad["code"] == "invalid_input"
    assert set(bad["errors"]) == {"title", "prizes.1.name", "prizes.1.quantity", "duration"}
    none = await create(app_client, csrf, expect=422, prizes=[])
    assert none["errors"] == {"prizes": "Add at least one prize"}
    past = await create(app_client, csrf, expect=422, deadline="2001-01-01T00:00:00Z")
    assert past["errors"] == {"deadline": "The deadline must be in the future"}
    assert await redis.dbsize() == before  # only the session key that login created


async def test_deadline_enforced_by_store_clock(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf, duration="1s")
    github.add_user("early", 1)
    github.add_user("late", 2)
    assert (await enter(anon_client, draw["id"], "early")).status_code == 201
    await asyncio.sleep(1.1)
    late = await enter(anon_client, draw["id"], "late")
    assert late.status_code == 409
    assert late.json()["code"] == "deadline_passed"
    state = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert state["status"] == "open"  # nobody closed it, yet it accepts nothing
    assert state["accepting_entries"] is False
    drawn = (await act(app_client, csrf, draw["id"], "draw")).json()
    assert drawn["status"] == "drawn"
    assert drawn["seal"]["entry_count"] == 1
    assert drawn["closed_at"] == drawn["deadline"]


async def test_more_slots_than_entrants_and_zero_entrants(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    github.add_user("solo", 7, "Solo")
    await enter(anon_client, draw["id"], "solo")
    await act(app_client, csrf, draw["id"], "close")
    result = (await act(app_client, csrf, draw["id"], "draw")).json()["result"]
    assert [w["login"] for w in result["winners"]] == ["solo"]
    assert result["unawarded"] == ["Sticker", "Sticker"]
    assert result["alternates"] == []

    empty = await create(app_client, csrf)
    await act(app_client, csrf, empty["id"], "close")
    response = await act(app_client, csrf, empty["id"], "draw")
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["winners"] == []
    assert result["unawarded"] == ["Keyboard", "Sticker", "Sticker"]


async def test_winner_profiles_survive_github_outage(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf, prizes=[{"name": "Book", "quantity": 1}])
    github.add_user("mona", 42, "Mona Lisa")
    await enter(anon_client, draw["id"], "mona")
    await act(app_client, csrf, draw["id"], "close")
    await act(app_client, csrf, draw["id"], "draw")
    github.mode = "error"
    await redis.delete(KEYS.github_profile("mona"))
    after = (await app_client.get(f"/api/v1/draws/{draw['id']}/winners")).json()
    winner = after["result"]["winners"][0]
    assert (winner["login"], winner["name"]) == ("mona", "Mona Lisa")
    assert winner["avatar_url"].startswith("https://")


async def test_transitions_are_idempotent_and_checked(
    app_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, ADMIN)
    draft = await create(app_client, csrf, open=False)
    assert draft["status"] == "draft"
    assert draft["commitment"] is None
    refused = await act(app_client, csrf, draft["id"], "draw")
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert (await act(app_client, csrf, draft["id"], "close")).status_code == 409
    opened = (await act(app_client, csrf, draft["id"], "open")).json()
    again = (await act(app_client, csrf, draft["id"], "open")).json()
    assert opened["commitment"] == again["commitment"]
    early = await act(app_client, csrf, draft["id"], "draw")
    assert early.json()["code"] == "invalid_transition"
    first = (await act(app_client, csrf, draft["id"], "close")).json()
    second = (await act(app_client, csrf, draft["id"], "close")).json()
    assert first["seal"] == second["seal"]
    cancelled = (await act(app_client, csrf, draft["id"], "cancel")).json()
    assert cancelled["status"] == "cancelled"
    assert (await act(app_client, csrf, draft["id"], "draw")).status_code == 409


async def test_unknown_draws_are_404(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    for path in ["/api/v1/draws/aaaaaaaaaaaa", "/api/v1/draws/NOT-AN-ID", "/api/v1/draws/x%7Dy"]:
        response = await app_client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "draw_not_found"
    entry = await enter(anon_client, "aaaaaaaaaaaa", "octocat")
    assert entry.status_code == 404


async def test_the_entries_file_waits_for_the_seal(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    unsealed = await anon_client.get(f"/api/v1/draws/{draw['id']}/entries.txt")
    assert unsealed.status_code == 404
    assert unsealed.headers["content-type"] == "application/problem+json"
    assert unsealed.json()["code"] == "not_found"
    unknown = await anon_client.get("/api/v1/draws/aaaaaaaaaaaa/entries.txt")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "draw_not_found")


@pytest.mark.parametrize("who", [None, PARTICIPANT])
async def test_management_refused_and_nothing_changes(
    app_client: httpx.AsyncClient, redis: Redis, who: tuple[str, str] | None
) -> None:
    admin_csrf = await login(app_client, ADMIN)
    draw = await create(app_client, admin_csrf, open=False)
    await app_client.delete("/api/v1/session", headers={"X-CSRF-Token": admin_csrf})
    csrf = await login(app_client, who) if who else "none"
    expected = 403 if who else 401
    before = await redis.hgetall(KEYS.draw_meta(draw["id"]))
    count = await redis.zcard(KEYS.draws_index())
    assert (await create(app_client, csrf, expect=expected))["code"] in {
        "forbidden",
        "not_authenticated",
    }
    for action in ["open", "close", "draw", "cancel"]:
        response = await act(app_client, csrf, draw["id"], action)
        assert response.status_code == expected, action
    assert await redis.hgetall(KEYS.draw_meta(draw["id"])) == before
    assert await redis.zcard(KEYS.draws_index()) == count


async def test_managers_run_only_their_own_draws(app_client: httpx.AsyncClient) -> None:
    admin_csrf = await login(app_client, ADMIN)
    theirs = await create(app_client, admin_csrf, open=False)
    csrf = await login(app_client, MANAGER)
    mine = await create(app_client, csrf, open=False)
    assert (await act(app_client, csrf, mine["id"], "open")).status_code == 200
    refused = await act(app_client, csrf, theirs["id"], "open")
    assert refused.status_code == 403


async def test_cookie_api_calls_need_the_csrf_header(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    response = await app_client.post("/api/v1/draws", json={"title": "x", "prizes": PRIZES})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    forged = await app_client.post(
        "/api/v1/draws", json={"title": "x", "prizes": PRIZES}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert forged.status_code == 403
    assert await redis.zcard(KEYS.draws_index()) == 0
    assert (await create(app_client, csrf))["status"] == "open"


async def test_concurrent_draw_requests_record_one_result(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    for login_ in add_users(github, 10):
        await enter(anon_client, draw["id"], login_)
    await act(app_client, csrf, draw["id"], "close")
    responses = await asyncio.gather(*(act(app_client, csrf, draw["id"], "draw") for _ in range(8)))
    assert {r.status_code for r in responses} == {200}
    results = {str(r.json()["result"]) for r in responses}
    assert len(results) == 1
    stored = await redis.hget(KEYS.draw_meta(draw["id"]), "drawn_ms")
    assert responses[0].json()["result"]["drawn_at"] == iso(int(stored))


async def test_openapi_documents_every_error(app_client: httpx.AsyncClient) -> None:
    spec = (await app_client.get("/openapi.json")).json()
    enter_responses = spec["paths"]["/api/v1/draws/{draw_id}/entries"]["post"]["responses"]
    assert {"201", "404", "409", "422", "503", "500"} <= set(enter_responses)
    assert "already_entered" in enter_responses["409"]["description"]
    assert "github_unavailable" in enter_responses["503"]["description"]
    draw_responses = spec["paths"]["/api/v1/draws/{draw_id}/draw"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409"} <= set(draw_responses)


async def test_every_key_left_matches_the_key_schema(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    """After a whole flow, each key in the store is one that keys.py names."""
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    for login_ in add_users(github, 3):
        await enter(anon_client, draw["id"], login_)
    await act(app_client, csrf, draw["id"], "close")
    await act(app_client, csrf, draw["id"], "draw")
    keys = [key async for key in redis.scan_iter(count=1000)]
    patterns = KEYS.patterns()
    assert [k for k in keys if not any(p.fullmatch(k) for p in patterns)] == []
    used = {p.pattern for p in patterns for k in keys if p.fullmatch(k)}
    # Every kind of key the flow creates was seen, so the check above checked something.
    # meta|ledger|entrants|events|minutes, names, entry attempts, draws, activity, user,
    # users, session, gh profile, rate limits, the draw log's head|entries|ids and its levels
    assert len(used) == 12
    assert all(k.startswith("fairdraw:") for k in keys)
