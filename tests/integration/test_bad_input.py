"""Malformed requests get a clear 4xx and change nothing, over the real app: bodies that
cannot be read, numbers beyond what the store takes, wrong methods (with ``Allow``),
booleans and numbers of the wrong JSON type, and schemas that say what is accepted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain.accounts import MIN_PASSWORD_LENGTH
from fairdraw.domain.draws import PRIZES_MAX, QUANTITY_MAX, TITLE_MAX
from fairdraw.store.keys import Keys
from fairdraw.web.api.schemas import DrawIn, PrizeIn, RaffleIn
from fairdraw.web.api.text_patterns import NOT_BLANK
from fairdraw.web.api.users import PasswordChangeIn, RegistrationIn, UserPatch
from fairdraw.web.app import create_app
from tests.support.app import ADMIN, login, make_settings
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PROBLEM = "application/problem+json"
NO_DRAW = "abcdefghijkl"  # a well-formed draw id that no draw has

# Every operation that reads a JSON body. FastAPI reads the body before anything else
# (authentication, CSRF, the draw), so an anonymous caller and unknown ids reach it.
JSON_OPERATIONS = [
    ("POST", "/api/v1/session"),
    ("POST", "/api/v1/session/password"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/pat"),
    ("POST", "/api/v1/draws"),
    ("PATCH", f"/api/v1/draws/{NO_DRAW}"),
    ("POST", f"/api/v1/draws/{NO_DRAW}/entries"),
    ("POST", "/api/v1/raffles"),
    ("POST", f"/api/v1/draws/{NO_DRAW}/tickets/check"),
    ("POST", "/api/v1/lotteries"),
    ("POST", f"/api/v1/draws/{NO_DRAW}/reveal"),
]
UNREADABLE_JSON = {
    "not UTF-8": (b'{"title": "caf\xe9", "username": "\xff\xfe"}', "The body is not valid UTF-8."),
    "nested 1,000 deep": (b"[" * 1000 + b"]" * 1000, "The JSON body is nested too deeply."),
    "5,000 digits": (
        b'{"step": 1' + b"0" * 5000 + b"}",
        "A number in the JSON body has too many digits.",
    ),
}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


async def keys_of(redis: Redis) -> set[str]:
    return set(await redis.keys("*"))


def draw_body(**changes: Any) -> dict[str, Any]:
    return {"title": "Meetup", "prizes": [{"name": "Mug", "quantity": 1}], **changes}


@pytest_asyncio.fixture
async def admin_csrf(app_client: httpx.AsyncClient) -> str:
    return await login(app_client, ADMIN)


# -- bodies that cannot be read ----------------------------------------------------------


@pytest.mark.parametrize("kind", list(UNREADABLE_JSON))
@pytest.mark.parametrize(("method", "path"), JSON_OPERATIONS)
async def test_an_unreadable_json_body_is_400_and_changes_nothing(
    anon_client: httpx.AsyncClient, redis: Redis, method: str, path: str, kind: str
) -> None:
    body, why = UNREADABLE_JSON[kind]
    before = await keys_of(redis)

    response = await anon_client.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )

    found = problem(response, 400, "malformed_request")
    assert found["detail"] == why
    assert found["instance"] == path
    assert await keys_of(redis) == before


@pytest.mark.parametrize(
    ("content_type", "body", "detail"),
    [
        ("multipart/form-data", b"--x\r\n", "Missing boundary in multipart."),
        ("multipart/form-data; boundary=abc", b"garbage", "Invalid multipart data."),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/auth/revoke"])
async def test_a_broken_multipart_form_is_400(
    anon_client: httpx.AsyncClient,
    redis: Redis,
    path: str,
    content_type: str,
    body: bytes,
    detail: str,
) -> None:
    before = await keys_of(redis)

    response = await anon_client.post(path, content=body, headers={"Content-Type": content_type})

    assert problem(response, 400, "malformed_request")["detail"] == detail
    assert await keys_of(redis) == before


async def test_a_page_answers_a_broken_form_with_a_400_page(
    anon_client: httpx.AsyncClient,
) -> None:
    response = await anon_client.post(
        "/login", content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "The request could not be read" in response.text


async def test_a_form_that_is_not_utf8_is_read_and_refused_like_any_other(
    anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    before = await keys_of(redis)
    body = b"grant_type=password&username=adm%FF\xfe&password=\xff\xfe%C3"

    response = await anon_client.post(
        "/api/v1/auth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    problem(response, 401, "invalid_credentials")
    assert {k for k in await keys_of(redis) - before if "ratelimit" not in k} == set()


@pytest_asyncio.fixture
async def roomy_client(
    store_url: str, github: GitHubStandIn, redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose body limit is 4 MiB, four times the default (beside the
    ``app`` fixture's, which creates the accounts in the store they share)."""
    settings = make_settings(store_url, github.url, max_body_bytes=4 * 2**20)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_a_form_field_over_1_mb_is_413_by_default_and_400_under_a_larger_limit(
    anon_client: httpx.AsyncClient, roomy_client: httpx.AsyncClient
) -> None:
    form = {"grant_type": "password", "username": "admin", "password": "x" * (2**20 + 1)}

    problem(await anon_client.post("/api/v1/auth/token", data=form), 413, "content_too_large")
    roomy = await roomy_client.post("/api/v1/auth/token", data=form)
    assert problem(roomy, 400, "malformed_request")["detail"] == (
        "Field exceeded maximum size of 1024KB."
    )


