"""The lottery pages through the real app and store: the list, creating a lottery, the
one-click ballot and its receipt, checking a date, past rounds, a round with its proof,
and the managers' schedule page with "draw now"."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import lotteries
from fairdraw.services.lotteries import LotteryService
from fairdraw.web.deps import Services
from fairdraw.web.pages.views import duration_text
from tests.integration.test_lottery_api import (
    BERLIN,
    PAT,
    UTC_ZONE,
    lottery_keys,
    past_rounds,
    stored_lottery,
    today_in,
)
from tests.support.app import MANAGER, PARTICIPANT
from tests.support.forms import FormBrowser

_TAG = re.compile(r"<[^>]+>")
_LOTTERY_URL = re.compile(r"^/lotteries/([a-z2-7]{12})$")


def visible(page: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    body = page.split("<main", 1)[-1]
    return " ".join(html.unescape(_TAG.sub(" ", body)).split())


class Browser(FormBrowser):
    """A browser that also reads pages expecting a status."""

    async def text(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path)
        assert response.status_code == status, response.text
        return visible(response.text)


def lottery_service(app: FastAPI) -> LotteryService:
    services: Services = app.state.services
    return services.lotteries


# -- creating -----------------------------------------------------------------------------
async def test_the_new_lottery_form(app_client: httpx.AsyncClient, redis: Redis) -> None:
    browser = Browser(app_client)
    anonymous = await app_client.get("/lotteries/new")
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        303,
        "/login?next=/lotteries/new",
    )
    await browser.log_in(PARTICIPANT)
    assert (await app_client.get("/lotteries/new")).status_code == 403
    refused = await browser.post("/lotteries/new", {"name": "x", "prize": "y"})
    assert refused.status_code == 403
    assert await lottery_keys(redis) == []

    await app_client.post("/logout", data={"csrf_token": await browser.csrf()})
    await browser.log_in(MANAGER)
    form = await app_client.get("/lotteries/new")
    assert form.status_code == 200
    today = today_in(UTC_ZONE).isoformat()
    assert '<option value="UTC" selected>UTC (UTC+00:00)</option>' in form.text
    assert re.search(
        r'<option value="America/New_York">America/New York \(UTC-0[45]:00\)</option>', form.text
    )
    assert 'value="US/Eastern"' not in form.text  # canonical zones only
    assert f'id="start" name="start" value="{today}"' in form.text

    typed = {"name": "Daily coffee", "prize": "", "winners_per_day": "0", "start": "2020-01-01"}
    invalid = await browser.post("/lotteries/new", {**typed, "timezone": "Europe/Berlin"})
    assert invalid.status_code == 422
    shown = visible(invalid.text)
    assert "Give the prize a name" in shown
    assert "Winners per day must be between 1 and 1000" in shown
    assert "The start date can't be before today" in shown
    assert 'value="Daily coffee"' in invalid.text  # the form comes back as typed
    assert '<option value="Europe/Berlin" selected>' in invalid.text
    assert await lottery_keys(redis) == []

    created = await browser.post(
        "/lotteries/new",
        {
            "name": "Daily coffee",
            "description": "A cup a day",
            "prize": "Coffee",
            "winners_per_day": "",
            "timezone": "UTC",
            "start": today,
            "end": "",
        },
    )
    assert created.status_code == 303, created.text
    match = _LOTTERY_URL.match(created.headers["location"])
    assert match
    page = await browser.text(created.headers["location"])
    assert "Daily coffee" in page
    assert "A cup a day" in page
    assert "Prize: Coffee every day" in page
    assert "Running — today\u2019s round takes ballots" in page
    assert "Your ballots today: 0" in page
    assert "0 ballots in today\u2019s round" in page


# -- ballots ------------------------------------------------------------------------------
async def test_one_click_ballots_and_the_counts(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    running = await stored_lottery(redis, today_in(BERLIN), name="Daily coffee")
    upcoming = await stored_lottery(
        redis, today_in(BERLIN) + timedelta(days=2), name="Advent calendar"
    )
    listing = visible((await anon_client.get("/lotteries")).text)
    assert "Running today Daily coffee" in listing
    assert "Log in to take part" in listing
    assert "Starting soon Advent calendar" in listing
    assert "Your ballots today" not in listing

    anonymous = await Browser(anon_client).post(f"/lotteries/{running}/ballots")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=" + quote(f"/lotteries/{running}")

    browser = Browser(app_client)
    await browser.log_in(PARTICIPANT)
    assert "Your ballots today: 0" in await browser.text("/lotteries")
    for number in (1, 2, 3):
        cast = await browser.post(f"/lotteries/{running}/ballots")
        assert cast.status_code == 303, cast.text
        location = cast.headers["location"]
        assert location.startswith(f"/lotteries/{running}/ballots/{today_in(BERLIN).isoformat()}?")
        receipt = await browser.client.get(location)
        assert receipt.status_code == 200, receipt.text
        shown = visible(receipt.text)
        count = "1 ballot" if number == 1 else f"{number} ballots"
        assert f"Ballot {number} is in" in shown
        assert f"You have {count} in today\u2019s round of \u201cDaily coffee\u201d." in shown
        assert f"Ballot number {number} Public reference" in shown
        assert (
            "its lines are numbered from 0, so ballot number "
            f"{number} is the line that starts with {number - 1}"
        ) in shown
        assert 'type="submit">Cast another ballot</button>' in receipt.text
    assert "Your ballots today: 3" in await browser.text("/lotteries")
    page = await browser.text(f"/lotteries/{running}")
    assert "Your ballots today: 3" in page
    assert "3 ballots in today\u2019s round" in page
    assert "Your ballots today" not in await Browser(anon_client).text("/lotteries")

    refused = await browser.post(f"/lotteries/{upcoming}/ballots")
    assert refused.status_code == 409
    day = (today_in(BERLIN) + timedelta(days=2)).strftime("%A %-d %B %Y")
    assert f"This lottery has not started: its first day is {day}." in visible(refused.text)
    ended = await stored_lottery(
        redis,
        today_in(BERLIN) - timedelta(days=3),
        today_in(BERLIN) - timedelta(days=1),
        name="Last week",
    )
    refused = await browser.post(f"/lotteries/{ended}/ballots")
    assert refused.status_code == 409
    assert "This lottery has ended; it takes no more ballots." in visible(refused.text)
    assert (await browser.post("/lotteries/abcdefghijkl/ballots")).status_code == 404
    forged = await app_client.post(f"/lotteries/{running}/ballots", data={"csrf_token": "x"})
    assert forged.status_code == 403
    listing = await browser.text("/lotteries")
    assert "Ended Last week" in listing
    assert listing.count("Your ballots today") == 1  # only the running lottery takes ballots


# -- checking a date, past rounds, a round ------------------------------------------------
async def test_checking_any_date(app: FastAPI, app_client: httpx.AsyncClient, redis: Redis) -> None:
    past = await past_rounds(app, redis)
    lid = past.lottery_id
    browser = Browser(app_client)
    form = await browser.text("/lotteries/check")
    assert "Pick a lottery and a date" in form
    assert "Daily coffee" in form

    first = await lottery_service(app).round(lid, past.first)
    [winner] = first.winners
    today = today_in(BERLIN)
    expected = {
        past.first: f"The winner of {past.first:%A %-d %B %Y} Ballot {winner.number} "
        f"{winner.name} wins Coffee Drawn from 3 ballots.",
        past.second: f"No ballots that day Nobody took part on {past.second:%A %-d %B %Y}: "
        "no winner.",
        past.yesterday: f"Not drawn yet {past.yesterday:%A %-d %B %Y} is over; its round of "
        "1 ballot is waiting for its draw.",
        today: "Today\u2019s round is still running 0 ballots so far; the winner is drawn when the "
        "day ends (",
        today + timedelta(days=1): f"In the future {today + timedelta(days=1):%A %-d %B %Y} "
        "has not come yet in Europe/Berlin.",
        past.first - timedelta(days=1): "Before the lottery started Daily coffee starts on "
        f"{past.first:%A %-d %B %Y}.",
    }
    for day, words in expected.items():
        shown = await browser.text(f"/lotteries/check?lottery={lid}&date={day}")
        assert f"Daily coffee {words}" in shown, shown
    ended = await stored_lottery(redis, past.first, past.second, name="Short one")
    shown = await browser.text(f"/lotteries/check?lottery={ended}&date={today}")
    assert f"After the lottery ended Its last day was {past.second:%A %-d %B %Y}." in shown

    # A lottery alone fills in its today; mistakes come back next to their fields.
    preset = await app_client.get(f"/lotteries/check?lottery={lid}")
    assert f'<option value="{lid}" selected>Daily coffee</option>' in preset.text
    assert f'id="date" name="date" value="{today}"' in preset.text
    assert 'id="outcome"' not in preset.text
    bad_date = await browser.text(f"/lotteries/check?lottery={lid}&date=31.12.2026", 422)
    assert "Use a date such as 2026-11-22" in bad_date
    unknown = await browser.text("/lotteries/check?lottery=abcdefghijkl&date=2026-01-01", 404)
    assert "There is no such lottery; pick one from the list" in unknown
    assert "Choose a lottery" in await browser.text("/lotteries/check?date=2026-01-01", 422)


async def test_past_rounds_and_a_round_page(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    past = await past_rounds(app, redis)
    lid = past.lottery_id
    first = await lottery_service(app).round(lid, past.first)
    [winner] = first.winners
    browser = Browser(app_client)
    history = await browser.text(f"/lotteries/{lid}/rounds")
    assert (
        f"Day Ballots Winner {past.yesterday} 1 Not drawn yet {past.second} 0 No ballots that "
        f"day {past.first} 3 Ballot {winner.number}: {winner.name} — Coffee"
    ) in history

    response = await app_client.get(f"/lotteries/{lid}/rounds/{past.first}")
    assert response.status_code == 200
    shown = visible(response.text)
    assert f"Round of {past.first:%A %-d %B %Y}" in shown
    assert f"Ballot {winner.number} {winner.name} wins Coffee" in shown
    round_id = first.round_id
    for link in (
        f'href="/api/v1/draws/{round_id}/proof"',
        f'href="/api/v1/draws/{round_id}/entries.txt"',
        f'href="/draws/{round_id}/results"',
    ):
        assert link in response.text
    assert "Draw now" not in shown
    # The linked results page renders the round's draw.
    assert winner.name in await browser.text(f"/draws/{round_id}/results")

    not_drawn = await app_client.get(f"/lotteries/{lid}/rounds/{past.yesterday}")
    assert "Not drawn yet" in visible(not_drawn.text)
    assert "Download proof" not in not_drawn.text
    assert "Draw now" not in not_drawn.text  # not for visitors
    assert (await app_client.get(f"/lotteries/{lid}/rounds/someday")).status_code == 422
    assert (await app_client.get("/lotteries/abcdefghijkl/rounds")).status_code == 404

    page = await browser.text(f"/lotteries/{lid}")
    assert f"Latest rounds {past.yesterday:%A %-d %B %Y} \u2014 Not drawn yet" in page
    assert f"{past.first:%A %-d %B %Y} \u2014 ballot {winner.number}, {winner.name}" in page


async def test_a_manager_draws_now_from_the_round_and_schedule_pages(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    past = await past_rounds(app, redis)
    lid = past.lottery_id
    browser = Browser(app_client)
    anonymous = await app_client.get("/lotteries/schedule")
    assert anonymous.headers["location"] == "/login?next=/lotteries/schedule"
    await browser.log_in(PARTICIPANT)
    assert (await app_client.get("/lotteries/schedule")).status_code == 403
    refused = await browser.post(f"/lotteries/{lid}/rounds/{past.yesterday}/draw")
    assert refused.status_code == 403
    await app_client.post("/logout", data={"csrf_token": await browser.csrf()})
    await browser.log_in(MANAGER)

    schedule = await app_client.get("/lotteries/schedule")
    assert schedule.status_code == 200
    shown = visible(schedule.text)
    instance = app.state.services.scheduler.instance
    first_due = lotteries.day_bounds(BERLIN, past.first)[1]
    lag = duration_text(past.run_ms - first_due)  # a day and a second, or a DST day's
    assert "This server runs no scheduler (FAIRDRAW_SCHEDULER=false)" in shown
    assert f"Lease held by {instance} (this server)" in shown
    assert f"Lag {lag} after its day ended" in shown
    assert f"Last drawn Daily coffee, {past.first} Daily coffee, {past.second} Next due" in shown
    assert "Next due" in shown
    assert "overdue by" in shown  # yesterday's round is due and nobody drew it
    assert (
        f"Rounds waiting for their draw Daily coffee {past.yesterday:%A %-d %B %Y} 1 ballot"
    ) in shown
    action = f"/lotteries/{lid}/rounds/{past.yesterday}/draw"
    assert f'action="{action}"' in schedule.text

    too_soon = await browser.post(f"/lotteries/{lid}/rounds/{today_in(BERLIN)}/draw")
    assert too_soon.status_code == 409
    assert "cannot be drawn: running" in visible(too_soon.text)
    round_page = await app_client.get(f"/lotteries/{lid}/rounds/{past.yesterday}")
    assert 'type="submit">Draw now</button>' in round_page.text
    drawn = await browser.post(action)
    assert drawn.status_code == 303
    assert drawn.headers["location"] == f"/lotteries/{lid}/rounds/{past.yesterday}"
    shown = await browser.text(drawn.headers["location"])
    assert f"The winner of {past.yesterday:%A %-d %B %Y} Ballot 1 Pat wins Coffee" in shown
    after = await browser.text("/lotteries/schedule")
    assert "Every round whose day has ended is drawn." in after


async def test_ballots_cast_through_the_service_show_on_the_pages(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    """The pages read the store: a ballot cast elsewhere (another server) is counted."""
    lid = await stored_lottery(redis, today_in(BERLIN))
    await lottery_service(app).cast(lid, PAT)
    page = visible((await app_client.get(f"/lotteries/{lid}")).text)
    assert "1 ballot in today\u2019s round" in page
    assert "Log in to take part" in page
