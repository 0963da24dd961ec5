"""What fuzzing the API found, each kept fixed: over the real app, the OpenAPI document
says of a value what the server does with it (a pattern a value matches is accepted, one
it does not match is refused with 422), and no number is passed on to the store unbounded.

A pattern is checked here with Python's ``re``, as Schemathesis generates from it; the
patterns avoid the classes ECMA-262 validators read otherwise (web/api/text_patterns.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain.accounts import MAX_PAGE_OFFSET, check_paging
from fairdraw.domain.errors import InvalidInput
from tests.support.app import ADMIN, login
from tests.support.github_server import GitHubStandIn

PROBLEM = "application/problem+json"
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def component(app: FastAPI, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi()["components"]["schemas"][name]
    return schema


def allows(rule: dict[str, Any], value: object) -> bool:
    """Whether ``rule``, a schema as fairdraw writes them, admits ``value``: the keywords
    fairdraw uses (anyOf, type, enum, pattern, maxLength, minimum)."""
    if "anyOf" in rule and not any(allows(branch, value) for branch in rule["anyOf"]):
        return False
    kinds = {"null": type(None), "string": str, "integer": int, "boolean": bool}
    if "type" in rule and not isinstance(value, kinds[rule["type"]]):
        return False
    if "enum" in rule and value not in rule["enum"]:
        return False
    if isinstance(value, str):
        if "pattern" in rule and re.search(rule["pattern"], value) is None:
            return False
        if rule.get("format") == "date-time" and RFC3339.fullmatch(value) is None:
            return False
        if len(value) > rule.get("maxLength", len(value)):
            return False
    return not (isinstance(value, int) and value < rule.get("minimum", value))


def refused_fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors: dict[str, str] = response.json()["errors"]
    return set(errors)


@pytest_asyncio.fixture
async def admin_csrf(app_client: httpx.AsyncClient) -> str:
    return await login(app_client, ADMIN)


async def create(client: httpx.AsyncClient, csrf: str, path: str, body: dict[str, Any]) -> str:
    response = await client.post(path, json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    created: str = response.json()["id"]
    return created


# -- a page offset beyond what the store reads --------------------------------------------


async def test_a_huge_offset_on_the_users_page_is_422_not_500(
    app_client: httpx.AsyncClient, admin_csrf: str
) -> None:
    response = await app_client.get("/admin/users?offset=99999999999999999999")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "The offset must be at most 1,000,000,000." in response.text
    last = await app_client.get(f"/admin/users?offset={MAX_PAGE_OFFSET}")
    assert last.status_code == 200


@pytest.mark.parametrize("offset", [MAX_PAGE_OFFSET + 1, 10**20])
def test_paging_refuses_an_offset_past_the_bound(offset: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_paging(offset, 10)
    assert refused.value.errors == {"offset": "The offset must be at most 1,000,000,000."}
    check_paging(MAX_PAGE_OFFSET, 10)


# -- JSON text that is no text -----------------------------------------------------------

LONE_SURROGATES = {
    "escaped": b"\\ud800",  # a high surrogate with no low one after it
    "escaped low": b"\\udc00",
    "encoded": b"\xed\xa0\x80",  # a surrogate in UTF-8's form, which no UTF-8 has
}


@pytest.mark.parametrize("kind", list(LONE_SURROGATES))
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/draws", b'{"title": "Meet%sup", "prizes": [{"name": "Mug"}]}'),
        ("/api/v1/lotteries", b'{"name": "Daily%s", "prize": "Coffee", "start": "2099-01-01"}'),
        ("/api/v1/users", b'{"username": "zoe", "password": "a long %s password"}'),
        ("/api/v1/session", b'{"username": "admin%s", "password": "x"}'),
        ("/api/v1/raffles", b'{"title": "R", "prizes": [{"name": "%s"}], "ticket_count": 9}'),
    ],
)
async def test_a_json_string_with_a_lone_surrogate_is_400_and_changes_nothing(
    app_client: httpx.AsyncClient,
    admin_csrf: str,
    redis: Redis,
    path: str,
    body: bytes,
    kind: str,
) -> None:
    before = set(await redis.keys("*"))

    response = await app_client.post(
        path,
        content=body.replace(b"%s", LONE_SURROGATES[kind]),
        headers={"Content-Type": "application/json", "X-CSRF-Token": admin_csrf},
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "malformed_request"
    assert response.json()["detail"] == "The JSON body holds a lone surrogate (\\uD800 to \\uDFFF)."
    assert set(await redis.keys("*")) - before == set()


async def test_surrogate_pairs_and_escaped_backslashes_are_text(
    app_client: httpx.AsyncClient, admin_csrf: str
) -> None:
    body = b'{"title": "\\ud83c\\udf89 \\\\ud800", "prizes": [{"name": "Mug"}]}'

    response = await app_client.post(
        "/api/v1/draws",
        content=body,
        headers={"Content-Type": "application/json", "X-CSRF-Token": admin_csrf},
    )

    assert response.status_code == 201, response.text
    assert response.json()["title"] == "\U0001f389 \\ud800"


# -- a draw's texts, deadline and duration --------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"title": "Meetup"}, True),
        ({"title": "\ufeffMeetup"}, True),  # no space to Python, which trims
        ({"title": "\x1d"}, False),  # a space to Python, not to ECMA-262's \S
        ({"title": "\x85 \u3000"}, False),
        ({"prizes": [{"name": "\x1c"}]}, False),
        ({"duration": "1h30m"}, True),
        ({"duration": " 2 d "}, True),
        ({"duration": "\u0661h"}, True),  # an Arabic-Indic 1: a digit to Python's int()
        ({"duration": "0d0h1s"}, True),
        ({"duration": "  "}, True),  # blank: no duration
        ({"duration": "0m"}, False),
        ({"duration": "30"}, False),
        ({"duration": "1m2h"}, False),
        ({"duration": "y\xfa"}, False),
        ({"deadline": "2099-12-24T18:00:00Z"}, True),
        ({"deadline": "2099-12-24T18:00:00.5+01:00"}, True),
        ({"deadline": ""}, True),  # blank: no deadline
        ({"deadline": "Christmas"}, False),
    ],
)
async def test_a_draw_is_created_exactly_when_the_schema_allows_it(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    admin_csrf: str,
    changes: dict[str, Any],
    accepted: bool,
) -> None:
    body = {"title": "Meetup", "prizes": [{"name": "Mug"}], **changes}
    schema = component(app, "DrawIn")["properties"]
    prize = component(app, "PrizeIn")["properties"]

    response = await app_client.post(
        "/api/v1/draws", json=body, headers={"X-CSRF-Token": admin_csrf}
    )

    allowed = all(allows(schema[name], body[name]) for name in changes if name != "prizes")
    allowed &= all(allows(prize["name"], p["name"]) for p in body["prizes"])
    assert allowed is accepted
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert refused_fields(response) <= {"title", "duration", "deadline", "prizes.0.name"}


# -- registration: the username and the display name --------------------------------------


@pytest.mark.parametrize(
    ("display_name", "accepted"),
    [
        ("Zoë", True),
        ("  Zoë Q.  ", True),
        ("Z" * 64, True),
        ("Z" * 65, False),
        ("Zo\x81e", False),  # a C1 control character (Cc)
        ("Zo\u200be", False),  # a zero-width space (Cf)
        ("\u202eZoe", False),  # a right-to-left override (Cf)
        ("\u3000", False),  # only a space
    ],
)
async def test_a_display_name_is_accepted_exactly_when_the_schema_allows_it(
    app: FastAPI, anon_client: httpx.AsyncClient, display_name: str, accepted: bool
) -> None:
    rule = component(app, "RegistrationIn")["properties"]["display_name"]
    body = {"username": "zoe", "password": "a long password", "display_name": display_name}

    response = await anon_client.post("/api/v1/users", json=body)

    assert allows(rule, display_name) is accepted
    if accepted:
        assert response.status_code == 201, response.text
        assert response.json()["display_name"] == display_name.strip()
    else:
        assert refused_fields(response) == {"display_name"}


@pytest.mark.parametrize(
    ("username", "accepted"),
    [
        ("Alice", True),
        (" al.ice_1 ", True),
        ("h\x81\xfa\xc0\x16", False),
        ("_alice", False),
        ("al", False),
        ("a" * 33, False),
    ],
)
async def test_a_username_is_accepted_exactly_when_the_schema_allows_it(
    app: FastAPI, anon_client: httpx.AsyncClient, username: str, accepted: bool
) -> None:
    rule = component(app, "RegistrationIn")["properties"]["username"]

    response = await anon_client.post(
        "/api/v1/users", json={"username": username, "password": "a long password"}
    )

    assert allows(rule, username) is accepted
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert refused_fields(response) == {"username"}


# -- changing a user: a patch must change something ---------------------------------------


def patch_allowed(schema: dict[str, Any], body: dict[str, Any]) -> bool:
    """The UserPatch schema's ``anyOf``: one of its fields present and not null."""
    return any(
        all(body.get(name) is not None for name in branch["required"]) for branch in schema["anyOf"]
    )


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({}, False),
        ({"role": None, "disabled": None}, False),
        ({"unknown": True}, False),
        ({"disabled": False}, True),
        ({"role": "manager", "disabled": None}, True),
    ],
)
async def test_a_user_patch_is_accepted_exactly_when_the_schema_allows_it(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    admin_csrf: str,
    body: dict[str, Any],
    accepted: bool,
) -> None:
    response = await app_client.patch(
        "/api/v1/users/pat", json=body, headers={"X-CSRF-Token": admin_csrf}
    )

    assert patch_allowed(component(app, "UserPatch"), body) is accepted
    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert refused_fields(response) == {"role"}


