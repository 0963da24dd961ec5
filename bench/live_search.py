"""The dashboard's search and the store memory of the live features, at 10^6 entrants.

A giveaway is filled through the real ``enter`` script (``script_source("enter")`` with
``enter_keys``), pipelined, with GitHub-like logins of varied length
(:func:`github_logins`), so the ledger, the entrants hash, the event stream, the
per-minute counters and the name buckets are exactly what entries over HTTP leave. Then
prefix searches are timed through HTTP as the draw's manager, and the same searches
against the store alone; and every key of the draw is measured with ``MEMORY USAGE``.
"""

from __future__ import annotations

import random
import socket
import string
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import hiredis
import httpx
from redis.asyncio import Redis

from bench.bench_draw import info_int, memory_usage, wait_for_persistence
from bench.harness import BenchError
from bench.server import ADMIN_USERNAME
from fairdraw.domain.draws import GITHUB_PREFIX
from fairdraw.store.draws import enter_keys
from fairdraw.store.keys import Keys, name_bucket
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.scripts import script_source

# Entries per write of the fill's pipeline.
FILL_BATCH = 5_000
SEARCH_LIMIT = 50


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "james john robert michael william david richard joseph thomas chris daniel matthew "
    "anthony mark paul steven andrew joshua kevin brian george timothy ryan jason jacob "
    "gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel "
    "alex patrick jack dennis tyler aaron adam nathan henry peter zach kyle noah ethan "
    "mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy "
    "betty sandra ashley emily donna michelle carol amanda melissa deborah laura rebecca "
    "sharon cynthia kathleen amy anna emma olivia sophia julia maria lucas mateo leo "
    "hugo luca marco giulia sofia elena ivan dmitri olga sergei yuki hiroshi kenji akira "
    "wei li ming jun hao chen raj arjun priya ananya rahul vikram amit neha omar ali "
    "fatima yusuf ahmed lars sven erik anders nils ingrid freya pierre louis camille "
    "jean klaus hans felix max lena mia tom ben sam dan tim joe jim bob ted"
)
_LAST = _words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson "
    "white harris sanchez clark ramirez lewis robinson walker young allen king wright "
    "scott torres nguyen hill flores green adams nelson baker hall rivera campbell "
    "mitchell carter roberts kim park wang zhang liu chen yang huang zhao wu zhou xu sun "
    "tanaka suzuki sato watanabe ito kumar singh sharma patel gupta shah mueller schmidt "
    "schneider fischer weber meyer wagner becker schulz hoffmann rossi russo ferrari "
    "bianchi romano silva santos oliveira souza costa pereira ivanov petrov novak dubois "
    "moreau laurent bernard lefebvre johansson andersson larsen hansen nielsen jensen"
)
_WORDS = _words(
    "code dev hack byte bit pixel cloud data rust go py js node web net ops sec ai ml "
    "lab labs hub io app apps bot bots kit tool tools stack fox wolf bear cat owl ninja "
    "coder maker builder geek nerd guru wizard pilot rider star moon sun sky blue red "
    "dark light zero one null void root admin open free tech cyber quantum neo retro "
    "micro mega ultra super hyper meta alpha beta delta gamma sigma omega"
)
_HANDLE = string.ascii_lowercase + string.digits


