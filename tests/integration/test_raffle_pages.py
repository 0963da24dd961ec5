"""The raffle pages through the real app and store: creating a raffle, claiming tickets,
the ticket card, checking tickets, the managers' buttons and the results."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from limits import RateLimitItemPerMinute
from redis.asyncio import Redis

from fairdraw.domain.draws import Draw, DrawStatus
from fairdraw.services.raffles import TicketStatus
from fairdraw.store.keys import Keys
from fairdraw.web import security
from fairdraw.web.deps import Services
from tests.support.app import ADMIN, MANAGER, PARTICIPANT
from tests.support.forms import CSRF_FIELD, FormBrowser, field_error, input_value, text_of

KEYS = Keys()
_DRAW_URL = re.compile(r"^/draws/([a-z2-7]{12})$")
_CODE = re.compile(r"^[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$")
_DATA_URL = "data:text/plain;charset=utf-8,"


@dataclass(frozen=True)
class Card:
    """What a ticket card shows: the number, the code and the downloadable file."""

    number: int
    code: str
    file_name: str
    file_text: str


class Browser(FormBrowser):
    """A browser that also creates raffles, claims and checks tickets through forms."""

    async def create_raffle(self, tickets: int = 3, open_now: bool = True, **fields: str) -> str:
        """Create a raffle through the form (one bike unless other prizes are given)."""
        form = {
            "title": "Charity raffle",
            "prizes.0.name": "Bike",
            "ticket_count": str(tickets),
            **fields,
        }
        if open_now:
            form["open"] = "yes"
        response = await self.post("/raffles/new", form)
        assert response.status_code == 303, response.text
        match = _DRAW_URL.match(response.headers["location"])
        assert match, response.headers["location"]
        return match[1]

    async def claim(self, draw_id: str) -> Card:
        return card_of((await self.claim_page(draw_id)).text)

    async def claim_page(self, draw_id: str) -> httpx.Response:
        """Claim through the form and follow its redirect to the ticket card."""
        response = await self.post(f"/draws/{draw_id}/tickets")
        assert response.status_code == 303, response.text
        assert re.fullmatch(rf"/draws/{draw_id}/tickets/\d+", response.headers["location"])
        card = await self.client.get(response.headers["location"])
        assert card.status_code == 200, card.text
        return card

    async def check(self, draw_id: str, number: object, code: str) -> httpx.Response:
        return await self.post(f"/draws/{draw_id}/check", {"number": str(number), "code": code})


def card_of(page: str) -> Card:
    number = re.search(r'id="ticket-number">(\d+)<', page)
    code = re.search(r'id="ticket-code">([^<]+)<', page)
    download = re.search(r'<a class="button is-link" href="([^"]+)" download="([^"]+)"', page)
    assert number, "no ticket number on the card"
    assert code, "no verification code on the card"
    assert download, "no download link on the card"
    href = html.unescape(download[1])
    assert href.startswith(_DATA_URL)
    return Card(int(number[1]), code[1], download[2], unquote(href.removeprefix(_DATA_URL)))


def outcome(page: str) -> str:
    match = re.search(r'id="outcome">(.*?)</div>', page, re.S)
    assert match, "no outcome on the page"
    return text_of(match[1])


def buttons(page: str, draw_id: str) -> list[str]:
    return re.findall(rf'action="/draws/{draw_id}/(open|close|draw|cancel)"', page)


def services(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


async def stored(app: FastAPI, draw_id: str) -> Draw:
    return await services(app).drawing.get(draw_id)


@pytest_asyncio.fixture
async def manager(app_client: httpx.AsyncClient) -> Browser:
    browser = Browser(app_client)
    await browser.log_in(MANAGER)
    return browser


@pytest.fixture
def holder(anon_client: httpx.AsyncClient) -> Browser:
    return Browser(anon_client)


@pytest_asyncio.fixture
async def other(app: FastAPI) -> AsyncIterator[Browser]:
    """Yet another browser (a participant's, an admin's or a stranger's)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Browser(client)


# -- creating a raffle ------------------------------------------------------------------------


async def test_new_raffle_form_is_for_managers(
    manager: Browser, holder: Browser, other: Browser
) -> None:
    anonymous = await holder.client.get("/raffles/new")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/raffles/new"
    await other.log_in(PARTICIPANT)
    refused = await other.client.get("/raffles/new")
    assert refused.status_code == 403
    assert "Only managers and administrators can do that" in refused.text
    assert 'href="/raffles/new"' not in (await other.client.get("/")).text

    form = await manager.client.get("/raffles/new")
    assert form.status_code == 200
    page = form.text
    assert 'action="/raffles/new"' in page
    for i in range(5):
        assert f'id="prizes.{i}.name"' in page
    assert input_value(page, "per_claimant") == "1"
    assert re.search(r'<input class="input" type="number" id="ticket_count"', page)
    assert re.search(r'id="claimants-anonymous" name="claimants" value="anonymous" checked>', page)
    assert re.search(r'id="claimants-account" name="claimants" value="account">', page)
    assert '<input type="checkbox" id="early_close" name="early_close" value="yes"' in page
    assert not re.search(r'id="early_close"[^>]* checked', page)
    assert re.search(r'id="open" name="open" value="yes"[^>]* checked>', page)
    words = text_of(page)
    assert "Allow closing before every ticket is claimed" in words
    assert "Number of tickets" in words
    assert "Tickets per person" in words
    assert 'href="/draws/new">Giveaway</a>' in page
    assert 'href="/raffles/new" aria-current="page">Raffle</a>' in page
    giveaway_form = (await manager.client.get("/draws/new")).text
    assert 'href="/raffles/new">Raffle</a>' in giveaway_form
    home = (await manager.client.get("/")).text
    assert 'href="/raffles/new">New raffle</a>' in home
    assert 'href="/draws/new">New giveaway</a>' in home


async def test_invalid_raffle_shows_errors_by_the_fields_and_stores_nothing(
    manager: Browser, redis: Redis
) -> None:
    form = {
        "title": "  ",
        "description": "Tickets at the door",
        "prizes.0.name": "Bike",
        "prizes.1.name": "Mug",
        "prizes.1.quantity": "lots",
        "prizes.2.name": "bike",
        "ticket_count": "0",
        "claimants": "robots",
        "per_claimant": "0",
        "early_close": "yes",
    }
    response = await manager.post("/raffles/new", form)
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "title") == "Give the raffle a title"
    assert field_error(page, "prizes.1.quantity") == "Quantity must be a whole number"
    assert field_error(page, "prizes.2.name") == "Prize names must be unique"
    assert field_error(page, "ticket_count") == (
        "The number of tickets must be between 1 and 1,000,000,000"
    )
    assert field_error(page, "claimants") == "Choose anyone (one per address) or fairdraw accounts"
    assert field_error(page, "per_claimant") == (
        "Tickets per person must be between 1 and the number of tickets"
    )
    assert 'id="prizes.0.name-error"' not in page
    assert 'role="alert"' in page
    assert '<a href="#claimants">' in page
    assert input_value(page, "prizes.1.quantity") == "lots"
    assert input_value(page, "prizes.2.name") == "bike"
    assert input_value(page, "ticket_count") == "0"
    assert input_value(page, "per_claimant") == "0"
    assert ">Tickets at the door</textarea>" in page
    assert re.search(r'id="early_close" name="early_close" value="yes"[^>]* checked>', page)
    assert '<input type="checkbox" id="open" name="open" value="yes"' in page
    assert not re.search(r'id="open"[^>]* checked', page)  # unticked stays unticked

    too_many = await manager.post(
        "/raffles/new",
        {
            "title": "Two tickets",
            "prizes.0.name": "Bike",
            "prizes.0.quantity": "3",
            "ticket_count": "2",
            "claimants": "account",
        },
    )
    assert too_many.status_code == 422
    assert field_error(too_many.text, "prizes") == (
        "3 prizes but only 2 tickets: each ticket wins at most one prize"
    )
    assert re.search(
        r'id="claimants-account" name="claimants" value="account" checked>', too_many.text
    )
    assert not [k async for k in redis.scan_iter(KEYS.prefix + "{d:*")]
    assert not await redis.exists(KEYS.draws_index())


