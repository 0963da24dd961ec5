"""API tokens: the OAuth2 token endpoint, bearer authentication, rotation, reuse
detection and revocation, against a real store and the real app."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as StoreConnectionError

from fairdraw.domain.accounts import Role, User
from fairdraw.domain.errors import InvalidCredentials, InvalidToken
from fairdraw.services.accounts import AccountService
from fairdraw.services.ratelimit import RateLimits
from fairdraw.services.tokens import TokenService
from fairdraw.store.accounts import AccountStore
from fairdraw.store.keys import FAMILY_ID_PATTERN, Keys
from fairdraw.store.tokens import Holder, TokenStore, family_of, named_user
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login, make_settings
from tests.support.store import everything_stored

KEYS = Keys()
SECRET = b"s" * 48
PASSWORD = "correct horse battery"
TOKEN = re.compile(rf"{FAMILY_ID_PATTERN}\.[A-Za-z0-9_-]{{43}}~{re.escape(MANAGER[0])}")
DRAW = {"title": "Token giveaway", "prizes": [{"name": "Mug", "quantity": 1}]}


# -- helpers -------------------------------------------------------------------------------


async def request_token(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data=form)


async def password_grant(client: httpx.AsyncClient, credentials: tuple[str, str]) -> dict[str, Any]:
    response = await request_token(
        client, grant_type="password", username=credentials[0], password=credentials[1]
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await request_token(client, grant_type="refresh_token", refresh_token=refresh_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_draw(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    """A manager-only call, authorised by the bearer token alone (no CSRF header)."""
    return await client.post("/api/v1/draws", json=DRAW, headers=bearer(access_token))


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def command_calls(redis: Redis) -> dict[str, int]:
    """Calls of each command so far (added up over a cluster's masters)."""
    if isinstance(redis, RedisCluster):
        found = await redis.info("commandstats", target_nodes=RedisCluster.PRIMARIES)
        every = list(found.values())
    else:
        every = [await redis.info("commandstats")]
    calls: dict[str, int] = {}
    for stats in every:
        for name, entry in stats.items():
            command = name.removeprefix("cmdstat_")
            calls[command] = calls.get(command, 0) + int(entry["calls"])
    return calls


async def write_commands_between(
    redis: Redis, before: dict[str, int], after: dict[str, int]
) -> set[str]:
    """The commands that ran between two snapshots and may write to the store."""
    ran = [name for name, calls in after.items() if calls > before.get(name, 0)]
    infos: dict[str, dict[str, Any]] = await redis.execute_command(  # type: ignore[no-untyped-call]
        "COMMAND", "INFO", *ran
    )
    return {name for name, info in infos.items() if info and "write" in info["flags"]}


def family_key(token: str) -> str:
    family_id = family_of(token)
    assert family_id is not None
    return KEYS.token_family(family_id)


# -- service and store fixtures ------------------------------------------------------------


@pytest.fixture
def token_store(redis: Redis) -> TokenStore:
    return TokenStore(redis, KEYS, SECRET)


@pytest.fixture
def account_store(redis: Redis) -> AccountStore:
    return AccountStore(redis, KEYS, SECRET)


@pytest.fixture
def accounts(account_store: AccountStore) -> AccountService:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return AccountService(account_store, idle_seconds=60, hasher=cheap)


@pytest_asyncio.fixture
async def alice(accounts: AccountService) -> User:
    return await accounts.create_user("alice", PASSWORD, Role.manager)


@pytest_asyncio.fixture
async def limits(store_url: str) -> AsyncIterator[RateLimits]:
    rate_limits = RateLimits.open(make_settings(store_url, "http://127.0.0.1:9"), store_url, Keys())
    yield rate_limits
    await rate_limits.aclose()


def token_service(
    token_store: TokenStore,
    accounts: AccountService,
    account_store: AccountStore,
    limits: RateLimits,
    access_seconds: int = 60,
    refresh_seconds: int = 3600,
) -> TokenService:
    return TokenService(
        token_store,
        accounts,
        account_store,
        access_seconds=access_seconds,
        refresh_seconds=refresh_seconds,
        limits=limits,
    )


@pytest_asyncio.fixture
async def unreachable_store() -> AsyncIterator[TokenStore]:
    """A token store whose server does not exist: any store access fails loudly."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, decode_responses=True)
    try:
        yield TokenStore(client, KEYS, SECRET)
    finally:
        await client.aclose()


# -- the token endpoint ----------------------------------------------------------------------


async def test_password_grant_answers_an_rfc6749_token_response(
    app_client: httpx.AsyncClient,
) -> None:
    response = await request_token(
        app_client, grant_type="password", username=MANAGER[0], password=MANAGER[1]
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert TOKEN.fullmatch(body["access_token"])
    assert TOKEN.fullmatch(body["refresh_token"])
    assert body["access_token"] != body["refresh_token"]
    assert family_of(body["access_token"]) == family_of(body["refresh_token"])
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_token_endpoint_accepts_what_swagger_ui_sends(
    app_client: httpx.AsyncClient,
) -> None:
    # The /docs Authorize dialog adds scope and client fields, and may send the client
    # credentials as HTTP Basic; a token carries its user's rights whatever they say.
    response = await app_client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": MANAGER[0],
            "password": MANAGER[1],
            "scope": "",
            "client_id": "docs",
            "client_secret": "",
        },
        headers={"Authorization": "Basic ZG9jczo="},
    )

    assert response.status_code == 200, response.text
    assert (await create_draw(app_client, response.json()["access_token"])).status_code == 201


async def test_each_password_grant_starts_its_own_family(app_client: httpx.AsyncClient) -> None:
    first = await password_grant(app_client, MANAGER)
    second = await password_grant(app_client, MANAGER)

    assert family_of(first["access_token"]) != family_of(second["access_token"])


async def test_bearer_token_authorises_api_calls_without_cookie_or_csrf(
    app_client: httpx.AsyncClient,
) -> None:
    manager = await password_grant(app_client, MANAGER)
    participant = await password_grant(app_client, PARTICIPANT)

    created = await create_draw(app_client, manager["access_token"])
    refused = await create_draw(app_client, participant["access_token"])
    anonymous = await app_client.post("/api/v1/draws", json=DRAW)

    assert created.status_code == 201, created.text
    assert created.json()["title"] == DRAW["title"]
    assert_problem(refused, 403, "forbidden")
    assert_problem(anonymous, 401, "not_authenticated")
    assert not app_client.cookies


async def test_bearer_token_takes_precedence_over_the_session_cookie(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, ADMIN)
    participant = await password_grant(app_client, PARTICIPANT)

    as_participant = await app_client.post(
        "/api/v1/draws",
        json=DRAW,
        headers={**bearer(participant["access_token"]), "X-CSRF-Token": csrf},
    )
    bad_token = await app_client.post(
        "/api/v1/draws",
        json=DRAW,
        headers={**bearer(participant["access_token"] + "x"), "X-CSRF-Token": csrf},
    )
    as_admin = await app_client.post("/api/v1/draws", json=DRAW, headers={"X-CSRF-Token": csrf})

    assert_problem(as_participant, 403, "forbidden")
    assert_problem(bad_token, 401, "invalid_token")
    assert as_admin.status_code == 201, as_admin.text


async def test_wrong_password_and_unknown_user_get_identical_answers(
    app_client: httpx.AsyncClient,
) -> None:
    wrong_password = await request_token(
        app_client, grant_type="password", username=MANAGER[0], password="not the password"
    )
    unknown_user = await request_token(
        app_client, grant_type="password", username="nobody", password="not the password"
    )

    assert_problem(wrong_password, 401, "invalid_credentials")
    # Alike but for the request id each answer carries (its own, by design).
    first, second = wrong_password.json(), unknown_user.json()
    assert first.pop("request_id") != second.pop("request_id")
    assert first == second
    assert wrong_password.status_code == unknown_user.status_code
    assert "access_token" not in wrong_password.text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"grant_type": "client_credentials"}, "grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "grant_type"),
        ({"grant_type": "password", "username": MANAGER[0]}, "password"),
        ({"grant_type": "password", "password": MANAGER[1]}, "username"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
        ({"username": MANAGER[0], "password": MANAGER[1]}, "grant_type"),
    ],
)
async def test_unsupported_or_incomplete_grants_are_invalid_input(
    app_client: httpx.AsyncClient, form: dict[str, str], field: str
) -> None:
    response = await request_token(app_client, **form)

    assert_problem(response, 422, "invalid_input")
    assert set(response.json()["errors"]) == {field}


async def test_refresh_rotates_both_tokens(app_client: httpx.AsyncClient) -> None:
    first = await password_grant(app_client, MANAGER)

    rotated = await refresh(app_client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    third_response = await refresh(app_client, second["refresh_token"])

    assert set(second) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert family_of(second["refresh_token"]) == family_of(first["refresh_token"])
    assert (await create_draw(app_client, second["access_token"])).status_code == 201
    assert third_response.status_code == 200, third_response.text
    assert rotated.headers["cache-control"] == "no-store"


async def test_reused_refresh_token_revokes_the_whole_family(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    first = await password_grant(app_client, MANAGER)
    other_family = await password_grant(app_client, MANAGER)
    second = (await refresh(app_client, first["refresh_token"])).json()
    assert (await create_draw(app_client, second["access_token"])).status_code == 201

    reuse = await refresh(app_client, first["refresh_token"])

    assert_problem(reuse, 401, "invalid_token")
    assert_problem(await create_draw(app_client, second["access_token"]), 401, "invalid_token")
    assert_problem(await create_draw(app_client, first["access_token"]), 401, "invalid_token")
    assert_problem(await refresh(app_client, second["refresh_token"]), 401, "invalid_token")
    assert await redis.hget(family_key(first["refresh_token"]), "status") == "revoked"
    # Another login of the same user is another family, untouched.
    assert (await create_draw(app_client, other_family["access_token"])).status_code == 201


@pytest.mark.parametrize(
    "refresh_token",
    [
        "",
        "garbage",
        "a" * 26 + "." + "b" * 43,  # well-formed, in no family
        "{d:aaaaaaaaaaaa}." + "b" * 43,
    ],
)
async def test_invalid_refresh_tokens_are_refused(
    app_client: httpx.AsyncClient, refresh_token: str
) -> None:
    response = await refresh(app_client, refresh_token)

    if refresh_token:
        assert_problem(response, 401, "invalid_token")
    else:
        assert_problem(response, 422, "invalid_input")


async def test_access_token_is_no_refresh_token(app_client: httpx.AsyncClient) -> None:
    tokens = await password_grant(app_client, MANAGER)

    assert_problem(await refresh(app_client, tokens["access_token"]), 401, "invalid_token")
    # Presenting the wrong kind of token is a mistake, not a theft: the family lives on.
    assert (await create_draw(app_client, tokens["access_token"])).status_code == 201


async def test_revoke_endpoint_ends_the_family(app_client: httpx.AsyncClient) -> None:
    by_access = await password_grant(app_client, MANAGER)
    by_refresh = await password_grant(app_client, MANAGER)
    untouched = await password_grant(app_client, MANAGER)

    first = await app_client.post("/api/v1/auth/revoke", data={"token": by_access["access_token"]})
    again = await app_client.post("/api/v1/auth/revoke", data={"token": by_access["access_token"]})
    second = await app_client.post(
        "/api/v1/auth/revoke", data={"token": by_refresh["refresh_token"]}
    )

    assert (first.status_code, again.status_code, second.status_code) == (204, 204, 204)
    assert first.content == b""
    for tokens in (by_access, by_refresh):
        assert_problem(await create_draw(app_client, tokens["access_token"]), 401, "invalid_token")
        assert_problem(await refresh(app_client, tokens["refresh_token"]), 401, "invalid_token")
    assert (await create_draw(app_client, untouched["access_token"])).status_code == 201


@pytest.mark.parametrize("token", ["", "garbage", "a" * 26 + "." + "b" * 43])
async def test_revoking_an_unknown_token_is_accepted(
    app_client: httpx.AsyncClient, redis: Redis, token: str
) -> None:
    keys_before = await redis.dbsize()

    response = await app_client.post("/api/v1/auth/revoke", data={"token": token})

    if token:
        assert response.status_code == 204, response.text
    else:
        assert_problem(response, 422, "invalid_input")
    assert await redis.dbsize() == keys_before


async def test_revoke_needs_a_real_token_not_just_the_family_id(
    app_client: httpx.AsyncClient,
) -> None:
    tokens = await password_grant(app_client, MANAGER)
    forged = f"{family_of(tokens['access_token'])}.{secrets.token_urlsafe(32)}"

    response = await app_client.post("/api/v1/auth/revoke", data={"token": forged})

    assert response.status_code == 204
    assert (await create_draw(app_client, tokens["access_token"])).status_code == 201


# -- bearer authentication --------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "bearer garbage",
        "Bearer " + "a" * 26 + "." + "b" * 43,  # well-formed, in no family
        "Bearer " + "A" * 26 + "." + "b" * 43,
        "Bearer {d:aaaaaaaaaaaa}." + "b" * 43,
        "Bearer " + "a" * 26 + "." + "b" * 43 + " extra",
        "Bearer " + "x" * 20_000,
        "Bearer \u00e9t\u00e9",
    ],
)
async def test_bad_bearer_tokens_are_invalid_token(
    app_client: httpx.AsyncClient, authorization: str
) -> None:
    headers = {b"Authorization": authorization.encode("latin-1")}

    listing = await app_client.get("/api/v1/draws", headers=headers)
    creating = await app_client.post("/api/v1/draws", json=DRAW, headers=headers)

    assert_problem(listing, 401, "invalid_token")
    assert_problem(creating, 401, "invalid_token")


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Token abc", "garbage"])
async def test_other_authorization_schemes_are_anonymous(
    app_client: httpx.AsyncClient, authorization: str
) -> None:
    headers = {"Authorization": authorization}

    listing = await app_client.get("/api/v1/draws", headers=headers)
    creating = await app_client.post("/api/v1/draws", json=DRAW, headers=headers)

    assert listing.status_code == 200, listing.text
    assert_problem(creating, 401, "not_authenticated")


async def test_authenticated_requests_write_nothing_to_the_store(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    tokens = await password_grant(app_client, MANAGER)
    family_id = family_of(tokens["access_token"])
    assert family_id is not None
    (access_key,) = await redis.keys(KEYS.access_token(family_id, "*"))
    keys_before = await redis.dbsize()
    ttl_before = await redis.pttl(access_key)
    calls_before = await command_calls(redis)

    for _ in range(50):
        response = await app_client.get("/api/v1/draws", headers=bearer(tokens["access_token"]))
        assert response.status_code == 200, response.text

    calls_after = await command_calls(redis)
    assert await redis.dbsize() == keys_before
    assert await redis.pttl(access_key) <= ttl_before
    assert await write_commands_between(redis, calls_before, calls_after) == set()
    # The check did run on every request: the read-only script (EVALSHA_RO) 50 times.
    assert calls_after["evalsha_ro"] - calls_before.get("evalsha_ro", 0) >= 50


async def test_no_token_is_kept_in_the_store(app_client: httpx.AsyncClient, redis: Redis) -> None:
    first = await password_grant(app_client, MANAGER)
    second = (await refresh(app_client, first["refresh_token"])).json()
    revoked = await password_grant(app_client, PARTICIPANT)
    assert (await create_draw(app_client, second["access_token"])).status_code == 201
    await app_client.post("/api/v1/auth/revoke", data={"token": revoked["refresh_token"]})
    tokens = [
        t[kind] for t in (first, second, revoked) for kind in ("access_token", "refresh_token")
    ]
    secrets_ = [token.split(".", 1)[1] for token in tokens]
    digests = [hashlib.sha256(token.encode()).hexdigest() for token in tokens]

    stored = await everything_stored(redis)

    for item in stored:
        for forbidden in (*tokens, *secrets_, *digests):
            assert forbidden not in item
    patterns = KEYS.patterns()
    keys = [key async for key in redis.scan_iter()]
    assert keys
    for key in keys:
        assert any(pattern.fullmatch(key) for pattern in patterns), key


async def test_a_disabled_users_tokens_stop_working(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    tokens = await password_grant(app_client, MANAGER)
    spare = await password_grant(app_client, MANAGER)
    unused = await password_grant(app_client, MANAGER)
    accounts: AccountService = app.state.services.accounts
    admin = await accounts.authenticate(*ADMIN)

    await accounts.update_user(admin, MANAGER[0], disabled=True)
    access = await create_draw(app_client, tokens["access_token"])
    refreshed = await refresh(app_client, spare["refresh_token"])
    await accounts.update_user(admin, MANAGER[0], disabled=False)

    assert_problem(access, 401, "invalid_token")
    assert_problem(refreshed, 401, "invalid_token")
    # Enabling the user again brings back none of the tokens they had before.
    assert_problem(await create_draw(app_client, tokens["access_token"]), 401, "invalid_token")
    assert_problem(await refresh(app_client, spare["refresh_token"]), 401, "invalid_token")
    assert_problem(await create_draw(app_client, unused["access_token"]), 401, "invalid_token")
    assert_problem(await refresh(app_client, unused["refresh_token"]), 401, "invalid_token")
    fresh = await password_grant(app_client, MANAGER)
    assert (await create_draw(app_client, fresh["access_token"])).status_code == 201


async def test_a_password_change_ends_the_users_tokens(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    tokens = await password_grant(app_client, MANAGER)
    accounts: AccountService = app.state.services.accounts
    manager = await accounts.authenticate(*MANAGER)

    await accounts.change_password(manager, MANAGER[1], "a brand new password 1")

    assert_problem(await create_draw(app_client, tokens["access_token"]), 401, "invalid_token")
    assert_problem(await refresh(app_client, tokens["refresh_token"]), 401, "invalid_token")
    fresh = await password_grant(app_client, (MANAGER[0], "a brand new password 1"))
    assert (await create_draw(app_client, fresh["access_token"])).status_code == 201


async def test_a_removed_users_tokens_stop_working(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    tokens = await password_grant(app_client, MANAGER)
    await redis.delete(KEYS.user(MANAGER[0]))

    assert_problem(await create_draw(app_client, tokens["access_token"]), 401, "invalid_token")
    assert_problem(await refresh(app_client, tokens["refresh_token"]), 401, "invalid_token")


async def test_openapi_declares_the_oauth2_password_flow(app_client: httpx.AsyncClient) -> None:
    schema = (await app_client.get("/openapi.json")).json()

    schemes = schema["components"]["securitySchemes"]
    (name,) = [n for n, s in schemes.items() if s["type"] == "oauth2"]
    assert schemes[name]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert {name: []} in schema["paths"]["/api/v1/draws"]["post"]["security"]
    # The busiest routes take no dependency (web/acting.py): they declare it themselves.
    for path in (
        "/api/v1/draws/{draw_id}/entries",
        "/api/v1/draws/{draw_id}/tickets",
        "/api/v1/lotteries/{lottery_id}/ballots",
    ):
        operation = schema["paths"][path]["post"]
        assert operation["security"] == [{name: []}]
        answer = operation["responses"]["201"]["content"]["application/json"]["schema"]
        assert answer["$ref"].startswith("#/components/schemas/")
    token_operation = schema["paths"]["/api/v1/auth/token"]["post"]
    form = token_operation["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in form


# -- service and store ------------------------------------------------------------------------


async def test_access_tokens_expire_but_refreshing_keeps_a_client_logged_in(
    token_store: TokenStore,
    accounts: AccountService,
    account_store: AccountStore,
    alice: User,
    limits: RateLimits,
) -> None:
    service = token_service(token_store, accounts, account_store, limits, access_seconds=1)
    grant = await service.password_grant("alice", PASSWORD)
    assert grant.expires_in == 1
    assert await service.user_for_access_token(grant.access_token) == alice

    await asyncio.sleep(1.2)

    with pytest.raises(InvalidToken):
        await service.user_for_access_token(grant.access_token)
    renewed = await service.refresh_grant(grant.refresh_token)
    assert await service.user_for_access_token(renewed.access_token) == alice


async def test_refresh_tokens_expire(token_store: TokenStore, alice: User) -> None:
    pair = await token_store.issue(
        Holder(alice.username, alice.session_epoch), access_seconds=1, refresh_seconds=1
    )

    await asyncio.sleep(1.2)

    with pytest.raises(InvalidToken):
        await token_store.rotate(pair.refresh_token, 60, 3600)
    assert await token_store.revoke(pair.refresh_token) is False


async def test_wrong_password_grants_nothing(
    token_store: TokenStore,
    accounts: AccountService,
    account_store: AccountStore,
    alice: User,
    limits: RateLimits,
    redis: Redis,
) -> None:
    service = token_service(token_store, accounts, account_store, limits)

    async def keys_but_rate_limits() -> set[str]:
        prefix = Keys().rate_limit_prefix()
        return {k async for k in redis.scan_iter() if not k.startswith(prefix)}

    keys_before = await keys_but_rate_limits()
    with pytest.raises(InvalidCredentials):
        await service.password_grant("alice", "wrong password!")
    # Only the login rate limit counted the attempt; no token or family was stored.
    assert await keys_but_rate_limits() == keys_before


async def test_rotation_keeps_a_used_marker_and_extends_the_family(
    token_store: TokenStore, alice: User, redis: Redis
) -> None:
    first = await token_store.issue(
        Holder(alice.username, alice.session_epoch), access_seconds=60, refresh_seconds=3600
    )
    family = KEYS.token_family(first.family_id)
    assert await redis.hgetall(family) == {
        "username": "alice",
        "status": "active",
        "refresh": await _refresh_hash_of(redis, first.family_id),
        "epoch": "0",
    }
    assert 3590 <= await redis.ttl(family) <= 3600
    family_keys = f"{KEYS.prefix}{{f:{first.family_id}}}:*"
    assert len(await redis.keys(family_keys)) == 3  # family, access, refresh

    rotation = await token_store.rotate(first.refresh_token, 60, 7200)

    assert rotation.holder == Holder("alice", 0)
    assert rotation.tokens is not None
    assert not rotation.reused
    assert rotation.tokens.family_id == first.family_id
    assert 7190 <= await redis.ttl(family) <= 7200
    refresh_keys = await redis.keys(KEYS.refresh_token(first.family_id, "*"))
    used = {key: await redis.hgetall(key) for key in refresh_keys}
    assert sorted(fields["used"] for fields in used.values()) == ["0", "1"]
    for key, fields in used.items():
        ttl = await redis.ttl(key)
        assert (3590 <= ttl <= 3600) if fields["used"] == "1" else (7190 <= ttl <= 7200)
    assert await redis.hget(family, "refresh") == await _refresh_hash_of(redis, first.family_id)
    assert len(await redis.keys(family_keys)) == 5  # + a new access and refresh token


async def _refresh_hash_of(redis: Redis, family_id: str) -> str:
    """The hash in the name of the family's one unused refresh token."""
    for key in await redis.keys(KEYS.refresh_token(family_id, "*")):
        if await redis.hget(key, "used") == "0":
            return str(key).rsplit(":", 1)[1]
    raise AssertionError("no unused refresh token")


async def test_concurrent_use_of_one_refresh_token_is_reuse(
    token_store: TokenStore, alice: User
) -> None:
    pair = await token_store.issue(Holder(alice.username, alice.session_epoch), 60, 3600)

    outcomes = await asyncio.gather(
        *(token_store.rotate(pair.refresh_token, 60, 3600) for _ in range(2))
    )

    assert sorted(o.reused for o in outcomes) == [False, True]
    (winner,) = [o.tokens for o in outcomes if o.tokens is not None]
    with pytest.raises(InvalidToken):
        await token_store.access_holder(winner.access_token)
    with pytest.raises(InvalidToken):
        await token_store.access_holder(pair.access_token)


async def test_guessed_secret_in_a_real_family_does_not_revoke_it(
    token_store: TokenStore, alice: User
) -> None:
    pair = await token_store.issue(Holder(alice.username, alice.session_epoch), 60, 3600)
    guess = f"{pair.family_id}.{secrets.token_urlsafe(32)}"

    with pytest.raises(InvalidToken):
        await token_store.rotate(guess, 60, 3600)
    with pytest.raises(InvalidToken):
        await token_store.access_holder(guess)
    assert await token_store.revoke(guess) is False

    assert await token_store.access_holder(pair.access_token) == Holder("alice", 0)
    assert (await token_store.rotate(pair.refresh_token, 60, 3600)).tokens is not None


async def test_revoke_reports_whether_it_revoked(token_store: TokenStore, alice: User) -> None:
    pair = await token_store.issue(Holder(alice.username, alice.session_epoch), 60, 3600)

    assert await token_store.revoke(pair.access_token) is True
    assert await token_store.revoke(pair.refresh_token) is False
    with pytest.raises(InvalidToken):
        await token_store.access_holder(pair.access_token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a" * 26,
        "a" * 26 + ".",
        "a" * 25 + "." + "b" * 43,
        "a" * 26 + "." + "b" * 42,
        "a" * 26 + "." + "b" * 44,
        "A" * 26 + "." + "b" * 43,
        "a" * 26 + ":" + "b" * 43,
        "a" * 26 + "." + "b" * 42 + "=",
        "a" * 26 + "." + "b" * 43 + "\n",
        "{d:aaaaaaaaaaaa}." + "b" * 43,
        "\u0430" * 26 + "." + "b" * 43,  # Cyrillic a
        "a" * 26 + "." + "\U0001d41b" * 43,
    ],
)
async def test_malformed_tokens_never_reach_the_store(
    unreachable_store: TokenStore, token: str
) -> None:
    with pytest.raises(InvalidToken):
        await unreachable_store.access_holder(token)
    with pytest.raises(InvalidToken):
        await unreachable_store.rotate(token, 60, 3600)
    assert await unreachable_store.revoke(token) is False