def github_logins(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct GitHub-like logins: first names, surnames and words joined in
    the ways people pick handles (``jsmith``, ``anna-lee``, ``pixelhacker``, ``maria92``,
    ``xq7r2``, some capitalised), 2 to 39 characters, letters, digits and inner hyphens.
    Their first two characters are as unevenly spread as names are, so some search
    buckets are much fuller than others, as on a real instance."""
    rng = random.Random(seed)
    uniform = rng.random  # indexing by uniform() is several times faster than choice()

    def one(seq: Sequence[str]) -> str:
        return seq[int(uniform() * len(seq))]

    def digits() -> str:
        roll = uniform()
        if roll < 1 / 3:
            return str(int(uniform() * 10))
        return str(int(uniform() * 100) if roll < 2 / 3 else 1950 + int(uniform() * 76))

    def pick() -> str:
        roll = uniform()
        f, s, w = one(_FIRST), one(_LAST), one(_WORDS)
        if roll < 0.20:
            name = f + s
        elif roll < 0.28:
            name = f"{f}-{s}"
        elif roll < 0.43:
            name = f + digits()
        elif roll < 0.53:
            name = f[0] + s
        elif roll < 0.58:
            name = f + s[0]
        elif roll < 0.66:
            name = w + one(_WORDS)
        elif roll < 0.71:
            name = w + digits()
        elif roll < 0.77:
            name = f + w
        elif roll < 0.82:
            name = s + f
        elif roll < 0.86:
            name = f"{w}-{one(_WORDS)}"
        else:
            name = "".join(one(_HANDLE) for _ in range(3 + int(uniform() * 10)))
        if uniform() < 0.12:
            name = name[0].upper() + name[1:]
        return name[:39].strip("-")

    seen: set[str] = set()
    logins: list[str] = []
    while len(logins) < count:
        login = pick()
        while login.casefold() in seen or len(login) < 2:
            login = (login + one(_HANDLE))[-39:].lstrip("-")
        seen.add(login.casefold())
        logins.append(login)
    return logins


@dataclass(frozen=True)
class Fill:
    entries: int
    seconds: float
    used_memory_delta: int

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


async def fill(
    redis: Redis, socket_path: Path, keys: Keys, draw_id: str, logins: Sequence[str]
) -> Fill:
    """Enter every login (GitHub id = position + 1) through the ``enter`` script with the
    keys and arguments the entering service sends, pipelined over the store's socket."""
    sha = str(await redis.script_load(script_source("enter")))
    before = await info_int(redis, "memory", "used_memory")
    started = time.perf_counter()
    _pipeline_entries(socket_path, keys, draw_id, sha, logins)
    seconds = time.perf_counter() - started
    length = int(await redis.llen(keys.ledger(draw_id)))
    if length != len(logins):
        raise BenchError(f"the ledger holds {length:,} entries, not {len(logins):,}")
    await wait_for_persistence(redis)
    after = await info_int(redis, "memory", "used_memory")
    return Fill(len(logins), seconds, after - before)


def _pipeline_entries(
    socket_path: Path, keys: Keys, draw_id: str, sha: str, logins: Sequence[str]
) -> None:
    """``EVALSHA enter`` for every login, FILL_BATCH commands per write, the next batch
    written before the last one's replies are read (the store never waits for us).

    redis-py's pipeline spends about 100 µs of Python per command here (reply parsing
    and a timeout per reply), which would make the fill of 10^6 entries take minutes;
    commands packed by hiredis and replies parsed by its reader cost a tenth of that."""
    by_bucket: dict[str, list[str]] = {}

    def batch(start: int) -> tuple[bytes, int]:
        stop = min(start + FILL_BATCH, len(logins))
        packed = []
        for number in range(start, stop):
            login, identity = logins[number], f"{GITHUB_PREFIX}{number + 1}"
            bucket = name_bucket(login)
            script_keys = by_bucket.get(bucket)
            if script_keys is None:
                script_keys = by_bucket[bucket] = enter_keys(keys, draw_id, login)
            words = ("EVALSHA", sha, len(script_keys), *script_keys, identity, login, 0, 0)
            # hiredis's stub declares a one-element tuple; it takes any number of words.
            packed.append(hiredis.pack_command(cast(Any, words)))
        return b"".join(packed), stop - start

    reader = hiredis.Reader(encoding="utf-8")

    def read_replies(sock: socket.socket, count: int) -> None:
        while count:
            reply = reader.gets()
            if reply is False:
                data = sock.recv(1 << 20)
                if not data:
                    raise BenchError("the store closed the connection during the fill")
                reader.feed(data)
                continue
            if not isinstance(reply, list) or reply[:2] != ["ok", 1]:
                raise BenchError(f"enter answered {reply!r}")
            count -= 1

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(socket_path))
        in_flight = 0
        for start in range(0, len(logins), FILL_BATCH):
            payload, count = batch(start)
            sock.sendall(payload)
            read_replies(sock, in_flight)
            in_flight = count
        read_replies(sock, in_flight)


def search_queries(logins: Sequence[str], count: int, seed: int = 11) -> list[str]:
    """``count`` prefixes of 2 to 4 characters of entrants' logins, picked at random:
    the names a manager looks up are those that entered, so full buckets are searched
    more often than empty ones."""
    rng = random.Random(seed)
    return [rng.choice(logins)[: rng.randint(2, 4)] for _ in range(count)]


@dataclass(frozen=True)
class SearchTimes:
    """Milliseconds per search, and how many hits each found."""

    ms: list[float]
    hits: list[int]


def search_over_http(
    base_url: str, password: str, draw_id: str, queries: Sequence[str]
) -> SearchTimes:
    """``GET /api/v1/draws/{id}/entries?q=…`` for each query in turn, logged in as the
    draw's manager (the administrator created it), one at a time."""
    ms: list[float] = []
    hits: list[int] = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        login = client.post(
            "/api/v1/session", json={"username": ADMIN_USERNAME, "password": password}
        )
        if login.status_code != 200:
            raise BenchError(f"login answered {login.status_code}: {login.text[:200]}")
        path = f"/api/v1/draws/{draw_id}/entries"
        for query in [*queries[:20], *queries]:  # the first 20 again, to warm up
            started = time.perf_counter()
            reply = client.get(path, params={"q": query})
            elapsed = (time.perf_counter() - started) * 1000
            if reply.status_code != 200:
                raise BenchError(f"search {query!r} answered {reply.status_code}: {reply.text}")
            ms.append(elapsed)
            hits.append(len(reply.json()["results"]))
    return SearchTimes(ms[20:], hits[20:])