async def test_creating_a_raffle_goes_to_its_page(
    app: FastAPI, manager: Browser, holder: Browser
) -> None:
    draw_id = await manager.create_raffle(
        tickets=40,
        title="Spring raffle",
        description="For the shelter.\r\n\r\nDraw at 9pm.",
        per_claimant="2",
        early_close="yes",
        **{"prizes.0.name": "Bike", "prizes.2.name": "Mug", "prizes.2.quantity": "3"},
    )
    draw = await stored(app, draw_id)
    assert draw.status is DrawStatus.open
    assert [(p.name, p.quantity) for p in draw.prizes] == [("Bike", 1), ("Mug", 3)]
    assert draw.raffle is not None
    assert draw.raffle.to_json() == {
        "ticket_count": 40,
        "claimants": "anonymous",
        "per_claimant": 2,
        "early_close": True,
    }
    page = await holder.client.get(f"/draws/{draw_id}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Open — tickets available Spring raffle" in words
    assert "<p>For the shelter.</p><p>Draw at 9pm.</p>" in page.text
    assert "Bike Mug \u00d7 3" in words
    assert "Get a ticket 40 of 40 tickets left" in words
    assert f'<form method="post" action="/draws/{draw_id}/tickets">' in page.text
    assert re.search(
        r'<button class="button is-primary[^"]*" type="submit">Claim a ticket</button>', page.text
    )
    assert "Who can claim Anyone, 2 tickets per network address" in words
    assert (
        "Claims close When the last ticket is claimed, or earlier when the organiser closes them"
        in words
    )
    assert str(draw.commitment) in page.text
    assert f'href="/draws/{draw_id}/check"' in page.text
    assert buttons(page.text, draw_id) == []  # no buttons for ticket holders
    assert buttons((await manager.client.get(f"/draws/{draw_id}")).text, draw_id) == [
        "close",
        "cancel",
    ]

    draft_id = await manager.create_raffle(open_now=False, title="Later")
    assert (await stored(app, draft_id)).status is DrawStatus.draft
    draft = await holder.client.get(f"/draws/{draft_id}")
    assert "This raffle is not open yet." in draft.text
    assert f"/draws/{draft_id}/tickets" not in draft.text


# -- claiming tickets ---------------------------------------------------------------------------


async def test_a_claim_goes_to_its_card_which_a_reload_shows_again(
    app: FastAPI, manager: Browser, holder: Browser, other: Browser, redis: Redis
) -> None:
    draw_id = await manager.create_raffle(tickets=5, title="Bake sale <raffle>")
    claimed = await holder.post(f"/draws/{draw_id}/tickets")
    assert claimed.status_code == 303
    location = claimed.headers["location"]
    assert re.fullmatch(rf"/draws/{draw_id}/tickets/[1-5]", location)
    cookie = claimed.headers["set-cookie"]
    assert cookie.startswith(f"fairdraw_tickets={draw_id}.")
    for attribute in ("HttpOnly", "SameSite=lax", "Max-Age=86400", "Path=/"):
        assert attribute in cookie
    response = await holder.client.get(location)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    card = card_of(response.text)
    assert location.endswith(f"/{card.number}")
    assert _CODE.match(card.code)
    # The code is in the cookie in no form: only what opens the claim's sealed record.
    assert card.code not in cookie
    assert card.code.replace("-", "") not in cookie
    words = text_of(response.text)
    assert (
        "Keep this code fairdraw keeps your verification code only in a form that this "
        "browser alone can open, and only for 24 hours" in words
    )
    assert (
        f"Raffle ticket Bake sale <raffle> Ticket number {card.number} Verification code" in words
    )
    assert "Bake sale &lt;raffle&gt;" in response.text
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z" data-local="minute">', response.text
    )
    assert f"Check it at http://testserver/draws/{draw_id}/check" in words
    assert "data-print hidden>Print ticket</button>" in response.text
    assert '<script src="/static/js/ticket.js" defer></script>' in response.text
    assert card.file_name == f"fairdraw-{draw_id}-ticket-{card.number}.txt"
    lines = card.file_text.split("\r\n")
    assert "Raffle:            Bake sale <raffle>" in lines
    assert f"Raffle page:       http://testserver/draws/{draw_id}" in lines
    assert f"Ticket number:     {card.number}" in lines
    assert f"Verification code: {card.code}" in lines
    assert card.file_text.endswith("\r\n")
    # The card holds the real code of the real ticket.
    check = await services(app).raffles.check(draw_id, card.number, card.code, None)
    assert check.status is TicketStatus.not_drawn

    # Reloading the card shows the same ticket and code, and claims nothing.
    for _ in range(2):
        reloaded = await holder.client.get(location)
        assert reloaded.status_code == 200
        assert card_of(reloaded.text) == card
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    # Another browser at the same address sees the card without the code.
    elsewhere = await other.client.get(location)
    assert elsewhere.status_code == 200
    assert card.code not in elsewhere.text
    assert 'id="ticket-code"' not in elsewhere.text
    assert "download=" not in elsewhere.text
    assert (
        f"No code to show here This browser holds no verification code for ticket "
        f"{card.number}" in text_of(elsewhere.text)
    )

    # A new claim (a new form) is refused: one ticket per address.
    again = await holder.post(f"/draws/{draw_id}/tickets")
    assert again.status_code == 409
    assert re.search(
        r'role="alert" id="claim-refused">You already hold a ticket of this raffle, as many as '
        r"one person may\. Tickets are counted per network address",
        again.text,
    )
    assert 'id="ticket-code"' not in again.text
    assert "Get a ticket 4 of 5 tickets left" in text_of(again.text)
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


