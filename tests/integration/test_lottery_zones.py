"""A lottery's time zone through the real app and store: read as a draw's is (an alias
stored as the zone it links to, anything else refused with nothing stored), lotteries
stored with an alias before that still working, the API listing canonical zones only,
and a start date checked against today in the chosen zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import lotteries, zones
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from tests.support.app import MANAGER, PARTICIPANT, login

KEYS = Keys()
API = "/api/v1/lotteries"


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


async def lottery_keys(redis: Redis) -> list[str]:
    found = []
    for pattern in ("*lotter*", "*schedule*", "*{d:*"):
        found.extend([k async for k in redis.scan_iter(pattern)])
    return found


async def create(
    client: httpx.AsyncClient, csrf: str, zone: str | None, start: date | None = None
) -> httpx.Response:
    body: dict[str, Any] = {
        "name": "Daily coffee",
        "prize": "Coffee",
        "start": (start or today_in(zones.canonical_name(zone or "UTC") or "UTC")).isoformat(),
        "timezone": zone,
    }
    return await client.post(API, json=body, headers={"X-CSRF-Token": csrf})


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("US/Pacific", "America/Los_Angeles"),
        ("Europe/Kiev", "Europe/Kyiv"),
        (" Asia/Calcutta ", "Asia/Kolkata"),
        ("Etc/UTC", "UTC"),
        ("Europe/Berlin", "Europe/Berlin"),
    ],
)
async def test_an_alias_is_stored_as_the_zone_it_links_to(
    app_client: httpx.AsyncClient, redis: Redis, typed: str, stored: str
) -> None:
    csrf = await login(app_client, MANAGER)
    response = await create(app_client, csrf, typed)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["timezone"] == stored
    assert created["today"] == today_in(stored).isoformat()
    fields = await LotteryStore(redis, KEYS).get(created["id"])
    assert fields["timezone"] == stored


@pytest.mark.parametrize(
    "typed", ["Etc/GMT+5", "Mars/Olympus", "localtime", "Factory", "Europe/Berlin/x", "x" * 300]
)
async def test_a_name_of_no_offered_zone_is_refused_with_nothing_stored(
    app_client: httpx.AsyncClient, redis: Redis, typed: str
) -> None:
    csrf = await login(app_client, MANAGER)
    response = await create(app_client, csrf, typed, start=today_in("Pacific/Kiritimati"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "timezone": "Unknown time zone; use an IANA name such as Europe/Berlin"
    }
    assert await lottery_keys(redis) == []


async def test_the_start_date_is_checked_against_today_in_the_chosen_zone(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    # Kiritimati (UTC+14) is always a calendar day ahead of Pago Pago (UTC-11).
    behind = today_in("Pacific/Pago_Pago")
    ahead = today_in("Pacific/Kiritimati")
    assert ahead > behind
    refused = await create(app_client, csrf, "Pacific/Kiritimati", start=behind)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == {
        "start": f"The start date can't be before today ({ahead.isoformat()})"
    }
    assert await lottery_keys(redis) == []
    # "Pacific/Samoa" is an alias of Pago Pago: its today is Pago Pago's.
    accepted = await create(app_client, csrf, "Pacific/Samoa", start=behind)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["timezone"] == "Pacific/Pago_Pago"
    assert accepted.json()["status"] == "running"


async def stored_with_zone(redis: Redis, zone: str, start: date) -> str:
    """A lottery as stored before lotteries were limited to the canonical zones."""
    terms = lotteries.LotteryTerms(
        name="Old coffee",
        description="",
        prize="Coffee",
        winners_per_day=1,
        timezone=zone,
        start=start,
        end=None,
    )
    fields = {**terms.to_fields(), "id": new_lottery_id(), "created_by": MANAGER[0]}
    await LotteryStore(redis, KEYS).create(fields["id"], fields, lotteries.due_ms(terms, start))
    return fields["id"]


async def test_a_lottery_stored_with_an_alias_reads_as_its_canonical_zone(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    today = today_in("America/Los_Angeles")
    lottery_id = await stored_with_zone(redis, "US/Pacific", today - timedelta(days=1))
    read = await anon_client.get(f"{API}/{lottery_id}")
    assert read.status_code == 200, read.text
    assert read.json()["timezone"] == "America/Los_Angeles"
    assert read.json()["today"] == today.isoformat()
    assert read.json()["status"] == "running"
    page = await anon_client.get(f"/lotteries/{lottery_id}")
    assert page.status_code == 200
    assert "America/Los_Angeles" in page.text
    assert "US/Pacific" not in page.text
    # Ballots still go into today's round in that zone.
    csrf = await login(app_client, PARTICIPANT)
    cast = await app_client.post(f"{API}/{lottery_id}/ballots", headers={"X-CSRF-Token": csrf})
    assert cast.status_code == 201, cast.text
    assert cast.json()["date"] == today.isoformat()
    # A stored name without a canonical zone keeps its own rules.
    fixed = await stored_with_zone(redis, "Etc/GMT+5", today_in("Etc/GMT+5"))
    assert (await anon_client.get(f"{API}/{fixed}")).json()["timezone"] == "Etc/GMT+5"


async def test_the_api_lists_canonical_zones_only(app: FastAPI) -> None:
    schema = app.openapi()["components"]["schemas"]["LotteryIn"]["properties"]["timezone"]
    listed = next(choice["enum"] for choice in schema["anyOf"] if "enum" in choice)
    assert listed == list(zones.canonical_zones())
    assert "Europe/Kyiv" in listed
    assert "UTC" in listed
    for alias in ("Europe/Kiev", "US/Pacific", "Etc/UTC", "Etc/GMT+5", "localtime"):
        assert alias not in listed
