"""A lottery round drawn before rounds stored their zone: its results page, without
JavaScript, shows its times in its lottery's zone, as the lottery's own pages do."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from fairdraw.web.deps import Services
from fairdraw.web.pages.time_format import moment_in
from tests.support.app import MANAGER

KEYS = Keys()
ANN = Caller(User(username="ann", display_name="Ann", role=Role.participant, created_ms=0))


async def drawn_round(app: FastAPI, redis: Redis, zone: str) -> tuple[str, int]:
    """A lottery in ``zone`` whose first day (three days ago) Ann entered and the
    scheduler has drawn: the round's draw id and when it was drawn."""
    services: Services = app.state.services
    tz = ZoneInfo(zone)
    first: date = datetime.now(tz).date() - timedelta(days=3)
    terms = lotteries.LotteryTerms(
        name="Daily coffee",
        description="",
        prize="Coffee",
        winners_per_day=1,
        timezone=zone,
        start=first,
        end=None,
    )
    lottery_id = new_lottery_id()
    fields = {**terms.to_fields(), "id": lottery_id, "created_by": MANAGER[0]}
    await LotteryStore(redis, KEYS).create(lottery_id, fields, lotteries.due_ms(terms, first))
    start, end = lotteries.day_bounds(tz, first)
    await services.lotteries.cast(lottery_id, ANN, at_ms=(start + end) // 2)
    report = await services.scheduler.run_once(end + 1000)
    assert (lottery_id, first) in report.drawn
    round_id = lotteries.round_draw_id(lottery_id, first)
    draw = await services.drawing.get(round_id)
    assert draw.result is not None
    return round_id, draw.result.drawn_ms


async def test_a_round_stored_without_its_zone_shows_its_lotterys_zone(
    app: FastAPI, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    round_id, drawn_ms = await drawn_round(app, redis, "Europe/Berlin")
    # As rounds were stored before they carried their lottery's zone.
    assert await redis.hdel(KEYS.draw_meta(round_id), "time_zone") == 1
    page = await anon_client.get(f"/draws/{round_id}/results")
    assert page.status_code == 200, page.text
    berlin = moment_in(drawn_ms, "Europe/Berlin")
    utc = moment_in(drawn_ms)
    assert f'<time datetime="{berlin.iso}" data-local="minute">{berlin.text}</time>' in page.text
    assert utc.text not in page.text


async def test_a_round_of_a_utc_lottery_stays_in_utc(
    app: FastAPI, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    round_id, drawn_ms = await drawn_round(app, redis, "UTC")
    await redis.hdel(KEYS.draw_meta(round_id), "time_zone")
    page = await anon_client.get(f"/draws/{round_id}/results")
    assert page.status_code == 200, page.text
    utc = moment_in(drawn_ms)
    assert f'<time datetime="{utc.iso}" data-local="minute">{utc.text}</time>' in page.text