async def test_the_last_ticket_closes_the_raffle_and_later_claims_are_refused(
    app: FastAPI, manager: Browser, holder: Browser, other: Browser
) -> None:
    draw_id = await manager.create_raffle(tickets=1)
    last = await holder.claim_page(draw_id)
    assert "You claimed the last ticket: the raffle is now closed" in text_of(last.text)
    assert (await stored(app, draw_id)).status is DrawStatus.closed

    sold_out = await other.post(f"/draws/{draw_id}/tickets")
    assert sold_out.status_code == 409
    assert "Sorry, the only ticket has been claimed." in sold_out.text
    words = text_of(sold_out.text)
    assert "Sold out — waiting for the draw" in words
    assert "The only ticket has been claimed. The winners will be drawn soon." in words

    bigger = await manager.create_raffle(tickets=4, per_claimant="4")
    for _ in range(4):
        await holder.claim(bigger)
    refused = await other.post(f"/draws/{bigger}/tickets")
    assert refused.status_code == 409
    assert "Sorry, all 4 tickets have been claimed." in refused.text

    draft = await manager.create_raffle(open_now=False)
    not_yet = await holder.post(f"/draws/{draft}/tickets")
    assert not_yet.status_code == 409
    assert "This raffle is not open yet." in not_yet.text
    cancelled = await manager.create_raffle()
    assert (await manager.post(f"/draws/{cancelled}/cancel")).status_code == 303
    gone = await holder.post(f"/draws/{cancelled}/tickets")
    assert gone.status_code == 409
    assert "This raffle was cancelled; no more tickets are handed out." in gone.text