# -- entering with a GitHub username -------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "accepted"),
    [
        ("octocat", True),
        ("@OctoCat", True),
        (" octo-cat\t", True),
        ("o" * 39, True),
        ("o" * 40, False),
        ("-octocat", False),
        ("octo--cat", False),
        ("@", False),
        ("", False),
        ("octo cat", False),
    ],
)
async def test_a_github_username_is_looked_up_exactly_when_the_schema_allows_it(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    admin_csrf: str,
    github: GitHubStandIn,
    login: str,
    accepted: bool,
) -> None:
    github.add_user(login.strip().lstrip("@") or "nobody", 583231)
    draw_id = await create(
        app_client,
        admin_csrf,
        "/api/v1/draws",
        {"title": "Meetup", "prizes": [{"name": "Mug"}], "open": True},
    )
    rule = component(app, "EntryIn")["properties"]["github"]

    response = await anon_client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": login})

    assert allows(rule, login) is accepted
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert refused_fields(response) == {"github"}
        assert github.requests == []


# -- checking a raffle ticket --------------------------------------------------------------


async def test_a_ticket_code_is_read_exactly_when_the_schema_allows_it(
    app: FastAPI, app_client: httpx.AsyncClient, admin_csrf: str
) -> None:
    raffle_id = await create(
        app_client,
        admin_csrf,
        "/api/v1/raffles",
        {"title": "Raffle", "prizes": [{"name": "Mug"}], "ticket_count": 3, "open": True},
    )
    claimed = await app_client.post(
        f"/api/v1/draws/{raffle_id}/tickets", headers={"X-CSRF-Token": admin_csrf}
    )
    assert claimed.status_code == 201, claimed.text
    number, code = claimed.json()["number"], claimed.json()["code"]
    properties = component(app, "TicketCheckIn")["properties"]
    wrong = "A" * 26  # well formed, not this ticket's
    groups = code.split("-")
    cases = [
        (code, 200),
        (code.lower(), 200),
        (" - ".join(groups), 200),
        (code.replace("-", ""), 200),
        (wrong, 403),
        ("É", 422),
        (code[:-1], 422),  # 25 characters
        (code[:-1] + "B", 422),  # padding bits set
        (code + "-" * 80, 422),  # over 100 characters
    ]
    for text, status in cases:
        response = await app_client.post(
            f"/api/v1/draws/{raffle_id}/tickets/check", json={"number": number, "code": text}
        )
        assert response.status_code == status, (text, response.text)
        assert allows(properties["code"], text) is (status != 422), text
    assert not allows(properties["number"], 0)


