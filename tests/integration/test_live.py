"""Live feeds over real HTTP: Server-Sent Events from real uvicorn servers on the real store."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from fairdraw.config import Settings
from fairdraw.services.live import LiveHub
from fairdraw.store.connection import connect
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.events import EventStore
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import EVENTS_MAXLEN
from fairdraw.web.deps import Services
from tests.support.app import (
    ADMIN,
    MANAGER,
    PARTICIPANT,
    Served,
    create_accounts,
    make_settings,
    serve,
)
from tests.support.github_server import GitHubStandIn
from tests.support.live import FeedReader, reading
from tests.support.processes import free_port

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 2}]


def logged_in(url: str, credentials: tuple[str, str]) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=10)
    response = client.post(
        "/api/v1/session", json={"username": credentials[0], "password": credentials[1]}
    )
    assert response.status_code == 200, response.text
    return client, str(response.json()["csrf_token"])


def new_draw(client: httpx.Client, csrf: str, **body: Any) -> str:
    payload = {"title": "Live giveaway", "prizes": PRIZES, "open": True} | body
    response = client.post("/api/v1/draws", json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def enter(url: str, draw_id: str, login: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/api/v1/draws/{draw_id}/entries", json={"github": login})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.fixture
def settings(store_url: str, github: GitHubStandIn, redis_sync: Redis) -> Settings:
    for i in range(40):
        github.add_user(f"user{i}", 5000 + i, f"User {i}")
    configured = make_settings(store_url, github.url, live_count_interval_seconds=0.05)
    asyncio.run(create_accounts(configured))
    return configured


@pytest.fixture
def server(settings: Settings) -> Iterator[Served]:
    with serve(settings) as served:
        yield served


def hub_of(served: Served) -> LiveHub:
    services: Services = served.app.state.services
    return services.live


def test_a_public_page_sees_the_snapshot_then_each_change_and_never_who(
    server: Served, redis_sync: Redis
) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    draw_id = new_draw(manager, csrf)
    with reading(f"{server.url}/api/v1/draws/{draw_id}/events") as feed:
        snapshot = feed.next()
        assert snapshot.event == "snapshot"
        assert snapshot.data["resumed"] is False
        assert snapshot.data["draw"]["status"] == "open"
        assert snapshot.data["draw"]["entry_count"] == 0
        enter(server.url, draw_id, "user1")
        count = feed.until("count", timeout=1.0)
        assert count.data["count"] == 1
        assert "user1" not in str(count.data)
        closed = manager.post(f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf})
        assert closed.status_code == 200
        status = feed.until("status")
        assert (status.data["status"], status.data["count"]) == ("closed", 1)
        sealed = feed.until("sealed")
        assert sealed.data["root"] == closed.json()["seal"]["root"]
        manager.post(f"/api/v1/draws/{draw_id}/draw", headers={"X-CSRF-Token": csrf})
        assert feed.until("status").data["status"] == "drawn"
    # Every event is in the stream, in order, with nothing refused in it.
    kinds = [f["t"] for _, f in redis_sync.xrange(KEYS.events(draw_id))]
    assert kinds == ["status", "entry", "status", "sealed", "status"]


def test_a_refused_entry_never_reaches_the_feed(server: Served, redis_sync: Redis) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    draw_id = new_draw(manager, csrf)
    enter(server.url, draw_id, "user1")
    again = httpx.post(f"{server.url}/api/v1/draws/{draw_id}/entries", json={"github": "user1"})
    assert again.status_code == 409
    missing = httpx.post(f"{server.url}/api/v1/draws/{draw_id}/entries", json={"github": "nobody"})
    assert missing.status_code == 404
    kinds = [f["t"] for _, f in redis_sync.xrange(KEYS.events(draw_id))]
    assert kinds == ["status", "entry"]


def test_the_private_feed_is_for_the_draws_manager_and_admins(server: Served) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    draw_id = new_draw(manager, csrf)
    url = f"{server.url}/api/v1/draws/{draw_id}/events/private"
    anonymous = httpx.get(url)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    participant, _ = logged_in(server.url, PARTICIPANT)
    refused = participant.get(url)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    # Another manager's draw: the admin made it, the manager may not watch it privately.
    admin, admin_csrf = logged_in(server.url, ADMIN)
    other = new_draw(admin, admin_csrf)
    foreign = manager.get(f"{server.url}/api/v1/draws/{other}/events/private")
    assert foreign.status_code == 403
    for client in (manager, admin):
        with reading(url, cookies=client.cookies) as feed:
            assert feed.status == 200
            assert feed.next().event == "snapshot"
            enter(server.url, draw_id, f"user{2 if client is manager else 3}")
            entry = feed.until("entry")
            assert entry.data["who"] == ("user2" if client is manager else "user3")
            assert entry.data["number"] == entry.data["index"] + 1


def test_a_reconnect_with_an_old_id_gets_exactly_what_it_missed(server: Served) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    draw_id = new_draw(manager, csrf)
    url = f"{server.url}/api/v1/draws/{draw_id}/events/private"
    enter(server.url, draw_id, "user0")
    with reading(url, cookies=manager.cookies) as feed:
        feed.next()  # snapshot
        enter(server.url, draw_id, "user1")
        seen = feed.until("entry")
        assert seen.data["who"] == "user1"
    for i in range(2, 6):
        enter(server.url, draw_id, f"user{i}")
    headers = {"Last-Event-ID": str(seen.id)}
    with reading(url, cookies=manager.cookies, headers=headers) as feed:
        missed = [feed.next() for _ in range(4)]
        assert [m.data["who"] for m in missed] == ["user2", "user3", "user4", "user5"]
        assert feed.quiet(0.5) == []  # nothing twice, nothing more
        enter(server.url, draw_id, "user6")
        assert feed.next().data["who"] == "user6"
    # The same through the query string (the page's own reconnects); the public feed
    # sends the newest count of a run of entries.
    with reading(f"{server.url}/api/v1/draws/{draw_id}/events?last_event_id={seen.id}") as feed:
        caught_up = feed.next()
        assert (caught_up.event, caught_up.data["count"]) == ("count", 7)
        assert feed.quiet(0.3) == []


def test_a_watcher_behind_the_trimmed_buffer_gets_a_snapshot_and_is_told(
    server: Served, redis_sync: Redis
) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    draw_id = new_draw(manager, csrf)
    first = enter(server.url, draw_id, "user0")
    old_id = redis_sync.xrange(KEYS.events(draw_id))[-1][0]
    enter(server.url, draw_id, "user1")
    # What MAXLEN does to a busy draw, done at once: the events after old_id are gone.
    redis_sync.xtrim(KEYS.events(draw_id), maxlen=0)
    enter(server.url, draw_id, "user2")
    headers = {"Last-Event-ID": old_id}
    with reading(f"{server.url}/api/v1/draws/{draw_id}/events", headers=headers) as feed:
        snapshot = feed.next()
        assert snapshot.event == "snapshot"
        assert snapshot.data["resumed"] is True
        assert snapshot.data["draw"]["entry_count"] == 3
        enter(server.url, draw_id, "user3")
        assert feed.until("count").data["count"] == 4
    assert first["index"] == 0
    assert EVENTS_MAXLEN == 10_000


def test_feeds_refuse_other_sites_bad_ids_and_too_many_connections(
    settings: Settings, redis_sync: Redis
) -> None:
    with serve(settings.model_copy(update={"live_connections_per_address": 2})) as server:
        manager, csrf = logged_in(server.url, MANAGER)
        draw_id = new_draw(manager, csrf)
        url = f"{server.url}/api/v1/draws/{draw_id}/events"
        foreign = httpx.get(url, headers={"Origin": "https://evil.example"})
        assert (foreign.status_code, foreign.json()["code"]) == (403, "cross_origin_refused")
        bad = httpx.get(url, headers={"Last-Event-ID": "yesterday"})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
        missing = httpx.get(f"{server.url}/api/v1/draws/aaaaaaaaaaaa/events")
        assert missing.status_code == 404
        with reading(url, headers={"Origin": server.url}) as one, reading(url) as two:
            assert (one.status, two.status) == (200, 200)
            third = httpx.get(url)
            assert (third.status_code, third.json()["code"]) == (429, "too_many_connections")
        # Closed pages give their places back.
        assert wait_for(lambda: hub_of(server).watchers(draw_id) == 0)
        with reading(url) as again:
            assert again.status == 200


def test_many_watchers_of_one_draw_share_one_store_reader(server: Served) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    draw_id = new_draw(manager, csrf)
    url = f"{server.url}/api/v1/draws/{draw_id}/events"
    feeds = [FeedReader(url) for _ in range(15)]
    try:
        for feed in feeds:
            assert feed.next().event == "snapshot"
        hub = hub_of(server)
        assert (hub.watchers(draw_id), hub.readers()) == (15, 1)
        enter(server.url, draw_id, "user1")
        for feed in feeds:
            assert feed.until("count", timeout=2).data["count"] == 1
    finally:
        for feed in feeds:
            feed.close()
    assert wait_for(lambda: hub.readers() == 0)


@pytest.mark.parametrize(("http", "direct"), [("auto", True), ("h11", False)])
def test_feeds_are_written_straight_to_their_connection_under_httptools_only(
    settings: Settings, http: str, direct: bool
) -> None:
    """Under uvicorn's httptools protocol (what ``fairdraw serve`` runs) a caught-up feed
    is written by the reader itself; under any other server it goes through ASGI. Both
    deliver the same messages, each once."""
    with serve(settings, http=http) as server:
        manager, csrf = logged_in(server.url, MANAGER)
        draw_id = new_draw(manager, csrf)
        url = f"{server.url}/api/v1/draws/{draw_id}/events"
        hub = hub_of(server)
        with (
            reading(url) as public,
            reading(f"{url}/private", cookies=manager.cookies) as private,
        ):
            assert (public.next().event, private.next().event) == ("snapshot", "snapshot")
            assert wait_for(lambda: hub.watchers(draw_id) == 2)
            assert wait_for(lambda: hub.direct(draw_id) == (2 if direct else 0))
            for login in ("user1", "user2", "user3"):
                enter(server.url, draw_id, login)
            entries = [private.next() for _ in range(3)]
            assert [(m.event, m.data["who"], m.data["number"]) for m in entries] == [
                ("entry", "user1", 1),
                ("entry", "user2", 2),
                ("entry", "user3", 3),
            ]
            counts = [public.until("count", timeout=2).data["count"]]
            while counts[-1] < 3:
                counts.append(public.until("count", timeout=2).data["count"])
            assert counts == sorted(set(counts))  # coalesced, in order, none twice
            manager.post(f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf})
            for feed in (public, private):
                closed, sealed = feed.next(), feed.next()
                assert (closed.event, closed.data["status"], closed.data["count"]) == (
                    "status",
                    "closed",
                    3,
                )
                assert (sealed.event, sealed.data["count"]) == ("sealed", 3)
                assert feed.quiet(0.3) == []
        assert wait_for(lambda: hub.watchers(draw_id) == 0)


def test_a_connection_that_stops_reading_is_cut_off(
    store_url: str, github: GitHubStandIn, redis_sync: Redis
) -> None:
    """A client that stops reading a directly written feed is cut off once what waits
    for it passes FAIRDRAW_LIVE_BUFFER_BYTES: the server's memory does not grow with it."""
    settings = make_settings(store_url, github.url, live_buffer_bytes=4096)
    asyncio.run(create_accounts(settings))
    with serve(settings) as server:
        manager, csrf = logged_in(server.url, MANAGER)
        draw_id = new_draw(manager, csrf)
        hub = hub_of(server)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", server.port))
        cookie = "; ".join(f"{k}={v}" for k, v in manager.cookies.items())
        stalled.sendall(
            f"GET /api/v1/draws/{draw_id}/events/private HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        try:
            assert wait_for(lambda: hub.direct(draw_id) == 1)
            # Entries of long names, written as the entry script would: the feed's client
            # reads none of them.
            # Up to 20 MB: more than the kernel's socket buffers hold on both sides.
            key = KEYS.events(draw_id)
            for batch in range(50):
                pipe = redis_sync.pipeline(transaction=False)
                for index in range(batch * 200, batch * 200 + 200):
                    fields = {"t": "entry", "n": str(index + 1), "i": str(index), "at": "1"}
                    pipe.xadd(key, fields | {"w": "x" * 2000})
                pipe.execute()
                if wait_for(lambda: hub.watchers(draw_id) == 0, 0.2):
                    break
            assert wait_for(lambda: hub.watchers(draw_id) == 0)
            # The reader stops once the dropped watcher's response has ended.
            assert wait_for(lambda: hub.readers() == 0)
            # The connection was aborted: reading what the kernel holds ends in EOF or a reset.
            stalled.settimeout(5)
            with contextlib.suppress(ConnectionResetError):
                while stalled.recv(65536):
                    pass
        finally:
            stalled.close()
        with reading(f"{server.url}/api/v1/draws/{draw_id}/events") as again:
            assert again.next().event == "snapshot"


def test_an_event_written_through_one_server_reaches_watchers_of_another(
    settings: Settings,
) -> None:
    with serve(settings) as first, serve(settings) as second:
        manager, csrf = logged_in(first.url, MANAGER)
        draw_id = new_draw(manager, csrf)
        with reading(f"{second.url}/api/v1/draws/{draw_id}/events") as feed:
            feed.next()
            enter(first.url, draw_id, "user4")
            assert feed.until("count", timeout=1).data["count"] == 1


def test_a_page_resumes_across_a_server_restart_without_a_gap(settings: Settings) -> None:
    port = free_port()
    with serve(settings, port) as server:
        manager, csrf = logged_in(server.url, MANAGER)
        draw_id = new_draw(manager, csrf)
        url = f"{server.url}/api/v1/draws/{draw_id}/events/private"
        feed = FeedReader(url, cookies=manager.cookies)
        feed.next()
        enter(server.url, draw_id, "user1")
        last = feed.until("entry")
    assert feed.ended(), "the feed ends when its server stops"
    feed.close()
    with serve(settings, port) as server:
        enter(server.url, draw_id, "user2")  # while nobody watched
        headers = {"Last-Event-ID": str(last.id)}
        with reading(url, cookies=manager.cookies, headers=headers) as resumed:
            assert resumed.next().data["who"] == "user2"
            enter(server.url, draw_id, "user3")
            assert resumed.next().data["who"] == "user3"
            assert resumed.quiet(0.3) == []


def test_a_feed_waits_out_a_store_restart_and_misses_nothing(
    tmp_path: Path, github: GitHubStandIn
) -> None:
    github.add_user("user1", 1, "One")
    github.add_user("user2", 2, "Two")
    store = EmbeddedStore(tmp_path / "store")
    url = store.start()
    try:
        settings = make_settings(url, github.url)
        asyncio.run(create_accounts(settings))
        with serve(settings) as server:
            manager, csrf = logged_in(server.url, MANAGER)
            draw_id = new_draw(manager, csrf)
            feed_url = f"{server.url}/api/v1/draws/{draw_id}/events/private"
            with reading(feed_url, cookies=manager.cookies) as feed:
                feed.next()
                enter(server.url, draw_id, "user1")
                assert feed.until("entry").data["who"] == "user1"
                store.stop()
                store.start()
                entered = None
                for _ in range(50):  # the app's pool reconnects on the next request
                    response = httpx.post(
                        f"{server.url}/api/v1/draws/{draw_id}/entries", json={"github": "user2"}
                    )
                    if response.status_code == 201:
                        entered = response.json()
                        break
                    asyncio.run(asyncio.sleep(0.1))
                assert entered is not None
                assert entered["index"] == 1
                after = feed.until("entry", timeout=10)
                assert (after.data["who"], after.data["index"]) == ("user2", 1)
                assert feed.quiet(0.3) == []
    finally:
        store.stop()


async def by_index(draw_id: str) -> Any:
    """A hub's numbering for feeds read straight from a stream: entry n is index + 1."""
    return lambda index: index + 1


async def no_draw() -> dict[str, Any]:
    """A hub's snapshot for feeds read straight from a stream."""
    return {"draw": None}


async def test_a_watcher_that_reads_too_slowly_is_dropped(redis: Any, store_url: str) -> None:
    events = EventStore(connect(store_url), KEYS)

    hub = LiveHub(events, by_index, queue_size=16)
    draw_id = "abcdefghijkl"
    key = KEYS.events(draw_id)
    await redis.xadd(key, {"t": "status", "s": "open", "n": "0", "at": "1"})
    watcher = hub.watch(draw_id, None, private=True, snapshot=no_draw)
    assert b"event: snapshot" in await anext(watcher)
    for i in range(40):  # nobody reads: the queue fills, the watcher is dropped
        await redis.xadd(key, {"t": "entry", "n": str(i + 1), "i": str(i), "w": "x", "at": "1"})
    assert await wait_for_async(lambda: hub.watchers(draw_id) == 0)
    frames = [frame async for frame in watcher]
    assert len(frames) <= 16  # what was queued, then the end
    assert hub.readers() == 0


async def test_a_feed_only_the_public_watches_reads_once_per_count_interval(
    redis: Any, store_url: str
) -> None:
    """While entries pour in, a feed with public watchers only reads the stream at most
    once per count interval (what came meanwhile in one read), and still delivers the
    newest count; its first event after a quiet spell goes out at once."""
    reads = 0

    class CountingEvents(EventStore):
        async def wait(self, *args: Any, **kwargs: Any) -> Any:
            nonlocal reads
            reads += 1
            return await super().wait(*args, **kwargs)

    hub = LiveHub(CountingEvents(connect(store_url), KEYS), by_index, count_interval=0.25)
    draw_id = "abcdefghijkn"
    key = KEYS.events(draw_id)
    await redis.xadd(key, {"t": "status", "s": "open", "n": "0", "at": "1"})
    watcher = hub.watch(draw_id, None, private=False, snapshot=no_draw)
    assert b"event: snapshot" in await anext(watcher)
    started = asyncio.get_running_loop().time()
    await redis.xadd(key, {"t": "entry", "n": "1", "i": "0", "w": "x", "at": "1"})
    first = await asyncio.wait_for(anext(watcher), 1)
    assert b'"count":1' in first
    assert asyncio.get_running_loop().time() - started < 0.2  # not held for an interval
    reads = 0
    for i in range(1, 150):  # 1.5 s of entries, 100 a second
        await redis.xadd(key, {"t": "entry", "n": str(i + 1), "i": str(i), "w": "x", "at": "1"})
        await asyncio.sleep(0.01)
    counts = []
    while not counts or counts[-1] < 150:
        # A count interval is 0.25 s; a loaded machine may take longer to deliver it.
        counts += counts_in(await asyncio.wait_for(anext(watcher), 5))
    assert counts == sorted(set(counts))
    assert reads <= 1.5 / 0.25 + 3  # not one read per entry
    await watcher.aclose()


async def test_a_wall_clock_stepped_back_does_not_hold_a_count(
    redis: Any, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count slots keep going forward when the wall clock is set back (an NTP
    correction): the newest count still goes out within an interval, not when the clock
    has caught up again."""

    hub = LiveHub(EventStore(connect(store_url), KEYS), by_index, count_interval=0.25)
    draw_id = "abcdefghijkp"
    key = KEYS.events(draw_id)
    await redis.xadd(key, {"t": "status", "s": "open", "n": "0", "at": "1"})
    watcher = hub.watch(draw_id, None, private=False, snapshot=no_draw)
    assert b"event: snapshot" in await anext(watcher)
    await redis.xadd(key, {"t": "entry", "n": "1", "i": "0", "w": "x", "at": "1"})
    assert b'"count":1' in await asyncio.wait_for(anext(watcher), 1)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600.0)  # an hour back
    for i in range(1, 20):
        await redis.xadd(key, {"t": "entry", "n": str(i + 1), "i": str(i), "w": "x", "at": "1"})
    counts = [0]
    while counts[-1] < 20:
        counts += counts_in(await asyncio.wait_for(anext(watcher), 2))
    await watcher.aclose()


def counts_in(chunk: bytes) -> list[int]:
    """The counts of every message in ``chunk``: frames queued while a watcher was busy
    go out together, as one chunk."""
    return [int(part.split(b",")[0]) for part in chunk.split(b'"count":')[1:]]


def wait_for(check: Any, seconds: float = 5.0) -> bool:
    return asyncio.run(wait_for_async(check, seconds))


async def wait_for_async(check: Any, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


def test_a_lottery_page_follows_todays_round_from_before_its_first_ballot(
    server: Served, redis_sync: Redis
) -> None:
    manager, csrf = logged_in(server.url, MANAGER)
    today = datetime.now(UTC).date().isoformat()
    created = manager.post(
        "/api/v1/lotteries",
        json={"name": "Daily mug", "prize": "Mug", "start": today, "timezone": "UTC"},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    lottery = created.json()
    round_id = lottery["today_round_id"]
    page = httpx.get(f"{server.url}/lotteries/{lottery['id']}")
    assert f'data-live-feed="/api/v1/draws/{round_id}/events"' in page.text
    with reading(f"{server.url}/api/v1/draws/{round_id}/events") as feed:
        snapshot = feed.next()
        assert (snapshot.event, snapshot.data["draw"]) == ("snapshot", None)
        participant, participant_csrf = logged_in(server.url, PARTICIPANT)
        for _ in range(2):
            cast = participant.post(
                f"/api/v1/lotteries/{lottery['id']}/ballots",
                headers={"X-CSRF-Token": participant_csrf},
            )
            assert cast.status_code == 201, cast.text
        assert feed.until("status").data["status"] == "open"
        counts = [feed.until("count").data["count"]]
        while counts[-1] < 2:
            counts.append(feed.until("count").data["count"])
        assert counts in ([1, 2], [2])
    # A made-up giveaway id has no such grace: only round ids (16 characters) do.
    assert httpx.get(f"{server.url}/api/v1/draws/aaaaaaaaaaaa/events").status_code == 404
    assert redis_sync.zrange(KEYS.round_top(round_id), 0, -1, withscores=True) == [("pat", 2.0)]
