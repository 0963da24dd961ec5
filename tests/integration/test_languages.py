"""Languages over HTTP: Accept-Language, the switcher's cookie, localised numbers and
problem documents."""

from __future__ import annotations

import re

import httpx

from fairdraw.web.i18n import LOCALE_COOKIE
from tests.support.app import MANAGER, login


async def test_home_page_speaks_english_by_default(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Verify a draw" in response.text


async def test_accept_language_de_gives_german_pages(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert response.status_code == 200
    assert '<html lang="de">' in response.text
    assert "Ziehung prüfen" in response.text
    assert "Verify a draw" not in response.text


async def test_unshipped_language_falls_back_to_english(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="en">' in response.text


async def test_switcher_cookie_overrides_the_header(app_client: httpx.AsyncClient) -> None:
    switched = await app_client.get("/locale", params={"lang": "en", "next": "/lotteries"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/lotteries"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith(f"{LOCALE_COOKIE}=en;")
    assert "samesite=lax" in cookie.lower()
    assert "httponly" not in cookie.lower()
    response = await app_client.get("/", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in response.text
    await app_client.get("/locale", params={"lang": "de", "next": "/"})
    response = await app_client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in response.text


async def test_switcher_refuses_other_sites_and_unknown_languages(
    app_client: httpx.AsyncClient,
) -> None:
    away = await app_client.get("/locale", params={"lang": "de", "next": "//evil.example/"})
    assert away.status_code == 303
    assert away.headers["location"] == "/"
    unknown = await app_client.get("/locale", params={"lang": "xx", "next": "/"})
    assert unknown.status_code == 422
    assert LOCALE_COOKIE not in unknown.headers.get("set-cookie", "")


async def big_raffle(client: httpx.AsyncClient) -> str:
    """An open raffle of a billion tickets with one claimed."""
    csrf = await login(client, MANAGER)
    body = {
        "title": "Big raffle",
        "prizes": [{"name": "Bike", "quantity": 1}],
        "ticket_count": 10**9,
        "early_close": True,
        "open": True,
    }
    created = await client.post("/api/v1/raffles", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    draw_id: str = created.json()["id"]
    claimed = await client.post(f"/api/v1/draws/{draw_id}/tickets", headers={"X-CSRF-Token": csrf})
    assert claimed.status_code == 201, claimed.text
    return draw_id


async def test_counts_are_grouped_as_the_language_writes_them(
    app_client: httpx.AsyncClient,
) -> None:
    draw_id = await big_raffle(app_client)
    english = (await app_client.get("/", headers={"Accept-Language": "en"})).text
    assert "999,999,999 of 1,000,000,000 tickets left" in english
    german = (await app_client.get("/", headers={"Accept-Language": "de"})).text
    assert "999.999.999 von 1.000.000.000 Losen übrig" in german
    page = (await app_client.get(f"/draws/{draw_id}", headers={"Accept-Language": "de"})).text
    assert re.search(r">999\.999\.999</strong> von 1\.000\.000\.000 Losen übrig", page)
    # The live counter is told the raw total, whatever the language.
    assert 'data-live-total="1000000000"' in page


async def test_api_problems_are_titled_in_the_request_language(
    app_client: httpx.AsyncClient,
) -> None:
    german = await app_client.get("/api/v1/draws/nosuchdraw", headers={"Accept-Language": "de"})
    assert german.status_code == 404
    assert german.headers["content-type"] == "application/problem+json"
    body = german.json()
    assert (body["code"], body["title"]) == ("draw_not_found", "Diese Verlosung gibt es nicht")
    assert body["type"] == "about:blank"
    english = await app_client.get("/api/v1/draws/nosuchdraw")
    assert (english.json()["code"], english.json()["title"]) == ("draw_not_found", "No such draw")


async def test_error_pages_are_in_the_request_language(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/draws/nosuchdraw", headers={"Accept-Language": "de"})
    assert response.status_code == 404
    assert "Diese Verlosung gibt es nicht" in response.text
    assert "Zurück zu den Verlosungen" in response.text


async def test_form_messages_are_in_the_request_language(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get(
        "/lotteries/check",
        params={"lottery": "nosuchlottery", "date": "2026-01-01"},
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 404
    assert "Diese Lotterie gibt es nicht; wählen Sie eine aus der Liste" in response.text