async def test_claims_over_the_rate_limit_are_refused_with_a_wait(
    app: FastAPI, manager: Browser, holder: Browser, redis: Redis
) -> None:
    services(app).limits.entry_limit = RateLimitItemPerMinute(1, namespace="entry")
    draw_id = await manager.create_raffle(tickets=5, per_claimant="5")
    await holder.claim(draw_id)
    limited = await holder.post(f"/draws/{draw_id}/tickets")
    assert limited.status_code == 429
    wait = int(limited.headers["retry-after"])
    assert 0 < wait <= 60
    unit = "second" if wait == 1 else "seconds"
    assert (
        f"Too many attempts from your network address; try again in {wait} {unit}." in limited.text
    )
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


async def test_account_raffles_ask_anonymous_visitors_to_log_in(
    app: FastAPI, manager: Browser, holder: Browser, other: Browser
) -> None:
    draw_id = await manager.create_raffle(claimants="account")
    page = await holder.client.get(f"/draws/{draw_id}")
    assert f'href="/login?next=/draws/{draw_id}">Log in to claim</a>' in page.text
    assert f'action="/draws/{draw_id}/tickets"' not in page.text
    assert "Who can claim fairdraw accounts, 1 ticket each" in text_of(page.text)
    anonymous = await holder.post(f"/draws/{draw_id}/tickets")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/draws/{draw_id}"

    await other.log_in(PARTICIPANT)
    logged_in = (await other.client.get(f"/draws/{draw_id}")).text
    assert "Claim a ticket as pat</button>" in logged_in
    card = await other.claim(draw_id)
    check = await services(app).raffles.check(draw_id, card.number, card.code, None)
    assert check.status is TicketStatus.not_drawn


