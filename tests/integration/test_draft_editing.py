"""Editing drafts until they open, over the JSON API and the pages, on the real store."""

from __future__ import annotations

import re
from typing import Any

import httpx
from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login
from tests.support.forms import field_error, input_value
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 2}]


async def draft(client: httpx.AsyncClient, csrf: str, path: str, **body: Any) -> dict[str, Any]:
    payload = {"title": "Meetup giveaway", "prizes": PRIZES} | body
    response = await client.post(path, json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == "draft"
    return data


async def patch(
    client: httpx.AsyncClient, csrf: str, draw_id: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/draws/{draw_id}", json=body, headers={"X-CSRF-Token": csrf, **headers}
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_a_draft_changes_only_what_an_edit_names_and_the_same_edit_twice_is_one(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws", duration="2h", description="Old")
    edit = {"title": "Renamed", "prizes": [{"name": "Mug", "quantity": 3}]}
    first = await patch(app_client, csrf, made["id"], edit)
    assert first.status_code == 200, first.text
    edited = first.json()
    assert (edited["title"], edited["description"]) == ("Renamed", "Old")
    assert edited["prizes"] == [{"name": "Mug", "quantity": 3}]
    assert (edited["duration_ms"], edited["deadline"], edited["status"]) == (
        7_200_000,
        None,
        "draft",
    )
    assert (await patch(app_client, csrf, made["id"], edit)).json() == edited
    assert (await app_client.get(f"/api/v1/draws/{made['id']}")).json() == edited
    # A deadline replaces the duration; a null duration removes it.
    timed = (await patch(app_client, csrf, made["id"], {"deadline": "2099-01-02T03:04"})).json()
    assert (timed["deadline"], timed["duration_ms"]) == ("2099-01-02T03:04:00.000Z", None)
    plain = (await patch(app_client, csrf, made["id"], {"deadline": None})).json()
    assert (plain["deadline"], plain["duration_ms"]) == (None, None)
    auto = {"duration": "1d", "auto_draw": True, "embed_origins": ["https://example.org"]}
    automatic = (await patch(app_client, csrf, made["id"], auto)).json()
    assert (automatic["duration_ms"], automatic["auto_draw"]) == (86_400_000, True)
    assert automatic["embed_origins"] == ["https://example.org"]
    off = await patch(app_client, csrf, made["id"], {"auto_draw": False, "embed_origins": []})
    assert (off.json()["auto_draw"], off.json()["embed_origins"]) == (False, [])


async def test_an_opened_draw_is_edited_no_more(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws")
    opened = await app_client.post(
        f"/api/v1/draws/{made['id']}/open", headers={"X-CSRF-Token": csrf}
    )
    assert opened.status_code == 200
    before = await redis.hgetall(KEYS.draw_meta(made["id"]))
    refused = await patch(app_client, csrf, made["id"], {"title": "Too late"})
    body = problem(refused, 409)
    assert (body["code"], body["detail"]) == (
        "invalid_transition",
        "Only a draft can be edited; this draw is open",
    )
    assert await redis.hgetall(KEYS.draw_meta(made["id"])) == before


async def test_edits_are_checked_as_at_creation_and_a_refused_one_changes_nothing(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws")
    before = await redis.hgetall(KEYS.draw_meta(made["id"]))
    cases = [
        ({"title": " "}, {"title": "Give the draw a title"}),
        ({"deadline": "2001-01-01T00:00"}, {"deadline": "The deadline must be in the future"}),
        (
            {"deadline": "2099-01-01T00:00", "duration": "2h"},
            {"deadline": "Give a deadline or a duration, not both"},
        ),
        (
            {"auto_draw": True},
            {
                "auto_draw": "Drawing automatically needs a deadline or a duration: "
                "give one, or close entries and draw yourself"
            },
        ),
        ({"ticket_count": 5}, {"ticket_count": "A giveaway has no setting 'ticket_count'"}),
    ]
    for body, errors in cases:
        refused = problem(await patch(app_client, csrf, made["id"], body), 422)
        assert (refused["code"], refused["errors"]) == ("invalid_input", errors), body
    assert await redis.hgetall(KEYS.draw_meta(made["id"])) == before


async def test_only_the_drafts_managers_edit_it(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws")
    assert problem(await patch(anon_client, "", made["id"], {"title": "x"}), 401)["code"] == (
        "not_authenticated"
    )
    other = await login(anon_client, PARTICIPANT)
    assert problem(await patch(anon_client, other, made["id"], {"title": "x"}), 403)["code"] == (
        "forbidden"
    )
    assert problem(await patch(app_client, "", made["id"], {"title": "x"}), 403)["code"] == (
        "csrf_failed"
    )
    admin = await login(anon_client, ADMIN)
    by_admin = await patch(anon_client, admin, made["id"], {"title": "Fixed by an admin"})
    assert by_admin.json()["title"] == "Fixed by an admin"
    missing = await patch(anon_client, admin, "aaaaaaaaaaaa", {"title": "x"})
    assert problem(missing, 404)["code"] == "draw_not_found"


async def test_a_keyed_edit_is_answered_again_from_its_record(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws")
    key = "draft-edit-key-0000000001"
    first = await patch(
        app_client, csrf, made["id"], {"title": "Keyed"}, **{"Idempotency-Key": key}
    )
    again = await patch(
        app_client, csrf, made["id"], {"title": "Keyed"}, **{"Idempotency-Key": key}
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await patch(app_client, csrf, made["id"], {"title": "Else"}, **{"Idempotency-Key": key})
    assert problem(other, 422)["code"] == "idempotency_key_reused"


async def test_an_edited_entry_identity_is_what_entering_then_asks_for(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    github.add_user("octocat", 583231)
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws")
    url = f"/api/v1/draws/{made['id']}/entries"
    # Entering the draft is refused, having read its terms.
    assert problem(await anon_client.post(url, json={"github": "octocat"}), 409)["code"] == (
        "draw_not_open"
    )
    await patch(app_client, csrf, made["id"], {"entry_identity": "account"})
    await app_client.post(f"/api/v1/draws/{made['id']}/open", headers={"X-CSRF-Token": csrf})
    assert problem(await anon_client.post(url, json={"github": "octocat"}), 401)["code"] == (
        "not_authenticated"
    )
    pat = await login(anon_client, PARTICIPANT)
    entered = await anon_client.post(url, json={}, headers={"X-CSRF-Token": pat})
    assert entered.status_code == 201, entered.text
    assert (entered.json()["account"], entered.json()["github"]) == ("pat", None)


async def test_a_raffle_draft_is_edited_with_a_raffles_settings(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/raffles", title="Raffle", ticket_count=5)
    huge = problem(await patch(app_client, csrf, made["id"], {"ticket_count": 10**7}), 422)
    assert huge["errors"] == {
        "ticket_count": "A raffle that may not close early can close only when all 10,000,000 "
        "tickets are claimed; allow early close or use at most 1,000,000 tickets"
    }
    wrong = problem(await patch(app_client, csrf, made["id"], {"duration": "2h"}), 422)
    assert wrong["errors"] == {"duration": "A raffle has no setting 'duration'"}
    terms = {"ticket_count": 10**7, "early_close": True, "claimants": "account", "per_claimant": 2}
    edited = (await patch(app_client, csrf, made["id"], terms)).json()
    assert edited["raffle"] == terms | {"tickets_left": 10**7}
    assert (edited["entry_identity"], edited["title"]) == ("account", "Raffle")
    await app_client.post(f"/api/v1/draws/{made['id']}/open", headers={"X-CSRF-Token": csrf})
    claim = await anon_client.post(f"/api/v1/draws/{made['id']}/tickets")
    assert problem(claim, 401)["code"] == "not_authenticated"


# -- the pages --------------------------------------------------------------------------


async def page_form(client: httpx.AsyncClient, path: str) -> tuple[str, dict[str, str]]:
    """The page at ``path`` and the hidden fields of its form (CSRF, idempotency key)."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return page.text, hidden


async def test_the_edit_page_shows_the_draft_and_saves_it(app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/draws", duration="1h30m", description="Rules")
    shown = await app_client.get(f"/draws/{made['id']}")
    assert f'href="/draws/{made["id"]}/edit"' in shown.text
    page, hidden = await page_form(app_client, f"/draws/{made['id']}/edit")
    assert f'action="/draws/{made["id"]}/edit"' in page
    assert input_value(page, "title") == "Meetup giveaway"
    assert input_value(page, "duration") == "1h30m"
    assert input_value(page, "prizes.1.name") == "Sticker"
    assert 'name="open"' not in page
    form = hidden | {
        "title": "",
        "description": "Rules",
        "prizes.0.name": "Mug",
        "prizes.0.quantity": "2",
        "duration": "1h30m",
        "entry_identity": "github",
    }
    refused = await app_client.post(f"/draws/{made['id']}/edit", data=form)
    assert refused.status_code == 422
    assert field_error(refused.text, "title") == "Give the draw a title"
    assert input_value(refused.text, "prizes.0.name") == "Mug"
    saved = await app_client.post(f"/draws/{made['id']}/edit", data=form | {"title": "Edited"})
    assert (saved.status_code, saved.headers["location"]) == (303, f"/draws/{made['id']}")
    # The same form again (a double click) saves once and goes to the same place.
    again = await app_client.post(f"/draws/{made['id']}/edit", data=form | {"title": "Edited"})
    assert (again.status_code, again.headers["location"]) == (303, f"/draws/{made['id']}")
    now = (await app_client.get(f"/api/v1/draws/{made['id']}")).json()
    assert (now["title"], now["prizes"]) == ("Edited", [{"name": "Mug", "quantity": 2}])
    await app_client.post(f"/api/v1/draws/{made['id']}/open", headers={"X-CSRF-Token": csrf})
    assert (await app_client.get(f"/draws/{made['id']}/edit")).status_code == 409
    assert (
        f'href="/draws/{made["id"]}/edit"'
        not in (await app_client.get(f"/draws/{made['id']}")).text
    )


async def test_the_raffle_edit_page_uses_the_raffle_form(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await draft(app_client, csrf, "/api/v1/raffles", title="Raffle", ticket_count=5)
    page, hidden = await page_form(app_client, f"/draws/{made['id']}/edit")
    assert input_value(page, "ticket_count") == "5"
    form = hidden | {
        "title": "Raffle",
        "prizes.0.name": "Bike",
        "ticket_count": "50",
        "claimants": "anonymous",
        "per_claimant": "3",
    }
    saved = await app_client.post(f"/draws/{made['id']}/edit", data=form)
    assert saved.status_code == 303, saved.text
    raffle = (await app_client.get(f"/api/v1/draws/{made['id']}")).json()["raffle"]
    assert (raffle["ticket_count"], raffle["per_claimant"]) == (50, 3)
    # Another visitor is sent to log in, and a participant may not edit it.
    assert (await anon_client.get(f"/draws/{made['id']}/edit")).status_code == 303
    await login(anon_client, PARTICIPANT)
    assert (await anon_client.get(f"/draws/{made['id']}/edit")).status_code == 403
