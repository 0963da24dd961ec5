"""Every page of fairdraw, in a real Chromium, at a small phone's width (320 px), a common
phone's (390 px) and a laptop's (1280 px), in the light and the dark colour scheme: no
page may be wider than the screen, and none may break a serious or critical axe-core
rule. One test per width visits the whole catalogue (``PAGE_STATES``), audits each page
in both schemes and reports every failure at once, each naming its page, width, scheme
and rule.

axe-core takes about a second a page, so it runs where its answer can differ
(``AXE_RULES``): every rule at 390 px (the phone layout, menu folded) and at 1280 px (the
wide one, menu shown) in the light scheme, the colour rules in the dark one; 320 px is
laid out by the same phone rules as 390 px and is measured for overflow alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.support.app import ADMIN, MANAGER, PARTICIPANT, LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, log_in, press
from tests.support.lottery_rounds import past_round
from tests.support.page_audit import (
    COLOUR_RULES,
    audit_context,
    axe_violations,
    cramped_table_cells,
    horizontal_overflow,
)

Who = Literal["anonymous", "participant", "manager", "admin"]
Scheme = Literal["light", "dark"]
WIDTHS = (320, 390, 1280)
SCHEMES: tuple[Scheme, ...] = ("light", "dark")
# Per width and scheme, the axe rules to run: () all of them, None none.
AXE_RULES: dict[tuple[int, Scheme], tuple[str, ...] | None] = {
    (320, "light"): None,
    (320, "dark"): None,
    (390, "light"): (),
    (390, "dark"): COLOUR_RULES,
    (1280, "light"): (),
    (1280, "dark"): COLOUR_RULES,
}
UTC_ZONE = ZoneInfo("UTC")
AVATARS = "https://avatars.githubusercontent.com/**"
ENTRANTS = [
    ("octocat", 583231, "The Octocat"),
    ("hubot", 480938, "Hubot"),
    ("monalisa", 2, None),
    ("a-rather-long-github-login-name", 31337, "Someone With A Rather Long Display Name"),
]
# Three of a prize, so that pages show their quantity badges.
PRIZES = [{"name": "Mechanical keyboard", "quantity": 3}, {"name": "Sticker pack", "quantity": 1}]
LOGINS: dict[Who, tuple[str, str]] = {
    "participant": PARTICIPANT,
    "manager": MANAGER,
    "admin": ADMIN,
}


@dataclass(frozen=True)
class Fixtures:
    """What the catalogue's addresses point at, made through the app."""

    draft: str
    open: str
    closed: str
    drawn: str
    raffle: str
    ticket: int
    lottery: str
    past_lottery: str
    past_day: date


@dataclass(frozen=True)
class PageState:
    """A page in one state: who looks at it, where, and what they do there first."""

    name: str
    who: Who
    path: Callable[[Fixtures], str]
    status: int = 200
    act: Callable[[Page], None] | None = None


def _enter_giveaway(page: Page) -> None:
    page.get_by_label("Your GitHub username").fill("hubot")
    press(page, "Enter the draw")


def _cast_ballot(page: Page) -> None:
    press(page, "Cast a ballot")


