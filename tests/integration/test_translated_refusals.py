"""Refusals in the request's language: the domain's rules with their values, pydantic's
own messages in API 422s, and form errors on pages; English stays word for word."""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.web.i18n import LOCALE_COOKIE
from tests.support.app import MANAGER, login
from tests.support.forms import FormBrowser, field_error

KEYS = Keys()
PRIZES = [{"name": "Mug", "quantity": 1}]
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


async def create_draw(
    client: httpx.AsyncClient, csrf: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/draws",
        json={"title": "A draw", "prizes": PRIZES} | body,
        headers={"X-CSRF-Token": csrf} | headers,
    )


async def test_a_domain_rule_is_refused_in_german_with_its_values(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    body = {"title": "x" * 121, "deadline": "2030-03-31T02:30", "time_zone": "Europe/Berlin"}
    german = await create_draw(app_client, csrf, GERMAN, **body)
    assert german.status_code == 422
    assert german.headers["content-type"] == "application/problem+json"
    problem = german.json()
    assert (problem["code"], problem["title"]) == ("invalid_input", "Einige Felder sind ungültig")
    assert problem["errors"] == {
        "title": "Höchstens 120 Zeichen",
        "deadline": "31. März 2030, 02:30 gibt es in Europe/Berlin nicht: In dieser Nacht wird "
        "die Uhr darüber hinweg vorgestellt; wählen Sie eine Zeit vor oder nach der Umstellung",
    }
    assert problem["detail"] == "; ".join(f"{k}: {v}" for k, v in problem["errors"].items())
    english = (await create_draw(app_client, csrf, {}, **body)).json()
    assert english["errors"] == {
        "title": "At most 120 characters",
        "deadline": "31 Mar 2030, 02:30 does not exist in Europe/Berlin: the clocks jump "
        "forward over it that night; choose a time before or after the change",
    }
    assert english["detail"] == "; ".join(f"{k}: {v}" for k, v in english["errors"].items())
    assert await redis.zcard(KEYS.draws_index()) == 0


async def test_numbers_in_a_german_refusal_are_grouped_the_german_way(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, MANAGER)
    body = {"title": "Raffle", "prizes": PRIZES, "ticket_count": 10**9 + 1}
    headers = {"X-CSRF-Token": csrf}
    german = await app_client.post("/api/v1/raffles", json=body, headers=headers | GERMAN)
    assert german.status_code == 422
    assert german.json()["errors"] == {
        "ticket_count": "Die Anzahl der Lose muss zwischen 1 und 1.000.000.000 liegen"
    }
    english = await app_client.post("/api/v1/raffles", json=body, headers=headers)
    assert english.json()["errors"] == {
        "ticket_count": "The number of tickets must be between 1 and 1,000,000,000"
    }


async def test_pydantic_messages_are_in_german_and_english_is_pydantics_own(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, MANAGER)
    body = {"prizes": PRIZES, "open": "yes"}
    headers = {"X-CSRF-Token": csrf}
    german = await app_client.post("/api/v1/draws", json=body, headers=headers | GERMAN)
    assert german.status_code == 422
    assert german.json()["code"] == "invalid_input"
    assert german.json()["errors"] == {
        "title": "Pflichtfeld fehlt",
        "open": "Die Eingabe muss ein gültiger Wahrheitswert sein",
    }
    assert german.json()["detail"].startswith("title: Pflichtfeld fehlt; ")
    english = await app_client.post("/api/v1/draws", json=body, headers=headers)
    assert english.json()["errors"] == {
        "title": "Field required",
        "open": "Input should be a valid boolean",
    }
    unreadable = await app_client.post(
        "/api/v1/draws",
        content=b'{"title": ',
        headers=headers | GERMAN | {"Content-Type": "application/json"},
    )
    assert unreadable.status_code == 422
    assert unreadable.json()["errors"] == {"10": "Ungültiges JSON"}  # the offset it ends at


async def test_a_registration_form_error_is_shown_in_german(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    browser = FormBrowser(app_client)
    form = {"username": "newbie", "password": "short", "password_confirm": "short"}
    app_client.cookies.set(LOCALE_COOKIE, "de")
    german = await browser.post("/register", form)
    assert german.status_code == 422
    assert field_error(german.text, "password") == (
        "Das Passwort muss mindestens 10 Zeichen lang sein."
    )
    app_client.cookies.set(LOCALE_COOKIE, "en")
    english = await browser.post("/register", form)
    assert field_error(english.text, "password") == (
        "The password must be at least 10 characters long."
    )
    assert await redis.exists(KEYS.user("newbie")) == 0
