"""Daily lotteries on a real store, with an injected clock: ballots, the exact midnight
cut-off, DST days, the scheduler's catch-up, races and manual draws."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from fairdraw.domain import fairness, lotteries, verification
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.errors import (
    DrawNotOpen,
    Forbidden,
    InvalidInput,
    LotteryNotFound,
    LotteryNotRunning,
    NotAuthenticated,
    RoundNotOver,
    WrongDrawKind,
)
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.lotteries import LotteryService, new_lottery_id
from fairdraw.services.lottery_views import DayState
from fairdraw.services.scheduler import Scheduler
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore, ballot_keys
from fairdraw.store.profiles import ProfileCache
from fairdraw.store.schedule import ScheduleStore
from fairdraw.store.scripts import script_source
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
BERLIN = ZoneInfo("Europe/Berlin")


def person(name: str, role: Role = Role.participant) -> Caller:
    return Caller(User(username=name, display_name=name.title(), role=role, created_ms=0))


MANAGER = person("maria", Role.manager)
ANN, BOB = person("ann"), person("bob")


def at(
    zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ms: int = 0
) -> int:
    moment = datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=zone)
    return int(moment.timestamp() * 1000)


@dataclass
class World:
    redis: Redis
    store: LotteryStore
    service: LotteryService
    drawing: DrawingService

    def scheduler(self, instance: str) -> Scheduler:
        return Scheduler(
            self.service, self.store, ScheduleStore(self.redis, KEYS), instance=instance
        )


@pytest_asyncio.fixture
async def world(redis: Redis, github: GitHubStandIn) -> AsyncIterator[World]:
    client = GitHubClient(github.url, None, 2.0, ProfileCache(redis, KEYS, 60))
    drawing = DrawingService(DrawStore(redis, KEYS), client)
    store = LotteryStore(redis, KEYS)
    try:
        yield World(redis, store, LotteryService(store, drawing), drawing)
    finally:
        await client.aclose()


async def new_lottery(
    world: World, start: str, end: str | None = None, zone: str = "Europe/Berlin"
) -> str:
    # Creation refuses start dates in the past (by the store's clock); tests write the
    # terms of a past lottery straight away instead.
    terms = lotteries.LotteryTerms(
        name="Daily coffee",
        description="",
        prize="Coffee",
        winners_per_day=1,
        timezone=zone,
        start=date.fromisoformat(start),
        end=date.fromisoformat(end) if end else None,
    )
    lottery_id = new_lottery_id()
    fields = {**terms.to_fields(), "id": lottery_id, "created_by": "maria"}
    await world.store.create(lottery_id, fields, lotteries.due_ms(terms, terms.start))
    return lottery_id


async def test_the_cut_off_is_exact_at_local_midnight(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    last = await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 10, 23, 59, 59, 999))
    first = await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 11))
    assert (last.day, last.number, last.ballots_today) == (date(2026, 3, 10), 1, 1)
    assert (first.day, first.number, first.ballots_today) == (date(2026, 3, 11), 1, 1)
    assert last.round_id != first.round_id
    assert await world.redis.llen(KEYS.ledger(last.round_id)) == 1
    assert await world.redis.llen(KEYS.ledger(first.round_id)) == 1


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)],
)
async def test_dst_days_have_their_own_length_and_exact_edges(
    world: World, day: date, hours: int
) -> None:
    lid = await new_lottery(world, "2026-01-01")
    start_ms, end_ms = lotteries.day_bounds(BERLIN, day)
    assert end_ms - start_ms == hours * 3600 * 1000
    before = await world.service.cast(lid, ANN, at_ms=start_ms - 1)
    first = await world.service.cast(lid, ANN, at_ms=start_ms)
    last = await world.service.cast(lid, BOB, at_ms=end_ms - 1)
    after = await world.service.cast(lid, BOB, at_ms=end_ms)
    assert before.day == day - timedelta(days=1)
    assert (first.day, last.day) == (day, day)
    assert (first.number, last.number) == (1, 2)
    assert after.day == day + timedelta(days=1)


async def test_ballots_are_the_unit_of_chance_per_participant_count(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    moment = at(BERLIN, 2026, 3, 2, 12)
    receipts = [await world.service.cast(lid, ANN, at_ms=moment + i) for i in range(3)]
    receipts.append(await world.service.cast(lid, BOB, at_ms=moment + 3))
    assert [r.number for r in receipts] == [1, 2, 3, 1 + 3]
    assert [r.ballots_today for r in receipts] == [1, 2, 3, 1]
    assert len({r.ref for r in receipts}) == 4
    today = await world.service.ballots_today([lid], ANN)
    assert today == {lid: 0}  # the store's clock is long past March: no round today


def test_two_ballots_win_twice_as_often_as_one() -> None:
    """Over many seeded draws of a round where Ann holds 2 ballots and Bob 1, Ann wins
    two thirds of the time (the ballot, not the person, is the unit of chance)."""
    refs = [fairness.new_ballot_ref() for _ in range(3)]
    owner = {0: "ann", 1: "ann", 2: "bob"}
    root = fairness.merkle_root(refs)
    rounds = 20_000
    ann = 0
    for n in range(rounds):
        outcome = fairness.select_winners(root, n.to_bytes(32, "big"), 3, [("Coffee", 1)], 0)
        ann += owner[outcome.winners[0].index] == "ann"
    assert abs(ann / rounds - 2 / 3) < 0.02


async def test_catch_up_draws_missed_days_in_order_once(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01", end="2026-03-05")
    for d, caster in [(1, ANN), (1, BOB), (2, BOB), (4, ANN)]:
        await world.service.cast(lid, caster, at_ms=at(BERLIN, 2026, 3, d, 10))
    wake = at(BERLIN, 2026, 3, 4, 0, 0, 5)  # the scheduler was down for three days
    report = await world.scheduler("a").run_once(wake)
    assert report.led
    assert report.drawn == [(lid, date(2026, 3, d)) for d in (1, 2, 3)]
    assert report.lag_ms == wake - lotteries.day_bounds(BERLIN, date(2026, 3, 1))[1]

    views = {v.day.day: v for v in await world.service.history(lid)}
    assert [views[d].state for d in (1, 2, 3)] == [
        DayState.drawn,
        DayState.drawn,
        DayState.no_ballots,
    ]
    assert views[1].ballots == 2
    assert views[1].winners[0].name in {"Ann", "Bob"}
    assert views[2].winners[0].name == "Bob"
    assert views[3].winners == ()
    lottery = await world.service.get(lid)
    assert lottery.last_day == date(2026, 3, 3)
    assert await world.store.next_due() == (lid, lotteries.day_bounds(BERLIN, date(2026, 3, 4))[1])

    # Nothing is drawn twice: a second pass at the same time draws nothing more.
    again = await world.scheduler("a").run_once(wake)
    assert again.drawn == []
    # A ballot for a drawn day is refused.
    with pytest.raises(DrawNotOpen):
        await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 2, 23))

    # After the end date, the last rounds are drawn and the lottery leaves the schedule.
    final = await world.scheduler("a").run_once(at(BERLIN, 2026, 3, 9))
    assert final.drawn == [(lid, date(2026, 3, 4)), (lid, date(2026, 3, 5))]
    assert await world.store.next_due() is None
    with pytest.raises(LotteryNotRunning):
        await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 6, 10))


async def test_racing_schedulers_draw_each_round_once(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    for i in range(5):
        await world.service.cast(lid, ANN if i % 2 else BOB, at_ms=at(BERLIN, 2026, 3, 1, 9, i))
    wake = at(BERLIN, 2026, 3, 2, 0, 0, 1)
    reports = await asyncio.gather(*(world.scheduler(f"s{i}").run_once(wake) for i in range(4)))
    assert sum(r.led for r in reports) == 1
    # Even processes that bypass the lease (a manual trigger, a retry) get the one result.
    await asyncio.gather(*(world.service.draw_round(lid, date(2026, 3, 1), wake) for _ in range(5)))
    view = await world.service.round(lid, "2026-03-01")
    assert view.state is DayState.drawn
    assert len(view.winners) == 1
    round_id = lotteries.round_draw_id(lid, date(2026, 3, 1))
    draw = await world.drawing.get(round_id)
    assert draw.result is not None
    bundle = json.loads(await world.drawing.proof_bundle(round_id))
    assert verification.verify_bundle(bundle, await world.drawing.entries_file(round_id)).ok
    assert bundle["winners"][0]["index"] + 1 == view.winners[0].number


async def test_a_manual_draw_after_the_automatic_one_is_the_same(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    for i in range(6):
        await world.service.cast(lid, ANN if i < 4 else BOB, at_ms=at(BERLIN, 2026, 3, 1, 8, i))
    await world.scheduler("a").run_once(at(BERLIN, 2026, 3, 2, 0, 0, 1))
    automatic = await world.service.round(lid, date(2026, 3, 1))
    manual = await world.service.draw_now(MANAGER, lid, "2026-03-01")
    assert manual == automatic
    with pytest.raises(Forbidden):
        await world.service.draw_now(ANN, lid, "2026-03-01")


async def test_a_manager_may_draw_an_ended_day_early_but_not_today(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 1, 8))
    view = await world.service.draw_now(MANAGER, lid, "2026-03-01")
    assert view.state is DayState.drawn
    assert view.winners[0].name == "Ann"
    # The scheduler then finds the round drawn and records its progress only.
    report = await world.scheduler("a").run_once(at(BERLIN, 2026, 3, 2, 0, 0, 1))
    assert report.drawn == [(lid, date(2026, 3, 1))]
    assert await world.service.round(lid, date(2026, 3, 1)) == view
    today = datetime.now(BERLIN).date() + timedelta(days=1)
    with pytest.raises(RoundNotOver):
        await world.service.draw_now(MANAGER, lid, today)


async def test_what_a_date_says(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01", end="2026-12-31")
    await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 2, 8))
    now = at(BERLIN, 2026, 3, 4, 12)
    states = {
        d: (await world.service.round(lid, d, now_ms=now)).state
        for d in [
            "2026-02-28",
            "2026-03-02",
            "2026-03-03",
            "2026-03-04",
            "2026-03-05",
            "2027-01-01",
        ]
    }
    assert states == {
        "2026-02-28": DayState.before_start,
        "2026-03-02": DayState.not_drawn,
        "2026-03-03": DayState.not_drawn,
        "2026-03-04": DayState.running,
        "2026-03-05": DayState.future,
        "2027-01-01": DayState.after_end,
    }


async def test_refusals_store_nothing(world: World, redis: Redis) -> None:
    lid = await new_lottery(world, "2026-03-05")
    with pytest.raises(LotteryNotRunning):
        await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 4, 23, 59, 59, 999))
    with pytest.raises(NotAuthenticated):
        await world.service.cast(lid, Caller(user=None), at_ms=at(BERLIN, 2026, 3, 6))
    with pytest.raises(LotteryNotFound):
        await world.service.cast("nosuchlotter", ANN)
    assert [k async for k in redis.scan_iter("*{d:*")] == []


async def test_creating_a_lottery(world: World, redis: Redis) -> None:
    today = datetime.now(ZoneInfo("UTC")).date()
    lottery = await world.service.create(
        MANAGER, name=" Office lunch ", prize="Lunch", start=today.isoformat(), timezone="UTC"
    )
    assert lottery.terms.name == "Office lunch"
    assert lottery.terms.timezone == "UTC"
    assert lottery.last_day is None
    assert await world.store.next_due() == (
        lottery.id,
        lotteries.day_bounds(ZoneInfo("UTC"), today)[1],
    )
    with pytest.raises(Forbidden):
        await world.service.create(ANN, name="x", prize="y", start=today.isoformat())


async def test_rounds_are_not_run_through_the_generic_draw_steps(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    ballot = await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 1, 8))
    admin = person("root", Role.admin)
    for step in (world.drawing.cancel, world.drawing.close, world.drawing.draw_winners):
        with pytest.raises(WrongDrawKind):
            await step(admin, ballot.round_id)
    assert (await world.drawing.get(ballot.round_id)).status.value == "open"


@pytest.mark.parametrize("text", ["9999-12-31", "20261203", "2026-W49-4", "2026-02-30", "", "x"])
async def test_dates_are_read_strictly(world: World, text: str) -> None:
    lid = await new_lottery(world, "2026-03-01")
    with pytest.raises(InvalidInput) as refused:
        await world.service.round(lid, text)
    assert refused.value.errors == {"date": "Use a date such as 2026-11-22"}


async def test_an_unknown_zone_is_reported_with_the_other_fields(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.service.create(MANAGER, name="", prize="", start="soon", timezone="Mars/Base")
    assert set(refused.value.errors) == {"name", "prize", "start", "timezone"}


async def test_the_scheduler_status_keeps_the_last_pass_that_drew(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    scheduler = world.scheduler("a")
    await scheduler.run_once(at(BERLIN, 2026, 3, 2, 0, 0, 2))
    await scheduler.run_once(at(BERLIN, 2026, 3, 2, 0, 0, 3))  # nothing more to draw
    status = await scheduler.status()
    assert status["leader"] == "a"
    assert status["last_drawn"] == [f"{lid}:2026-03-01"]
    assert status["last_lag_ms"] == 2000
    assert status["last_run_at"] == "2026-03-01T23:00:03.000Z"
    assert status["last_drew_at"] == "2026-03-01T23:00:02.000Z"
    assert status["next_due_lottery"] == lid


async def test_the_store_clock_overrules_a_wrong_process_clock(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    wrong = LotteryService(world.store, world.drawing, clock=lambda: at(BERLIN, 2026, 3, 1, 12))
    ballot = await wrong.cast(lid, ANN)
    store_day = lotteries.local_day(BERLIN, await world.store.now_ms())
    assert ballot.day == store_day
    assert (
        await world.redis.exists(KEYS.draw_meta(lotteries.round_draw_id(lid, date(2026, 3, 1))))
        == 0
    )


async def test_a_full_chunk_is_hashed_while_the_round_is_open(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    first = await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 1, 9))
    start_ms, end_ms = lotteries.day_bounds(BERLIN, date(2026, 3, 1))
    sha = await world.redis.script_load(script_source("cast_ballot"))
    round_keys = ballot_keys(KEYS, first.round_id, "bob")
    size = fairness.CHUNK_LEAVES
    at_ms = at(BERLIN, 2026, 3, 1, 10)
    for start in range(1, size - 1, 5000):  # all but the chunk's last ballot, straight in
        async with world.redis.pipeline(transaction=False) as pipe:
            for n in range(start, min(start + 5000, size - 1)):
                ref = f"{n:032x}"
                pipe.evalsha(
                    sha,
                    len(round_keys),
                    *round_keys,
                    at_ms,
                    start_ms,
                    end_ms,
                    "u:bob",
                    ref,
                    "Bob",
                    "bob",
                )
            await pipe.execute()
    assert await world.redis.exists(KEYS.chunk_roots(first.round_id)) == 0

    last = await world.service.cast(lid, ANN, at_ms=at_ms)  # completes chunk 0
    assert last.number == size
    for _ in range(600):  # hashing starts worker processes first: allow a slow machine
        if await world.redis.hexists(KEYS.chunk_roots(first.round_id), "0"):
            break
        await asyncio.sleep(0.05)
    refs = await DrawStore(world.redis, KEYS).ledger_refs(first.round_id, size)
    kept = await world.redis.hget(KEYS.chunk_roots(first.round_id), "0")
    assert kept == fairness.merkle_root(refs).hex()  # one whole chunk: its root is the root

    after = await world.service.cast(lid, BOB, at_ms=at_ms + 1)
    await world.service.draw_round(lid, date(2026, 3, 1), at_ms=end_ms)
    drawn = await world.drawing.get(first.round_id)
    assert drawn.seal is not None
    assert drawn.seal.entry_count == size + 1
    assert drawn.seal.root == fairness.merkle_root([*refs, after.ref]).hex()


async def test_a_round_id_taken_by_another_draw_is_never_written_to(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    day = date(2026, 3, 2)
    taken = lotteries.round_draw_id(lid, day)
    # A giveaway that happens to hold the id the round would get (60 bits: improbable).
    await world.redis.hset(KEYS.draw_meta(taken), mapping={"status": "open", "kind": "giveaway"})
    with pytest.raises(WrongDrawKind):
        await world.service.cast(lid, ANN, at_ms=at(BERLIN, 2026, 3, 2, 12))
    with pytest.raises(WrongDrawKind):
        await world.service.draw_round(lid, day, at_ms=at(BERLIN, 2026, 3, 3, 0, 0, 1))
    assert await world.redis.exists(KEYS.ledger(taken), KEYS.entrants(taken)) == 0
    meta = await world.redis.hgetall(KEYS.draw_meta(taken))
    assert meta == {"status": "open", "kind": "giveaway"}


async def test_only_a_days_first_ballot_carries_the_rounds_fields(world: World) -> None:
    lid = await new_lottery(world, "2026-03-01")
    day = date(2026, 3, 2)
    round_id = lotteries.round_draw_id(lid, day)
    start_ms, end_ms = lotteries.day_bounds(BERLIN, day)
    fieldless = functools.partial(
        world.store.cast_ballot,
        round_id,
        start_ms=start_ms,
        end_ms=end_ms,
        identity="u:ann",
        ref="0" * 32,
        label="Ann",
        name="ann",
        at_ms=start_ms + 1,
    )
    bare = await fieldless()
    assert (bare.cast, bare.new_round) == (False, True)
    assert await world.redis.exists(*KEYS.draw_keys(round_id)) == 0  # nothing created

    first = await world.service.cast(lid, ANN, at_ms=start_ms + 2)  # creates the round
    assert (first.round_id, first.number) == (round_id, 1)
    second = await fieldless()
    assert (second.cast, second.index, second.mine) == (True, 1, 2)
    meta = await world.redis.hgetall(KEYS.draw_meta(round_id))
    assert (meta["kind"], meta["lottery_id"], meta["round_date"]) == ("lottery", lid, "2026-03-02")
