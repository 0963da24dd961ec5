"""kill -9 of the store, then of the web server, while keyed entries, claims and ballots
pour in over HTTP: nothing a client was told is lost, nothing is done twice, and every
ticket's code comes back to the claimant's retry.

``fairdraw serve`` runs as in production, with its embedded store (AOF, fsync always)
under its supervisor. Clients send every action with an ``Idempotency-Key`` and retry it
with the same key after any failure (a 503 while the store is down, a connection cut by
the kill), as docs/api.md tells them to. After both kills and a restart, every key ever
sent is retried once more: each answers with what its client heard, if it heard
anything, and the draws hold exactly one entry, ticket or ballot per key.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.github_server import GitHubStandIn
from tests.support.processes import embedded_env, free_port, start_serve, store_server_pids

ADMIN_PASSWORD = "correct horse battery staple"
PER_KIND = 40  # acknowledged actions of each kind before each kill
CLIENTS_PER_KIND = 4


@dataclass
class Kind:
    """One kind of action, and what its clients sent and heard."""

    name: str
    url: str
    sent: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # key → body
    heard: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → answer


@dataclass
class Load:
    kinds: list[Kind]
    base: str
    headers: dict[str, str]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    unanswered: int = 0  # failures retried (503s, cut connections)

    def least(self) -> int:
        return min(len(kind.heard) for kind in self.kinds)


def _unused_login(n: int) -> str:
    return f"entrant{n:05d}"


async def _act(client: httpx.AsyncClient, load: Load, kind: Kind, key: str) -> bool:
    """Send ``key``'s action until it is answered; False when the server is gone."""
    while not load.stop.is_set():
        try:
            response = await client.post(
                load.base + kind.url,
                json=kind.sent[key],
                headers=load.headers | {"Idempotency-Key": key},
            )
        except httpx.TransportError:
            load.unanswered += 1
            await asyncio.sleep(0.1)
            continue
        in_flight = response.status_code == 409 and (
            response.json().get("code") == "idempotency_key_in_flight"
        )
        if response.status_code == 503 or in_flight:
            # The store is down, or this key's first try is still running: try again.
            load.unanswered += 1
            await asyncio.sleep(0.1)
            continue
        assert response.status_code == 201, (kind.name, response.status_code, response.text)
        kind.heard[key] = response.json()
        return True
    return False


async def _client(client: httpx.AsyncClient, load: Load, kind: Kind, logins: Any) -> None:
    while not load.stop.is_set():
        key = str(uuid.uuid4())
        kind.sent[key] = {"github": next(logins)} if kind.name == "entry" else None
        await _act(client, load, kind, key)