# -- the dashboard's search ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accepted"),
    [
        ("al", True),
        ("  al ", True),
        ("a l", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("a\x01b", False),
        ("\x00", False),
    ],
)
async def test_a_search_is_run_exactly_when_the_schema_allows_it(
    app: FastAPI, app_client: httpx.AsyncClient, admin_csrf: str, query: str, accepted: bool
) -> None:
    draw_id = await create(
        app_client,
        admin_csrf,
        "/api/v1/draws",
        {"title": "Meetup", "prizes": [{"name": "Mug"}], "open": True},
    )
    (rule,) = [
        p["schema"]
        for p in app.openapi()["paths"]["/api/v1/draws/{draw_id}/entries"]["get"]["parameters"]
        if p["name"] == "q"
    ]

    response = await app_client.get(f"/api/v1/draws/{draw_id}/entries", params={"q": query})

    assert allows(rule, query) is accepted
    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert refused_fields(response) == {"q"}


async def test_a_search_needs_its_query(app_client: httpx.AsyncClient, admin_csrf: str) -> None:
    draw_id = await create(
        app_client,
        admin_csrf,
        "/api/v1/draws",
        {"title": "Meetup", "prizes": [{"name": "Mug"}], "open": True},
    )

    assert refused_fields(await app_client.get(f"/api/v1/draws/{draw_id}/entries")) == {"q"}


# -- a lottery's time zone ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "accepted"),
    [
        ("Europe/Berlin", True),
        (None, True),
        ("", True),
        (" ", True),
        ("Mars/Olympus_Mons", False),
        ("europe/berlin", False),
    ],
)
async def test_a_time_zone_is_accepted_exactly_when_the_schema_lists_it(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    admin_csrf: str,
    timezone: str | None,
    accepted: bool,
) -> None:
    rule = component(app, "LotteryIn")["properties"]["timezone"]
    start = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    body = {"name": "Daily", "prize": "Coffee", "start": start, "timezone": timezone}

    response = await app_client.post(
        "/api/v1/lotteries", json=body, headers={"X-CSRF-Token": admin_csrf}
    )

    assert allows(rule, timezone) is accepted
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert refused_fields(response) == {"timezone"}