async def test_well_formed_tokens_do_reach_the_store(unreachable_store: TokenStore) -> None:
    # The counterpart of the test above: the unreachable store does fail when used.
    with pytest.raises(StoreConnectionError):
        await unreachable_store.access_holder("a" * 26 + "." + "b" * 43)


# -- tokens that name their user -------------------------------------------------------------


async def _stored_pair(
    token_store: TokenStore, redis: Redis, holder: Holder, name: str | None = None
) -> tuple[str, str]:
    """An access and refresh token of a family of ``holder`` written straight to the store,
    naming ``name``: none, as they were issued before tokens named their user
    (``FID.SECRET``), or another user than the family's, as fairdraw never issues them."""
    family_id = family_of(f"{'a' * 26}.{'b' * 43}")
    assert family_id is not None
    suffix = "" if name is None else f"~{name}"
    access, refresh_token = (f"{family_id}.{secrets.token_urlsafe(32)}{suffix}" for _ in range(2))
    refresh_hash = token_store._hash(refresh_token)
    await token_store._scripts.call(
        "issue_tokens",
        [
            KEYS.token_family(family_id),
            KEYS.access_token(family_id, token_store._hash(access)),
            KEYS.refresh_token(family_id, refresh_hash),
        ],
        [holder.username, refresh_hash, 60, 3600, holder.epoch],
    )
    return access, refresh_token


