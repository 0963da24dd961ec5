"""The organiser dashboard on a real store: who may see it, search, the per-minute chart,
the latest entries, a lottery's top lists and the instance's most active draws."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import lotteries, tickets
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.errors import Forbidden, InvalidInput, NotAuthenticated
from fairdraw.domain.moments import iso
from fairdraw.services.dashboard import DashboardService
from fairdraw.services.dashboard_views import Window, bucket_size
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.services.scheduler import Scheduler
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.accounts import AccountStore
from fairdraw.store.connection import connect
from fairdraw.store.draws import DrawStore, enter_keys
from fairdraw.store.keys import Keys
from fairdraw.store.live_stats import LiveStats, piece_starts, scan_block
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.raffles import RaffleStore
from fairdraw.store.schedule import ScheduleStore
from fairdraw.store.scripts import script_source
from fairdraw.web.deps import Services
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login, password_hash
from tests.support.ledgers import stored_entries
from tests.support.store import everything_stored

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}]
OTHER_MANAGER = ("otto", "another manager password")
BERLIN = ZoneInfo("Europe/Berlin")


def services(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


def person(name: str, role: Role = Role.participant) -> Caller:
    return Caller(User(username=name, display_name=name.title(), role=role, created_ms=0))


MARIA = person("maria", Role.manager)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=BERLIN).timestamp() * 1000)


async def add_manager(settings: Settings) -> None:
    assert settings.redis_url
    redis = connect(settings.redis_url)
    try:
        store = AccountStore(redis, KEYS, settings.secret_bytes())
        user = User(username=OTHER_MANAGER[0], display_name="Otto", role=Role.manager, created_ms=0)
        await store.create_user(user, password_hash(OTHER_MANAGER[1]))
    finally:
        await redis.aclose()


@asynccontextmanager
async def client_of(
    app: FastAPI, credentials: tuple[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if credentials is not None:
            await login(client, credentials)
        yield client


async def fill(redis: Redis, draw_id: str, labels: list[str], first_id: int = 1) -> None:
    """Enter ``labels`` in order through the real enter script, pipelined."""
    sha = await redis.script_load(script_source("enter"))
    for start in range(0, len(labels), 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(start, min(start + 5000, len(labels))):
                keys = enter_keys(KEYS, draw_id, labels[n])
                pipe.evalsha(sha, len(keys), *keys, f"gh:{first_id + n}", labels[n], 0, 0)
            await pipe.execute()


async def giveaway(app: FastAPI, caller: Caller = MARIA, **terms: object) -> str:
    draw = await services(app).drawing.create(
        caller, title="Meetup giveaway", prizes=PRIZES, open_now=True, **terms
    )
    return draw.id


def dashboard_with_clock(app: FastAPI, redis: Redis, clock: Callable[[], int]) -> DashboardService:
    draws = DrawStore(redis, KEYS)
    return DashboardService(
        draws,
        LiveStats(redis, KEYS),
        TicketLedger(draws, RaffleStore(redis, KEYS)),
        services(app).lotteries,
        clock=clock,
    )


# -- who may look -------------------------------------------------------------------------------
async def test_only_the_draws_manager_and_admins_see_its_dashboard(
    app: FastAPI, app_settings: Settings
) -> None:
    await add_manager(app_settings)
    draw_id = await giveaway(app)
    lottery = await services(app).lotteries.create(
        MARIA, name="Daily coffee", prize="Coffee", start=date.today().isoformat()
    )
    pages = [f"/draws/{draw_id}/dashboard", f"/lotteries/{lottery.id}/dashboard"]
    api = [
        f"/api/v1/draws/{draw_id}/dashboard",
        f"/api/v1/draws/{draw_id}/entries?q=oc",
        f"/api/v1/draws/{draw_id}/minutes?window=all",
        f"/api/v1/lotteries/{lottery.id}/top",
        f"/api/v1/lotteries/{lottery.id}/dashboard",
    ]
    async with client_of(app) as anonymous:
        for path in pages:
            response = await anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/login?next=" + path
        for path in api:
            response = await anonymous.get(path)
            assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    for credentials in (PARTICIPANT, OTHER_MANAGER):
        async with client_of(app, credentials) as refused:
            for path in pages:
                assert (await refused.get(path)).status_code == 403, (credentials, path)
            for path in api:
                response = await refused.get(path)
                assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    for credentials in (MANAGER, ADMIN):
        async with client_of(app, credentials) as allowed:
            for path in [*pages, *api]:
                response = await allowed.get(path)
                assert response.status_code == 200, (credentials, path, response.text)


async def test_a_manager_network_applies_to_dashboards_too(app: FastAPI, redis: Redis) -> None:
    draws = DrawStore(redis, KEYS)
    guarded = DashboardService(
        draws,
        LiveStats(redis, KEYS),
        TicketLedger(draws, RaffleStore(redis, KEYS)),
        services(app).lotteries,
        manager_networks=[ipaddress.ip_network("10.0.0.0/8")],
    )
    draw_id = await giveaway(app)
    inside = Caller(MARIA.user, ipaddress.ip_address("10.1.2.3"))
    outside = Caller(MARIA.user, ipaddress.ip_address("192.0.2.1"))
    assert (await guarded.draw_dashboard(inside, draw_id)).draw.id == draw_id
    with pytest.raises(Forbidden) as refused:
        await guarded.draw_dashboard(outside, draw_id)
    assert refused.value.code == "network_not_allowed"
    with pytest.raises(NotAuthenticated):
        await guarded.search(Caller(None), draw_id, "oc")


async def test_the_draw_page_links_its_dashboard_for_its_manager_only(
    app: FastAPI, app_settings: Settings
) -> None:
    await add_manager(app_settings)
    draw_id = await giveaway(app)
    link = f'href="/draws/{draw_id}/dashboard"'
    for credentials, shown in [(MANAGER, True), (ADMIN, True), (OTHER_MANAGER, False)]:
        async with client_of(app, credentials) as client:
            page = await client.get(f"/draws/{draw_id}")
            assert (link in page.text) is shown, credentials


# -- search ---------------------------------------------------------------------------------
async def test_search_is_a_case_insensitive_prefix_newest_first(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    labels = ["Alice", "bob", "alina", "ALPHA-dev", "carol", "Al", "xal"]
    await fill(redis, draw_id, labels)
    await login(app_client, MANAGER)

    async def found(q: str) -> list[tuple[str, int, int]]:
        response = await app_client.get(f"/api/v1/draws/{draw_id}/entries", params={"q": q})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["query"], body["limit"]) == (q.strip(), 50)
        return [(r["who"], r["index"], r["number"]) for r in body["results"]]

    assert await found("al") == [
        ("Al", 5, 6),
        ("ALPHA-dev", 3, 4),
        ("alina", 2, 3),
        ("Alice", 0, 1),
    ]
    assert await found("ALI") == [("alina", 2, 3), ("Alice", 0, 1)]
    assert await found(" alpha-D ") == [("ALPHA-dev", 3, 4)]
    assert await found("Bo") == [("bob", 1, 2)]
    assert await found("alz") == []
    assert await found("zz") == []
    elements = await stored_entries(redis, draw_id)
    response = await app_client.get(f"/api/v1/draws/{draw_id}/entries?q=ca")
    assert response.json()["results"] == [
        {"index": 4, "number": 5, "who": "carol", "at": iso(elements[4].entered_ms)}
    ]


async def test_search_answers_at_most_fifty_the_newest(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, [f"user-{n:03}" for n in range(120)])
    await login(app_client, ADMIN)
    response = await app_client.get(f"/api/v1/draws/{draw_id}/entries?q=USER-")
    results = response.json()["results"]
    assert [r["who"] for r in results] == [f"user-{n:03}" for n in range(119, 69, -1)]
    narrowed = await app_client.get(f"/api/v1/draws/{draw_id}/entries?q=user-00")
    assert [r["index"] for r in narrowed.json()["results"]] == list(range(9, -1, -1))


async def test_a_query_of_one_character_is_refused_and_stores_nothing(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, ["octocat", "hubot"])
    await login(app_client, MANAGER)
    before = sorted(await everything_stored(redis))
    for q in ("o", "", "   ", "a\tb"):
        response = await app_client.get(f"/api/v1/draws/{draw_id}/entries", params={"q": q})
        assert response.status_code == 422, q
        body = response.json()
        assert body["code"] == "invalid_input"
        assert set(body["errors"]) == {"q"}
    assert sorted(await everything_stored(redis)) == before
    page = await app_client.get(f"/draws/{draw_id}/dashboard?q=o")
    assert page.status_code == 422
    assert "Type at least 2 characters of a name" in page.text
    assert 'aria-invalid="true"' in page.text


async def test_the_page_searches_without_javascript(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, ["octocat", "hubot", "OctoDog"])
    await login(app_client, MANAGER)
    page = await app_client.get(f"/draws/{draw_id}/dashboard?q=octo")
    assert page.status_code == 200
    opening = '<div class="fd-search-results" id="search-results" aria-live="polite">'
    assert opening in page.text
    region = page.text.split(opening, 1)[1].split("</section>", 1)[0]
    assert "2 found for “octo”" in region
    assert region.index("OctoDog") < region.index("octocat")
    assert "hubot" not in region


async def test_a_raffle_finds_a_ticket_by_its_number_and_holders_by_name(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    svc = services(app)
    raffle = await svc.drawing.create_raffle(
        MARIA, title="Raffle", prizes=PRIZES, ticket_count=40, per_claimant=3, open_now=True
    )
    anonymous = Caller(None, ipaddress.ip_address("10.0.0.1"))
    first = await svc.raffles.claim(raffle.id, anonymous)
    account_raffle = await svc.drawing.create_raffle(
        MARIA,
        title="Members' raffle",
        prizes=PRIZES,
        ticket_count=40,
        claimants="account",
        per_claimant=3,
        open_now=True,
    )
    pat, patrick = person("pat"), person("patrick")
    held = [
        await svc.raffles.claim(account_raffle.id, caller) for caller in (pat, patrick, pat, pat)
    ]
    await login(app_client, MANAGER)

    async def found(draw_id: str, q: str) -> list[tuple[int, str]]:
        response = await app_client.get(f"/api/v1/draws/{draw_id}/entries", params={"q": q})
        assert response.status_code == 200, response.text
        return [(r["number"], r["who"]) for r in response.json()["results"]]

    assert await found(raffle.id, str(first.number)) == [(first.number, "anonymous")]
    perm_key = bytes.fromhex(await redis.hget(KEYS.draw_meta(raffle.id), "perm_key"))
    unclaimed = tickets.ticket_number(tickets.TicketPermutation(perm_key, 40), 5)
    assert await found(raffle.id, str(unclaimed)) == []
    assert await found(raffle.id, "0") == []
    assert await found(raffle.id, "41") == []
    numbers = [t.number for t in held]
    assert await found(account_raffle.id, "pat") == [
        (numbers[3], "pat"),
        (numbers[2], "pat"),
        (numbers[1], "patrick"),
        (numbers[0], "pat"),
    ]
    assert await found(account_raffle.id, "patr") == [(numbers[1], "patrick")]
    assert await found(account_raffle.id, str(numbers[1])) == [(numbers[1], "patrick")]
    # A single digit is a ticket number in a raffle, and too short a name elsewhere.
    small = await svc.drawing.create_raffle(
        MARIA, title="Small raffle", prizes=PRIZES, ticket_count=9, open_now=True
    )
    ticket = await svc.raffles.claim(small.id, anonymous)
    assert await found(small.id, str(ticket.number)) == [(ticket.number, "anonymous")]
    draw_id = await giveaway(app)
    response = await app_client.get(f"/api/v1/draws/{draw_id}/entries?q=7")
    assert response.status_code == 422


# -- chart and latest entries ---------------------------------------------------------------------
async def test_the_chart_counts_entries_per_minute(app: FastAPI, redis: Redis) -> None:
    draw_id = await giveaway(app)
    opened_ms = int(await redis.hget(KEYS.draw_meta(draw_id), "opened_ms"))
    now = opened_ms + 3 * 3600_000
    minute = now // 60_000
    counters = {str(minute): 4, str(minute - 1): 2, str(minute - 59): 7, str(minute - 60): 9}
    await redis.hset(KEYS.minutes(draw_id), mapping=counters)
    dashboard = dashboard_with_clock(app, redis, lambda: now)

    hour = await dashboard.minutes(MARIA, draw_id, Window.hour)
    assert (hour.bucket_minutes, hour.first_minute, len(hour.counts)) == (1, minute - 59, 60)
    assert hour.counts[0] == 7
    assert hour.counts[-2:] == (2, 4)
    assert hour.total == 13
    assert hour.busiest == (minute - 59, 7)

    whole = await dashboard.minutes(MARIA, draw_id, Window.all)
    first = opened_ms // 60_000
    assert whole.bucket_minutes == 1
    assert whole.first_minute == first
    assert len(whole.counts) == minute - first + 1
    assert whole.total == 22


async def test_a_long_draw_is_bucketed_to_at_most_500_points(app: FastAPI, redis: Redis) -> None:
    draw_id = await giveaway(app)
    opened_ms = int(await redis.hget(KEYS.draw_meta(draw_id), "opened_ms"))
    first = opened_ms // 60_000
    three_days = dashboard_with_clock(app, redis, lambda: opened_ms + 3 * 86_400_000)
    # 4,321 minutes: ten-minute buckets, read from the per-minute counters.
    await redis.hset(KEYS.minutes(draw_id), mapping={str(first): 1, str(first + 1): 2})
    await redis.hset(KEYS.minutes(draw_id), mapping={str(first + 4000): 5})
    chart = await three_days.minutes(MARIA, draw_id, Window.all)
    assert chart.bucket_minutes == 10 == bucket_size(first, first + 3 * 1440)
    assert len(chart.counts) <= 500
    assert chart.first_minute == first // 10 * 10
    assert chart.counts[(first + 1) // 10 - first // 10] >= 2
    assert chart.total == 8
    assert chart.counts[(first + 4000) // 10 - first // 10] == 5

    # A month: two-hour buckets, read from the per-hour counters.
    hour = first // 60
    await redis.hset(KEYS.minutes(draw_id), mapping={f"h{hour}": 3, f"h{hour + 700}": 11})
    month = dashboard_with_clock(app, redis, lambda: opened_ms + 30 * 86_400_000)
    chart = await month.minutes(MARIA, draw_id, Window.all)
    assert chart.bucket_minutes == 120
    assert len(chart.counts) <= 500
    assert chart.total == 14
    assert chart.counts[(hour + 700) * 60 // 120 - first // 120] == 11


async def test_the_dashboard_shows_the_latest_twenty_entries_newest_first(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, [f"entrant{n}" for n in range(25)])
    await login(app_client, MANAGER)
    body = (await app_client.get(f"/api/v1/draws/{draw_id}/dashboard")).json()
    assert [(e["number"], e["who"]) for e in body["recent"]] == [
        (n + 1, f"entrant{n}") for n in range(24, 4, -1)
    ]
    assert body["chart"]["window"] == "hour"
    assert len(body["chart"]["points"]) == 60
    assert body["chart"]["total"] == 25
    assert body["live_feed"] == f"/api/v1/draws/{draw_id}/events/private"
    newest = (await redis.xrevrange(KEYS.events(draw_id), count=1))[0][0]
    assert body["last_event_id"] == newest
    page = await app_client.get(f"/draws/{draw_id}/dashboard")
    assert f'data-live-feed="/api/v1/draws/{draw_id}/events/private"' in page.text
    assert f'data-live-last="{newest}"' in page.text
    assert 'data-ledger-length="25"' in page.text
    rows = re.findall(r'<tr data-index="(\d+)">', page.text)
    assert rows == [str(n) for n in range(24, 4, -1)]
    assert "25 entries in the last hour" in page.text
    assert '<form method="post" action="/draws/' + draw_id + '/close"' in page.text


async def test_window_all_is_answered_and_a_bad_window_refused(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    draw_id = await giveaway(app)
    await login(app_client, MANAGER)
    body = (await app_client.get(f"/api/v1/draws/{draw_id}/minutes?window=all")).json()
    assert body["window"] == "all"
    assert body["bucket_minutes"] == 1
    assert 1 <= len(body["points"]) <= 2
    bad = await app_client.get(f"/api/v1/draws/{draw_id}/minutes?window=week")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
    page = await app_client.get(f"/draws/{draw_id}/dashboard?window=all")
    assert 'aria-current="page">Whole draw</a>' in page.text


# -- lotteries ----------------------------------------------------------------------------------
async def past_lottery(redis: Redis, start: str) -> str:
    terms = lotteries.LotteryTerms(
        name="Daily coffee",
        description="",
        prize="Coffee",
        winners_per_day=1,
        timezone="Europe/Berlin",
        start=date.fromisoformat(start),
        end=None,
    )
    lottery_id = new_lottery_id()
    fields = {**terms.to_fields(), "id": lottery_id, "created_by": "maria"}
    await LotteryStore(redis, KEYS).create(lottery_id, fields, lotteries.due_ms(terms, terms.start))
    return lottery_id


async def test_lottery_top_lists_today_and_all_time_after_the_scheduler_advances(
    app: FastAPI, redis: Redis
) -> None:
    svc = services(app)
    lid = await past_lottery(redis, "2026-03-01")
    pat, quinn, rae, sam = person("pat"), person("quinn"), person("rae"), person("sam")
    day_one = [pat, pat, pat, quinn, sam, sam]
    for i, caster in enumerate(day_one):
        await svc.lotteries.cast(lid, caster, at_ms=at(2026, 3, 1, 9, i))
    scheduler = Scheduler(svc.lotteries, LotteryStore(redis, KEYS), ScheduleStore(redis, KEYS))
    report = await scheduler.run_once(at(2026, 3, 2, 0, 5))
    assert [day.isoformat() for _, day in report.drawn] == ["2026-03-01"]
    for i, caster in enumerate([quinn, quinn, quinn, rae, pat]):
        await svc.lotteries.cast(lid, caster, at_ms=at(2026, 3, 2, 10, i))

    dashboard = dashboard_with_clock(app, redis, lambda: at(2026, 3, 2, 12))
    top = await dashboard.lottery_top(MARIA, lid)
    assert top.day == date(2026, 3, 2)
    # Equal counts come in reverse name order, as the store ranks them.
    assert [(r.name, r.ballots) for r in top.today] == [("quinn", 3), ("rae", 1), ("pat", 1)]
    assert [(r.name, r.ballots) for r in top.all_time] == [
        ("quinn", 4),
        ("pat", 4),
        ("sam", 2),
        ("rae", 1),
    ]
    view = await dashboard.lottery_dashboard(MARIA, lid)
    assert view.draw is not None
    assert view.draw.entry_count == 5
    assert [(e.number, e.who) for e in view.recent] == [
        (5, "pat"),
        (4, "rae"),
        (3, "quinn"),
        (2, "quinn"),
        (1, "quinn"),
    ]
    assert view.chart.total == 0  # the last hour: none since 11:00
    whole_day = await dashboard.lottery_dashboard(MARIA, lid, Window.all)
    assert (whole_day.chart.total, whole_day.chart.bucket_minutes) == (5, 2)
    assert whole_day.chart.first_minute == at(2026, 3, 2) // 60_000
    assert [(e.who, e.number) for e in await dashboard.lottery_search(MARIA, lid, "QU")] == [
        ("quinn", 1)
    ]
    with pytest.raises(Forbidden):
        await dashboard.lottery_top(person("otto", Role.manager), lid)
    with pytest.raises(InvalidInput):
        await dashboard.lottery_search(MARIA, lid, "q")


async def test_the_all_time_merge_is_exact_beyond_the_first_page(
    app: FastAPI, redis: Redis
) -> None:
    lid = await past_lottery(redis, "2026-03-01")
    round_id = lotteries.round_draw_id(lid, date(2026, 3, 2))
    # Names just below the top of both lists beat the top of either list alone.
    drawn = {f"d{n:02}": 100 - n for n in range(40)} | {"both": 61}
    today = {f"t{n:02}": 100 - n for n in range(40)} | {"both": 61}
    await redis.zadd(KEYS.lottery_top(lid), drawn)
    await redis.zadd(KEYS.round_top(round_id), today)
    stats = LiveStats(redis, KEYS)
    best = await stats.lottery_top(lid, round_id, 3)
    assert best == [("both", 122), ("t00", 100), ("d00", 100)]
    everyone = {**drawn, **today, "both": 122}
    expected = sorted(everyone.items(), key=lambda item: (item[1], item[0]), reverse=True)[:25]
    assert await stats.lottery_top(lid, round_id, 25) == expected


async def test_a_lottery_dashboard_before_the_days_first_ballot(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    lottery = await services(app).lotteries.create(
        MARIA, name="Daily coffee", prize="Coffee", start=date.today().isoformat()
    )
    await login(app_client, MANAGER)
    body = (await app_client.get(f"/api/v1/lotteries/{lottery.id}/dashboard")).json()
    assert (body["round"], body["recent"], body["top"]["today"]) == (None, [], [])
    page = await app_client.get(f"/lotteries/{lottery.id}/dashboard")
    assert page.status_code == 200
    assert "No ballots today yet." in page.text
    # The round's public feed announces its first ballot; the private one exists from then.
    feed = f'data-live-feed="/api/v1/draws/{body["round_id"]}/events" data-live-status=""'
    assert feed in page.text
    lottery_page = await app_client.get(f"/lotteries/{lottery.id}")
    assert f'href="/lotteries/{lottery.id}/dashboard"' in lottery_page.text


# -- the instance ---------------------------------------------------------------------------------
async def test_the_most_active_draws_of_the_last_day(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    svc = services(app)
    quiet = await giveaway(app, entry_identity="account")
    busy = await giveaway(app, entry_identity="account")
    middle = await giveaway(app, entry_identity="account")
    await giveaway(app, entry_identity="account")  # nobody enters
    for draw_id, count in [(quiet, 1), (busy, 3), (middle, 2)]:
        for n in range(count):
            await svc.entering.enter(draw_id, github=None, caller=person(f"guest{n}"))
    assert await redis.zcard(KEYS.activity()) == 3

    await login(app_client, ADMIN)
    response = await app_client.get("/api/v1/admin/activity")
    assert response.status_code == 200
    rows = response.json()
    assert [(r["draw_id"], r["entries_24h"]) for r in rows] == [(busy, 3), (middle, 2), (quiet, 1)]
    assert rows[0]["dashboard"] == f"/draws/{busy}/dashboard"
    assert rows[0]["created_by"] == "maria"
    page = await app_client.get("/admin/activity")
    assert page.status_code == 200
    assert re.findall(r'<tr data-draw="([a-z2-7]+)">', page.text) == [busy, middle, quiet]
    users = await app_client.get("/admin/users")
    assert 'href="/admin/activity"' in users.text

    async with client_of(app, MANAGER) as manager:
        refused = await manager.get("/api/v1/admin/activity")
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert (await manager.get("/admin/activity")).status_code == 403


async def test_activity_is_written_once_a_minute_per_draw(redis: Redis) -> None:
    stats = LiveStats(redis, KEYS)
    minute = 29_000_000
    await stats.record_activity("aaaaaaaaaaaa", minute * 60_000 + 5)
    await redis.zadd(KEYS.activity(), {"aaaaaaaaaaaa": 1})  # nobody else writes it
    await stats.record_activity("aaaaaaaaaaaa", minute * 60_000 + 59_000)
    assert await redis.zscore(KEYS.activity(), "aaaaaaaaaaaa") == 1
    await stats.record_activity("aaaaaaaaaaaa", (minute + 1) * 60_000)
    assert await redis.zscore(KEYS.activity(), "aaaaaaaaaaaa") == minute + 1
    # Another process that saw an older minute never moves it back (ZADD GT).
    await LiveStats(redis, KEYS).record_activity("aaaaaaaaaaaa", minute * 60_000)
    assert await redis.zscore(KEYS.activity(), "aaaaaaaaaaaa") == minute + 1


def test_scanning_a_bucket() -> None:
    block = b"Alice\t0\nalbert\t1\nbob\t2\nALAN\t3\n"
    hits = scan_block(block, "al", 10)
    assert [(h.name, h.index) for h in hits] == [("ALAN", 3), ("albert", 1), ("Alice", 0)]
    assert [h.index for h in scan_block(block, "AL", 2)] == [3, 1]
    assert scan_block(block, "\u00e9l", 5) == []
    accented = "\u00e9lo\u00efse\t0\n\u00c9LODIE\t1\n".encode()
    assert [h.name for h in scan_block(accented, "\u00e9lo", 5)] == [
        "\u00c9LODIE",
        "\u00e9lo\u00efse",
    ]


async def test_a_search_reads_a_large_bucket_in_pieces(app: FastAPI, redis: Redis) -> None:
    draw_id = await giveaway(app)
    # 200,000 names in one bucket, read from its end in growing pieces.
    await fill(redis, draw_id, [f"user{n:06d}" for n in range(200_000)])
    assert await redis.llen(KEYS.names(draw_id, "us")) == 200_000
    dashboard = services(app).dashboard
    newest = await dashboard.search(MARIA, draw_id, "US")
    assert [e.index for e in newest] == list(range(199_999, 199_949, -1))
    oldest = await dashboard.search(MARIA, draw_id, "user00001")
    assert [e.who for e in oldest] == [f"user{n:06d}" for n in range(19, 9, -1)]
    # The names on both sides of the pieces' edges are found.
    edges = [edge for edge in piece_starts(200_000) if edge > 0]
    assert len(edges) == 3  # pieces of 16,384, 32,768 and 65,536 names, then the rest
    for edge in edges:
        for index in (edge - 1, edge):
            name = f"user{index:06d}"
            found = await dashboard.search(MARIA, draw_id, name)
            assert [(e.who, e.index) for e in found] == [(name, index)]
    # Each name is held as "name<TAB>index in base 36".
    assert await redis.lindex(KEYS.names(draw_id, "us"), 199_999) == "user199999\t4abj"  # 199,999


async def test_a_bucket_left_as_a_string_by_an_earlier_version_becomes_a_list(
    app: FastAPI, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, ["alpha", "beta", "albert"])
    dashboard = services(app).dashboard
    # As the earlier version kept them: "name<TAB>decimal index<LF>" appended to a string.
    for key, text in (
        (KEYS.names(draw_id, "al"), "alpha\t0\nalbert\t2\n"),
        (KEYS.names(draw_id, "be"), "beta\t1\n"),
    ):
        await redis.delete(key)
        await redis.set(key, text)
    # A search turns its bucket into the list and finds what the string held.
    found = await dashboard.search(MARIA, draw_id, "al")
    assert [(e.who, e.index) for e in found] == [("albert", 2), ("alpha", 0)]
    assert await redis.lrange(KEYS.names(draw_id, "al"), 0, -1) == ["alpha\t0", "albert\t2"]
    # An entry into a bucket still in the string form turns it first, then adds itself.
    await fill(redis, draw_id, ["bert"], first_id=10)
    assert await redis.lrange(KEYS.names(draw_id, "be"), 0, -1) == ["beta\t1", "bert\t3"]
    found = await dashboard.search(MARIA, draw_id, "be")
    assert [(e.who, e.index) for e in found] == [("bert", 3), ("beta", 1)]
