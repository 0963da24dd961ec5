"""What the ballot benchmark needs around ``fairdraw serve``: the server with its limits
raised, participants with API access tokens, lotteries opened through the JSON API, and
the ``cast_ballot`` script's arguments exactly as the service sends them.

Participants are written straight into the store (``AccountStore.create_user``) with one
argon2id hash shared by all of them: hashing a password costs about 0.25 s here, and the
accounts are setup, not the subject. Their tokens come from the public token endpoint
(``POST /api/v1/auth/token``, password grant), which checks each password as it would
for any client.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from argon2 import PasswordHasher

from bench.harness import BenchError
from bench.server import ENTRY_RATE_LIMIT, FairdrawServer
from fairdraw.domain import lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.draws import ACCOUNT_PREFIX
from fairdraw.store.accounts import AccountStore
from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import ballot_keys

ADMIN_USERNAME = "admin"
LOTTERY_ZONE = "UTC"
# The password every benchmark participant shares (never a real account's).
PARTICIPANT_PASSWORD = secrets.token_urlsafe(18)
UNLIMITED = ENTRY_RATE_LIMIT
# Setup only: how many token requests are in flight at once (each costs an argon2 check).
_TOKEN_CONCURRENCY = 8


def participant_name(number: int) -> str:
    """The username (and display name) of benchmark participant ``number``."""
    return f"bench-{number:06d}"


class LotteryServer(FairdrawServer):
    """``fairdraw serve`` as bench_entries.py starts it, with the ballot limit (the entry
    limit) and the login limits raised out of reach — every request comes from
    127.0.0.1 — and access tokens that outlive the run. The limiters still run."""

    def environment(self) -> Mapping[str, str]:
        return {
            **super().environment(),
            "FAIRDRAW_RATE_LIMIT_ENTRIES": UNLIMITED,
            "FAIRDRAW_RATE_LIMIT_LOGIN_ADDRESS": UNLIMITED,
            "FAIRDRAW_RATE_LIMIT_LOGIN_USER": UNLIMITED,
            "FAIRDRAW_ACCESS_TOKEN_SECONDS": "3600",
        }


@dataclass(frozen=True)
class Ballot:
    """The receipt fields the benchmark uses from ``POST .../ballots``."""

    round_id: str
    day: date
    number: int


async def create_participants(store_url: str, count: int) -> list[str]:
    """Participant accounts 0..count-1; their usernames."""
    password_hash = PasswordHasher().hash(PARTICIPANT_PASSWORD)
    redis = connect(store_url)
    try:
        store = AccountStore(redis, Keys(), secrets.token_bytes(32))
        created_ms = await store.now_ms()
        names = [participant_name(n) for n in range(count)]
        for name in names:
            user = User(name, name, Role.participant, created_ms)
            await store.create_user(user, password_hash)
        return names
    finally:
        await redis.aclose()


async def _token(client: httpx.AsyncClient, username: str, password: str) -> str:
    reply = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    _expect(reply, 200)
    token: str = reply.json()["access_token"]
    return token


async def _tokens(base_url: str, usernames: list[str]) -> list[str]:
    at_once = asyncio.Semaphore(_TOKEN_CONCURRENCY)

    async def one(client: httpx.AsyncClient, username: str) -> str:
        async with at_once:
            return await _token(client, username, PARTICIPANT_PASSWORD)

    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        return list(await asyncio.gather(*(one(client, name) for name in usernames)))


def access_tokens(base_url: str, usernames: list[str]) -> list[str]:
    """An API access token for each participant, from the token endpoint."""
    return asyncio.run(_tokens(base_url, usernames))


class LotteryApi:
    """The calls the benchmark makes through the public JSON API, as the administrator
    (bearer token) or as a participant."""

    def __init__(self, base_url: str, admin_password: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=30.0)
        reply = self._client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": ADMIN_USERNAME, "password": admin_password},
        )
        _expect(reply, 200)
        self._admin = {"Authorization": f"Bearer {reply.json()['access_token']}"}

    def create_lottery(self, name: str) -> str:
        """A daily lottery in LOTTERY_ZONE starting today, one winning ballot a day; its id."""
        now_ms = int(time.time() * 1000)
        today = lotteries.local_day(lotteries.zone_of(LOTTERY_ZONE), now_ms).isoformat()
        body: dict[str, Any] = {
            "name": name,
            "prize": "Coffee",
            "winners_per_day": 1,
            "timezone": LOTTERY_ZONE,
            "start": today,
        }
        reply = self._client.post("/api/v1/lotteries", json=body, headers=self._admin)
        _expect(reply, 201)
        lottery_id: str = reply.json()["id"]
        return lottery_id

    def cast(self, lottery_id: str, access_token: str) -> Ballot:
        """One ballot as the token's participant."""
        reply = self._client.post(
            ballots_path(lottery_id), headers={"Authorization": f"Bearer {access_token}"}
        )
        _expect(reply, 201)
        receipt = reply.json()
        return Ballot(receipt["round_id"], date.fromisoformat(receipt["date"]), receipt["number"])

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> LotteryApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def ballots_path(lottery_id: str) -> str:
    return f"/api/v1/lotteries/{lottery_id}/ballots"


def cast_ballot_words(
    sha: str, keys: Keys, ballot: Ballot, meta: Mapping[str, str], identity: str, label: str
) -> list[str]:
    """``EVALSHA cast_ballot ...`` with the arguments LotteryService.cast sends for a
    ballot in ``ballot``'s round, which exists, at the store's clock ("" as ARGV[1]):
    every ballot but a day's first goes without the round's fields. The reference is
    left to the store to derive ("", as the service sends)."""
    start_ms, end_ms = lotteries.day_bounds(lotteries.zone_of(LOTTERY_ZONE), ballot.day)
    name = identity.removeprefix(ACCOUNT_PREFIX)
    script_keys = ballot_keys(keys, ballot.round_id, name)
    if str(end_ms) != meta["deadline_ms"]:
        raise BenchError(f"round {ballot.round_id} does not end at midnight {LOTTERY_ZONE}")
    return [
        "EVALSHA",
        sha,
        str(len(script_keys)),
        *script_keys,
        "",
        str(start_ms),
        str(end_ms),
        identity,
        "",
        label,
        name,
    ]


def _expect(reply: httpx.Response, status: int) -> None:
    if reply.status_code != status:
        raise BenchError(
            f"{reply.request.method} {reply.request.url.path} answered {reply.status_code} "
            f"(expected {status}): {reply.text[:500]}"
        )