# -- checking tickets ---------------------------------------------------------------------------


async def test_checking_tickets_before_and_after_the_draw(
    manager: Browser, holder: Browser
) -> None:
    draw_id = await manager.create_raffle(tickets=3, per_claimant="3")
    mine, yours = await holder.claim(draw_id), await holder.claim(draw_id)
    unclaimed = ({1, 2, 3} - {mine.number, yours.number}).pop()

    form = await holder.client.get(f"/draws/{draw_id}/check?number={mine.number}")
    assert form.status_code == 200
    assert input_value(form.text, "number") == str(mine.number)
    assert f'action="/draws/{draw_id}/check"' in form.text
    assert CSRF_FIELD.search(form.text)
    assert (
        input_value((await holder.client.get(f"/draws/{draw_id}/check?number=x")).text, "number")
        == ""
    )

    valid = await holder.check(draw_id, mine.number, mine.code.lower().replace("-", " "))
    assert valid.status_code == 200
    assert outcome(valid.text) == (
        f"Not drawn yet — your ticket is valid Ticket {mine.number} is in the raffle. "
        "Come back after the draw to see whether it won."
    )
    assert mine.code not in valid.text  # the code is not written back

    wrong = await holder.check(draw_id, mine.number, yours.code)
    assert wrong.status_code == 403
    assert field_error(wrong.text, "code").startswith("Invalid code: it does not match this ticket")
    assert input_value(wrong.text, "code") == yours.code  # kept, to fix a typo
    assert 'id="outcome"' not in wrong.text
    missing = await holder.check(draw_id, unclaimed, mine.code)
    assert missing.status_code == 404
    assert field_error(missing.text, "number") == (
        f"Ticket not found. Ticket {unclaimed} has not been claimed."
    )
    outside = await holder.check(draw_id, 4, mine.code)
    assert outside.status_code == 404
    assert field_error(outside.text, "number") == (
        "Ticket not found. This raffle's tickets are numbered 1 to 3."
    )
    malformed = await holder.check(draw_id, mine.number, "not-a-code!")
    assert malformed.status_code == 422
    assert field_error(malformed.text, "code") == (
        "A verification code has only the letters A-Z and the digits 2-7"
    )
    both = await holder.check(draw_id, "seven", "")
    assert both.status_code == 422
    assert field_error(both.text, "number") == "Enter the ticket number, a whole number such as 17"
    assert field_error(both.text, "code") == "A verification code has 26 letters and digits"
    assert input_value(both.text, "number") == "seven"

    last = await holder.claim(draw_id)  # sells out and closes the raffle
    drawn = await manager.post(f"/draws/{draw_id}/draw")
    assert drawn.status_code == 303
    assert drawn.headers["location"] == f"/draws/{draw_id}/results"
    outcomes = {}
    for card in (mine, yours, last):
        response = await holder.check(draw_id, card.number, card.code)
        assert response.status_code == 200
        outcomes[card.number] = outcome(response.text)
    won = [n for n, text in outcomes.items() if text.startswith("Won: Bike")]
    assert len(won) == 1
    assert outcomes[won[0]].startswith(f"Won: Bike Congratulations! Ticket {won[0]} won Bike.")
    # One prize, so one alternate: it is told its rank, the other ticket that it lost.
    for number, text in outcomes.items():
        if number != won[0]:
            assert text in (
                f"Not a winner Ticket {number} did not win a prize in \u201cCharity raffle\u201d. "
                "Thanks for taking part!",
                f"Alternate #1 Ticket {number} did not win yet: it is alternate #1. If a winner "
                "forfeits, the prize goes to the first alternate who has not won.",
            )
    assert sum(text.startswith("Alternate #1 ") for text in outcomes.values()) == 1


