"""Entries over real HTTP from several clients at once, optionally through a failover: the
draw's master is killed (SIGKILL), its replica takes over, the killed node is started
again and rejoins as the new master's replica. Then: which acknowledged (201) entries
the store still holds.

Used by tests/integration/test_replica_acks_failover.py and bench/bench_replica_acks.py.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import statistics
import time
from dataclasses import dataclass, field

import httpx
from redis.crc import key_slot
from redis.exceptions import RedisError

from fairdraw.domain.draws import GITHUB_PREFIX
from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, login
from tests.support.cluster import Node, ValkeyCluster

# Entries flow again once this many answers in a row are 201s within a second each.
FLOWING = 20
# Longest a failover may take on a busy machine (node timeout 2 s, then the election).
PAUSE_BOUND_SECONDS = 60.0


def entrant(n: int) -> tuple[str, int]:
    """The GitHub login and id of the load's ``n``-th entrant: b0 (id 1), b1 (id 2), …, as
    bench/profiles.py caches them."""
    return f"b{n}", n + 1


@dataclass
class Answer:
    number: int
    status: int
    retry_after: str
    seconds: float
    at: float  # monotonic time the answer came


@dataclass
class LoadRun:
    """One load's answers, and what the store held afterwards."""

    draw_id: str
    started: float
    ended: float
    answers: list[Answer] = field(default_factory=list)
    killed_at: float | None = None
    promoted_at: float | None = None
    lost: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.status == 201]

    def entries_per_second(self) -> float:
        return len(self.acknowledged) / max(self.ended - self.started, 1e-9)

    def latency_ms(self, quantile: float) -> float:
        """A quantile (0.5, 0.99) of the acknowledged entries' answer times."""
        seconds = sorted(answer.seconds for answer in self.acknowledged)
        if len(seconds) < 2:
            return seconds[0] * 1000 if seconds else 0.0
        cut = statistics.quantiles(seconds, n=100, method="inclusive")
        return cut[max(0, min(98, round(quantile * 100) - 1))] * 1000

    def paused_seconds(self) -> float:
        """From the kill to the first answer of the last run of FLOWING quick 201s."""
        if self.killed_at is None:
            return 0.0
        after = [answer for answer in self.answers if answer.at > self.killed_at]
        for start in range(len(after) - FLOWING + 1):
            window = after[start : start + FLOWING]
            if all(answer.status == 201 and answer.seconds < 1 for answer in window):
                return window[0].at - self.killed_at
        return self.ended - self.killed_at


def master_of(cluster: ValkeyCluster, key: str) -> Node:
    """The master that serves ``key`` now (asked of any live node)."""
    slot = key_slot(key.encode())
    for node in cluster.nodes:
        if node.process.poll() is not None:
            continue
        try:
            ranges = node.client().execute_command("CLUSTER", "SLOTS")
        except RedisError:  # a node still starting, or just killed
            continue
        for first, last, master, *_ in ranges:
            if first <= slot <= last:
                return next(each for each in cluster.nodes if each.port == int(master[1]))
    raise AssertionError(f"no master serves slot {slot}")


async def open_draw(url: str) -> str:
    """A new open GitHub draw, made through the API by the admin."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as admin:
        csrf = await login(admin, ADMIN)
        body = {"title": "Load", "prizes": [{"name": "Mug", "quantity": 1}], "open": True}
        made = await admin.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        draw_id: str = made.json()["id"]
        return draw_id


async def run_entry_load(
    url: str,
    cluster: ValkeyCluster,
    numbers: itertools.count[int],
    *,
    workers: int = 8,
    seconds: float = 5.0,
    kill_after: float | None = None,
) -> LoadRun:
    """``workers`` clients enter distinct entrants (``entrant(next(numbers))``) into a new
    draw for ``seconds``; with ``kill_after``, the draw's master is killed that many
    seconds in, started again once its replica has taken over, and the load goes on
    until entries flow again. Then every 201 is looked up in the store."""
    draw_id = await open_draw(url)
    tag = "{d:" + draw_id + "}"
    run = LoadRun(draw_id, started=time.monotonic(), ended=0.0)
    stop = asyncio.Event()

    async def enter(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            number = next(numbers)
            login_name, _ = entrant(number)
            began = time.monotonic()
            try:
                answer = await client.post(
                    f"/api/v1/draws/{draw_id}/entries", json={"github": login_name}
                )
                status, retry_after = answer.status_code, answer.headers.get("retry-after", "")
            except httpx.TransportError:
                status, retry_after = 0, ""
            now = time.monotonic()
            run.answers.append(Answer(number, status, retry_after, now - began, now))
            if status != 201:
                await asyncio.sleep(0.1)

    async def fail_over() -> None:
        assert kill_after is not None
        await asyncio.sleep(kill_after)
        victim = master_of(cluster, tag)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        run.killed_at = time.monotonic()
        while time.monotonic() - run.killed_at < PAUSE_BOUND_SECONDS:
            await asyncio.sleep(0.2)
            try:
                promoted = await asyncio.to_thread(master_of, cluster, tag)
            except AssertionError:
                continue
            if promoted is not victim:
                run.promoted_at = time.monotonic()
                cluster.restart(victim)
                return
        raise AssertionError("no replica took over")

    def flowing() -> bool:
        recent = run.answers[-FLOWING:]
        return len(recent) == FLOWING and all(
            answer.status == 201 and answer.seconds < 1 for answer in recent
        )

    limits = httpx.Limits(max_connections=workers)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        tasks = [asyncio.create_task(enter(client)) for _ in range(workers)]
        failover = asyncio.create_task(fail_over()) if kill_after is not None else None
        await asyncio.sleep(seconds)
        if failover is not None:
            await failover
            assert run.promoted_at is not None
            while not (run.answers[-1].at > run.promoted_at and flowing()):
                if time.monotonic() - run.promoted_at > PAUSE_BOUND_SECONDS:
                    raise AssertionError("entries did not flow again after the failover")
                await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks)
    run.ended = time.monotonic()
    run.lost = await missing_entries(cluster.url, draw_id, run.acknowledged)
    return run


async def missing_entries(store_url: str, draw_id: str, acknowledged: list[Answer]) -> list[str]:
    """The logins of ``acknowledged`` entries the draw's entrants no longer hold."""
    identities = [f"{GITHUB_PREFIX}{entrant(answer.number)[1]}" for answer in acknowledged]
    key = Keys("fairdraw:").entrants(draw_id)
    client = connect(store_url)
    try:
        held: list[object] = []
        for start in range(0, len(identities), 500):
            held += await client.hmget(key, identities[start : start + 500])
    finally:
        await client.aclose()
    return [
        entrant(answer.number)[0]
        for answer, index in zip(acknowledged, held, strict=True)
        if index is None
    ]