async def _until(load: Load, count: int, seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if load.least() >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the load did not reach {count} of each: {load.least()}")


def _kill_store(data_dir: Path) -> None:
    (pid,) = store_server_pids(data_dir)
    os.kill(pid, signal.SIGKILL)


async def test_kills_lose_and_repeat_nothing(tmp_path: Path, github: GitHubStandIn) -> None:
    for n in range(5000):
        github.add_user(_unused_login(n), 700_000 + n, f"Entrant {n}")
    data_dir = tmp_path / "var"
    env = embedded_env(
        data_dir,
        secret_key=secrets.token_urlsafe(32),
        admin_password=ADMIN_PASSWORD,
        github_api_url=github.url,
        scheduler="false",
        rate_limit_entries="1000000/minute",
        rate_limit_login_user="10000/minute",
        rate_limit_login_address="10000/minute",
        # A request cut by the kill holds its key this long; its retries wait it out.
        idempotency_lease_seconds="1",
    )
    port = free_port()
    server = start_serve(data_dir, port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as setup:
            token = await setup.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD},
            )
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            prizes = [{"name": "Bike", "quantity": 1}]
            giveaway = await setup.post(
                "/api/v1/draws",
                json={"title": "Giveaway", "prizes": prizes, "open": True},
                headers=headers,
            )
            raffle = await setup.post(
                "/api/v1/raffles",
                json={
                    "title": "Raffle",
                    "prizes": prizes,
                    "ticket_count": 1_000_000,
                    "per_claimant": 1_000_000,
                    "open": True,
                },
                headers=headers,
            )
            today = datetime.now(UTC).date().isoformat()
            lottery = await setup.post(
                "/api/v1/lotteries",
                json={"name": "Daily", "prize": "Coffee", "timezone": "UTC", "start": today},
                headers=headers,
            )
            for created in (giveaway, raffle, lottery):
                assert created.status_code == 201, created.text
        ids = {
            "entry": giveaway.json()["id"],
            "claim": raffle.json()["id"],
            "ballot": lottery.json()["id"],
        }
        kinds = [
            Kind("entry", f"/api/v1/draws/{ids['entry']}/entries"),
            Kind("claim", f"/api/v1/draws/{ids['claim']}/tickets"),
            Kind("ballot", f"/api/v1/lotteries/{ids['ballot']}/ballots"),
        ]
        load = Load(kinds, base, headers)
        logins = iter(_unused_login(n) for n in range(5000))
        async with httpx.AsyncClient(timeout=10) as client:
            tasks = [
                asyncio.create_task(_client(client, load, kind, logins))
                for kind in kinds
                for _ in range(CLIENTS_PER_KIND)
            ]
            await _until(load, PER_KIND, 60)
            _kill_store(data_dir)  # the supervisor restarts it; clients retry meanwhile
            await _until(load, 2 * PER_KIND, 60)
            server.kill()  # SIGKILL: no shutdown, no answer for what was in flight
            server.communicate()
            failures_before_restart = load.unanswered
            await asyncio.sleep(0.5)
            load.stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert failures_before_restart > 0  # the kills did cut requests short
        assert any(len(kind.sent) > len(kind.heard) for kind in kinds)  # and some answers

        # The restart adopts nothing: it replaces the killed server's store.
        port = free_port()
        server = start_serve(data_dir, port, env)
        load.base, load.stop = f"http://127.0.0.1:{port}", asyncio.Event()
        retried: dict[str, dict[str, dict[str, Any]]] = {kind.name: {} for kind in kinds}
        async with httpx.AsyncClient(timeout=10) as client:
            for kind in kinds:
                heard, kind.heard = kind.heard, {}
                keys = list(kind.sent)
                for start in range(0, len(keys), 16):
                    batch = keys[start : start + 16]
                    answered = await asyncio.gather(*(_act(client, load, kind, k) for k in batch))
                    assert all(answered)
                retried[kind.name] = kind.heard
                # What a client heard, its retry hears again, to the byte of the code.
                for key, answer in heard.items():
                    assert kind.heard[key] == answer, (kind.name, key)
            # One action per key sent, none twice, none lost.
            draw = (await client.get(f"{load.base}/api/v1/draws/{ids['entry']}")).json()
            assert draw["entry_count"] == len(kinds[0].sent)
            assert sorted(e["index"] for e in retried["entry"].values()) == list(
                range(len(kinds[0].sent))
            )
            raffle_now = (await client.get(f"{load.base}/api/v1/draws/{ids['claim']}")).json()
            assert raffle_now["entry_count"] == len(kinds[1].sent)
            numbers = {t["number"] for t in retried["claim"].values()}
            assert len(numbers) == len(kinds[1].sent)
            codes = {t["code"] for t in retried["claim"].values()}
            assert len(codes) == len(kinds[1].sent)
            ballots = sorted(b["number"] for b in retried["ballot"].values())
            assert ballots == list(range(1, len(kinds[2].sent) + 1))
            # Every code opens its ticket: the holder's check says so.
            for ticket in list(retried["claim"].values())[:20]:
                check = await client.post(
                    f"{load.base}/api/v1/draws/{ids['claim']}/tickets/check",
                    json={"number": ticket["number"], "code": ticket["code"]},
                )
                assert check.status_code == 200, check.text
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
    assert store_server_pids(data_dir) == []
