"""The presenter: reveal steps through the API and the page forms, who may take them, the
presenter page itself and the live reveal panel of the public draw page."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import segno
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.store.accounts import AccountStore
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from fairdraw.web.deps import Services
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login, password_hash
from tests.support.forms import FormBrowser, text_of
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 2}]
OTHER_MANAGER = ("olga", "other manager password 1")
ENTRANTS = [("octocat", 583231, "The Octocat"), ("hubot", 480938, "Hubot"), ("monalisa", 2, "")]


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def add_other_manager(settings: Settings, redis: Redis) -> None:
    """A second manager, who did not create the draws of these tests."""
    store = AccountStore(redis, KEYS, settings.secret_bytes())
    user = User(username=OTHER_MANAGER[0], display_name="Olga", role=Role.manager, created_ms=0)
    await store.create_user(user, password_hash(OTHER_MANAGER[1]))


async def drawn_giveaway(
    client: httpx.AsyncClient, csrf: str, github: GitHubStandIn, *, draw: bool = True
) -> dict[str, Any]:
    """A giveaway with three entrants and three prize slots, closed and drawn (or open)."""
    headers = {"X-CSRF-Token": csrf}
    body = {"title": "Meetup #42 giveaway", "prizes": PRIZES, "open": True}
    created = await client.post("/api/v1/draws", json=body, headers=headers)
    assert created.status_code == 201, created.text
    draw_id = created.json()["id"]
    for login_, user_id, name in ENTRANTS:
        github.add_user(login_, user_id, name or None)
        entered = await client.post(
            f"/api/v1/draws/{draw_id}/entries", json={"github": login_}, headers=headers
        )
        assert entered.status_code == 201, entered.text
    if not draw:
        return dict(created.json())
    for action in ("close", "draw"):
        response = await client.post(f"/api/v1/draws/{draw_id}/{action}", headers=headers)
        assert response.status_code == 200, response.text
    drawn: dict[str, Any] = response.json()
    return drawn


async def reveal(
    client: httpx.AsyncClient, draw_id: str, step: object, csrf: str | None
) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return await client.post(
        f"/api/v1/draws/{draw_id}/reveal", json={"step": step}, headers=headers
    )


async def reveal_events(redis: Redis, draw_id: str) -> list[str]:
    """The steps announced in the draw's event stream, in order."""
    entries: Any = await redis.xrange(KEYS.events(draw_id))
    return [fields["step"] for _, fields in entries if fields.get("t") == "reveal"]


async def stored_step(redis: Redis, draw_id: str) -> str | None:
    value: str | None = await redis.hget(KEYS.draw_meta(draw_id), "reveal")
    return value


def winner_names(draw: dict[str, Any]) -> list[str]:
    """The winners' names in slot order, as the pages show them."""
    winners = sorted(draw["result"]["winners"], key=lambda w: w["slot"])
    return [w["name"] or w["login"] for w in winners]


# -- the API ------------------------------------------------------------------------------