# -- numbers beyond what the store takes -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=99999999999999999999", "offset"),
        ("offset=" + "9" * 5000, "offset"),
        ("offset=1000000001", "offset"),
        ("limit=99999999999999999999", "limit"),
    ],
)
async def test_a_user_list_offset_or_limit_out_of_range_is_422(
    app_client: httpx.AsyncClient, admin_csrf: str, query: str, field: str
) -> None:
    response = await app_client.get(f"/api/v1/users?{query}")

    assert set(problem(response, 422, "invalid_input")["errors"]) == {field}


async def test_the_largest_offset_answers_an_empty_page(
    app_client: httpx.AsyncClient, admin_csrf: str
) -> None:
    response = await app_client.get("/api/v1/users?offset=1000000000")

    assert response.status_code == 200, response.text
    assert response.json()["users"] == []
    assert response.json()["next_offset"] is None


# -- a method a path does not take -------------------------------------------------------

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# One URL of every route; the ids belong to nothing, so the methods a path takes answer
# 401, 403, 404 or 422 and change nothing.
EVERY_ROUTE = [
    "/api/v1/session",
    "/api/v1/session/password",
    "/api/v1/users",
    "/api/v1/users/nobody",
    "/api/v1/auth/token",
    "/api/v1/auth/revoke",
    "/api/v1/draws",
    "/api/v1/raffles",
    *(
        f"/api/v1/draws/{NO_DRAW}{tail}"
        for tail in (
            "",
            "/open",
            "/close",
            "/cancel",
            "/draw",
            "/entries",
            "/winners",
            "/proof",
            "/entries.txt",
            "/tickets",
            "/tickets/check",
            "/dashboard",
            "/minutes",
            "/reveal",
            "/events",
            "/events/private",
        )
    ),
    "/api/v1/lotteries",
    "/api/v1/lotteries/nolottery12",
    "/api/v1/lotteries/nolottery12/ballots",
    "/api/v1/lotteries/nolottery12/rounds",
    "/api/v1/lotteries/nolottery12/rounds/2026-01-01",
    "/api/v1/lotteries/nolottery12/rounds/2026-01-01/draw",
    "/api/v1/lotteries/nolottery12/top",
    "/api/v1/lotteries/nolottery12/dashboard",
    "/api/v1/scheduler",
    "/api/v1/admin/activity",
    "/healthz",
    "/openapi.json",
    "/docs",
    "/",
    "/login",
    "/logout",
    "/register",
    "/account/password",
    "/admin/users",
    "/admin/users/nobody/disable",
    "/admin/users/nobody/enable",
    "/admin/users/nobody/role",
    "/admin/activity",
    "/draws/new",
    "/raffles/new",
    *(
        f"/draws/{NO_DRAW}{tail}"
        for tail in (
            "",
            "/check",
            "/enter",
            "/edit",
            "/tickets",
            "/close",
            "/results",
            "/dashboard",
            "/present",
            "/present/start",
            "/reveal",
        )
    ),
    "/lotteries",
    "/lotteries/new",
    "/lotteries/check",
    "/lotteries/schedule",
    "/lotteries/nolottery12",
    "/lotteries/nolottery12/dashboard",
    "/lotteries/nolottery12/rounds",
    "/lotteries/nolottery12/rounds/2026-01-01",
    "/lotteries/nolottery12/ballots",
    "/lotteries/nolottery12/rounds/2026-01-01/draw",
    "/static/fairdraw.css",
]


