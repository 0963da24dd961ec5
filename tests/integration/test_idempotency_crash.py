"""Nothing a claimant was given can be lost: a keyed claim and its record are one write.

- kill -9 of the store in the middle of a stream of keyed claims: after the restart, every
  claim has its record and every record its claim, and each record opens (with the
  client's key only) to the code whose hash the ledger holds;
- a claim whose answer never reached the client (the store paused its writes for 3 s, the
  client gave up after 1 s): the retry with the same key gets that ticket and its code;
- a dump of every key under the prefix holds no ticket code, in any form.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import fairness, idempotency, tickets
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.idempotency import RetryKey
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.idempotency import KeptAction
from fairdraw.store.keys import Keys
from fairdraw.store.raffles import RaffleStore
from tests.support.app import MANAGER, LiveServer
from tests.support.processes import free_port, start_serve
from tests.support.store import everything_stored, pause_writes

KEYS = Keys()
SECRET = secrets.token_bytes(32)
DRAW_ID = "abcdefghijkm"
TICKETS = 100_000
DAY_MS = 24 * 3600 * 1000


def retry_for(n: int) -> RetryKey:
    key = f"claim-{n:08d}-{uuid.uuid4()}"
    return idempotency.retry_key(SECRET, "a:10.0.0.1", key, f"fp{n}", DAY_MS)


async def claim_until_killed(
    store: RaffleStore, issued: dict[str, tuple[RetryKey, str]], answered: set[str]
) -> None:
    """Keyed claims, 8 at a time, until the store goes away; ``answered`` gets the
    record names of the claims the store acknowledged."""

    async def one(n: int) -> None:
        retry = retry_for(n)
        code = tickets.new_code()
        issued[retry.name] = (retry, code)
        code_hash = tickets.code_hash(SECRET, tickets.parse_code(code))
        sealed = retry.seal(code.encode())
        await store.claim(DRAW_ID, f"a:{n}", code_hash, "", retry, sealed)
        answered.add(retry.name)

    n = 0
    while True:
        batch = [one(n + i) for i in range(8)]
        n += 8
        results = await asyncio.gather(*batch, return_exceptions=True)
        if any(isinstance(r, Exception) for r in results):
            return


async def test_claims_and_their_records_survive_a_kill_together(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    url = store.start()
    try:
        redis = Redis.from_url(url, decode_responses=True)
        await redis.hset(
            KEYS.draw_meta(DRAW_ID),
            mapping={
                "status": "open",
                "kind": "raffle",
                "ticket_count": TICKETS,
                "per_claimant": 1,
            },
        )
        issued: dict[str, tuple[RetryKey, str]] = {}
        answered: set[str] = set()
        claiming = asyncio.create_task(
            claim_until_killed(RaffleStore(redis, KEYS), issued, answered)
        )
        await asyncio.sleep(0.5)
        pid = store.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(claiming, 30)
        await redis.aclose()
        assert len(answered) > 50
    finally:
        store.stop()

    url = store.start()
    try:
        redis = Redis.from_url(url, decode_responses=True)
        ledger = await redis.lrange(KEYS.ledger(DRAW_ID), 0, -1)
        records = {
            key.rsplit(":", 1)[1]: KeptAction.parse(await redis.get(key))
            async for key in redis.scan_iter(f"*{{d:{DRAW_ID}}}:idem:*")
        }
        await redis.aclose()
    finally:
        store.stop()
    # Every acknowledged claim is there; every claim has its record and the reverse.
    assert answered <= set(records)
    assert len(records) == len(ledger)
    assert sorted(r.index for r in records.values()) == list(range(len(ledger)))
    for name, record in records.items():
        retry, code = issued[name]
        assert retry.open(record.extra).decode() == code
        code_hash, _, claimant = ledger[record.index].split("\t")
        assert claimant.startswith("a:")
        assert code_hash == tickets.code_hash(SECRET, tickets.parse_code(code))


def _claim_url(live: LiveServer, draw_id: str) -> str:
    return f"{live.url}/api/v1/draws/{draw_id}/tickets"


def _new_raffle(live: LiveServer) -> str:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": MANAGER[0], "password": MANAGER[1]},
        ).json()["access_token"]
        response = client.post(
            "/api/v1/raffles",
            json={
                "title": "Paused",
                "prizes": [{"name": "Bike", "quantity": 1}],
                "ticket_count": 10,
                "open": True,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        draw_id: str = response.json()["id"]
        return draw_id


def test_a_claim_whose_answer_was_lost_is_recovered_by_its_retry(
    live_server: LiveServer, redis_sync: SyncRedis
) -> None:
    draw_id = _new_raffle(live_server)
    key = str(uuid.uuid4())
    headers = {"Idempotency-Key": key}
    pause_writes(redis_sync, 3000)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(_claim_url(live_server, draw_id), headers=headers, timeout=1)
    # The first attempt finishes once writes resume; meanwhile its key is in flight.
    deadline = time.monotonic() + 20
    statuses = []
    while True:
        retry = httpx.post(_claim_url(live_server, draw_id), headers=headers, timeout=10)
        statuses.append(retry.status_code)
        if retry.status_code != 409 or time.monotonic() > deadline:
            break
        assert retry.json()["code"] == "idempotency_key_in_flight"
        time.sleep(0.2)
    assert retry.status_code == 201, (statuses, retry.text)
    ticket = retry.json()
    assert redis_sync.llen(KEYS.ledger(draw_id)) == 1
    check = httpx.post(
        f"{live_server.url}/api/v1/draws/{draw_id}/tickets/check",
        json={"number": ticket["number"], "code": ticket["code"]},
    )
    assert check.status_code == 200, check.text
    # The client asks once more: the same ticket and code again, replayed.
    last = httpx.post(_claim_url(live_server, draw_id), headers=headers, timeout=10)
    assert last.json() == ticket
    assert last.headers["idempotent-replayed"] == "true"
    assert redis_sync.llen(KEYS.ledger(draw_id)) == 1


def code_forms(code: str) -> set[str]:
    """A code as a person, a program or an encoder could write it."""
    raw = tickets.parse_code(code)
    bare = code.replace("-", "")
    return {
        code,
        code.lower(),
        bare,
        bare.lower(),
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b64encode(code.encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(code.encode()).decode().rstrip("="),
    }


async def test_a_store_dump_holds_no_ticket_code(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    headers = await _bearer(app_client)
    raffle = await app_client.post(
        "/api/v1/raffles",
        json={
            "title": "Dumped",
            "prizes": [{"name": "Bike", "quantity": 1}],
            "ticket_count": 3,
            "claimants": "account",
            "per_claimant": 2,
            "open": True,
        },
        headers=headers,
    )
    draw_id = raffle.json()["id"]
    codes: list[str] = []
    for _ in range(2):  # the manager's own tickets, keyed; one claim replayed
        key = {"Idempotency-Key": str(uuid.uuid4())}
        for _ in range(2):
            claimed = await app_client.post(
                f"/api/v1/draws/{draw_id}/tickets", headers=headers | key
            )
            assert claimed.status_code == 201, claimed.text
        codes.append(claimed.json()["code"])
    dump: list[Any] = await everything_stored(redis)
    assert [k async for k in redis.scan_iter("*idem:*")]  # the records are there
    everything = "\n".join(dump)
    for code in codes:
        for form in code_forms(code):
            assert form not in everything, form


async def _bearer(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": MANAGER[0], "password": MANAGER[1]},
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_keyed_claims_survive_a_kill_of_the_web_server(
    app: FastAPI, app_settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    """kill -9 of ``fairdraw serve`` while keyed claims pour in; after a restart every
    client retries every key it sent: each gets a ticket with its code (the very answer,
    if it had heard one), no key claims twice, and no claim is left without its key."""
    draw = await app.state.services.drawing.create_raffle(
        Caller(User("maria", "maria", Role.manager, 0)),
        title="Under load",
        prizes=[{"name": "Bike", "quantity": 1}],
        ticket_count=100_000,
        per_claimant=100_000,
        open_now=True,
    )
    secret = app_settings.secret_key
    assert app_settings.redis_url
    assert isinstance(secret, SecretStr)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env |= {
        "FAIRDRAW_REDIS_URL": app_settings.redis_url,
        "FAIRDRAW_SECRET_KEY": secret.get_secret_value(),
        "FAIRDRAW_SCHEDULER": "false",
        "FAIRDRAW_RATE_LIMIT_ENTRIES": "1000000/minute",
        # A request the kill cut short holds its key this long; retries wait it out.
        "FAIRDRAW_IDEMPOTENCY_LEASE_SECONDS": "1",
        "FAIRDRAW_DATA_DIR": str(tmp_path / "var"),
    }
    port = free_port()
    server = start_serve(tmp_path / "var", port, env)
    url = f"http://127.0.0.1:{port}/api/v1/draws/{draw.id}/tickets"
    sent: list[str] = []
    heard: dict[str, dict[str, Any]] = {}
    loaded = asyncio.Event()

    async def claim_forever(client: httpx.AsyncClient) -> None:
        while True:
            key = str(uuid.uuid4())
            sent.append(key)
            try:
                response = await client.post(url, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                return
            assert response.status_code == 201, response.text
            heard[key] = response.json()
            if len(heard) >= 100:
                loaded.set()

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            load = [asyncio.create_task(claim_forever(client)) for _ in range(16)]
            await asyncio.wait_for(loaded.wait(), 60)
            server.kill()  # SIGKILL: no shutdown, no answer for what was in flight
            await asyncio.wait_for(asyncio.gather(*load), 30)
    finally:
        server.kill()
        server.communicate()
    assert len(sent) > len(heard)

    port = free_port()
    server = start_serve(tmp_path / "var", port, env)
    url = f"http://127.0.0.1:{port}/api/v1/draws/{draw.id}/tickets"
    tickets: dict[str, dict[str, Any]] = {}
    try:
        async with httpx.AsyncClient(timeout=10) as client:

            async def retry(key: str) -> None:
                for _ in range(100):
                    response = await client.post(url, headers={"Idempotency-Key": key})
                    if response.status_code != 409:
                        break
                    await asyncio.sleep(0.1)
                assert response.status_code == 201, response.text
                tickets[key] = response.json()

            for start in range(0, len(sent), 32):
                await asyncio.gather(*(retry(k) for k in sent[start : start + 32]))
    finally:
        server.kill()
        server.communicate()
    # What a client heard, its retry hears again.
    for key, answer in heard.items():
        assert tickets[key] == answer
    # One claim per key, none twice, none lost; every code is the one the ledger checks.
    ledger = await redis.lrange(KEYS.ledger(draw.id), 0, -1)
    assert len(ledger) == len(sent)
    assert len({t["number"] for t in tickets.values()}) == len(sent)
    secret_bytes = app_settings.secret_bytes()
    # Each claim holds its code's keyed hash and (fairdraw/2) the code's public commitment.
    stored = {line.split("\t", 1)[0] for line in ledger}
    codes = {
        f"{code_hash_of(secret_bytes, t['code'])}:{commitment_of(t['code'])}"
        for t in tickets.values()
    }
    assert codes == stored


def code_hash_of(secret: bytes, code: str) -> str:
    return tickets.code_hash(secret, tickets.parse_code(code))


def commitment_of(code: str) -> str:
    return fairness.code_commitment(tickets.parse_code(code))
