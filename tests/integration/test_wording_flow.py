"""What the pages say and where they lead: closed draws, deadlines, refusals that are not
the visitor's fault, one-time confirmations, returning to where one started."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from fairdraw.config import Settings
from fairdraw.domain.moments import now_ms
from fairdraw.web.app import create_app
from fairdraw.web.flash import FLASH_COOKIE
from tests.support.app import ADMIN, PARTICIPANT, create_accounts, make_settings
from tests.support.forms import FormBrowser, text_of
from tests.support.github_server import GitHubStandIn

PRIZES = {"prizes.0.name": "Keyboard"}


@pytest_asyncio.fixture
async def admin(app_client: httpx.AsyncClient) -> FormBrowser:
    browser = FormBrowser(app_client)
    await browser.log_in(ADMIN)
    return browser


@pytest.fixture
def visitor(anon_client: httpx.AsyncClient) -> FormBrowser:
    return FormBrowser(anon_client)


async def create_draw(admin: FormBrowser, title: str = "Meetup giveaway", **fields: str) -> str:
    response = await admin.post("/draws/new", {"title": title, "open": "yes", **PRIZES, **fields})
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


async def buttons(admin: FormBrowser, draw_id: str) -> list[str]:
    page = (await admin.client.get(f"/draws/{draw_id}")).text
    return re.findall(rf'action="/draws/{draw_id}/(open|close|draw|cancel)"', page)


def facts(page: str) -> str:
    """The "About this draw" box as words."""
    match = re.search(r'<dl class="fd-facts">(.*?)</dl>', page, re.S)
    assert match
    return text_of(match[1])


# -- 1, 2: closed draws and deadlines ----------------------------------------------------------


async def test_a_closed_draw_says_its_entries_closed_and_when(admin: FormBrowser) -> None:
    draw_id = await create_draw(admin)
    open_page = (await admin.client.get(f"/draws/{draw_id}")).text
    assert "Entries close When the organiser closes them" in facts(open_page)

    await admin.post(f"/draws/{draw_id}/close")
    state = (await admin.client.get(f"/api/v1/draws/{draw_id}")).json()
    closed_page = (await admin.client.get(f"/draws/{draw_id}")).text
    assert "When the organiser closes them" not in closed_page
    assert "Entries closed " in facts(closed_page)
    closed = re.search(r'<dd class="fd-entries-closed">\s*<time datetime="([^"]+)"', closed_page)
    assert closed
    assert closed[1] == state["closed_at"]

    await admin.post(f"/draws/{draw_id}/draw")
    drawn_page = (await admin.client.get(f"/draws/{draw_id}")).text
    assert "Entries closed " in facts(drawn_page)
    assert "When the organiser closes them" not in drawn_page


async def test_past_its_deadline_a_draw_offers_drawing_not_closing(admin: FormBrowser) -> None:
    # The app's scheduler is off: the draw is still "open" in the store past its deadline.
    due = now_ms() + 1500
    deadline = datetime.fromtimestamp(due / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    token = (await admin.client.get("/api/v1/session")).json()["csrf_token"]
    created = await admin.client.post(
        "/api/v1/draws",
        json={
            "title": "Deadline",
            "prizes": [{"name": "Mug", "quantity": 1}],
            "open": True,
            "deadline": deadline[:-3] + "Z",
        },
        headers={"X-CSRF-Token": token},
    )
    assert created.status_code == 201, created.text
    draw_id = created.json()["id"]
    assert await buttons(admin, draw_id) == ["close", "cancel"]

    await asyncio.sleep(max(0.0, (due - now_ms()) / 1000) + 0.1)
    assert (await admin.client.get(f"/api/v1/draws/{draw_id}")).json()["status"] == "open"
    assert await buttons(admin, draw_id) == ["draw", "cancel"]
    page = (await admin.client.get(f"/draws/{draw_id}")).text
    assert "Close entries" not in text_of(page)
    assert "Entries closed " in facts(page)
    assert re.search(r'<dd class="fd-entries-closed">\s*<time datetime="[^"]+"', page)


# -- 3: numbering ----------------------------------------------------------------------------


async def test_a_receipt_counts_from_one_and_explains_the_files_index(
    admin: FormBrowser, visitor: FormBrowser, github: GitHubStandIn
) -> None:
    draw_id = await create_draw(admin)
    github.add_user("octocat", 1)
    github.add_user("hubot", 2)
    await visitor.post(f"/draws/{draw_id}/enter", {"github": "octocat"})
    second = await visitor.post(f"/draws/{draw_id}/enter", {"github": "hubot"})
    words = text_of((await visitor.client.get(second.headers["location"])).text)
    assert "Entry number 2 Public reference" in words
    assert (
        "Keep this receipt. After the draw, check it in the published entries file: its lines "
        "are numbered from 0, so entry number 2 is the line that starts with 1, and it holds "
        "your public reference."
    ) in words
    assert "Entry index" not in words


# -- 5, 6: login refusals ----------------------------------------------------------------------


async def test_a_disabled_account_is_told_so_only_with_its_password(
    admin: FormBrowser, visitor: FormBrowser
) -> None:
    token = (await admin.client.get("/api/v1/session")).json()["csrf_token"]
    disabled = await admin.client.patch(
        "/api/v1/users/pat", json={"disabled": True}, headers={"X-CSRF-Token": token}
    )
    assert disabled.status_code == 200
    wrong = await visitor.post("/login", {"username": "pat", "password": "not it at all"})
    assert wrong.status_code == 401
    assert 'id="login-error">Wrong username or password</div>' in wrong.text
    right = await visitor.post("/login", {"username": "pat", "password": PARTICIPANT[1]})
    assert right.status_code == 403
    assert (
        'id="login-error">This account is disabled; ask an administrator to enable it again</div>'
    ) in right.text
    assert "Wrong username or password" not in right.text
    assert visitor.client.cookies.get("fairdraw_session") is None


class TestLoginRateLimit:
    @pytest.fixture
    def app_settings(self, store_url: str, github: GitHubStandIn) -> Settings:
        return make_settings(store_url, github.url, rate_limit_login_user="2/minute")

    async def test_the_limit_shows_the_form_again_with_when_to_retry(
        self, visitor: FormBrowser
    ) -> None:
        for _ in range(2):
            tried = await visitor.post("/login", {"username": "pat", "password": "guess guess"})
            assert tried.status_code == 401
        limited = await visitor.post(
            "/login", {"username": "pat", "password": PARTICIPANT[1], "next": "/lotteries"}
        )
        assert limited.status_code == 429
        retry_after = int(limited.headers["retry-after"])
        assert 0 < retry_after <= 60
        assert '<form method="post" action="/login"' in limited.text
        assert '<input type="hidden" name="next" value="/lotteries">' in limited.text
        assert re.search(r'name="username"[^>]*value="pat"', limited.text)
        message = re.search(r'id="login-error">([^<]*)</div>', limited.text)
        assert message
        assert message[1] == (
            f"Too many login attempts for now. You can try again in {retry_after} seconds."
        )
        assert "Error 429" not in limited.text


# -- 7: a form's target opened as a page -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/check-entry/complaint", "/check-entry"),
        ("/draws/abcdefghijkl/enter", "/draws/abcdefghijkl"),
        ("/logout", "/"),
    ],
)
async def test_a_form_target_opened_as_a_page_says_where_to_go(
    visitor: FormBrowser, path: str, page: str
) -> None:
    response = await visitor.client.get(path)
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    words = text_of(response.text)
    assert (
        "This address is not a page It is where a form is sent (checking a receipt, entering, "
        "a button of a draw), so it shows nothing when opened directly. Go to the page that "
        "form is on."
    ) in words
    assert words.count("This address is not a page") == 2  # the <title>, then the heading
    assert "Method not allowed" not in words
    assert f'class="button is-primary fd-page-link" href="{page}">Go to that page<' in (
        response.text
    )


async def test_the_api_keeps_its_405_problem(visitor: FormBrowser) -> None:
    answer = await visitor.client.put("/api/v1/session")
    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"


# -- 8, 9: returning to where one started, and saying what happened -----------------------------


def flash_of(page: str) -> str | None:
    match = re.search(
        r'class="notification is-success is-light fd-flash" role="status">([^<]*)<', page
    )
    return match[1] if match else None


async def test_registration_from_a_lottery_returns_to_it(visitor: FormBrowser) -> None:
    login_page = (await visitor.client.get("/login?next=/lotteries/abc")).text
    assert 'href="/register?next=/lotteries/abc">Create one</a>' in login_page
    form = (await visitor.client.get("/register?next=/lotteries/abc")).text
    assert '<input type="hidden" name="next" value="/lotteries/abc">' in form
    assert 'href="/login?next=/lotteries/abc">Log in</a>' in form
    password = "the password of newcomer"
    created = await visitor.post(
        "/register",
        {
            "username": "Newcomer",
            "password": password,
            "password_confirm": password,
            "next": "/lotteries/abc",
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/lotteries/abc"
    shown = await visitor.client.get("/")
    assert flash_of(shown.text) == "Account created. You are signed in as Newcomer."


async def test_registration_never_returns_off_site(visitor: FormBrowser) -> None:
    form = (await visitor.client.get("/register?next=//evil.example/")).text
    assert '<input type="hidden" name="next" value="">' in form
    password = "the password of wanderer"
    created = await visitor.post(
        "/register",
        {
            "username": "wanderer",
            "password": password,
            "password_confirm": password,
            "next": "//evil.example/",
        },
    )
    assert created.headers["location"] == "/"


async def test_login_and_logout_are_confirmed_once(visitor: FormBrowser) -> None:
    signed_in = await visitor.post(
        "/login", {"username": "pat", "password": PARTICIPANT[1], "next": "/lotteries"}
    )
    assert signed_in.headers["location"] == "/lotteries"
    first = await visitor.client.get("/lotteries")
    assert flash_of(first.text) == "Signed in as pat."
    assert flash_of((await visitor.client.get("/lotteries")).text) is None  # once only

    signed_out = await visitor.post("/logout", csrf=await visitor.csrf("/"))
    assert signed_out.status_code == 303
    assert flash_of((await visitor.client.get("/")).text) == "Signed out."
    assert flash_of((await visitor.client.get("/")).text) is None


async def test_a_forged_confirmation_is_not_shown(visitor: FormBrowser) -> None:
    visitor.client.cookies.set(FLASH_COOKIE, "c2lnbmVkX2luCm1hbGxvcnk.forged")
    page = await visitor.client.get("/")
    assert flash_of(page.text) is None
    assert "mallory" not in page.text


# -- 10: recent results ----------------------------------------------------------------------


async def test_recent_results_are_newest_drawn_first(admin: FormBrowser) -> None:
    first = await create_draw(admin, "Made first, drawn last")
    second = await create_draw(admin, "Made second, drawn first")
    for draw_id in (second, first):
        await admin.post(f"/draws/{draw_id}/close")
        await admin.post(f"/draws/{draw_id}/draw")
        await asyncio.sleep(0.01)
    home = (await admin.client.get("/")).text
    results = home[home.index('id="results-heading"') :]
    listed = re.findall(r'href="/draws/([a-z2-7]{12})/results"', results)
    assert listed == [first, second]


# -- 13: avatars that cannot load ---------------------------------------------------------------


async def test_winner_avatars_carry_their_initials_and_no_alt_text(
    admin: FormBrowser, visitor: FormBrowser, github: GitHubStandIn
) -> None:
    draw_id = await create_draw(admin)
    github.add_user("octocat", 583231, "Morgan (manager)")
    await visitor.post(f"/draws/{draw_id}/enter", {"github": "octocat"})
    await admin.post(f"/draws/{draw_id}/close")
    await admin.post(f"/draws/{draw_id}/draw")
    page = (await visitor.client.get(f"/draws/{draw_id}/results")).text
    assert re.search(
        r'<img class="fd-avatar" src="https://[^"]+" alt="" [^>]*data-initials="MM">', page
    )
    assert "GitHub avatar of" not in page


# -- 17: the first administrator ------------------------------------------------------------------


@pytest_asyncio.fixture
async def bare_app(app_settings: Settings, redis: Any) -> AsyncIterator[FastAPI]:
    """The app on a flushed store with no accounts at all: a fresh instance."""
    application = create_app(app_settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_fresh_instance_says_how_to_create_its_administrator(bare_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=bare_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = (await client.get("/")).text
        words = text_of(page)
        assert "This fairdraw has no administrator yet" in words
        command = re.search(r'<pre class="fd-command"><code>([^<]*)</code></pre>', page)
        assert command
        assert command[1].endswith(
            " admin create USERNAME  (with this server&#39;s FAIRDRAW_REDIS_URL and "
            "FAIRDRAW_SECRET_KEY)"
        )
        assert command[1].split(" admin create")[0] in {".venv/bin/fairdraw", "fairdraw"}

        await create_accounts(bare_app.state.services.settings)
        assert "no administrator yet" not in (await client.get("/")).text
