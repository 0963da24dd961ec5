"""Post/Redirect/Get on the pages, and "My entries": a form submitted twice acts once, a
result page reloads without acting, and a logged-in user finds everything they took
part in, with a ticket's code only in the browser that claimed it."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from tests.integration.test_idempotency_crash import code_forms
from tests.support.app import MANAGER, PARTICIPANT
from tests.support.forms import CSRF_FIELD, FormBrowser, text_of
from tests.support.github_server import GitHubStandIn
from tests.support.store import everything_stored

KEYS = Keys()
FORM_KEY = re.compile(r'name="idempotency_key" value="([A-Za-z0-9_-]{22})"')
CODE = re.compile(r'id="ticket-code">([^<]+)<')


class Browser(FormBrowser):
    """A browser that submits the very form a page drew, keys included."""

    async def form_of(self, path: str) -> dict[str, str]:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        csrf, key = CSRF_FIELD.search(page.text), FORM_KEY.search(page.text)
        assert csrf, f"no CSRF field on {path}"
        assert key, f"no idempotency key on {path}"
        return {"csrf_token": csrf[1], "idempotency_key": key[1]}

    async def submit(self, path: str, form: dict[str, str]) -> httpx.Response:
        return await self.client.post(path, data=form)


@pytest_asyncio.fixture
async def manager(app_client: httpx.AsyncClient) -> Browser:
    browser = Browser(app_client)
    await browser.log_in(MANAGER)
    return browser


@pytest_asyncio.fixture
async def pat(app: FastAPI) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        browser = Browser(client)
        await browser.log_in(PARTICIPANT)
        yield browser


@pytest_asyncio.fixture
async def pat_elsewhere(app: FastAPI) -> AsyncIterator[Browser]:
    """Pat again, logged in on another device."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        browser = Browser(client)
        await browser.log_in(PARTICIPANT)
        yield browser


async def new_raffle(manager: Browser, **fields: str) -> str:
    form = await manager.form_of("/raffles/new")
    form |= {"title": "Charity raffle", "prizes.0.name": "Bike", "ticket_count": "5", "open": "yes"}
    response = await manager.submit("/raffles/new", form | fields)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def new_giveaway(manager: Browser, **fields: str) -> str:
    form = await manager.form_of("/draws/new")
    form |= {"title": "Giveaway", "prizes.0.name": "Mug", "open": "yes"}
    response = await manager.submit("/draws/new", form | fields)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def new_lottery(manager: Browser) -> str:
    form = await manager.form_of("/lotteries/new")
    today = datetime.now(UTC).date().isoformat()
    form |= {"name": "Daily coffee", "prize": "Coffee", "timezone": "UTC", "start": today}
    response = await manager.submit("/lotteries/new", form)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


# -- a form submitted twice acts once -------------------------------------------------------


async def test_every_drawing_of_a_form_has_a_fresh_key(manager: Browser, pat: Browser) -> None:
    draw_id = await new_raffle(manager)
    first, second = await pat.form_of(f"/draws/{draw_id}"), await pat.form_of(f"/draws/{draw_id}")
    assert first["idempotency_key"] != second["idempotency_key"]


