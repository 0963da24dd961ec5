"""What the organiser dashboard reads, and the instance activity index it keeps.

The scripts that add entries already keep, per draw, the per-minute and per-hour counts
(``minutes``), the name search buckets (``names:HEX``) and a lottery round's top list
(``top``); see :mod:`fairdraw.store.keys`. This module only reads those, plus one global
index it writes itself: ``activity`` (draw id → the last epoch minute it had an entry),
written after a successful entry, at most once a minute per draw and process.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.client import NEVER_DECODE
from redis.exceptions import RedisError, ResponseError

from fairdraw.domain.errors import StoreError
from fairdraw.domain.moments import MINUTE_MS as MINUTE_MS
from fairdraw.store.draws import ledger_elements
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

log = logging.getLogger("fairdraw.store.live_stats")

HOUR_MINUTES = 60
# Draws remembered as "activity written this minute" by one process.
ACTIVITY_CACHE_SIZE = 10_000
# A search reads its bucket from the end in pieces: the first of 16,384 names (a whole
# bucket in all but extreme draws), each next one twice as large, up to 262,144: a common
# prefix is answered from the first piece, a full scan of a huge bucket takes few round
# trips.
FIRST_PIECE = 1 << 14
LAST_PIECE = 1 << 18
# Meta fields shown in the instance's top list.
_META_FIELDS = ("title", "kind", "status", "created_by", "lottery_id", "round_date")


@dataclass(frozen=True)
class NameHit:
    """One element of a search bucket: the indexed name and its ledger index."""

    name: str
    index: int


@dataclass(frozen=True)
class Snapshot:
    """A consistent view of one draw for its dashboard: its latest live event id (None
    before the first), the ledger's length and last elements (oldest first), and the
    per-minute counters asked for."""

    last_event_id: str | None
    length: int
    elements: list[str]
    counts: list[int]


@dataclass(frozen=True)
class ActiveDraw:
    """A draw in the instance's activity index, with its entries in the last 24 hours."""

    draw_id: str
    entries: int
    last_minute: int
    title: str
    kind: str
    status: str
    created_by: str
    lottery_id: str
    round_date: str


def piece_starts(length: int) -> list[int]:
    """Where the pieces of a bucket of ``length`` names start, read from its end."""
    starts: list[int] = []
    end, piece = length, FIRST_PIECE
    while end > 0:
        end = max(0, end - piece)
        starts.append(end)
        piece = min(piece * 2, LAST_PIECE)
    return starts


def scan_block(block: bytes, query: str, limit: int) -> list[NameHit]:
    """Lines of a piece of a search bucket (``name\tindex\n`` each, the index in base
    36, oldest first) whose name starts with ``query`` (case-insensitive), newest first,
    at most ``limit``. ``query`` holds no tab or line break.

    Names are GitHub logins and account names, which are ASCII: such a piece is lowered
    once and searched backwards with ``bytes.rfind``, in C; anything else goes line by
    line.
    """
    folded_query = query.casefold()
    if not block or limit <= 0:
        return []
    if not block.isascii():
        return _scan_lines(block.decode("utf-8", "replace"), folded_query, limit)
    if not folded_query.isascii():
        return []  # no ASCII name case-folds to anything else
    # For ASCII, bytes.lower() is casefold() and keeps every offset.
    folded = block.lower()
    prefix = folded_query.encode("ascii")
    needle = b"\n" + prefix
    hits: list[NameHit] = []
    end = len(folded)
    while len(hits) < limit:
        at = folded.rfind(needle, 0, end)
        if at < 0:
            break
        hit = _line_at(block, at + 1)
        if hit is not None:
            hits.append(hit)
        end = at
    # The first line has no line break before it.
    if len(hits) < limit and folded.startswith(prefix):
        hit = _line_at(block, 0)
        if hit is not None:
            hits.append(hit)
    return hits


def _index(text: str) -> int | None:
    return int(text, 36) if text.isascii() and text.isalnum() else None


def _line_at(block: bytes, start: int) -> NameHit | None:
    stop = block.find(b"\n", start)
    line = block[start : stop if stop >= 0 else len(block)].decode("ascii")
    name, _, index = line.rpartition("\t")
    number = _index(index)
    return NameHit(name, number) if name and number is not None else None


