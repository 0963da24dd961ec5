"""User administration through the real app: listing, roles, disabling; who may do it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain.accounts import Role, User
from fairdraw.store.accounts import AccountStore
from fairdraw.store.keys import Keys
from tests.integration.test_registration import Browser, snapshot, text_of
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login

KEYS = Keys()
STAND_IN_HASH = "$argon2id$stand-in"  # these users never log in


@pytest_asyncio.fixture
async def admin(app_client: httpx.AsyncClient, redis: Redis, app: FastAPI) -> Browser:
    """The admin's browser, with a disabled user ``dora`` in the store beside the others."""
    store = AccountStore(redis, KEYS, app.state.services.secret)
    await store.create_user(User("dora", "Dora", Role.participant, 1, disabled=True), STAND_IN_HASH)
    browser = Browser(app_client)
    await browser.log_in(ADMIN)
    return browser


@pytest_asyncio.fixture
async def other(app: FastAPI) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Browser(client)


def rows(page: str) -> list[str]:
    return re.findall(r'<tr id="user-([^"]+)"', page)


async def add_users(app: FastAPI, redis: Redis, names: list[str]) -> None:
    store = AccountStore(redis, KEYS, app.state.services.secret)
    for n, name in enumerate(names):
        await store.create_user(User(name, name, Role.participant, 10 + n), STAND_IN_HASH)


# -- listing -----------------------------------------------------------------------------


async def test_the_users_page_searches_and_pages(
    admin: Browser, app: FastAPI, redis: Redis
) -> None:
    await add_users(app, redis, [f"user{n:03}" for n in range(55)] + ["alice"])
    first = await admin.client.get("/admin/users")
    assert first.status_code == 200
    assert 'href="/admin/users">Users<' in first.text  # the admin's menu link
    assert rows(first.text)[:4] == ["admin", "maria", "pat", "dora"]
    assert len(rows(first.text)) == 50
    assert 'href="/admin/users?offset=50"' in first.text
    assert 'action="/admin/users/maria/disable"' in first.text
    assert 'action="/admin/users/admin/disable"' not in first.text  # not for oneself
    second = await admin.client.get("/admin/users?offset=50")
    assert rows(second.text) == [f"user{n:03}" for n in range(46, 55)] + ["alice"]
    assert 'href="/admin/users"' in second.text  # back to the first page
    assert rows((await admin.client.get("/admin/users?q=ALI")).text) == ["alice"]
    nothing = await admin.client.get("/admin/users?q=zed")
    assert "No username starts with “zed”." in text_of(nothing.text)


async def test_the_users_page_shows_when_each_account_was_created(
    admin: Browser, app: FastAPI, redis: Redis
) -> None:
    store = AccountStore(redis, KEYS, app.state.services.secret)
    # 15 January 2030, 17:05:09 UTC.
    await store.create_user(User("erin", "Erin", Role.participant, 1894727109000), STAND_IN_HASH)
    page = await admin.client.get("/admin/users?q=erin")
    assert rows(page.text) == ["erin"]
    # As every time on a page: UTC here, the reader's own zone with JavaScript.
    stamp = '<time datetime="2030-01-15T17:05:09.000Z" data-local="minute">'
    assert f"{stamp}15 Jan 2030, 17:05 UTC</time>" in page.text


async def test_the_api_lists_users_with_paging_and_search(
    admin: Browser, app: FastAPI, redis: Redis
) -> None:
    await add_users(app, redis, [f"user{n:03}" for n in range(55)])
    first = (await admin.client.get("/api/v1/users?limit=2")).json()
    assert [u["username"] for u in first["users"]] == ["admin", "maria"]
    assert (first["offset"], first["limit"], first["next_offset"]) == (0, 2, 2)
    assert first["users"][0] == {
        "username": "admin",
        "display_name": "admin",
        "role": "admin",
        "disabled": False,
        "created_at": "1970-01-01T00:00:00.000Z",
    }
    found = (await admin.client.get("/api/v1/users?q=USER05&offset=2&limit=3")).json()
    assert [u["username"] for u in found["users"]] == ["user052", "user053", "user054"]
    assert found["next_offset"] is None
    bad = await admin.client.get("/api/v1/users?offset=-1&limit=101")
    assert bad.status_code == 422
    assert bad.json()["errors"] == {
        "offset": "The offset must not be negative.",
        "limit": "The limit must be between 1 and 100.",
    }


