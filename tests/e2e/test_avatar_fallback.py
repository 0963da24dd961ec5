"""Winners' avatars in a real Chromium: one that cannot load gives way to initials, with
no alt text spilling out of its circle."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, Route, expect

from tests.support.app import ADMIN, LiveServer

PEOPLE = [("octocat", 583231, "Morgan (manager)"), ("hubot", 480938, "Hubot")]


def drawn_giveaway(server: LiveServer) -> str:
    with httpx.Client(base_url=server.url) as organiser:
        session = organiser.post(
            "/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]}
        )
        headers = {"X-CSRF-Token": session.json()["csrf_token"]}
        body = {"title": "Avatars", "prizes": [{"name": "Mug", "quantity": 2}], "open": True}
        draw_id: str = organiser.post("/api/v1/draws", json=body, headers=headers).json()["id"]
        with httpx.Client(base_url=server.url) as entrant:
            for login, user_id, name in PEOPLE:
                server.github.add_user(login, user_id, name)
                entered = entrant.post(f"/api/v1/draws/{draw_id}/entries", json={"github": login})
                assert entered.status_code == 201, entered.text
        organiser.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
        drawn = organiser.post(f"/api/v1/draws/{draw_id}/draw", headers=headers)
        assert drawn.status_code == 200, drawn.text
    return draw_id


def test_an_avatar_that_cannot_load_shows_initials(live_server: LiveServer, page: Page) -> None:
    draw_id = drawn_giveaway(live_server)

    def unreachable(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("https://avatars.githubusercontent.com/**", unreachable)
    page.goto(f"{live_server.url}/draws/{draw_id}/results")
    initials = page.locator(".fd-winners .fd-avatar-initials")
    expect(initials).to_have_count(2)
    assert sorted(initials.all_inner_texts()) == ["H", "MM"]
    expect(page.locator(".fd-winners img.fd-avatar")).to_have_count(0)


def test_an_avatar_that_loads_stays(live_server: LiveServer, page: Page) -> None:
    draw_id = drawn_giveaway(live_server)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/>'
    svg += "</svg>"

    def served(route: Route) -> None:
        route.fulfill(status=200, content_type="image/svg+xml", body=svg)

    page.route("https://avatars.githubusercontent.com/**", served)
    page.goto(f"{live_server.url}/draws/{draw_id}/results")
    images = page.locator(".fd-winners img.fd-avatar")
    expect(images).to_have_count(2)
    for image in images.all():
        expect(image).to_have_attribute("alt", "")
    expect(page.locator(".fd-winners .fd-avatar-initials")).to_have_count(0)
