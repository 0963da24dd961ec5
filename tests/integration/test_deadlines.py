"""Deadlines act by themselves: the scheduler closes and seals a draw whose deadline has
passed, at that deadline, and draws it when it asks to be drawn automatically; exactly
once however many schedulers run. Real app, real store, GitHub stand-in on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain.moments import iso, now_ms
from fairdraw.domain.verification import verify_bundle
from fairdraw.services.drawing import DeadlineOutcome
from fairdraw.services.scheduler import Scheduler
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.schedule import ScheduleStore
from fairdraw.web.deps import Services
from tests.support.app import MANAGER, LiveServer, live_server_of, login, make_settings
from tests.support.forms import FormBrowser, field_error, text_of
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 1}]
ENTRANTS = ["ann", "bob", "cy"]
# How long the live server's scheduler may take after the deadline, on a busy machine.
WITHIN_SECONDS = 15.0


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


async def create(
    client: httpx.AsyncClient, csrf: str, expect: int = 201, **body: Any
) -> dict[str, Any]:
    payload = {"title": "Unattended giveaway", "prizes": PRIZES, "open": True} | body
    response = await client.post("/api/v1/draws", json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def enter_all(client: httpx.AsyncClient, github: GitHubStandIn, draw_id: str) -> None:
    for i, handle in enumerate(ENTRANTS):
        github.add_user(handle, 500 + i, handle.title())
        response = await client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": handle})
        assert response.status_code == 201, response.text


def deadline_ms(draw: dict[str, Any]) -> int:
    moment = datetime.fromisoformat(draw["deadline"].replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


async def sleep_past(ms: int) -> None:
    """Wait until the clock is past ``ms`` (the test store runs on this machine's clock)."""
    await asyncio.sleep(max(0.0, (ms - now_ms()) / 1000) + 0.05)


async def events(redis: Redis, draw_id: str) -> list[tuple[str, ...]]:
    """The draw's lifecycle events, as (type, status) or (type,), in order."""
    found = []
    for _, fields in await redis.xrange(KEYS.events(draw_id)):
        if fields["t"] == "status":
            found.append(("status", fields["s"]))
        elif fields["t"] == "sealed":
            found.append(("sealed",))
    return found


async def test_the_deadline_closes_and_seals_a_draw_without_drawing_it(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, MANAGER)
    deadline = datetime.fromtimestamp((now_ms() + 2000) / 1000, tz=UTC).isoformat()
    draw = await create(app_client, csrf, deadline=deadline)
    assert draw["auto_draw"] is False
    due = deadline_ms(draw)
    assert await redis.zscore(KEYS.schedule_deadlines(), draw["id"]) == due
    await enter_all(anon_client, github, draw["id"])
    scheduler = services_of(app).scheduler

    early = await scheduler.run_once()
    assert (early.led, early.settled) == (True, [])
    assert (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()["status"] == "open"

    await sleep_past(due)
    report = await scheduler.run_once()
    assert report.settled == [draw["id"]]
    closed = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert closed["status"] == "closed"
    assert closed["closed_at"] == iso(due)
    assert closed["seal"]["entry_count"] == 3
    assert closed["result"] is None
    assert await redis.zscore(KEYS.schedule_deadlines(), draw["id"]) is None
    assert await events(redis, draw["id"]) == [
        ("status", "open"),
        ("status", "closed"),
        ("sealed",),
    ]
    status = await scheduler.status()
    assert status["last_settled"] == [draw["id"]]
    assert status["last_settled_at"] == iso(report.run_ms)
    assert status["next_deadline_at"] is None
    # The manager draws when ready, as before.
    drawn = await app_client.post(
        f"/api/v1/draws/{draw['id']}/draw", headers={"X-CSRF-Token": csrf}
    )
    assert drawn.json()["status"] == "drawn"


async def test_auto_draw_draws_the_winners_at_the_deadline(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, MANAGER)
    draft = await create(app_client, csrf, duration="2s", auto_draw=True, open=False)
    assert (draft["status"], draft["auto_draw"], draft["deadline"]) == ("draft", True, None)
    assert await redis.zcard(KEYS.schedule_deadlines()) == 0  # a draft has no deadline yet
    opened = await app_client.post(
        f"/api/v1/draws/{draft['id']}/open", headers={"X-CSRF-Token": csrf}
    )
    draw = opened.json()
    due = deadline_ms(draw)
    assert await redis.zscore(KEYS.schedule_deadlines(), draw["id"]) == due
    await enter_all(anon_client, github, draw["id"])

    await sleep_past(due)
    report = await services_of(app).scheduler.run_once()
    assert report.settled == [draw["id"]]
    drawn = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert drawn["status"] == "drawn"
    assert drawn["closed_at"] == iso(due)
    assert drawn["seal"]["entry_count"] == 3
    assert [w["prize"] for w in drawn["result"]["winners"]] == ["Keyboard", "Sticker"]
    assert {w["login"] for w in drawn["result"]["winners"]} < set(ENTRANTS)
    bundle = (await app_client.get(f"/api/v1/draws/{draw['id']}/proof")).json()
    entries = (await app_client.get(f"/api/v1/draws/{draw['id']}/entries.txt")).text
    assert verify_bundle(bundle, entries).ok
    assert await events(redis, draw["id"]) == [
        ("status", "open"),
        ("status", "closed"),
        ("sealed",),
        ("status", "drawn"),
    ]


async def test_two_schedulers_settle_a_deadline_once(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, MANAGER)
    first = await create(app_client, csrf, duration="1s", auto_draw=True)
    second = await create(app_client, csrf, duration="1s", auto_draw=True)
    await enter_all(anon_client, github, first["id"])
    services = services_of(app)
    one = services.scheduler
    other = Scheduler(
        services.lotteries,
        LotteryStore(redis, KEYS),
        ScheduleStore(redis, KEYS),
        instance="other",
        drawing=services.drawing,
    )
    await sleep_past(max(deadline_ms(first), deadline_ms(second)))

    reports = await asyncio.gather(one.run_once(), other.run_once())
    assert sorted(r.led for r in reports) == [False, True]
    assert sorted(d for r in reports for d in r.settled) == sorted([first["id"], second["id"]])
    leader, follower = (one, other) if reports[0].led else (other, one)
    again = await leader.run_once()
    assert (again.led, again.settled) == (True, [])
    # The lease changes hands: the new leader finds nothing left to do.
    await ScheduleStore(redis, KEYS).release_lease(leader.instance)
    taken = await follower.run_once()
    assert (taken.led, taken.settled) == (True, [])
    # Without the lease (a leader that lost it mid-pass), settling again changes nothing.
    outcomes = await asyncio.gather(
        *(services.drawing.settle_deadline(first["id"]) for _ in range(3))
    )
    assert set(outcomes) == {DeadlineOutcome.nothing}
    for draw in (first, second):
        assert await events(redis, draw["id"]) == [
            ("status", "open"),
            ("status", "closed"),
            ("sealed",),
            ("status", "drawn"),
        ]
    assert await redis.zcard(KEYS.schedule_deadlines()) == 0


async def test_settling_twice_at_once_records_one_close_seal_and_result(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await create(app_client, csrf, duration="1s", auto_draw=True)
    await enter_all(anon_client, github, draw["id"])
    await sleep_past(deadline_ms(draw))
    drawing = services_of(app).drawing
    outcomes = await asyncio.gather(*(drawing.settle_deadline(draw["id"]) for _ in range(3)))
    assert set(outcomes) == {DeadlineOutcome.settled}
    assert await events(redis, draw["id"]) == [
        ("status", "open"),
        ("status", "closed"),
        ("sealed",),
        ("status", "drawn"),
    ]


async def test_a_cancelled_draw_is_left_alone_and_unscheduled(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await create(app_client, csrf, duration="1s", auto_draw=True)
    cancelled = await app_client.post(
        f"/api/v1/draws/{draw['id']}/cancel", headers={"X-CSRF-Token": csrf}
    )
    assert cancelled.json()["status"] == "cancelled"
    await sleep_past(deadline_ms(draw))
    report = await services_of(app).scheduler.run_once()
    assert report.settled == []
    after = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert (after["status"], after["closed_at"], after["seal"]) == ("cancelled", None, None)
    assert await redis.zscore(KEYS.schedule_deadlines(), draw["id"]) is None
    assert await events(redis, draw["id"]) == [("status", "open"), ("status", "cancelled")]


async def test_a_broken_draw_stays_due_and_does_not_stop_the_others(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await create(app_client, csrf, duration="1s")
    # A draw whose stored fields are damaged cannot be read, let alone closed.
    await redis.hset(KEYS.draw_meta("brokenbroken"), mapping={"status": "open"})
    await redis.zadd(KEYS.schedule_deadlines(), {"brokenbroken": 1, "missingdraw2": 2})
    await sleep_past(deadline_ms(draw))
    report = await services_of(app).scheduler.run_once()
    assert report.settled == [draw["id"]]
    assert (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()["status"] == "closed"
    # The missing draw leaves the schedule; the broken one is kept for the next pass.
    assert await redis.zrange(KEYS.schedule_deadlines(), 0, -1) == ["brokenbroken"]
    assert "settling the deadline of draw brokenbroken failed" in caplog.text


async def test_auto_draw_needs_a_deadline_and_nothing_is_stored(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, MANAGER)
    before = sorted([k async for k in redis.scan_iter(count=1000)])
    refused = await create(app_client, csrf, expect=422, auto_draw=True)
    assert refused["errors"] == {
        "auto_draw": "Drawing automatically needs a deadline or a duration: "
        "give one, or close entries and draw yourself"
    }
    assert sorted([k async for k in redis.scan_iter(count=1000)]) == before


async def test_the_form_offers_auto_draw_and_the_page_says_so(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    manager = FormBrowser(app_client)
    await manager.log_in(MANAGER)
    form = (await app_client.get("/draws/new")).text
    assert "Draw the winners automatically when entries close" in text_of(form)

    base = {"title": "Meetup giveaway", "prizes.0.name": "Keyboard", "open": "yes"}
    refused = await manager.post("/draws/new", base | {"auto_draw": "yes"})
    assert refused.status_code == 422
    assert field_error(refused.text, "auto_draw").startswith(
        "Drawing automatically needs a deadline or a duration"
    )
    assert 'id="auto_draw" name="auto_draw" value="yes"' in refused.text
    assert await redis.zcard(KEYS.draws_index()) == 0

    created = await manager.post("/draws/new", base | {"auto_draw": "yes", "duration": "1h"})
    assert created.status_code == 303, created.text
    draw_id = created.headers["location"].rsplit("/", 1)[1]
    page = text_of((await app_client.get(f"/draws/{draw_id}")).text)
    assert "Winners are drawn automatically at the deadline" in page
    api = (await app_client.get(f"/api/v1/draws/{draw_id}")).json()
    assert api["auto_draw"] is True
    assert await redis.zscore(KEYS.schedule_deadlines(), draw_id) == deadline_ms(api)

    plain = await manager.post("/draws/new", base | {"duration": "1h"})
    plain_page = text_of((await app_client.get(plain.headers["location"])).text)
    assert "Winners are drawn automatically" not in plain_page


@pytest.fixture
def scheduling_server(
    store_url: str, github: GitHubStandIn, redis_sync: Any
) -> Iterator[LiveServer]:
    """The app over real HTTP with its scheduler loop running, as ``fairdraw serve`` runs it."""
    settings = make_settings(store_url, github.url, scheduler=True, scheduler_interval_seconds=0.2)
    yield from live_server_of(settings, github)


async def test_an_unattended_giveaway_runs_from_start_to_winners(
    scheduling_server: LiveServer, github: GitHubStandIn
) -> None:
    async with (
        httpx.AsyncClient(base_url=scheduling_server.url) as manager,
        httpx.AsyncClient(base_url=scheduling_server.url) as entrant,
    ):
        csrf = await login(manager, MANAGER)
        draw = await create(manager, csrf, duration="2s", auto_draw=True)
        await enter_all(entrant, github, draw["id"])
        url = f"/api/v1/draws/{draw['id']}"
        view = (await entrant.get(url)).json()
        assert view["status"] == "open"
        give_up = time.monotonic() + 2 + WITHIN_SECONDS
        while view["status"] != "drawn" and time.monotonic() < give_up:
            await asyncio.sleep(0.1)
            view = (await entrant.get(url)).json()
        assert view["status"] == "drawn", view
        assert view["closed_at"] == view["deadline"]
        assert len(view["result"]["winners"]) == 2
        bundle = (await entrant.get(f"{url}/proof")).json()
        entries = (await entrant.get(f"{url}/entries.txt")).text
        assert verify_bundle(bundle, entries).ok