@pytest.fixture
def service(
    token_store: TokenStore,
    accounts: AccountService,
    account_store: AccountStore,
    limits: RateLimits,
) -> TokenService:
    return token_service(token_store, accounts, account_store, limits)


async def test_tokens_name_their_user_and_the_name_is_part_of_the_token(
    service: TokenService, accounts: AccountService, alice: User
) -> None:
    bob = await accounts.create_user("bob", PASSWORD, Role.manager)
    grant = await service.password_grant("alice", PASSWORD)
    assert named_user(grant.access_token) == named_user(grant.refresh_token) == "alice"
    assert await service.user_for_access_token(grant.access_token) == alice

    # The same family and secret naming someone else, or no one, is an unknown token.
    secret_part = grant.access_token.rpartition("~")[0]
    for forged in (f"{secret_part}~{bob.username}", secret_part, f"{secret_part}~Alice"):
        with pytest.raises(InvalidToken):
            await service.user_for_access_token(forged)
    # None of those tries revoked alice's family.
    assert await service.user_for_access_token(grant.access_token) == alice

    rotated = await service.refresh_grant(grant.refresh_token)
    assert named_user(rotated.access_token) == named_user(rotated.refresh_token) == "alice"
    assert await service.user_for_access_token(rotated.access_token) == alice


async def test_tokens_issued_without_a_name_still_work_and_rotate_without_one(
    service: TokenService, token_store: TokenStore, alice: User, redis: Redis
) -> None:
    access, refresh_token = await _stored_pair(token_store, redis, Holder("alice", 0))
    assert named_user(access) is None

    assert await service.user_for_access_token(access) == alice
    rotated = await service.refresh_grant(refresh_token)
    assert named_user(rotated.access_token) is None
    assert await service.user_for_access_token(rotated.access_token) == alice
    # A name added to an unnamed token makes it an unknown one.
    with pytest.raises(InvalidToken):
        await service.user_for_access_token(f"{rotated.access_token}~alice")


async def test_a_token_naming_another_user_than_its_family_acts_for_no_one(
    service: TokenService,
    token_store: TokenStore,
    accounts: AccountService,
    alice: User,
    redis: Redis,
) -> None:
    await accounts.create_user("bob", PASSWORD, Role.manager)
    access, _ = await _stored_pair(token_store, redis, Holder("alice", 0), name="bob")

    with pytest.raises(InvalidToken):
        await service.user_for_access_token(access)
