"""Raffles through the service layer, on a real store: claims, sell-out, checks, draws."""

from __future__ import annotations

import asyncio
import ipaddress
import json

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import fairness, proof, tickets, verification
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import DrawStatus
from fairdraw.domain.errors import (
    DrawNotOpen,
    InvalidCode,
    InvalidInput,
    InvalidTransition,
    NotAuthenticated,
    RateLimited,
    SoldOut,
    TicketLimitReached,
    TicketNotFound,
    WrongDrawKind,
)
from fairdraw.services.raffles import TicketStatus
from fairdraw.store.keys import Keys
from fairdraw.store.raffles import RaffleStore, claim_commitment, claim_keys
from fairdraw.store.scripts import script_source
from fairdraw.web.deps import Services
from tests.support.store import everything_stored

KEYS = Keys()
MANAGER = Caller(User(username="maria", display_name="Maria", role=Role.manager, created_ms=0))
PRIZES = [{"name": "Bike", "quantity": 1}, {"name": "Mug", "quantity": 2}]


def services(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


# Where tickets are checked from: the holder's address and a stranger's.
HERE = ipaddress.ip_address("192.0.2.1")
GUESSER = ipaddress.ip_address("198.51.100.7")


def claimant(n: int) -> Caller:
    return Caller(user=None, address=ipaddress.ip_address(f"10.0.{n // 256}.{n % 256}"))


async def new_raffle(app: FastAPI, tickets_total: int, **terms: object) -> str:
    draw = await services(app).drawing.create_raffle(
        MANAGER,
        title="Charity raffle",
        prizes=PRIZES,
        ticket_count=tickets_total,
        open_now=True,
        **terms,
    )
    assert draw.status is DrawStatus.open
    assert draw.raffle is not None
    assert draw.raffle.ticket_count == tickets_total
    return draw.id


async def test_claims_hand_out_a_shuffled_permutation_and_sell_out_closes(app: FastAPI) -> None:
    raffles = services(app).raffles
    draw_id = await new_raffle(app, 100)
    claimed = [await raffles.claim(draw_id, claimant(n)) for n in range(100)]
    numbers = [t.number for t in claimed]
    assert sorted(numbers) == list(range(1, 101))
    assert numbers != sorted(numbers)
    assert [t.sold_out for t in claimed] == [False] * 99 + [True]
    with pytest.raises(SoldOut):
        await raffles.claim(draw_id, claimant(100))
    draw = await services(app).drawing.get(draw_id)
    assert (draw.status, draw.entry_count, draw.tickets_left) == (DrawStatus.closed, 100, 0)


async def test_one_ticket_per_address_even_when_ten_claims_race(app: FastAPI, redis: Redis) -> None:
    raffles = services(app).raffles
    draw_id = await new_raffle(app, 50)
    outcomes = await asyncio.gather(
        *(raffles.claim(draw_id, claimant(7)) for _ in range(10)), return_exceptions=True
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(won) == 1
    assert all(isinstance(o, TicketLimitReached) for o in outcomes if o not in won)
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    assert list((await redis.hgetall(KEYS.claimants(draw_id))).values()) == ["1"]


async def test_account_raffles_need_a_login_and_count_per_account(app: FastAPI) -> None:
    raffles = services(app).raffles
    draw_id = await new_raffle(app, 10, claimants="account", per_claimant=2)
    with pytest.raises(NotAuthenticated):
        await raffles.claim(draw_id, claimant(1))
    pat = Caller(User(username="pat", display_name="Pat", role=Role.participant, created_ms=0))
    await raffles.claim(draw_id, pat)
    await raffles.claim(draw_id, pat)
    with pytest.raises(TicketLimitReached):
        await raffles.claim(draw_id, pat)


async def test_checking_a_ticket_before_and_after_the_draw(app: FastAPI, redis: Redis) -> None:
    svc = services(app)
    draw_id = await new_raffle(app, 5)
    held = [await svc.raffles.claim(draw_id, claimant(n)) for n in range(4)]
    ticket = held[0]
    check = await svc.raffles.check(draw_id, ticket.number, ticket.code.lower(), HERE)
    assert (check.status, check.has_won, check.prize) == (TicketStatus.not_drawn, False, None)
    unclaimed = ({1, 2, 3, 4, 5} - {t.number for t in held}).pop()
    with pytest.raises(TicketNotFound):
        await svc.raffles.check(draw_id, unclaimed, ticket.code, HERE)
    for number in (0, 6):
        with pytest.raises(TicketNotFound):
            await svc.raffles.check(draw_id, number, ticket.code, HERE)
    with pytest.raises(InvalidCode):
        await svc.raffles.check(draw_id, ticket.number, held[1].code, HERE)
    with pytest.raises(InvalidInput):
        await svc.raffles.check(draw_id, ticket.number, "not a code", HERE)

    with pytest.raises(InvalidTransition):  # early close was not allowed
        await svc.drawing.close(MANAGER, draw_id)
    await svc.raffles.claim(draw_id, claimant(4))  # the last ticket closes the raffle
    draw = await svc.drawing.draw_winners(MANAGER, draw_id)
    assert draw.result is not None
    prizes = {w.ref.split(":")[0]: w.prize for w in draw.result.winners}
    assert sorted(prizes.values()) == ["Bike", "Mug", "Mug"]
    for t in held:
        check = await svc.raffles.check(draw_id, t.number, t.code, HERE)
        assert check.has_won is (str(t.number) in prizes)
        assert check.prize == prizes.get(str(t.number))

    entries = await svc.drawing.entries_file(draw_id)
    assert sorted(int(line.split("\t")[1].split(":")[0]) for line in entries.splitlines()) == [
        1,
        2,
        3,
        4,
        5,
    ]
    report = verification.verify_bundle(
        json.loads(await svc.drawing.proof_bundle(draw_id)), entries
    )
    assert report.ok, report

    # Only keyed hashes of the codes are stored, nowhere the codes themselves.
    stored = json.dumps(await everything_stored(redis))
    for t in held:
        raw = tickets.parse_code(t.code)
        assert t.code not in stored
        assert t.code.replace("-", "") not in stored
        assert raw.hex() not in stored
        assert tickets.code_hash(svc.secret, raw) in stored


async def test_wrong_codes_are_throttled_per_ticket_and_address(app: FastAPI) -> None:
    svc = services(app)
    svc.limits.ticket_code_limit = type(svc.limits.ticket_code_limit)(2, 1, namespace="ticket-code")
    draw_id = await new_raffle(app, 5)
    mine, other = [await svc.raffles.claim(draw_id, claimant(n)) for n in range(2)]
    for _ in range(2):
        with pytest.raises(InvalidCode):
            await svc.raffles.check(draw_id, mine.number, other.code, GUESSER)
    with pytest.raises(RateLimited):
        await svc.raffles.check(draw_id, mine.number, mine.code, GUESSER)
    # Neither the holder elsewhere nor another ticket is affected.
    held = await svc.raffles.check(draw_id, mine.number, mine.code, HERE)
    assert held.status is TicketStatus.not_drawn
    assert (
        await svc.raffles.check(draw_id, other.number, other.code, GUESSER)
    ).status is TicketStatus.not_drawn


async def test_raffle_terms_are_validated_and_nothing_is_stored(app: FastAPI, redis: Redis) -> None:
    drawing = services(app).drawing
    with pytest.raises(InvalidInput) as refused:
        await drawing.create_raffle(MANAGER, title="x", prizes=PRIZES, ticket_count=2)
    assert refused.value.errors == {
        "prizes": "3 prizes but only 2 tickets: each ticket wins at most one prize"
    }
    for count in (0, -1, 10**9 + 1, "many", True, 1.5):
        with pytest.raises(InvalidInput) as refused:
            await drawing.create_raffle(MANAGER, title="x", prizes=PRIZES, ticket_count=count)
        assert set(refused.value.errors) == {"ticket_count"}
    with pytest.raises(InvalidInput) as refused:
        await drawing.create_raffle(
            MANAGER, title="x", prizes=PRIZES, ticket_count=5, claimants="robots", per_claimant=6
        )
    assert set(refused.value.errors) == {"claimants", "per_claimant"}
    assert [k async for k in redis.scan_iter("*{d:*")] == []
    assert await redis.zcard(KEYS.draws_index()) == 0


async def test_a_billion_tickets_cost_nothing_up_front(app: FastAPI, redis: Redis) -> None:
    draw_id = await new_raffle(app, 10**9, early_close=True)
    ticket = await services(app).raffles.claim(draw_id, claimant(1))
    assert 1 <= ticket.number <= 10**9
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


async def test_giveaways_have_no_tickets_and_raffles_no_entries(app: FastAPI) -> None:
    svc = services(app)
    giveaway = await svc.drawing.create(MANAGER, title="Give", prizes=PRIZES, open_now=True)
    with pytest.raises(WrongDrawKind):
        await svc.raffles.claim(giveaway.id, claimant(1))
    raffle = await new_raffle(app, 5)
    with pytest.raises(WrongDrawKind):
        await svc.entering.enter(raffle, github="octocat", caller=claimant(1))


async def test_cancelled_and_closed_raffles_refuse_claims(app: FastAPI) -> None:
    svc = services(app)
    early = await new_raffle(app, 5, early_close=True)
    await svc.raffles.claim(early, claimant(1))
    closed = await svc.drawing.close(MANAGER, early)
    assert closed.seal is not None
    assert closed.seal.entry_count == 1
    with pytest.raises(DrawNotOpen):
        await svc.raffles.claim(early, claimant(2))
    cancelled = await new_raffle(app, 5)
    await svc.drawing.cancel(MANAGER, cancelled)
    with pytest.raises(DrawNotOpen):
        await svc.raffles.claim(cancelled, claimant(1))


async def test_a_full_chunk_is_numbered_while_open_and_the_seal_agrees(
    app: FastAPI, redis: Redis
) -> None:
    svc = services(app)
    size = fairness.CHUNK_LEAVES
    total = size + 10
    draw_id = await new_raffle(app, total, per_claimant=total, early_close=True)
    store = RaffleStore(redis, KEYS)
    claim_sha = await redis.script_load(script_source("claim_ticket"))
    script_keys = claim_keys(KEYS, draw_id)
    for start in range(0, size - 1, 5000):  # all but the chunk's last claim, straight in
        async with redis.pipeline(transaction=False) as pipe:
            for _ in range(start, min(start + 5000, size - 1)):
                pipe.evalsha(claim_sha, len(script_keys), *script_keys, "a:filler", "00" * 32, "")
            await pipe.execute()
    assert await redis.exists(KEYS.chunk_numbers(draw_id)) == 0

    await svc.raffles.claim(draw_id, claimant(1))  # completes chunk 0
    for _ in range(600):  # numbering 65,536 tickets takes a few seconds in a worker
        if await redis.hexists(KEYS.chunk_roots(draw_id), "0"):
            break
        await asyncio.sleep(0.05)
    kept = await store.chunk_numbers(draw_id, 0)
    draw = await svc.drawing.get(draw_id)
    perm_key = bytes.fromhex(await redis.hget(KEYS.draw_meta(draw_id), "perm_key"))
    expected = tickets.ticket_numbers(perm_key, total, 0, size + 3)
    assert kept == expected[:size]

    for n in range(3):
        await svc.raffles.claim(draw_id, claimant(2 + n))
    closed = await svc.drawing.close(MANAGER, draw_id)
    assert closed.seal is not None
    assert draw.entry_count == size
    # fairdraw/2: each claim's ref is its number and the commitment to its code.
    elements = await redis.lrange(KEYS.ledger(draw_id), 0, -1)
    refs = [f"{n}:{claim_commitment(e)}" for n, e in zip(expected, elements, strict=True)]
    assert closed.seal.root == fairness.merkle_root(refs).hex()
    assert await svc.drawing.entries_file(draw_id) == proof.entries_file(refs)