async def test_a_cancelled_raffle_says_so_to_ticket_holders(
    manager: Browser, holder: Browser
) -> None:
    draw_id = await manager.create_raffle()
    card = await holder.claim(draw_id)
    await manager.post(f"/draws/{draw_id}/cancel")
    response = await holder.check(draw_id, card.number, card.code)
    assert response.status_code == 200
    assert outcome(response.text) == (
        f"This raffle was cancelled Ticket {card.number} is genuine, but no winners will be drawn."
    )


async def test_wrong_codes_are_throttled_per_ticket(
    app: FastAPI, manager: Browser, holder: Browser
) -> None:
    services(app).limits.ticket_code_limit = RateLimitItemPerMinute(2, namespace="ticket-code")
    draw_id = await manager.create_raffle(tickets=3, per_claimant="2")
    mine, yours = await holder.claim(draw_id), await holder.claim(draw_id)
    for _ in range(2):
        assert (await holder.check(draw_id, mine.number, yours.code)).status_code == 403
    limited = await holder.check(draw_id, mine.number, mine.code)
    assert limited.status_code == 429
    wait = int(limited.headers["retry-after"])
    assert 0 < wait <= 60
    unit = "second" if wait == 1 else "seconds"
    message = f"Too many wrong codes for this ticket; try again in {wait} {unit}."
    assert message in text_of(limited.text)
    assert 'role="alert" id="error-summary"' in limited.text
    assert (await holder.check(draw_id, yours.number, yours.code)).status_code == 200


async def test_a_giveaway_has_no_tickets(manager: Browser, holder: Browser) -> None:
    response = await manager.post(
        "/draws/new", {"title": "Giveaway", "prizes.0.name": "Mug", "open": "yes"}
    )
    draw_id = response.headers["location"].rsplit("/", 1)[1]
    for refused in (
        await holder.client.get(f"/draws/{draw_id}/check"),
        await holder.post(f"/draws/{draw_id}/tickets"),
    ):
        assert refused.status_code == 409
        assert "Error 409" in refused.text
    raffle_id = await manager.create_raffle()
    entered = await holder.post(f"/draws/{raffle_id}/enter", {"github": "octocat"})
    assert entered.status_code == 409
    assert "This draw is of another kind" in entered.text


# -- managers, CSRF -----------------------------------------------------------------------------