async def search_in_store(
    redis: Redis, keys: Keys, draw_id: str, queries: Sequence[str]
) -> tuple[SearchTimes, SearchTimes]:
    """The same searches against the store alone, from this process: what the service
    asks of the store (the bucket's ``LRANGE`` pieces and their scan, then the hits'
    ledger elements), and the whole bucket's ``LRANGE`` by itself."""
    stats = LiveStats(redis, keys)
    whole, whole_hits, get_ms, sizes = [], [], [], []
    for query in queries[:20]:
        await stats.search_names(draw_id, query, SEARCH_LIMIT)
    for query in queries:
        started = time.perf_counter()
        found = await stats.search_names(draw_id, query, SEARCH_LIMIT)
        await stats.elements(draw_id, [hit.index for hit in found])
        whole.append((time.perf_counter() - started) * 1000)
        whole_hits.append(len(found))
    for query in queries:
        started = time.perf_counter()
        names = await redis.lrange(keys.names(draw_id, query), 0, -1)
        get_ms.append((time.perf_counter() - started) * 1000)
        sizes.append(len(names))
    return SearchTimes(whole, whole_hits), SearchTimes(get_ms, sizes)


@dataclass(frozen=True)
class DrawMemory:
    """``MEMORY USAGE`` (every element counted) of each key of one draw, by kind."""

    by_kind: dict[str, int]
    buckets: int
    # The buckets' text: the bytes of their names ("login<TAB>index"), without what
    # the list spends to hold them.
    names_text: int
    largest_bucket: tuple[str, int]
    stream_length: int
    minute_fields: int

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


LIVE_KINDS = ("events", "minutes", "names")


async def draw_memory(redis: Redis, keys: Keys, draw_id: str) -> DrawMemory:
    """Measure every key of the draw: the fixed ones by name, the name buckets by
    ``SCAN`` over their pattern (checked against ``Keys.patterns()``), and a second
    ``SCAN`` over the draw's hash tag proves nothing else is there."""
    fixed = {
        "meta": keys.draw_meta(draw_id),
        "ledger": keys.ledger(draw_id),
        "entrants": keys.entrants(draw_id),
        "chunks": keys.chunk_roots(draw_id),
        "events": keys.events(draw_id),
        "minutes": keys.minutes(draw_id),
    }
    by_kind: dict[str, int] = {}
    for kind, key in fixed.items():
        if await redis.exists(key):
            by_kind[kind] = await memory_usage(redis, key)
    # keys.names(draw, "") is the buckets' common prefix (the empty name has no bucket).
    prefix = keys.names(draw_id, "")
    names_pattern = next(p for p in keys.patterns() if ":names:" in p.pattern)
    bucket_sizes: dict[str, int] = {}
    names_text = 0
    async for raw in redis.scan_iter(match=_glob_escape(prefix) + "*", count=1000):
        key = str(raw)
        if not names_pattern.fullmatch(key):
            raise BenchError(f"{key} is not a name bucket's key")
        bucket_sizes[key] = await memory_usage(redis, key)
        names_text += await _list_text(redis, key)
    by_kind["names"] = sum(bucket_sizes.values())
    tag_glob = _glob_escape(keys.draw_meta(draw_id).removesuffix("meta")) + "*"
    known = set(fixed.values()) | set(bucket_sizes)
    async for raw in redis.scan_iter(match=tag_glob, count=1000):
        if str(raw) not in known:
            raise BenchError(f"the draw has a key this benchmark does not measure: {raw}")
    largest = max(bucket_sizes.items(), key=lambda item: item[1], default=("", 0))
    bucket_hex = largest[0].rsplit(":", 1)[-1]
    return DrawMemory(
        by_kind=by_kind,
        buckets=len(bucket_sizes),
        names_text=names_text,
        largest_bucket=(bytes.fromhex(bucket_hex).decode(errors="replace"), largest[1]),
        stream_length=int(await redis.xlen(keys.events(draw_id))),
        minute_fields=int(await redis.hlen(keys.minutes(draw_id))),
    )


async def _list_text(redis: Redis, key: str) -> int:
    """The bytes of a list's elements, read in pieces."""
    total, start = 0, 0
    while names := cast(list[str], await redis.lrange(key, start, start + 9999)):
        total += sum(len(name.encode()) for name in names)
        start += len(names)
    return total


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a SCAN MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def first_two_spread(logins: Sequence[str]) -> tuple[int, float]:
    """How many distinct buckets the logins fall in, and the largest one's share."""
    counts = Counter(login.casefold()[:2] for login in logins)
    return len(counts), max(counts.values()) / len(logins)