# -- roles and disabling -------------------------------------------------------------------


async def test_an_admin_sets_a_role_that_applies_at_once(
    admin: Browser, other: Browser, redis: Redis
) -> None:
    await login(other.client, PARTICIPANT)
    response = await admin.post("/admin/users/PAT/role", {"role": "manager"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users?updated=pat"
    page = await admin.client.get(response.headers["location"])
    assert "Saved: pat is a manager, enabled." in page.text
    assert await redis.hget(KEYS.user("pat"), "role") == "manager"
    assert (await other.client.get("/api/v1/session")).json()["role"] == "manager"

    patched = await admin.client.patch(
        "/api/v1/users/pat", json={"role": "admin"}, headers={"X-CSRF-Token": await csrf(admin)}
    )
    assert patched.status_code == 200
    assert (patched.json()["role"], patched.json()["disabled"]) == ("admin", False)


async def csrf(browser: Browser) -> str:
    token: str = (await browser.client.get("/api/v1/session")).json()["csrf_token"]
    return token


async def test_disabling_ends_sessions_and_enabling_does_not_revive_them(
    admin: Browser, other: Browser, anon_client: httpx.AsyncClient
) -> None:
    await other.log_in(PARTICIPANT)
    await login(anon_client, PARTICIPANT)  # a second session, unused while pat is disabled
    assert (await admin.post("/admin/users/pat/disable", {"confirm": "yes"})).status_code == 303
    assert (await other.client.get("/api/v1/session")).status_code == 401
    credentials = {"username": PARTICIPANT[0], "password": PARTICIPANT[1]}
    refused = await other.client.post("/api/v1/session", json=credentials)
    # The right password learns that the account is disabled, and nothing more.
    assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")
    wrong = await other.client.post(
        "/api/v1/session", json={**credentials, "password": "not the password"}
    )
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")

    enabled = await admin.post("/admin/users/pat/enable", {})

    assert enabled.status_code == 303
    page = await admin.client.get(enabled.headers["location"])
    assert "Saved: pat is a participant, enabled." in page.text
    assert (await anon_client.get("/api/v1/session")).status_code == 401
    await login(other.client, PARTICIPANT)


async def test_an_admin_cannot_disable_themselves(admin: Browser, redis: Redis) -> None:
    before = await snapshot(redis)
    page = await admin.post("/admin/users/admin/disable", {})
    api = await admin.client.patch(
        "/api/v1/users/admin", json={"disabled": True}, headers={"X-CSRF-Token": await csrf(admin)}
    )
    assert page.status_code == 409
    assert "You cannot disable your own account; ask another administrator" in page.text
    assert (api.status_code, api.json()["code"]) == (409, "cannot_disable_self")
    assert await snapshot(redis) == before


async def test_an_admin_cannot_demote_themselves(
    admin: Browser, other: Browser, redis: Redis
) -> None:
    before = await snapshot(redis)
    page = await admin.post("/admin/users/admin/role", {"role": "manager", "confirm": "yes"})
    unconfirmed = await admin.post("/admin/users/admin/role", {"role": "participant"})
    token = await csrf(admin)
    api = await admin.client.patch(
        "/api/v1/users/admin", json={"role": "participant"}, headers={"X-CSRF-Token": token}
    )
    for refused in (page, unconfirmed):
        assert refused.status_code == 409
        assert "You cannot change your own role; ask another administrator" in refused.text
    assert (api.status_code, api.json()["code"]) == (409, "cannot_demote_self")
    assert await snapshot(redis) == before
    # Their own row offers no role form to begin with.
    listing = (await admin.client.get("/admin/users")).text
    assert 'action="/admin/users/admin/role"' not in listing
    assert 'action="/admin/users/maria/role"' in listing

    promoted = await admin.client.patch(
        "/api/v1/users/maria", json={"role": "admin"}, headers={"X-CSRF-Token": token}
    )
    assert promoted.status_code == 200
    # Another administrator may demote them.
    demoted = await other.client.patch(
        "/api/v1/users/admin",
        json={"role": "manager"},
        headers={"X-CSRF-Token": await login(other.client, MANAGER)},
    )
    assert demoted.status_code == 200
    assert (await admin.client.get("/admin/users")).status_code == 403


async def test_disabling_and_demoting_ask_first(admin: Browser, redis: Redis) -> None:
    before = await snapshot(redis)
    asked = await admin.post("/admin/users/maria/disable", {"q": "ma", "offset": "0"})
    assert asked.status_code == 200
    words = text_of(asked.text)
    assert "Disable maria? Their sessions and API tokens end at once" in words
    assert 'action="/admin/users/maria/disable"' in asked.text
    assert '<input type="hidden" name="confirm" value="yes">' in asked.text
    assert 'href="/admin/users?q=ma">Cancel<' in asked.text
    demote = await admin.post("/admin/users/maria/role", {"role": "participant"})
    assert demote.status_code == 200
    assert "Change the role of maria from manager to participant?" in text_of(demote.text)
    assert '<input type="hidden" name="role" value="participant">' in demote.text
    assert await snapshot(redis) == before  # nothing changed before the confirmation

    # Giving more rights, and enabling, are not destructive: they need no second step.
    assert (await admin.post("/admin/users/pat/role", {"role": "manager"})).status_code == 303
    assert (await admin.post("/admin/users/dora/enable", {})).status_code == 303

    confirmed = await admin.post("/admin/users/maria/disable", {"confirm": "yes"})
    assert confirmed.status_code == 303
    assert await redis.hget(KEYS.user("maria"), "disabled") == "1"


async def test_unknown_users_and_roles_are_refused(admin: Browser, redis: Redis) -> None:
    before = await snapshot(redis)
    token = await csrf(admin)
    missing = await admin.client.patch(
        "/api/v1/users/nobody", json={"disabled": True}, headers={"X-CSRF-Token": token}
    )
    bad_role = await admin.client.patch(
        "/api/v1/users/pat", json={"role": "owner"}, headers={"X-CSRF-Token": token}
    )
    empty = await admin.client.patch("/api/v1/users/pat", json={}, headers={"X-CSRF-Token": token})
    page_missing = await admin.post("/admin/users/nobody/disable", {})
    page_role = await admin.post("/admin/users/pat/role", {"role": "owner"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (bad_role.status_code, empty.status_code) == (422, 422)
    assert empty.json()["errors"] == {"role": "Give a new role, a disabled flag, or both."}
    assert page_missing.status_code == 404
    assert page_role.status_code == 422
    assert "Choose participant, manager or admin." in page_role.text
    assert await snapshot(redis) == before


# -- who may --------------------------------------------------------------------------------

FORMS = [
    ("/admin/users/pat/role", {"role": "admin"}),
    ("/admin/users/maria/disable", {}),
    ("/admin/users/dora/enable", {}),
]
PATCHES = [("/api/v1/users/pat", {"role": "admin"}), ("/api/v1/users/dora", {"disabled": False})]


@pytest.mark.parametrize("who", [None, PARTICIPANT, MANAGER])
async def test_only_admins_manage_users(
    admin: Browser, other: Browser, redis: Redis, who: tuple[str, str] | None
) -> None:
    header = {}
    if who is not None:
        header = {"X-CSRF-Token": await login(other.client, who)}
    refused = 403 if who is not None else 401
    before = await snapshot(redis)

    page = await other.client.get("/admin/users")
    if who is None:
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=/admin/users")
    else:
        assert page.status_code == 403
    for path, form in FORMS:
        assert (await other.post(path, form)).status_code == refused, path
    listed = await other.client.get("/api/v1/users")
    assert listed.status_code == refused
    for path, body in PATCHES:
        response = await other.client.patch(path, json=body, headers=header)
        assert response.status_code == refused, path
        assert response.json()["code"] == ("forbidden" if who else "not_authenticated")
    assert await snapshot(redis) == before


async def test_management_forms_and_calls_need_their_csrf_token(
    admin: Browser, other: Browser, redis: Redis
) -> None:
    before = await snapshot(redis)
    foreign = await other.csrf()
    for path, form in FORMS:
        assert (await admin.client.post(path, data=form)).status_code == 403, path
        assert (await admin.post(path, form, csrf=foreign)).status_code == 403, path
    for path, body in PATCHES:
        response = await admin.client.patch(path, json=body)
        assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert await snapshot(redis) == before