async def test_a_claim_form_submitted_twice_claims_once(
    manager: Browser, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await new_raffle(manager, per_claimant="3")
    holder = Browser(anon_client)
    form = await holder.form_of(f"/draws/{draw_id}")
    first = await holder.submit(f"/draws/{draw_id}/tickets", form)
    again = await holder.submit(f"/draws/{draw_id}/tickets", form)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"]
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    card = await holder.client.get(first.headers["location"])
    code = CODE.search(card.text)
    assert code
    # A new drawing of the form is a new claim.
    other = await holder.submit(
        f"/draws/{draw_id}/tickets", await holder.form_of(f"/draws/{draw_id}")
    )
    assert other.headers["location"] != first.headers["location"]
    assert await redis.llen(KEYS.ledger(draw_id)) == 2
    # The browser now holds both tickets: each card shows its own code.
    for location in (first.headers["location"], other.headers["location"]):
        shown = CODE.search((await holder.client.get(location)).text)
        assert shown
    assert CODE.search((await holder.client.get(first.headers["location"])).text)[1] == code[1]  # type: ignore[index]


async def test_an_entry_form_submitted_twice_enters_once(
    manager: Browser, anon_client: httpx.AsyncClient, github: GitHubStandIn, redis: Redis
) -> None:
    github.add_user("octocat", 583231)
    draw_id = await new_giveaway(manager)
    entrant = Browser(anon_client)
    form = await entrant.form_of(f"/draws/{draw_id}") | {"github": "octocat"}
    first = await entrant.submit(f"/draws/{draw_id}/enter", form)
    again = await entrant.submit(f"/draws/{draw_id}/enter", form)
    assert first.headers["location"] == again.headers["location"]
    assert "already" not in again.headers["location"]  # the first answer, not a refusal
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    receipt = await entrant.client.get(again.headers["location"])
    assert "You\u2019re in!" in text_of(receipt.text)


async def test_a_ballot_submitted_twice_is_cast_once_and_its_receipt_reloads(
    manager: Browser, pat: Browser, redis: Redis
) -> None:
    lottery_id = await new_lottery(manager)
    form = await pat.form_of(f"/lotteries/{lottery_id}")
    first = await pat.submit(f"/lotteries/{lottery_id}/ballots", form)
    again = await pat.submit(f"/lotteries/{lottery_id}/ballots", form)
    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"]
    receipt = await pat.client.get(first.headers["location"])
    reloaded = await pat.client.get(first.headers["location"])
    assert receipt.status_code == reloaded.status_code == 200
    words = text_of(reloaded.text)
    assert "Ballot 1 is in" in words
    assert "You have 1 ballot in today\u2019s round" in words
    page = text_of((await pat.client.get(f"/lotteries/{lottery_id}")).text)
    assert "Your ballots today: 1" in page
    round_keys = [k async for k in redis.scan_iter("fairdraw:{d:*}:ledger")]
    assert [await redis.llen(k) for k in round_keys] == [1]
    # An altered receipt link shows nothing.
    forged = first.headers["location"].replace("mine=1", "mine=2")
    assert (await pat.client.get(forged)).status_code == 404


async def test_a_creation_form_submitted_twice_creates_once(manager: Browser, redis: Redis) -> None:
    form = await manager.form_of("/draws/new")
    form |= {"title": "Only once", "prizes.0.name": "Mug", "open": "yes"}
    first = await manager.submit("/draws/new", form)
    again = await manager.submit("/draws/new", form)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"]
    assert await redis.zcard(KEYS.draws_index()) == 1
    # The same key with other fields is refused, and creates nothing.
    other = await manager.submit("/draws/new", form | {"title": "Another"})
    assert other.status_code == 422
    assert await redis.zcard(KEYS.draws_index()) == 1


async def test_a_registration_submitted_twice_registers_once(
    anon_client: httpx.AsyncClient,
) -> None:
    visitor = Browser(anon_client)
    form = await visitor.form_of("/register")
    form |= {
        "username": "newbie",
        "password": "a long enough password",
        "password_confirm": "a long enough password",
    }
    first = await visitor.submit("/register", form)
    # A double click: the second submit left before the first answer set its cookie.
    anon_client.cookies.delete("fairdraw_session")
    again = await visitor.submit("/register", form)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == "/"
    # The second answer logs the browser in as the first did, to the same session.
    assert again.headers["set-cookie"] == first.headers["set-cookie"]


# -- My entries -------------------------------------------------------------------------------


async def test_my_entries_lists_what_i_took_part_in_newest_first(
    manager: Browser,
    pat: Browser,
    pat_elsewhere: Browser,
    anon_client: httpx.AsyncClient,
    redis: Redis,
) -> None:
    giveaway = await new_giveaway(manager, entry_identity="account")
    raffle = await new_raffle(manager, claimants="account", title="Account raffle")
    lottery_id = await new_lottery(manager)
    entered = await pat.submit(f"/draws/{giveaway}/enter", await pat.form_of(f"/draws/{giveaway}"))
    assert entered.status_code == 303
    claimed = await pat.submit(f"/draws/{raffle}/tickets", await pat.form_of(f"/draws/{raffle}"))
    card = await pat.client.get(claimed.headers["location"])
    code = CODE.search(card.text)
    assert code
    number = int(claimed.headers["location"].rsplit("/", 1)[1])
    cast = await pat.submit(
        f"/lotteries/{lottery_id}/ballots", await pat.form_of(f"/lotteries/{lottery_id}")
    )
    assert cast.status_code == 303

    page = await pat.client.get("/me/entries")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    rows = re.findall(r'<tr class="fd-my-(entry|ticket|ballot)"', page.text)
    assert rows == ["ballot", "ticket", "entry"]
    words = text_of(page.text)
    assert f"Raffle ticket Account raffle Ticket {number} {code[1]}" in words
    assert "Lottery ballot Daily coffee \u2014 " in words
    assert "Entry Giveaway Entry 1 \u2014 pat Open" in words
    assert f'href="/draws/{raffle}/tickets/{number}"' in page.text
    assert f'href="{entered.headers["location"].replace("&", "&amp;")}"' in page.text

    # The JSON twin, in the same browser: the same list, the code included.
    mine = (await pat.client.get("/api/v1/me/entries")).json()
    assert (mine["total"], mine["offset"], mine["limit"]) == (3, 0, 20)
    assert [i["kind"] for i in mine["items"]] == ["ballot", "ticket", "entry"]
    ticket = mine["items"][1]
    assert (ticket["draw_id"], ticket["number"], ticket["code"]) == (raffle, number, code[1])
    assert ticket["url"] == f"/draws/{raffle}/tickets/{number}"
    assert mine["items"][0]["date"] == datetime.now(UTC).date().isoformat()
    assert mine["items"][2]["entrant"] == "pat"
    # Pat on another device gets the list without the code: that browser never held it.
    there = (await pat_elsewhere.client.get("/api/v1/me/entries")).json()
    assert [i["kind"] for i in there["items"]] == ["ballot", "ticket", "entry"]
    assert there["items"][1]["code"] is None
    assert code[1] not in (await pat_elsewhere.client.get("/me/entries")).text
    # A page at a time.
    second = (await pat.client.get("/api/v1/me/entries?offset=1&limit=1")).json()
    assert [i["kind"] for i in second["items"]] == ["ticket"]
    assert (second["total"], second["offset"], second["limit"]) == (3, 1, 1)
    # Nobody else's list, and none for the logged out.
    assert (await manager.client.get("/api/v1/me/entries")).json()["items"] == []
    logged_out = await anon_client.get("/me/entries")
    assert (logged_out.status_code, logged_out.headers["location"]) == (
        303,
        "/login?next=/me/entries",
    )
    assert (await anon_client.get("/api/v1/me/entries")).status_code == 401
    # Every key left behind is one of the key schema's.
    patterns = KEYS.patterns()
    keys = [key async for key in redis.scan_iter("*")]
    assert any(key.startswith("fairdraw:mine:") for key in keys)
    assert any(":idem:" in key for key in keys)
    for key in keys:
        assert any(p.fullmatch(key) for p in patterns), key


async def test_my_entries_is_repaired_by_a_retry(
    manager: Browser, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    """The list is written after the claim (another hash tag); if that step was lost, the
    keyed retry writes it again."""
    raffle = await new_raffle(manager, claimants="account")
    token = (
        await anon_client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": PARTICIPANT[0], "password": PARTICIPANT[1]},
        )
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    first = await anon_client.post(f"/api/v1/draws/{raffle}/tickets", headers=headers)
    assert first.status_code == 201
    await redis.delete(
        KEYS.my_entries("pat"), *[k async for k in redis.scan_iter("fairdraw:idem:*")]
    )
    again = await anon_client.post(f"/api/v1/draws/{raffle}/tickets", headers=headers)
    assert again.json() == first.json()
    listed: Any = (await anon_client.get("/api/v1/me/entries", headers=headers)).json()
    assert [(i["kind"], i["number"]) for i in listed["items"]] == [
        ("ticket", first.json()["number"])
    ]
    # Through the API there is no ticket cookie: the list shows no code.
    assert listed["items"][0]["code"] is None


async def test_a_store_dump_after_page_claims_holds_no_code(
    manager: Browser, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await new_raffle(manager, per_claimant="2")
    holder = Browser(anon_client)
    codes = []
    for _ in range(2):
        claimed = await holder.submit(
            f"/draws/{draw_id}/tickets", await holder.form_of(f"/draws/{draw_id}")
        )
        code = CODE.search((await holder.client.get(claimed.headers["location"])).text)
        assert code
        codes.append(code[1])
    everything = "\n".join(await everything_stored(redis))
    for code_text in codes:
        for form in code_forms(code_text):
            assert form not in everything
