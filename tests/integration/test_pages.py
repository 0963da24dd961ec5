"""The server-rendered pages through the real app: real store, GitHub stand-in on loopback."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.web import security
from fairdraw.web.pages.views import initials
from tests.support.app import ADMIN, MANAGER, PARTICIPANT
from tests.support.forms import CSRF_FIELD, FormBrowser, field_error, input_value, text_of
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = {"prizes.0.name": "Keyboard", "prizes.1.name": "Sticker", "prizes.1.quantity": "2"}
_DRAW_URL = re.compile(r"^/draws/([a-z2-7]{12})$")


class Visitor(FormBrowser):
    """A browser that also creates draws through the form."""

    async def create_draw(
        self, open_now: bool = True, prizes: Mapping[str, str] | None = None, **fields: str
    ) -> str:
        """Create a draw through the form (a keyboard and two stickers unless ``prizes``)."""
        form = {"title": "Meetup giveaway", **(PRIZES if prizes is None else prizes), **fields}
        if open_now:
            form["open"] = "yes"
        response = await self.post("/draws/new", form)
        assert response.status_code == 303, response.text
        match = _DRAW_URL.match(response.headers["location"])
        assert match, response.headers["location"]
        return match[1]


@pytest_asyncio.fixture
async def admin(app_client: httpx.AsyncClient) -> Visitor:
    visitor = Visitor(app_client)
    await visitor.log_in(ADMIN)
    return visitor


@pytest.fixture
def entrant(anon_client: httpx.AsyncClient) -> Visitor:
    return Visitor(anon_client)


@pytest_asyncio.fixture
async def third(app: FastAPI) -> AsyncIterator[Visitor]:
    """Yet another browser, for tokens and sessions that belong to someone else."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Visitor(client)


async def draw_state(admin: Visitor, draw_id: str) -> dict[str, object]:
    data: dict[str, object] = (await admin.client.get(f"/api/v1/draws/{draw_id}")).json()
    return data


async def no_draw_stored(redis: Redis) -> bool:
    return not await redis.keys(KEYS.prefix + "{d:*") and not await redis.exists(KEYS.draws_index())


# -- home, login, logout --------------------------------------------------------------------