PAGE_STATES = [
    PageState("anonymous home", "anonymous", lambda f: "/"),
    PageState("login", "anonymous", lambda f: "/login"),
    PageState("register", "anonymous", lambda f: "/register"),
    PageState("giveaway open", "anonymous", lambda f: f"/draws/{f.open}"),
    PageState("giveaway closed", "anonymous", lambda f: f"/draws/{f.closed}"),
    PageState("giveaway drawn", "anonymous", lambda f: f"/draws/{f.drawn}"),
    PageState("giveaway results", "anonymous", lambda f: f"/draws/{f.drawn}/results"),
    PageState("giveaway embed", "anonymous", lambda f: f"/draws/{f.open}/embed"),
    PageState("raffle", "anonymous", lambda f: f"/draws/{f.raffle}"),
    PageState("raffle ticket", "anonymous", lambda f: f"/draws/{f.raffle}/tickets/{f.ticket}"),
    PageState("raffle ticket check", "anonymous", lambda f: f"/draws/{f.raffle}/check"),
    PageState("lotteries", "anonymous", lambda f: "/lotteries"),
    PageState("lottery", "anonymous", lambda f: f"/lotteries/{f.lottery}"),
    PageState(
        "lottery round running",
        "anonymous",
        lambda f: f"/lotteries/{f.lottery}/rounds/{datetime.now(UTC_ZONE).date()}",
    ),
    PageState("lottery history", "anonymous", lambda f: f"/lotteries/{f.past_lottery}/rounds"),
    PageState(
        "lottery round results",
        "anonymous",
        lambda f: f"/lotteries/{f.past_lottery}/rounds/{f.past_day}",
    ),
    PageState("lottery check", "anonymous", lambda f: "/lotteries/check"),
    PageState("check entry", "anonymous", lambda f: "/check-entry"),
    PageState("verify", "anonymous", lambda f: "/verify"),
    PageState("API docs", "anonymous", lambda f: "/docs"),
    PageState("not found", "anonymous", lambda f: "/draws/nosuchdraw99", status=404),
    PageState("giveaway receipt", "participant", lambda f: f"/draws/{f.open}", act=_enter_giveaway),
    PageState(
        "lottery ballot", "participant", lambda f: f"/lotteries/{f.lottery}", act=_cast_ballot
    ),
    PageState("my entries", "participant", lambda f: "/me/entries"),
    PageState("participant home", "participant", lambda f: "/"),
    PageState("account password", "participant", lambda f: "/account/password"),
    PageState("account email", "participant", lambda f: "/account/email"),
    PageState("manager home", "manager", lambda f: "/"),
    PageState("new giveaway", "manager", lambda f: "/draws/new"),
    PageState("new raffle", "manager", lambda f: "/raffles/new"),
    PageState("new lottery", "manager", lambda f: "/lotteries/new"),
    PageState("draft giveaway", "manager", lambda f: f"/draws/{f.draft}"),
    PageState("draft edit", "manager", lambda f: f"/draws/{f.draft}/edit"),
    PageState("import", "manager", lambda f: f"/draws/{f.draft}/import"),
    PageState("giveaway open, managed", "manager", lambda f: f"/draws/{f.open}"),
    PageState("giveaway drawn, managed", "manager", lambda f: f"/draws/{f.drawn}"),
    PageState("dashboard", "manager", lambda f: f"/draws/{f.open}/dashboard"),
    PageState("entrants", "manager", lambda f: f"/draws/{f.open}/entrants"),
    PageState("presenter", "manager", lambda f: f"/draws/{f.closed}/present"),
    PageState("forfeits", "manager", lambda f: f"/draws/{f.drawn}/forfeits"),
    PageState("raffle, managed", "manager", lambda f: f"/draws/{f.raffle}"),
    PageState("lottery, managed", "manager", lambda f: f"/lotteries/{f.lottery}"),
    PageState("lottery dashboard", "manager", lambda f: f"/lotteries/{f.lottery}/dashboard"),
    PageState("lottery schedule", "manager", lambda f: "/lotteries/schedule"),
    PageState("admin users", "admin", lambda f: "/admin/users"),
    PageState("admin activity", "admin", lambda f: "/admin/activity"),
]