async def test_raffle_buttons_follow_the_raffle(manager: Browser, holder: Browser) -> None:
    draw_id = await manager.create_raffle(tickets=2, per_claimant="2", open_now=False)

    async def page() -> str:
        return (await manager.client.get(f"/draws/{draw_id}")).text

    assert buttons(await page(), draw_id) == ["open", "cancel"]
    assert "Open the raffle</button>" in await page()
    opened = await manager.post(f"/draws/{draw_id}/open")
    assert opened.headers["location"] == f"/draws/{draw_id}"
    open_page = await page()
    assert buttons(open_page, draw_id) == ["cancel"]  # no early close allowed
    assert "This raffle closes by itself when its last ticket is claimed." in open_page
    assert 'data-confirm="Cancel this raffle? This cannot be undone."' in open_page
    refused = await manager.post(f"/draws/{draw_id}/close")
    assert refused.status_code == 409
    assert "This raffle closes when its last ticket is claimed" in refused.text
    await holder.claim(draw_id)
    await holder.claim(draw_id)
    assert buttons(await page(), draw_id) == ["draw", "cancel"]
    assert (await manager.post(f"/draws/{draw_id}/draw")).status_code == 303
    assert buttons(await page(), draw_id) == []

    early = await manager.create_raffle(early_close="yes")
    early_page = (await manager.client.get(f"/draws/{early}")).text
    assert buttons(early_page, early) == ["close", "cancel"]
    assert "Close the raffle now</button>" in early_page
    closed = await manager.post(f"/draws/{early}/close")
    assert closed.status_code == 303
    after = (await manager.client.get(f"/draws/{early}")).text
    assert buttons(after, early) == ["draw", "cancel"]
    assert "Closed — waiting for the draw" in after
    assert "No more tickets are handed out. The winners will be drawn soon." in text_of(after)
    assert "Sealed ticket list" in after


