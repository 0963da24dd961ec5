"""Draws in a time zone: a local deadline typed in the form or sent to the API is stored as
its exact instant, a wall time the zone skips is refused with nothing stored, and pages
name the draw's zone in full."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from tests.support.app import MANAGER, login
from tests.support.forms import field_error, text_of

KEYS = Keys()
PRIZES = [{"name": "Mug", "quantity": 1}]


async def form_fields(client: httpx.AsyncClient, path: str) -> dict[str, str]:
    """The hidden fields (CSRF, idempotency key) of the form at ``path``."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))


async def post_draw(client: httpx.AsyncClient, deadline: str, zone: str) -> httpx.Response:
    form = await form_fields(client, "/draws/new")
    return await client.post(
        "/draws/new",
        data=form
        | {
            "title": "Local deadline",
            "prizes.0.name": "Mug",
            "prizes.0.quantity": "1",
            "deadline": deadline,
            "time_zone": zone,
            "entry_identity": "github",
            "open": "yes",
        },
    )


@pytest.mark.parametrize(
    ("zone", "typed", "instant", "shown"),
    [
        (
            "Europe/Berlin",
            "2030-01-15T18:00",
            "2030-01-15T17:00:00.000Z",
            "15 Jan 2030, 18:00 Central European Standard Time",
        ),
        (
            "America/New_York",
            "2030-07-04T09:30",
            "2030-07-04T13:30:00.000Z",
            "4 Jul 2030, 09:30 Eastern Daylight Time",
        ),
    ],
)
async def test_a_deadline_typed_in_a_zone_is_stored_as_its_instant(
    app_client: httpx.AsyncClient, zone: str, typed: str, instant: str, shown: str
) -> None:
    await login(app_client, MANAGER)
    created = await post_draw(app_client, typed, zone)
    assert created.status_code == 303, created.text
    draw_id = created.headers["location"].rsplit("/", 1)[1]
    stored = (await app_client.get(f"/api/v1/draws/{draw_id}")).json()
    assert (stored["deadline"], stored["time_zone"]) == (instant, zone)
    page = await app_client.get(f"/draws/{draw_id}")
    assert f'<time datetime="{instant}" data-local="minute">{shown}</time>' in page.text


async def test_a_wall_time_the_zone_skips_is_refused_and_nothing_is_stored(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    await login(app_client, MANAGER)
    # 31 March 2030: Berlin's clocks go from 02:00 straight to 03:00.
    refused = await post_draw(app_client, "2030-03-31T02:30", "Europe/Berlin")
    assert refused.status_code == 422
    assert field_error(refused.text, "deadline") == (
        "31 Mar 2030, 02:30 does not exist in Europe/Berlin: the clocks jump forward over "
        "it that night; choose a time before or after the change"
    )
    # The form comes back as typed, the zone still chosen.
    assert '<option value="Europe/Berlin" selected>' in refused.text
    assert await redis.zcard(KEYS.draws_index()) == 0


async def test_a_repeated_wall_time_is_its_first_occurrence(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, MANAGER)
    body = {"title": "Autumn", "prizes": PRIZES, "deadline": "2030-11-03T01:30"}
    made = await app_client.post(
        "/api/v1/draws",
        json=body | {"time_zone": "America/New_York"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    # 01:30 happens twice that night; the first is still daylight time (UTC-4).
    assert made.json()["deadline"] == "2030-11-03T05:30:00.000Z"


async def api_create(client: httpx.AsyncClient, csrf: str, **body: Any) -> httpx.Response:
    payload = {"title": "API draw", "prizes": PRIZES} | body
    return await client.post("/api/v1/draws", json=payload, headers={"X-CSRF-Token": csrf})


async def test_the_api_reads_a_zone_and_refuses_an_unknown_one(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    for zone in ("Mars/Olympus", "europe/berlin", "Etc/GMT+5", 42):
        refused = await api_create(app_client, csrf, deadline="2030-01-15T18:00", time_zone=zone)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    # 10 March 2030: New York's clocks go from 02:00 straight to 03:00.
    gap = await api_create(
        app_client, csrf, deadline="2030-03-10T02:15", time_zone="America/New_York"
    )
    assert gap.status_code == 422, gap.text
    assert set(gap.json()["errors"]) == {"deadline"}
    assert await redis.zcard(KEYS.draws_index()) == 0
    unknown = await api_create(app_client, csrf, time_zone="Mars/Olympus")
    assert unknown.json()["errors"] == {
        "time_zone": "Unknown time zone; choose one such as Europe/Berlin"
    }
    # An alias is stored as the zone it names; a time with an offset is that instant.
    alias = await api_create(app_client, csrf, deadline="2030-01-15T18:00", time_zone="US/Pacific")
    assert alias.status_code == 201, alias.text
    assert (alias.json()["deadline"], alias.json()["time_zone"]) == (
        "2030-01-16T02:00:00.000Z",
        "America/Los_Angeles",
    )
    offset = await api_create(
        app_client, csrf, deadline="2030-01-15T18:00:00+09:00", time_zone="Europe/Berlin"
    )
    assert offset.json()["deadline"] == "2030-01-15T09:00:00.000Z"
    # Without a zone, as before: UTC.
    plain = await api_create(app_client, csrf, deadline="2030-01-15T18:00")
    assert (plain.json()["deadline"], plain.json()["time_zone"]) == (
        "2030-01-15T18:00:00.000Z",
        "UTC",
    )


async def test_a_draft_edit_of_the_zone_alone_keeps_the_deadline(
    app_client: httpx.AsyncClient,
) -> None:
    csrf = await login(app_client, MANAGER)
    made = await api_create(
        app_client, csrf, deadline="2030-01-15T18:00", time_zone="Europe/Berlin"
    )
    draw_id = made.json()["id"]
    edited = await app_client.patch(
        f"/api/v1/draws/{draw_id}",
        json={"time_zone": "Asia/Shanghai"},
        headers={"X-CSRF-Token": csrf},
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["deadline"], edited.json()["time_zone"]) == (
        "2030-01-15T17:00:00.000Z",
        "Asia/Shanghai",
    )
    # The edit form shows the deadline as a wall time in the draw's zone.
    page = await app_client.get(f"/draws/{draw_id}/edit")
    assert 'value="2030-01-16T01:00"' in page.text
    assert '<option value="Asia/Shanghai" selected>' in page.text
    assert "16 Jan 2030, 01:00 China Standard Time" in text_of(
        (await app_client.get(f"/draws/{draw_id}")).text
    )


async def test_a_raffle_keeps_its_zone(app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, MANAGER)
    made = await app_client.post(
        "/api/v1/raffles",
        json={
            "title": "Raffle",
            "prizes": PRIZES,
            "ticket_count": 10,
            "open": True,
            "time_zone": "Asia/Shanghai",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    assert made.json()["time_zone"] == "Asia/Shanghai"
    page = await app_client.get(f"/draws/{made.json()['id']}")
    assert "China Standard Time" in page.text