def _fake_avatar(route: Any) -> None:
    """GitHub's avatar CDN, answered locally (the tests have no internet)."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/>'
    svg += "</svg>"
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


def _make_fixtures(server: LiveServer) -> Fixtures:
    for login, user_id, name in ENTRANTS:
        server.github.add_user(login, user_id, name)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session = client.post(
            "/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]}
        )
        headers = {"X-CSRF-Token": session.json()["csrf_token"]}

        def giveaway(title: str, *actions: str, entrants: int = 3, opened: bool = True) -> str:
            body = {"title": title, "description": "Come by the stand.", "prizes": PRIZES}
            created = client.post("/api/v1/draws", json={**body, "open": opened}, headers=headers)
            assert created.status_code == 201, created.text
            draw_id: str = created.json()["id"]
            for login, _, _ in ENTRANTS[:entrants] if opened else []:
                entry = {"github": login}
                entered = client.post(
                    f"/api/v1/draws/{draw_id}/entries", json=entry, headers=headers
                )
                assert entered.status_code in (200, 201), entered.text
            for action in actions:
                done = client.post(f"/api/v1/draws/{draw_id}/{action}", headers=headers)
                assert done.status_code == 200, done.text
            return draw_id

        raffle = client.post(
            "/api/v1/raffles",
            json={"title": "Summer tombola", "prizes": PRIZES, "ticket_count": 40, "open": True},
            headers=headers,
        )
        assert raffle.status_code == 201, raffle.text
        raffle_id = raffle.json()["id"]
        claimed = httpx.post(f"{server.url}/api/v1/draws/{raffle_id}/tickets")
        assert claimed.status_code == 201, claimed.text
        today = datetime.now(UTC_ZONE).date().isoformat()
        lottery = client.post(
            "/api/v1/lotteries",
            json={"name": "Daily coffee", "prize": "A coffee", "start": today, "timezone": "UTC"},
            headers=headers,
        )
        assert lottery.status_code == 201, lottery.text
        past = asyncio.run(past_round(server.settings))
        past_lottery, past_day = past.lottery_id, past.day
        return Fixtures(
            draft=giveaway("Next meetup", opened=False),
            open=giveaway("Conference giveaway", entrants=4),
            closed=giveaway("Closed giveaway", "close"),
            drawn=giveaway("Drawn giveaway", "close", "draw"),
            raffle=raffle_id,
            ticket=claimed.json()["number"],
            lottery=lottery.json()["id"],
            past_lottery=past_lottery,
            past_day=past_day,
        )


class Visitors:
    """One audit context per kind of visitor, logged in when first needed."""

    def __init__(self, stack: ExitStack, browser: Browser, base: str, width: int):
        self.stack, self.browser, self.base, self.width = stack, browser, base, width
        self.pages: dict[Who, Page] = {}

    def page(self, who: Who) -> Page:
        if who not in self.pages:
            context: BrowserContext = self.stack.enter_context(
                audit_context(self.browser, self.width, "light")
            )
            context.set_default_timeout(DEFAULT_TIMEOUT_MS)
            context.route(AVATARS, _fake_avatar)
            page = context.new_page()
            if who != "anonymous":
                log_in(page, self.base, LOGINS[who])
            self.pages[who] = page
        return self.pages[who]


def _audit(page: Page, label: str, rules: tuple[str, ...] | None) -> Iterator[str]:
    overflow = horizontal_overflow(page)
    if overflow is not None:
        yield f"{label}: overflow: {overflow}"
    cramped = cramped_table_cells(page)
    if cramped:
        yield f"{label}: table cells a character or two wide: {cramped[:5]}"
    if rules is not None:
        for violation in axe_violations(page, rules):
            yield f"{label}: axe {violation}"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen_and_passes_axe(
    live_server: LiveServer, browser: Browser, width: int
) -> None:
    """Each page is loaded once and audited in each scheme in turn: switching the scheme
    repaints the page as loading it in that scheme would (transitions are off)."""
    fixtures = _make_fixtures(live_server)
    failures: list[str] = []
    with ExitStack() as stack:
        visitors = Visitors(stack, browser, live_server.url, width)
        for state in PAGE_STATES:
            page = visitors.page(state.who)
            page.emulate_media(color_scheme="light")
            response = page.goto(live_server.url + state.path(fixtures))
            status = response.status if response else None
            if status != state.status:
                label = f"{state.name} ({state.who}) at {width}px"
                failures.append(f"{label}: HTTP {status}, expected {state.status}")
                continue
            if state.act is not None:
                state.act(page)
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                label = f"{state.name} ({state.who}) at {width}px, {scheme}"
                failures.extend(_audit(page, label, AXE_RULES[width, scheme]))
    assert failures == [], "\n".join(failures)