def _scan_lines(text: str, folded_query: str, limit: int) -> list[NameHit]:
    hits: list[NameHit] = []
    for line in reversed(text.split("\n")):
        name, _, index = line.rpartition("\t")
        number = _index(index)
        if name and number is not None and name.casefold().startswith(folded_query):
            hits.append(NameHit(name, number))
            if len(hits) == limit:
                break
    return hits


class LiveStats:
    """Reads for the organiser dashboard; writes only the ``activity`` index."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        # draw id → the last minute this process wrote to the activity index.
        self._written: OrderedDict[str, int] = OrderedDict()

    # -- per-minute counts and the ledger's tail -------------------------------------------
    async def counts(self, draw_id: str, fields: Sequence[str]) -> list[int]:
        """The counters ``fields`` of the draw's minutes hash (epoch minute, or "h" + epoch
        hour), in order; 0 where nobody entered."""
        if not fields:
            return []
        values = await self._redis.hmget(self._keys.minutes(draw_id), list(fields))
        return [int(v) if v else 0 for v in values]

    async def snapshot(self, draw_id: str, tail: int, fields: Sequence[str]) -> Snapshot:
        """The draw's latest event id, ledger length, last ``tail`` ledger elements and
        the counters ``fields``, read in one transaction (all are keys of the draw's hash
        tag), so a page built from them continues exactly where its live feed resumes."""
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xrevrange(k.events(draw_id), "+", "-", count=1)
            pipe.llen(k.ledger(draw_id))
            pipe.lrange(k.ledger(draw_id), -tail, -1)
            if fields:
                pipe.hmget(k.minutes(draw_id), list(fields))
            replies = await pipe.execute()
        last, length, elements = replies[0], replies[1], replies[2]
        values = replies[3] if fields else []
        return Snapshot(
            last_event_id=str(last[0][0]) if last else None,
            length=int(length),
            elements=[str(e) for e in elements],
            counts=[int(v) if v else 0 for v in values],
        )

    async def ledger_length(self, draw_id: str) -> int:
        return int(await self._redis.llen(self._keys.ledger(draw_id)))

    async def elements(self, draw_id: str, indexes: Sequence[int]) -> list[str]:
        """The ledger elements at ``indexes`` (each must exist), in one round trip."""
        return await ledger_elements(self._redis, self._keys.ledger(draw_id), indexes)

    async def search_names(self, draw_id: str, query: str, limit: int) -> list[NameHit]:
        """Entrants whose indexed name starts with ``query`` (at least two characters,
        no tab or line break), newest first, at most ``limit``.

        The query's bucket is read from its end a piece at a time (it only grows at the
        end, so positions taken from its length stay valid) until ``limit`` names are
        found: a common prefix costs one small read even in a bucket of a million names.
        """
        key = self._keys.names(draw_id, query)
        read_raw = cast(Callable[..., Awaitable[list[bytes]]], self._redis.execute_command)
        try:
            end = int(await self._redis.llen(key))
        except ResponseError as error:
            if "WRONGTYPE" not in str(error):
                raise
            # A bucket of an earlier version, never entered since: made a list once.
            await Scripts(self._redis).call("names_upgrade", [key])
            end = int(await self._redis.llen(key))
        hits: list[NameHit] = []
        for start in piece_starts(end):
            if len(hits) >= limit:
                break
            # Raw bytes: the ASCII scan runs on bytes (a name is decoded once found).
            names = await read_raw("LRANGE", key, start, end - 1, **{NEVER_DECODE: True})
            names.append(b"")
            hits.extend(scan_block(b"\n".join(names), query, limit - len(hits)))
            end = start
        return hits

    # -- top lists -------------------------------------------------------------------------
    async def round_top(self, round_id: str, limit: int) -> list[tuple[str, int]]:
        """A lottery round's participants with the most ballots, highest first (equal
        counts in reverse name order)."""
        return await self._top(self._keys.round_top(round_id), 0, limit)

    async def lottery_top(
        self, lottery_id: str, round_id: str, limit: int
    ) -> list[tuple[str, int]]:
        """A lottery's participants with the most ballots of all time: its drawn rounds
        (``lottery_top``) plus the round ``round_id`` that is still running.

        The two sorted sets live on different hash tags, so they are merged here, exactly,
        with the threshold algorithm: read both lists highest first a page at a time, look
        up each new name's score in the other list, and stop once the ``limit``-th best
        total is at least what any name not seen yet could still reach (so among equal
        totals at the cut, which ones make the list is not fixed).
        """
        first, second = self._keys.lottery_top(lottery_id), self._keys.round_top(round_id)
        page = max(limit, 16)
        totals: dict[str, int] = {}
        depth = 0
        while True:
            upper = 0
            exhausted = True
            fresh: list[str] = []
            for key in (first, second):
                rows = await self._top(key, depth, page)
                fresh.extend(name for name, _ in rows if name not in totals)
                if len(rows) == page:
                    exhausted = False
                    # A name not read yet scores at most the last score read in this list.
                    upper += rows[-1][1]
            names = list(dict.fromkeys(fresh))
            if names:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.zmscore(first, names)
                    pipe.zmscore(second, names)
                    in_first, in_second = await pipe.execute()
                for name, a, b in zip(names, in_first, in_second, strict=True):
                    totals[name] = int(a or 0) + int(b or 0)
            # Equal totals in reverse name order, as ZREVRANGE orders the round's list.
            best = sorted(totals.items(), key=lambda item: (item[1], item[0]), reverse=True)
            best = best[:limit]
            if exhausted or (len(best) == limit and best[-1][1] >= upper):
                return best
            depth += page

    async def _top(self, key: str, start: int, count: int) -> list[tuple[str, int]]:
        if count <= 0:
            return []
        rows = await self._redis.zrevrange(key, start, start + count - 1, withscores=True)
        return [(str(name), int(score)) for name, score in cast(list[tuple[str, float]], rows)]

    # -- the instance's activity index -----------------------------------------------------
    async def record_activity(self, draw_id: str, at_ms: int) -> None:
        """Note that ``draw_id`` had an entry at ``at_ms``: at most one write a minute per
        draw and process (``ZADD GT``, so a late writer never moves it back). Called after
        the entry is stored, so a failure here is logged and swallowed: the entry stands."""
        minute = at_ms // MINUTE_MS
        if self._written.get(draw_id, -1) >= minute:
            return
        self._written[draw_id] = minute
        self._written.move_to_end(draw_id)
        if len(self._written) > ACTIVITY_CACHE_SIZE:
            self._written.popitem(last=False)
        try:
            await self._redis.zadd(self._keys.activity(), {draw_id: minute}, gt=True)
        except (RedisError, StoreError):
            # Forget the write so the next entry tries again.
            self._written.pop(draw_id, None)
            log.warning("could not record activity of draw %s", draw_id, exc_info=True)

    async def most_active(
        self, now_minute: int, limit: int, candidates: int = 1000
    ) -> list[ActiveDraw]:
        """The draws with the most entries in the last 24 hours (the current hour and the
        23 before it), most first. Candidates are the ``candidates`` draws whose last
        entry is most recent and within that time."""
        now_hour = now_minute // HOUR_MINUTES
        since = (now_hour - 23) * HOUR_MINUTES
        found = await self._redis.zrevrangebyscore(
            self._keys.activity(), "+inf", since, start=0, num=candidates, withscores=True
        )
        rows = [(str(i), int(s)) for i, s in cast(list[tuple[str, float]], found)]
        if not rows:
            return []
        hours = [f"h{h}" for h in range(now_hour - 23, now_hour + 1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for draw_id, _ in rows:
                pipe.hmget(self._keys.minutes(draw_id), hours)
            counts = await pipe.execute()
        totals = [
            (draw_id, last, sum(int(v) for v in values if v))
            for (draw_id, last), values in zip(rows, counts, strict=True)
        ]
        totals = sorted((t for t in totals if t[2] > 0), key=lambda t: (-t[2], -t[1], t[0]))
        top = totals[:limit]
        if not top:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for draw_id, _, _ in top:
                pipe.hmget(self._keys.draw_meta(draw_id), list(_META_FIELDS))
            metas = await pipe.execute()
        active: list[ActiveDraw] = []
        for (draw_id, last, entries), meta in zip(top, metas, strict=True):
            fields: dict[str, Any] = dict(zip(_META_FIELDS, meta, strict=True))
            if not fields["kind"]:
                continue  # the draw is gone; an index may outlive it
            active.append(
                ActiveDraw(
                    draw_id=draw_id,
                    entries=entries,
                    last_minute=last,
                    title=str(fields["title"] or ""),
                    kind=str(fields["kind"]),
                    status=str(fields["status"] or ""),
                    created_by=str(fields["created_by"] or ""),
                    lottery_id=str(fields["lottery_id"] or ""),
                    round_date=str(fields["round_date"] or ""),
                )
            )
        return active