async def test_the_manager_reveals_the_prizes_one_slot_at_a_time(
    app_client: httpx.AsyncClient, github: GitHubStandIn, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    assert draw["reveal_step"] is None
    for step in (0, 1, 2, 3, 2):
        response = await reveal(app_client, draw["id"], step, csrf)
        assert response.status_code == 200, response.text
        assert response.json()["reveal_step"] == step
        # The result is the one recorded at the draw, whatever the step.
        assert response.json()["result"] == draw["result"]
    public = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert public["reveal_step"] == 2
    assert await reveal_events(redis, draw["id"]) == ["0", "1", "2", "3", "2"]


async def test_repeating_a_step_is_harmless_and_announced_once(
    app_client: httpx.AsyncClient, github: GitHubStandIn, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    first = await reveal(app_client, draw["id"], 1, csrf)
    again = await reveal(app_client, draw["id"], 1, csrf)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert await reveal_events(redis, draw["id"]) == ["1"]
    assert await stored_step(redis, draw["id"]) == "1"


@pytest.mark.parametrize("step", [-1, 4, 100, "1", 1.5, True, None])
async def test_a_step_out_of_range_is_422_and_nothing_is_stored(
    app_client: httpx.AsyncClient, github: GitHubStandIn, redis: Redis, step: object
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    body = problem(await reveal(app_client, draw["id"], step, csrf), 422, "invalid_input")
    assert "step" in body["errors"]
    assert await stored_step(redis, draw["id"]) is None
    assert await reveal_events(redis, draw["id"]) == []


async def test_nothing_is_revealed_before_the_draw(
    app_client: httpx.AsyncClient, github: GitHubStandIn, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github, draw=False)
    problem(await reveal(app_client, draw["id"], 0, csrf), 409, "invalid_transition")
    closed = await app_client.post(
        f"/api/v1/draws/{draw['id']}/close", headers={"X-CSRF-Token": csrf}
    )
    assert closed.status_code == 200
    problem(await reveal(app_client, draw["id"], 1, csrf), 409, "invalid_transition")
    assert await stored_step(redis, draw["id"]) is None
    assert await reveal_events(redis, draw["id"]) == []
    problem(await reveal(app_client, "nosuchdraw22", 1, csrf), 404, "draw_not_found")


async def test_only_the_draws_manager_or_an_admin_reveals(
    app: FastAPI,
    app_settings: Settings,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    await add_other_manager(app_settings, redis)
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    draw_id = draw["id"]

    problem(await reveal(anon_client, draw_id, 1, None), 401, "not_authenticated")
    for credentials in (PARTICIPANT, OTHER_MANAGER):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            other_csrf = await login(other, credentials)
            problem(await reveal(other, draw_id, 1, other_csrf), 403, "forbidden")
    # The manager's own session, without its CSRF token.
    problem(await reveal(app_client, draw_id, 1, None), 403, "csrf_failed")
    assert await stored_step(redis, draw_id) is None
    assert await reveal_events(redis, draw_id) == []

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as admin:
        admin_csrf = await login(admin, ADMIN)
        assert (await reveal(admin, draw_id, 1, admin_csrf)).status_code == 200
    assert await reveal_events(redis, draw_id) == ["1"]


async def test_the_lotterys_creator_presents_a_drawn_round(
    app: FastAPI,
    app_settings: Settings,
    app_client: httpx.AsyncClient,
    redis: Redis,
) -> None:
    services: Services = app.state.services
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime.now(berlin).date() - timedelta(days=2)
    terms = lotteries.LotteryTerms(
        name="Daily coffee",
        description="",
        prize="Coffee",
        winners_per_day=1,
        timezone="Europe/Berlin",
        start=day,
        end=None,
    )
    lottery_id = new_lottery_id()
    fields = {**terms.to_fields(), "id": lottery_id, "created_by": MANAGER[0]}
    await LotteryStore(redis, KEYS).create(lottery_id, fields, lotteries.due_ms(terms, day))
    start, end = lotteries.day_bounds(berlin, day)
    ann = Caller(User(username="ann", display_name="Ann", role=Role.participant, created_ms=0))
    await services.lotteries.cast(lottery_id, ann, at_ms=(start + end) // 2)
    await services.scheduler.run_once(end + 1000)
    round_id = lotteries.round_draw_id(lottery_id, day)
    assert (await app_client.get(f"/api/v1/draws/{round_id}")).json()["status"] == "drawn"

    await add_other_manager(app_settings, redis)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        other_csrf = await login(other, OTHER_MANAGER)
        problem(await reveal(other, round_id, 1, other_csrf), 403, "forbidden")
    csrf = await login(app_client, MANAGER)
    response = await reveal(app_client, round_id, 1, csrf)
    assert response.status_code == 200, response.text
    assert response.json()["reveal_step"] == 1
    page = await app_client.get(f"/draws/{round_id}/present")
    assert 'data-present-presenter="true"' in page.text
    assert "Lottery round" in page.text
    assert "Ann" in text_of(page.text)
    # The round's own page follows the presentation live, and offers it to its creator.
    round_page = await app_client.get(f"/lotteries/{lottery_id}/rounds/{day.isoformat()}")
    assert f'data-live-feed="/api/v1/draws/{round_id}/events"' in round_page.text
    assert f'data-reveal-draw="{round_id}"' in round_page.text
    assert f'href="/draws/{round_id}/present"' in round_page.text


# -- the presenter page -------------------------------------------------------------------


async def test_before_the_draw_the_page_shows_title_prizes_count_and_commitment(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github, draw=False)
    draw_id = draw["id"]
    page = await app_client.get(f"/draws/{draw_id}/present")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Meetup #42 giveaway" in shown
    assert "Keyboard" in shown
    assert "Sticker \u00d7 2" in shown
    assert re.search(r"data-present-count>3</strong>\s*<span[^>]*>entries</span>", page.text)
    assert draw["commitment"] in page.text
    assert f'data-live-feed="/api/v1/draws/{draw_id}/events"' in page.text
    assert "Open for entries" in shown
    # The manager's page: the start button, the reveal buttons and the CSRF token.
    assert 'data-present-presenter="true"' in page.text
    assert "Close entries and draw winners" in shown
    assert f'action="/draws/{draw_id}/reveal"' in page.text
    assert re.search(r'data-csrf="[^"]+"', page.text)
    assert "only presents that result; it decides nothing" in shown

    audience = await anon_client.get(f"/draws/{draw_id}/present")
    assert audience.status_code == 200
    assert 'data-present-presenter="false"' in audience.text
    assert "follows the presenter" in text_of(audience.text)
    for absent in ("data-csrf", "/present/start", f'action="/draws/{draw_id}/reveal"'):
        assert absent not in audience.text


async def test_the_page_walks_through_the_winners_without_javascript(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    browser = FormBrowser(app_client)
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github, draw=False)
    draw_id = draw["id"]
    present = f"/draws/{draw_id}/present"

    form_csrf = await browser.csrf(present)
    started = await browser.post(f"{present}/start", csrf=form_csrf)
    assert started.status_code == 303
    assert started.headers["location"] == present
    drawn = (await app_client.get(f"/api/v1/draws/{draw_id}")).json()
    assert drawn["status"] == "drawn"
    names = winner_names(drawn)
    page = await app_client.get(present)
    assert "Winners drawn — ready to reveal" in text_of(page.text)
    assert "Reveal the first prize" in text_of(page.text)
    assert not any(name in text_of(page.text) for name in names)

    for step in (1, 2):
        response = await browser.post(
            f"/draws/{draw_id}/reveal", {"step": str(step)}, csrf=form_csrf
        )
        assert response.status_code == 303
        assert response.headers["location"] == present
        page = await app_client.get(present)
        shown = text_of(page.text)
        assert f"{step} of 3 prizes revealed" in shown
        assert 'data-reveal-stage="winner"' in page.text
        spotlight = page.text.split("data-reveal-spotlight", 1)[1].split("</section>", 1)[0]
        assert names[step - 1] in text_of(spotlight)
        assert names[step] not in shown
        # No QR code before the summary: its figure is there but hidden.
        assert re.search(r"data-reveal-qr hidden", page.text)

    response = await browser.post(f"/draws/{draw_id}/reveal", {"step": "3"}, csrf=form_csrf)
    assert response.status_code == 303
    assert await reveal_events(redis, draw_id) == ["1", "2", "3"]

    # Anyone may follow; the summary is the same for everybody.
    for client in (app_client, anon_client):
        page = await client.get(present)
        shown = text_of(page.text)
        assert 'data-reveal-stage="summary"' in page.text
        assert "All winners" in shown
        assert "All prizes revealed." in shown
        for name in names:
            assert name in shown


async def test_the_summary_carries_a_qr_code_of_the_public_results(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    draw_id = draw["id"]
    assert (await reveal(app_client, draw_id, 3, csrf)).status_code == 200
    page = await anon_client.get(f"/draws/{draw_id}/present")
    results_url = f"http://testserver/draws/{draw_id}/results"
    figure = page.text.split("data-reveal-qr", 1)[1].split("</figure>", 1)[0]
    assert not figure.startswith(" hidden")
    svg = re.search(r"<svg[^>]*class=\"fd-qr\"[^>]*>.*?</svg>", figure, re.S)
    assert svg, "no QR code in the summary"
    assert f"<title>QR code: {results_url}</title>" in svg[0]
    # The code encodes that URL: the same modules as a code made from it here.
    expected = segno.make(results_url, error="m").svg_inline(omitsize=True)
    assert re.findall(r' d="([^"]+)"', svg[0])[-1] == re.findall(r' d="([^"]+)"', expected)[-1]
    assert f'href="{results_url}"' in figure
    # The page it points to serves the proof to anyone.
    results = await anon_client.get(f"/draws/{draw_id}/results")
    assert results.status_code == 200
    assert "Download proof" in text_of(results.text)


async def test_reveal_forms_are_refused_to_others_and_nothing_is_stored(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    draw_id = draw["id"]
    anonymous = FormBrowser(anon_client)
    response = await anonymous.post(
        f"/draws/{draw_id}/reveal", {"step": "1"}, csrf=await anonymous.csrf()
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        participant = FormBrowser(client)
        await participant.log_in(PARTICIPANT)
        token = await participant.csrf(f"/draws/{draw_id}")
        refused = await participant.post(f"/draws/{draw_id}/reveal", {"step": "1"}, csrf=token)
        assert refused.status_code == 403
        stale = await participant.post(f"/draws/{draw_id}/reveal", {"step": "1"}, csrf="forged")
        assert stale.status_code == 403
    manager = FormBrowser(app_client)
    token = await manager.csrf(f"/draws/{draw_id}/present")
    bad = await manager.post(f"/draws/{draw_id}/reveal", {"step": "four"}, csrf=token)
    assert bad.status_code == 422
    assert await stored_step(redis, draw_id) is None
    assert await reveal_events(redis, draw_id) == []


async def test_the_public_draw_page_shows_the_live_reveal_as_it_stands(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await drawn_giveaway(app_client, csrf, github)
    draw_id = draw["id"]
    names = winner_names(draw)

    page = await anon_client.get(f"/draws/{draw_id}")
    assert f'data-live-feed="/api/v1/draws/{draw_id}/events"' in page.text
    assert re.search(r"data-reveal-box hidden", page.text), "shown before any reveal"
    assert "/static/js/reveal.js" in page.text

    assert (await reveal(app_client, draw_id, 1, csrf)).status_code == 200
    page = await anon_client.get(f"/draws/{draw_id}")
    panel = page.text.split('class="fd-reveal"', 1)[1].split("</section>", 1)[0]
    assert "data-reveal-box hidden" not in panel
    shown = text_of(panel)
    assert "Live reveal" in shown
    assert "1 of 3 prizes revealed" in shown
    assert f"Keyboard {names[0]}" in shown
    assert names[1] not in shown
    assert names[2] not in shown
    assert 'aria-live="polite"' in page.text

    # A manager's draw page links to the presenter.
    manager_page = await app_client.get(f"/draws/{draw_id}")
    assert f'href="/draws/{draw_id}/present"' in manager_page.text
    assert f'href="/draws/{draw_id}/present"' not in page.text
    assert html.escape("Presenter view") in manager_page.text


async def test_a_raffles_winners_are_its_tickets(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    headers = {"X-CSRF-Token": csrf}
    body = {
        "title": "Charity raffle",
        "prizes": [{"name": "Bike", "quantity": 1}, {"name": "Mug", "quantity": 1}],
        "ticket_count": 3,
        "per_claimant": 3,
        "open": True,
    }
    created = await app_client.post("/api/v1/raffles", json=body, headers=headers)
    assert created.status_code == 201, created.text
    draw_id = created.json()["id"]
    for _ in range(2):
        assert (await anon_client.post(f"/api/v1/draws/{draw_id}/tickets")).status_code == 201
    # It closes by itself when its last ticket is claimed: no start button until then.
    page = await app_client.get(f"/draws/{draw_id}/present")
    assert re.search(r"data-present-start hidden", page.text)
    assert re.search(
        r"data-present-count>2</strong>\s*<span[^>]*>tickets claimed</span>", page.text
    )
    assert (await anon_client.post(f"/api/v1/draws/{draw_id}/tickets")).status_code == 201
    drawn = await app_client.post(f"/api/v1/draws/{draw_id}/draw", headers=headers)
    assert drawn.status_code == 200, drawn.text
    winners = sorted(drawn.json()["result"]["winners"], key=lambda w: w["slot"])
    tickets = [w["ref"].split(":")[0] for w in winners]  # fairdraw/2: "number:commitment"

    assert (await reveal(app_client, draw_id, 1, csrf)).status_code == 200
    shown = text_of((await anon_client.get(f"/draws/{draw_id}/present")).text)
    assert f"Prize 1 Bike Ticket {tickets[0]}" in shown
    assert f"Ticket {tickets[1]}" not in shown
    panel = text_of((await anon_client.get(f"/draws/{draw_id}")).text)
    assert f"Live reveal 1 of 2 prizes revealed Bike Ticket {tickets[0]}" in panel


async def test_slots_without_an_entry_are_shown_unawarded(
    app_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, MANAGER)
    headers = {"X-CSRF-Token": csrf}
    body = {"title": "Quiet evening", "prizes": PRIZES, "open": True}
    draw_id = (await app_client.post("/api/v1/draws", json=body, headers=headers)).json()["id"]
    github.add_user("octocat", 583231, "The Octocat")
    entry = {"github": "octocat"}
    entered = await app_client.post(f"/api/v1/draws/{draw_id}/entries", json=entry, headers=headers)
    assert entered.status_code == 201
    for action in ("close", "draw"):
        response = await app_client.post(f"/api/v1/draws/{draw_id}/{action}", headers=headers)
        assert response.status_code == 200, response.text
    assert (await reveal(app_client, draw_id, 3, csrf)).status_code == 200
    page = await app_client.get(f"/draws/{draw_id}/present")
    summary = text_of(page.text.split("data-reveal-list", 1)[1].split("</ol>", 1)[0])
    assert summary == (
        "> Keyboard The Octocat @octocat Sticker No winner not enough entries "
        "Sticker No winner not enough entries"
    )