def allow_of(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


async def test_every_405_names_exactly_the_methods_its_path_takes(
    anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    before = await keys_of(redis)
    refused = 0
    for path in EVERY_ROUTE:
        answers = {method: await anon_client.request(method, path) for method in METHODS}
        taken = {method for method, response in answers.items() if response.status_code != 405}
        assert taken, path
        for method, response in answers.items():
            if response.status_code != 405:
                continue
            refused += 1
            assert "allow" in response.headers, f"{method} {path}"
            assert allow_of(response) == taken, f"{method} {path}"
            if path.startswith("/api/") and method != "HEAD":
                problem(response, 405, "method_not_allowed")
    assert refused > 4 * len(EVERY_ROUTE)
    assert {k for k in await keys_of(redis) - before if "ratelimit" not in k} == set()


# -- booleans and numbers are JSON booleans and numbers -----------------------------------


@pytest.mark.parametrize("disabled", [0, 1, 0.0, "true", "false", "yes"])
async def test_disabled_must_be_a_json_boolean(
    app_client: httpx.AsyncClient, admin_csrf: str, disabled: object
) -> None:
    headers = {"X-CSRF-Token": admin_csrf}

    refused = await app_client.patch(
        "/api/v1/users/pat", json={"disabled": disabled}, headers=headers
    )

    assert problem(refused, 422, "invalid_input")["errors"] == {
        "disabled": "Input should be a valid boolean"
    }
    users = (await app_client.get("/api/v1/users?q=pat")).json()["users"]
    assert [(u["username"], u["disabled"]) for u in users] == [("pat", False)]
    accepted = await app_client.patch("/api/v1/users/pat", json={"disabled": True}, headers=headers)
    assert (accepted.status_code, accepted.json()["disabled"]) == (200, True)


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        ("/api/v1/draws", draw_body(open=1), "open", "Input should be a valid boolean"),
        (
            "/api/v1/draws",
            draw_body(auto_draw="true"),
            "auto_draw",
            "Input should be a valid boolean",
        ),
        (
            "/api/v1/draws",
            draw_body(prizes=[{"name": "Mug", "quantity": "2"}]),
            "prizes.0.quantity",
            "Input should be a valid integer",
        ),
        (
            "/api/v1/draws",
            draw_body(prizes=[{"name": "Mug", "quantity": 1.0}]),
            "prizes.0.quantity",
            "Input should be a valid integer",
        ),
        (
            "/api/v1/raffles",
            draw_body(ticket_count=10, early_close=0),
            "early_close",
            "Input should be a valid boolean",
        ),
        (
            "/api/v1/raffles",
            draw_body(ticket_count=10, open="1"),
            "open",
            "Input should be a valid boolean",
        ),
    ],
)
async def test_flags_and_counts_of_the_wrong_json_type_are_422_and_store_nothing(
    app_client: httpx.AsyncClient,
    admin_csrf: str,
    redis: Redis,
    path: str,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    refused = await app_client.post(path, json=body, headers={"X-CSRF-Token": admin_csrf})

    assert problem(refused, 422, "invalid_input")["errors"] == {field: message}
    assert await redis.zcard(KEYS.draws_index()) == 0


# -- the schema says what is accepted ----------------------------------------------------


def test_the_request_schemas_state_the_rules_the_server_applies() -> None:
    draw = DrawIn.model_json_schema()
    prize = PrizeIn.model_json_schema()["properties"]
    raffle = RaffleIn.model_json_schema()["properties"]
    assert (
        draw["properties"]["prizes"] | {"minItems": 1, "maxItems": PRIZES_MAX}
        == (draw["properties"]["prizes"])
    )
    assert (
        draw["properties"]["title"] | {"minLength": 1, "maxLength": TITLE_MAX}
        == (draw["properties"]["title"])
    )
    assert draw["properties"]["title"]["pattern"] == NOT_BLANK
    assert (prize["quantity"]["minimum"], prize["quantity"]["maximum"]) == (1, QUANTITY_MAX)
    assert (raffle["ticket_count"]["minimum"], raffle["ticket_count"]["maximum"]) == (1, 10**9)
    assert raffle["prizes"]["minItems"] == 1
    for model, field in [(RegistrationIn, "password"), (PasswordChangeIn, "new_password")]:
        assert model.model_json_schema()["properties"][field]["minLength"] == MIN_PASSWORD_LENGTH
    disabled = UserPatch.model_json_schema()["properties"]["disabled"]
    assert {"type": "boolean"} in disabled["anyOf"]


async def test_what_the_schema_refuses_the_server_refuses_and_what_it_allows_it_takes(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, admin_csrf: str, redis: Redis
) -> None:
    headers = {"X-CSRF-Token": admin_csrf}
    many = [{"name": f"Prize {n}"} for n in range(PRIZES_MAX + 1)]
    for bad in (draw_body(prizes=[]), draw_body(prizes=many), draw_body(title="")):
        refused = await app_client.post("/api/v1/draws", json=bad, headers=headers)
        assert set(problem(refused, 422, "invalid_input")["errors"]) <= {"prizes", "title"}
    assert await redis.zcard(KEYS.draws_index()) == 0
    edge = draw_body(prizes=many[:PRIZES_MAX], title="T" * TITLE_MAX)
    assert (await app_client.post("/api/v1/draws", json=edge, headers=headers)).status_code == 201

    short = "p" * (MIN_PASSWORD_LENGTH - 1)
    refused = await anon_client.post("/api/v1/users", json={"username": "zoe", "password": short})
    assert set(problem(refused, 422, "invalid_input")["errors"]) == {"password"}
    long_enough = {"username": "zoe", "password": short + "p"}
    assert (await anon_client.post("/api/v1/users", json=long_enough)).status_code == 201

    empty = await anon_client.post("/api/v1/auth/revoke", data={"token": ""})
    assert set(problem(empty, 422, "invalid_input")["errors"]) == {"token"}
    assert (await anon_client.post("/api/v1/auth/revoke", data={"token": "x"})).status_code == 204

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    past = {"name": "Daily", "prize": "Coffee", "start": yesterday, "timezone": "UTC"}
    refused = await app_client.post("/api/v1/lotteries", json=past, headers=headers)
    assert set(problem(refused, 422, "invalid_input")["errors"]) == {"start"}


async def test_the_openapi_document_carries_the_rules(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["DrawIn"]["properties"]["prizes"]["minItems"] == 1
    assert schemas["RegistrationIn"]["properties"]["password"]["minLength"] == (MIN_PASSWORD_LENGTH)
    revoke = next(name for name in schemas if name.startswith("Body_revoke_token"))
    assert schemas[revoke]["properties"]["token"]["minLength"] == 1
    token = next(name for name in schemas if name.startswith("Body_issue_token"))
    assert schemas[token]["properties"]["grant_type"]["enum"] == ["password", "refresh_token"]
    lottery = schemas["LotteryIn"]["properties"]
    assert (lottery["start"]["format"], lottery["winners_per_day"]["minimum"]) == ("date", 1)
    responses = app.openapi()["paths"]["/api/v1/draws"]["post"]["responses"]
    assert {"400", "413", "422"} <= set(responses)
