"""A lottery with a round already drawn, prepared through the real services (the
browser tests need a past day, which no page can create)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fairdraw.config import Settings
from fairdraw.domain import lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.services.scheduler import lottery_services
from fairdraw.store.connection import connect
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.profiles import ProfileCache
from fairdraw.store.schedule import ScheduleStore
from tests.support.app import MANAGER


@dataclass(frozen=True)
class PastRound:
    lottery_id: str
    name: str
    day: date
    ballot: int
    winner: str


async def past_round(
    settings: Settings,
    *,
    name: str = "Weekly books",
    prize: str = "A book",
    zone: str = "UTC",
    ballots: int = 1,
) -> PastRound:
    """A lottery in ``zone`` that started three days ago; two days ago Patricia cast
    ``ballots`` ballots, and the scheduler has drawn every ended day since."""
    assert settings.redis_url
    redis = connect(settings.redis_url)
    keys = Keys(settings.key_prefix)
    github = GitHubClient.from_settings(settings, ProfileCache(redis, keys, 60))
    try:
        store = LotteryStore(redis, keys)
        service, scheduler = lottery_services(
            settings,
            store,
            ScheduleStore(redis, keys),
            DrawingService(DrawStore(redis, keys), github),
        )
        today = datetime.now(ZoneInfo(zone)).date()
        terms = lotteries.LotteryTerms(
            name=name,
            description="",
            prize=prize,
            winners_per_day=1,
            timezone=zone,
            start=today - timedelta(days=3),
        )
        lottery_id = new_lottery_id()
        fields = {**terms.to_fields(), "id": lottery_id, "created_by": MANAGER[0]}
        await store.create(lottery_id, fields, lotteries.due_ms(terms, terms.start))
        day = today - timedelta(days=2)
        start, end = lotteries.day_bounds(ZoneInfo(zone), day)
        patricia = Caller(
            User(
                username="patricia", display_name="Patricia Q", role=Role.participant, created_ms=0
            )
        )
        for offset in range(ballots):
            await service.cast(lottery_id, patricia, at_ms=(start + end) // 2 + offset)
        await scheduler.run_once()
        view = await service.round(lottery_id, day)
        [winner] = view.winners
        return PastRound(lottery_id, name, day, winner.number, winner.name)
    finally:
        await github.aclose()
        await redis.aclose()