async def test_home_empty_state_for_a_first_visitor(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/")
    assert response.status_code == 200
    assert "No draws yet — log in to create one." in text_of(response.text)
    assert 'href="/login"' in response.text
    assert "New draw" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert security.CSRF_COOKIE in response.cookies


async def test_home_lists_open_draws_and_results(
    admin: Visitor, entrant: Visitor, github: GitHubStandIn
) -> None:
    open_id = await admin.create_draw(title="Spring giveaway", duration="2h")
    done_id = await admin.create_draw(title="Winter giveaway")
    github.add_user("octocat", 1, "The Octocat")
    assert (await entrant.post(f"/draws/{open_id}/enter", {"github": "octocat"})).status_code == 303
    for action in ("close", "draw"):
        assert (await admin.post(f"/draws/{done_id}/{action}")).status_code == 303
    draft_id = await admin.create_draw(open_now=False, title="Draft giveaway")

    page = await entrant.client.get("/")
    words = text_of(page.text)
    assert f'href="/draws/{open_id}"' in page.text
    assert "Spring giveaway Open for entries 1 entry so far Closes" in words
    assert f'href="/draws/{done_id}/results"' in page.text
    assert "Winter giveaway 0 winners Drawn" in words
    assert "Draft giveaway" not in words  # drafts concern only the organisers
    assert "New draw" not in words
    managed = text_of((await admin.client.get("/")).text)
    assert "New draw" in managed
    assert "Draft giveaway Draft — not open yet" in managed
    assert f'href="/draws/{draft_id}"' in (await admin.client.get("/")).text


async def test_login_goes_to_a_local_next_and_shows_the_user(entrant: Visitor) -> None:
    csrf = await entrant.csrf("/login?next=/draws/new")
    response = await entrant.post(
        "/login",
        {"username": "MARIA", "password": MANAGER[1], "next": "/draws/new"},
        csrf=csrf,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/draws/new"
    assert "httponly" in response.headers["set-cookie"].lower()
    home = await entrant.client.get("/")
    assert "Log out" in home.text
    assert "maria" in home.text.lower()


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil"])
async def test_login_never_redirects_off_site(entrant: Visitor, next_path: str) -> None:
    response = await entrant.post(
        "/login", {"username": ADMIN[0], "password": ADMIN[1], "next": next_path}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("credentials", [("nobody", "whatever password"), (ADMIN[0], "wrong pw!")])
async def test_login_failure_is_one_generic_message(
    entrant: Visitor, credentials: tuple[str, str]
) -> None:
    response = await entrant.post(
        "/login", {"username": credentials[0], "password": credentials[1]}
    )
    assert response.status_code == 401
    assert security.SESSION_COOKIE not in response.cookies
    assert re.search(r'role="alert"[^>]*>Wrong username or password<', response.text)
    assert input_value(response.text, "username") == credentials[0]
    assert credentials[1] not in response.text


async def test_logout_ends_the_session_server_side(app: FastAPI, admin: Visitor) -> None:
    old_cookie = admin.client.cookies[security.SESSION_COOKIE]
    response = await admin.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "Log out" not in (await admin.client.get("/")).text
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        cookies={security.SESSION_COOKIE: old_cookie},
    ) as replay:
        page = await replay.get("/")
        assert "Log out" not in page.text
        assert (await replay.get("/draws/new")).status_code == 303


# -- creating a draw --------------------------------------------------------------------------


async def test_new_draw_form_is_for_managers(
    entrant: Visitor, third: Visitor, app_client: httpx.AsyncClient
) -> None:
    anonymous = await entrant.client.get("/draws/new")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/draws/new"
    await third.log_in(PARTICIPANT)
    refused = await third.client.get("/draws/new")
    assert refused.status_code == 403
    assert "Only managers and administrators can do that" in refused.text
    manager = Visitor(app_client)
    await manager.log_in(MANAGER)
    form = await manager.client.get("/draws/new")
    assert form.status_code == 200
    for i in range(5):
        assert f'id="prizes.{i}.name"' in form.text
    assert 'type="datetime-local"' in form.text
    # The deadline's zone: UTC until the browser's script chooses the browser's own.
    assert '<option value="UTC" selected>UTC (UTC+00:00)</option>' in form.text
    assert re.search(
        r'<input type="checkbox" id="open" name="open" value="yes" checked>', form.text
    )


async def test_invalid_draw_shows_errors_by_the_fields_and_stores_nothing(
    admin: Visitor, redis: Redis
) -> None:
    form = {
        "title": "  ",
        "description": "Bring your badge",
        "prizes.0.name": "",
        "prizes.0.quantity": "",
        "prizes.1.name": "Mug",
        "prizes.2.name": "",
        "prizes.2.quantity": "3",
        "prizes.3.name": "mug",
        "duration": "soon",
        "open": "yes",
    }
    response = await admin.post("/draws/new", form)
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "title") == "Give the draw a title"
    assert field_error(page, "prizes.2.name") == "Give the prize a name"
    assert field_error(page, "prizes.3.name") == "Prize names must be unique"
    assert field_error(page, "duration") == "Use a duration such as 30m, 2h, 1h30m or 1d"
    assert 'id="prizes.1.name-error"' not in page
    assert 'role="alert"' in page
    assert input_value(page, "prizes.1.name") == "Mug"
    assert input_value(page, "prizes.2.quantity") == "3"
    assert input_value(page, "duration") == "soon"
    assert ">Bring your badge</textarea>" in page
    assert await no_draw_stored(redis)

    empty = await admin.post("/draws/new", {"title": "Prizeless", "deadline": "2001-01-01T10:00"})
    assert empty.status_code == 422
    assert field_error(empty.text, "prizes") == "Add at least one prize"
    assert field_error(empty.text, "deadline") == "The deadline must be in the future"
    assert 'id="open" name="open" value="yes">' in empty.text  # unticked stays unticked
    both = await admin.post(
        "/draws/new",
        {"title": "T", "prizes.0.name": "P", "deadline": "2099-01-01T10:00", "duration": "1h"},
    )
    assert field_error(both.text, "deadline") == "Give a deadline or a duration, not both"
    assert await no_draw_stored(redis)


async def test_creating_a_draw_goes_to_its_page(admin: Visitor, entrant: Visitor) -> None:
    draw_id = await admin.create_draw(
        title="Conference raffle",
        description="For attendees.\r\n\r\nBring your badge.",
        prizes={"prizes.0.name": "Laptop", "prizes.4.name": "Book", "prizes.4.quantity": "3"},
        deadline="2099-12-24T18:00",
    )
    state = await draw_state(admin, draw_id)
    assert state["status"] == "open"
    assert state["prizes"] == [{"name": "Laptop", "quantity": 1}, {"name": "Book", "quantity": 3}]
    assert state["deadline"] == "2099-12-24T18:00:00.000Z"
    page = await entrant.client.get(f"/draws/{draw_id}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Conference raffle" in words
    assert "<p>For attendees.</p><p>Bring your badge.</p>" in page.text
    assert "Laptop" in words
    assert "Book \u00d7 3" in words
    assert "Open for entries" in words
    assert "Entries so far 0" in words
    assert (
        '<time datetime="2099-12-24T18:00:00.000Z" data-local="minute">'
        "24 Dec 2099, 18:00 UTC</time>"
    ) in page.text
    assert str(state["commitment"]) in page.text
    assert "SHA-256 fingerprint of a secret random seed" in words
    assert "Your GitHub username" in words
    assert f'action="/draws/{draw_id}/close"' not in page.text  # no buttons for entrants

    draft_id = await admin.create_draw(open_now=False, title="Later")
    assert (await draw_state(admin, draft_id))["status"] == "draft"
    draft = await admin.client.get(f"/draws/{draft_id}")
    assert f'action="/draws/{draft_id}/open"' in draft.text
    assert "not open for entries yet" in draft.text
    assert "Your GitHub username" not in draft.text


# -- CSRF and who may do what -----------------------------------------------------------------


async def test_every_form_refuses_a_missing_or_foreign_csrf_token(
    app: FastAPI,
    admin: Visitor,
    entrant: Visitor,
    third: Visitor,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    draw_id = await admin.create_draw()
    draft_id = await admin.create_draw(open_now=False)
    github.add_user("octocat", 1)
    await entrant.csrf()  # the entrant's browser has its own anonymous CSRF cookie
    await third.log_in(ADMIN)  # another browser with a valid admin session
    foreign_tokens = [await third.csrf()]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        foreign_tokens.append(await Visitor(other).csrf())  # another anonymous browser
    before = await redis.dbsize()
    states = [await draw_state(admin, draw_id), await draw_state(admin, draft_id)]
    forms: list[tuple[Visitor, str, dict[str, str]]] = [
        (admin, "/draws/new", {"title": "Sneaky", **PRIZES, "open": "yes"}),
        (admin, f"/draws/{draft_id}/open", {}),
        (admin, f"/draws/{draw_id}/close", {}),
        (admin, f"/draws/{draw_id}/cancel", {}),
        (admin, f"/draws/{draw_id}/draw", {}),
        (admin, "/logout", {}),
        (entrant, f"/draws/{draw_id}/enter", {"github": "octocat"}),
        (entrant, "/login", {"username": ADMIN[0], "password": ADMIN[1]}),
    ]
    for visitor, path, data in forms:
        for token in ("", *foreign_tokens):
            response = await visitor.client.post(path, data={"csrf_token": token, **data})
            assert response.status_code == 403, (path, token, response.text)
            assert "The form expired or came from another site" in response.text
            assert security.SESSION_COOKIE not in response.cookies
    assert [await draw_state(admin, draw_id), await draw_state(admin, draft_id)] == states
    assert await redis.dbsize() == before
    assert "Log out" in (await admin.client.get("/")).text
    assert "Log out" not in (await entrant.client.get("/")).text


@pytest.mark.parametrize("action", ["open", "close", "draw", "cancel"])
async def test_only_managers_run_the_lifecycle(
    admin: Visitor, entrant: Visitor, third: Visitor, action: str
) -> None:
    draw_id = await admin.create_draw(open_now=action == "open")
    if action == "draw":
        await admin.post(f"/draws/{draw_id}/close")
    before = await draw_state(admin, draw_id)
    anonymous = await entrant.post(f"/draws/{draw_id}/{action}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/draws/{draw_id}"
    await third.log_in(PARTICIPANT)
    participant = await third.post(f"/draws/{draw_id}/{action}")
    assert participant.status_code == 403
    assert "Only managers and administrators can do that" in participant.text
    assert await draw_state(admin, draw_id) == before
    page = await third.client.get(f"/draws/{draw_id}")
    assert f'action="/draws/{draw_id}/{action}"' not in page.text


async def test_a_manager_runs_only_their_own_draws(admin: Visitor, third: Visitor) -> None:
    draw_id = await admin.create_draw()
    await third.log_in(MANAGER)
    refused = await third.post(f"/draws/{draw_id}/close")
    assert refused.status_code == 403
    assert "Only this draw's managers and administrators can do that" in text_of(refused.text)
    assert (await draw_state(admin, draw_id))["status"] == "open"


async def test_lifecycle_buttons_follow_the_draw(admin: Visitor) -> None:
    draw_id = await admin.create_draw(open_now=False)

    async def buttons() -> list[str]:
        page = (await admin.client.get(f"/draws/{draw_id}")).text
        return re.findall(rf'action="/draws/{draw_id}/(open|close|draw|cancel)"', page)

    assert await buttons() == ["open", "cancel"]
    assert (await admin.post(f"/draws/{draw_id}/open")).headers["location"] == f"/draws/{draw_id}"
    assert await buttons() == ["close", "cancel"]
    await admin.post(f"/draws/{draw_id}/close")
    assert await buttons() == ["draw", "cancel"]
    drawn = await admin.post(f"/draws/{draw_id}/draw")
    assert drawn.headers["location"] == f"/draws/{draw_id}/results"
    assert await buttons() == []
    again = await admin.post(f"/draws/{draw_id}/open")
    assert again.status_code == 409
    assert "The draw is not in a state that allows this" in again.text
    page = (await admin.client.get(f"/draws/{draw_id}")).text
    assert f'href="/draws/{draw_id}/results"' in page
    assert "See the winners" in page


# -- entering -----------------------------------------------------------------------------------


async def test_entering_gives_a_receipt_and_a_duplicate_is_only_refused(
    admin: Visitor, entrant: Visitor, github: GitHubStandIn
) -> None:
    draw_id = await admin.create_draw()
    github.add_user("OctoCat", 583231, "The Octocat")
    entered = await entrant.post(f"/draws/{draw_id}/enter", {"github": "@octocat"})
    assert entered.status_code == 303
    location = entered.headers["location"]
    assert re.fullmatch(rf"/draws/{draw_id}/receipt\?i=0&s=[0-9a-f]{{32}}", location)
    first = await entrant.client.get(location)
    assert first.status_code == 200
    words = text_of(first.text)
    ref = re.search(r'<dd class="fd-mono">([0-9a-f]{64})</dd>', first.text)
    assert ref
    assert "You\u2019re in!" in words
    assert f"Entry number 1 Public reference {ref[1]} Entered" in words
    assert (
        "Keep this receipt. After the draw, check it in the published entries file: its "
        "lines are numbered from 0, so entry number 1 is the line that starts with 0"
    ) in words
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z"', first.text)
    # Reloading the receipt shows it again and enters nothing.
    assert (await entrant.client.get(location)).text == first.text
    # A forged or altered link shows nothing: the receipt names the entrant.
    assert (await entrant.client.get(location[:-1] + "x")).status_code == 404
    assert (await entrant.client.get(location.replace("i=0", "i=1"))).status_code == 404
    # Typing the username again (anyone can) says it entered, and nothing of the entry.
    second = await entrant.post(f"/draws/{draw_id}/enter", {"github": "OCTOCAT"})
    assert second.status_code == 409
    assert field_error(second.text, "github") == (
        "This GitHub account has already entered this draw"
    )
    assert input_value(second.text, "github") == "OCTOCAT"
    assert ref[1] not in second.text
    assert "/receipt" not in second.text
    assert "Entry number" not in text_of(second.text)
    assert (await draw_state(admin, draw_id))["entry_count"] == 1
    assert "Entries so far 1" in text_of((await entrant.client.get(f"/draws/{draw_id}")).text)


@pytest.mark.parametrize(
    ("handle", "status", "message"),
    [
        ("nobody-here", 404, "No such GitHub user: nobody-here"),
        ("octo cat", 422, "Not a GitHub username"),
        ("", 422, "Enter a GitHub username"),
    ],
)
async def test_refused_usernames_show_why_next_to_the_field(
    admin: Visitor,
    entrant: Visitor,
    github: GitHubStandIn,
    redis: Redis,
    handle: str,
    status: int,
    message: str,
) -> None:
    draw_id = await admin.create_draw()
    response = await entrant.post(f"/draws/{draw_id}/enter", {"github": handle})
    assert response.status_code == status
    assert field_error(response.text, "github").startswith(message)
    assert 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert input_value(response.text, "github") == handle
    assert await redis.exists(KEYS.ledger(draw_id), KEYS.entrants(draw_id)) == 0


async def test_github_down_is_a_503_page_and_stores_nothing(
    admin: Visitor, entrant: Visitor, github: GitHubStandIn, redis: Redis
) -> None:
    draw_id = await admin.create_draw()
    github.add_user("octocat", 1)
    github.mode = "error"
    response = await entrant.post(f"/draws/{draw_id}/enter", {"github": "octocat"})
    assert response.status_code == 503
    # A passing problem on GitHub's side, not a mistake for the entrant to correct.
    assert re.search(
        r'class="notification is-warning is-light fd-unavailable" role="alert">'
        r"GitHub could not be reached to check the username, so nothing was entered\. "
        r"This is a temporary problem, not a mistake in what you typed: try again in a minute\.<",
        response.text,
    )
    assert "Please correct the following" not in response.text
    assert 'id="github-error"' not in response.text
    assert input_value(response.text, "github") == "octocat"
    assert await redis.exists(KEYS.ledger(draw_id), KEYS.github_profile("octocat")) == 0


async def test_a_closed_draw_refuses_entries(
    admin: Visitor, entrant: Visitor, github: GitHubStandIn, redis: Redis
) -> None:
    draw_id = await admin.create_draw()
    github.add_user("octocat", 1)
    form_page = (await entrant.client.get(f"/draws/{draw_id}")).text
    token = CSRF_FIELD.search(form_page)
    assert token
    await admin.post(f"/draws/{draw_id}/close")
    response = await entrant.post(f"/draws/{draw_id}/enter", {"github": "octocat"}, csrf=token[1])
    assert response.status_code == 409
    assert re.search(r'role="alert">This draw is not open for entries<', response.text)
    assert "Your GitHub username" not in response.text
    assert await redis.llen(KEYS.ledger(draw_id)) == 0


# -- results and errors -------------------------------------------------------------------------


async def test_results_show_winners_unawarded_slots_and_how_to_verify(
    admin: Visitor, entrant: Visitor, github: GitHubStandIn
) -> None:
    draw_id = await admin.create_draw()
    before = await entrant.client.get(f"/draws/{draw_id}/results")
    assert before.status_code == 200
    assert "The winners have not been drawn yet" in before.text
    assert f'href="/draws/{draw_id}"' in before.text
    github.add_user("octocat", 1, "The Octocat")
    github.add_user("hubot", 2, None)
    for login in ("octocat", "hubot"):
        assert (await entrant.post(f"/draws/{draw_id}/enter", {"github": login})).status_code == 303
    await admin.post(f"/draws/{draw_id}/close")
    await admin.post(f"/draws/{draw_id}/draw")
    state = await draw_state(admin, draw_id)
    result = state["result"]
    assert isinstance(result, dict)
    assert isinstance(state["seal"], dict)

    page = await entrant.client.get(f"/draws/{draw_id}/results")
    assert page.status_code == 200
    words = text_of(page.text)
    for winner in result["winners"]:
        assert f'alt="" width="96" height="96" data-initials="{initials(winner["name"])}"' in (
            page.text
        )
        assert f'href="https://github.com/{winner["login"]}"' in page.text
    assert "The Octocat @octocat" in words
    assert "hubot @hubot" in words
    assert words.count("Not awarded — fewer entrants than prizes") == 1
    assert "Alternates" not in words  # both entrants won
    assert state["seal"]["root"] in page.text
    assert str(state["commitment"]) in page.text
    assert result["seed"] in page.text
    assert f'href="/api/v1/draws/{draw_id}/proof"' in page.text
    assert f'href="/api/v1/draws/{draw_id}/entries.txt"' in page.text
    command = f"fairdraw verify fairdraw-{draw_id}-proof.json fairdraw-{draw_id}-entries.txt"
    assert command in words
    assert "merkle_root" in words
    assert "commitment" in words


async def test_results_of_a_draw_without_entrants(admin: Visitor, entrant: Visitor) -> None:
    draw_id = await admin.create_draw()
    await admin.post(f"/draws/{draw_id}/close")
    await admin.post(f"/draws/{draw_id}/draw")
    page = await entrant.client.get(f"/draws/{draw_id}/results")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "No entries — no winners" in words
    assert "Not awarded" not in words
    assert "<img" not in page.text


@pytest.mark.parametrize(
    "path", ["/draws/abcdefghijkl", "/draws/abcdefghijkl/results", "/draws/NOPE", "/nowhere"]
)
async def test_unknown_pages_are_404_pages(entrant: Visitor, path: str) -> None:
    response = await entrant.client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Error 404" in response.text
    if path.startswith("/draws/"):
        assert "No such draw" in response.text
    assert "Traceback" not in response.text


async def test_a_wrong_method_is_a_405_page(entrant: Visitor) -> None:
    response = await entrant.client.get("/logout")
    assert response.status_code == 405
    assert "This address is not a page" in response.text
    assert 'href="/">Go to that page<' in response.text


async def test_pages_have_no_inline_script_or_style(
    admin: Visitor, entrant: Visitor, github: GitHubStandIn
) -> None:
    draw_id = await admin.create_draw()
    github.add_user("octocat", 1)
    entered = await entrant.post(f"/draws/{draw_id}/enter", {"github": "octocat"})
    receipt = await entrant.client.get(entered.headers["location"])
    await admin.post(f"/draws/{draw_id}/close")
    await admin.post(f"/draws/{draw_id}/draw")
    pages = [receipt.text]
    for path in ("/", "/login", "/draws/new", f"/draws/{draw_id}", f"/draws/{draw_id}/results"):
        response = await admin.client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self';" in response.headers["content-security-policy"]
        pages.append(response.text)
    for page in pages:
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", page)
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", page)


async def test_docs_are_a_plain_page_listing_every_operation(
    app_client: httpx.AsyncClient,
) -> None:
    response = await app_client.get("/docs")
    assert response.status_code == 200
    page = response.text
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert '<h1 class="title">API reference</h1>' in page
    assert '<a href="/docs/swagger">' in page
    assert '<a href="/openapi.json">openapi.json</a>' in page
    schema = (await app_client.get("/openapi.json")).json()
    for path, item in schema["paths"].items():
        for method in item:
            signature = f'{method.upper()}</span> <code class="fd-mono">{path}</code>'
            assert signature in page
    for name in schema["components"]["schemas"]:
        assert f'<code class="fd-mono">{name}</code></h3>' in page


async def test_docs_are_served_from_vendored_assets(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/docs/swagger")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="en">' in page
    assert '"/static/vendor/swagger-ui/swagger-ui-bundle.js"' in page
    assert '"/static/vendor/swagger-ui/swagger-ui.css"' in page
    assert "url: '/openapi.json'" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "cdn" not in page.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "VERSION"):
        served = await app_client.get(f"/static/vendor/swagger-ui/{asset}")
        assert served.status_code == 200, asset
    assert (
        "SwaggerUIBundle"
        in (await app_client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")).text
    )
    schema = (await app_client.get("/openapi.json")).json()
    assert not any(path in schema["paths"] for path in ("/", "/login", "/draws/{draw_id}"))