@pytest.mark.parametrize("action", ["open", "close", "draw", "cancel"])
async def test_only_managers_run_a_raffle(
    app: FastAPI, manager: Browser, holder: Browser, other: Browser, action: str
) -> None:
    draw_id = await manager.create_raffle(early_close="yes", open_now=action == "open")
    if action == "draw":
        await manager.post(f"/draws/{draw_id}/close")
    before = await stored(app, draw_id)
    anonymous = await holder.post(f"/draws/{draw_id}/{action}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/draws/{draw_id}"
    await other.log_in(PARTICIPANT)
    participant = await other.post(f"/draws/{draw_id}/{action}")
    assert participant.status_code == 403
    assert "Only managers and administrators can do that" in participant.text
    assert await stored(app, draw_id) == before
    assert (
        f'action="/draws/{draw_id}/{action}"'
        not in (await other.client.get(f"/draws/{draw_id}")).text
    )


async def test_raffle_forms_refuse_a_missing_or_foreign_csrf_token(
    app: FastAPI, manager: Browser, holder: Browser, other: Browser, redis: Redis
) -> None:
    draw_id = await manager.create_raffle(per_claimant="3")
    card = await holder.claim(draw_id)
    await other.log_in(ADMIN)
    foreign = [await other.csrf()]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        foreign.append(await Browser(stranger).csrf())
    before = await redis.dbsize()
    state = await stored(app, draw_id)
    forms: list[tuple[Browser, str, dict[str, str]]] = [
        (manager, "/raffles/new", {"title": "Sneaky", "prizes.0.name": "P", "ticket_count": "5"}),
        (holder, f"/draws/{draw_id}/tickets", {}),
        (holder, f"/draws/{draw_id}/check", {"number": str(card.number), "code": card.code}),
    ]
    for browser, path, data in forms:
        for token in ("", *foreign):
            response = await browser.client.post(path, data={"csrf_token": token, **data})
            assert response.status_code == 403, (path, token, response.text)
            assert "The form expired or came from another site" in response.text
            assert security.SESSION_COOKIE not in response.cookies
    assert await stored(app, draw_id) == state
    assert await redis.dbsize() == before


# -- results, home, page hygiene ------------------------------------------------------------------


async def test_results_of_a_raffle_list_winning_ticket_numbers(
    app: FastAPI, manager: Browser, holder: Browser, other: Browser
) -> None:
    draw_id = await manager.create_raffle(
        tickets=3,
        claimants="account",
        per_claimant="3",
        **{"prizes.1.name": "Mug"},
    )
    before = await holder.client.get(f"/draws/{draw_id}/results")
    assert "The winners have not been drawn yet" in before.text
    await other.log_in(PARTICIPANT)
    cards = [await other.claim(draw_id) for _ in range(3)]
    await manager.post(f"/draws/{draw_id}/draw")
    draw = await stored(app, draw_id)
    assert draw.result is not None
    assert draw.seal is not None

    page = await holder.client.get(f"/draws/{draw_id}/results")
    assert page.status_code == 200
    words = text_of(page.text)
    by_prize = {w.prize: w.ref.split(":")[0] for w in draw.result.winners}
    assert set(by_prize.values()) <= {str(c.number) for c in cards}
    assert (
        f"Bike Ticket {by_prize['Bike']} held by pat Mug Ticket {by_prize['Mug']} held by pat"
        in words
    )
    assert "from 3 tickets" in words
    assert "<img" not in page.text
    assert "fd-avatar" not in page.text
    assert f'href="/draws/{draw_id}/check">Check your ticket</a>' in page.text
    assert f'href="/api/v1/draws/{draw_id}/proof"' in page.text
    assert f'href="/api/v1/draws/{draw_id}/entries.txt"' in page.text
    assert draw.seal.root in page.text
    assert f"fairdraw verify fairdraw-{draw_id}-proof.json fairdraw-{draw_id}-entries.txt" in words
    alternate = ({str(c.number) for c in cards} - set(by_prize.values())).pop()
    assert "Alternates If a winning ticket cannot take its prize" in words
    assert f"Ticket {alternate} held by pat" in words

    draw_page = (await holder.client.get(f"/draws/{draw_id}")).text
    assert "The winners have been drawn." in draw_page
    assert f'href="/draws/{draw_id}/results"' in draw_page

    empty = await manager.create_raffle(early_close="yes")
    await manager.post(f"/draws/{empty}/close")
    await manager.post(f"/draws/{empty}/draw")
    nothing = text_of((await holder.client.get(f"/draws/{empty}/results")).text)
    assert "No tickets claimed — no winners" in nothing


async def test_home_lists_raffles_with_their_kind(manager: Browser, holder: Browser) -> None:
    await manager.post(
        "/draws/new", {"title": "Meetup giveaway", "prizes.0.name": "Mug", "open": "yes"}
    )
    open_id = await manager.create_raffle(tickets=3, title="Spring raffle")
    await holder.claim(open_id)
    early = await manager.create_raffle(title="Early raffle", early_close="yes")
    await manager.create_raffle(title="Draft raffle", open_now=False)
    await holder.claim(early)
    await manager.post(f"/draws/{early}/close")

    words = text_of((await holder.client.get("/")).text)
    assert (
        "Kind: Raffle Spring raffle Open — tickets available 2 of 3 tickets left "
        "Closes when sold out" in words
    )
    assert "Kind: Giveaway Meetup giveaway Open for entries 0 entries so far" in words
    assert "Draft raffle" not in words
    managed = text_of((await manager.client.get("/")).text)
    assert "Kind: Raffle Draft raffle Draft — not open yet 3 of 3 tickets left" in managed
    assert (
        "Kind: Raffle Early raffle Closed — waiting for the draw 1 of 3 tickets claimed" in managed
    )
    closed_page = text_of((await holder.client.get(f"/draws/{early}")).text)
    assert "Tickets claimed 1 of 3" in closed_page
    assert "Tickets left" not in closed_page


async def test_raffle_pages_have_no_inline_script_or_style(
    manager: Browser, holder: Browser
) -> None:
    draw_id = await manager.create_raffle(tickets=2, per_claimant="2")
    card_page = await holder.claim_page(draw_id)
    card = card_of(card_page.text)
    checked = await holder.check(draw_id, card.number, card.code)
    refused = await holder.check(draw_id, card.number, "nonsense")
    await holder.claim(draw_id)
    await manager.post(f"/draws/{draw_id}/draw")
    pages = [card_page, checked, refused]
    for path in (
        "/",
        "/raffles/new",
        f"/draws/{draw_id}",
        f"/draws/{draw_id}/check",
        f"/draws/{draw_id}/results",
    ):
        response = await manager.client.get(path)
        assert response.status_code == 200, path
        pages.append(response)
    for response in pages:
        assert "script-src 'self';" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", response.text)
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", response.text)
