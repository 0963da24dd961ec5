"""The organiser dashboard: entries per minute, the latest entries, search, a lottery's
top participants, and the instance's most active draws.

Only a draw's manager (``Draw.created_by``; for a lottery and its rounds the lottery's
creator) and administrators see a dashboard, from a manager network when those are
configured; the instance's activity list is for administrators. Everything here reads
what the entry scripts keep as they go (per-minute counts, name search buckets, top
lists), so no answer walks the ledger: a search at a million entrants reads one bucket.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from fairdraw.domain import lotteries, tickets
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, Draw, DrawKind, account_holder
from fairdraw.domain.errors import DrawNotFound, Forbidden, InvalidInput, NotAuthenticated
from fairdraw.domain.networks import IPNetwork, check_manager_network
from fairdraw.services.accounts import require_admin
from fairdraw.services.drawing import iso, now_ms
from fairdraw.services.lotteries import LotteryService
from fairdraw.services.lottery_views import Lottery
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.draws import DrawStore, LedgerEntry
from fairdraw.store.keys import NAME_BUCKET_CHARS
from fairdraw.store.live_stats import MINUTE_MS as MINUTE_MS
from fairdraw.store.live_stats import ActiveDraw, LiveStats, Snapshot
from fairdraw.store.raffles import ClaimRecord

RECENT_ENTRIES = 20
SEARCH_LIMIT = 50
QUERY_MAX = 64
TOP_LIMIT = 10
ACTIVITY_LIMIT = 20
HOUR_WINDOW_MINUTES = 60
# The whole-draw chart has at most this many points; longer draws are bucketed.
MAX_POINTS = 500
# Bucket sizes in minutes, smallest first; beyond the last, whole multiples of it.
_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440)
ANONYMOUS = "anonymous"


class Owned(Protocol):
    """Anything a manager created: a draw or a lottery."""

    @property
    def created_by(self) -> str: ...


def require_dashboard_viewer(
    caller: Caller, owned: Owned, networks: Sequence[IPNetwork] = ()
) -> User:
    """The caller's user if it may watch ``owned`` (a draw, a lottery round or a
    lottery): an administrator, or the manager who created it, from a manager network
    when those are configured. NotAuthenticated for nobody, Forbidden for anyone else."""
    user = caller.user
    if user is None:
        raise NotAuthenticated()
    if user.role is not Role.admin and not (
        user.role.can_manage_draws and owned.created_by == user.username
    ):
        raise Forbidden("Only this draw's managers and administrators can see its dashboard")
    check_manager_network(caller.address, networks)
    return user


class Window(StrEnum):
    """How much of a draw's life the chart covers."""

    hour = "hour"
    all = "all"

    @classmethod
    def parse(cls, raw: str | None) -> Window:
        try:
            return cls((raw or cls.hour.value).strip().lower())
        except ValueError:
            raise InvalidInput({"window": "Choose hour or all"}) from None


def check_query(raw: str, *, tickets_too: bool = False) -> str:
    """A search as typed, trimmed; InvalidInput unless it has two to QUERY_MAX
    characters (a raffle's ticket number, ``tickets_too``, may be a single digit) and no
    control characters."""
    query = raw.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in query):
        raise InvalidInput({"q": "Type a name or a ticket number, on one line"})
    if len(query) > QUERY_MAX:
        raise InvalidInput({"q": f"Type at most {QUERY_MAX} characters"})
    if len(query) < NAME_BUCKET_CHARS and not (tickets_too and _is_number(query)):
        wanted = "or a ticket number" if tickets_too else "of a name"
        raise InvalidInput({"q": f"Type at least {NAME_BUCKET_CHARS} characters {wanted}"})
    return query


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class EntryView:
    """One entry as the dashboard lists it: ledger ``index``, the ``number`` people see
    (entry number index + 1, or a raffle's ticket number), who, and when."""

    index: int
    number: int
    who: str
    at_ms: int

    @property
    def at(self) -> str:
        return iso(self.at_ms)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "number": self.number, "who": self.who, "at": self.at}


@dataclass(frozen=True)
class Chart:
    """Entries per bucket of ``bucket_minutes`` minutes, from the bucket starting at epoch
    minute ``first_minute``."""

    window: Window
    bucket_minutes: int
    first_minute: int
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    def minute_of(self, i: int) -> int:
        return self.first_minute + i * self.bucket_minutes

    @property
    def busiest(self) -> tuple[int, int] | None:
        """The (minute, count) of the bucket with the most entries, the first of equals."""
        if not self.counts or max(self.counts) == 0:
            return None
        top = max(self.counts)
        i = self.counts.index(top)
        return self.minute_of(i), top

    def to_json(self) -> dict[str, Any]:
        return {
            "window": self.window.value,
            "bucket_minutes": self.bucket_minutes,
            "total": self.total,
            "points": [
                {"minute": self.minute_of(i), "at": iso(self.minute_of(i) * MINUTE_MS), "count": c}
                for i, c in enumerate(self.counts)
            ],
        }


@dataclass(frozen=True)
class DrawDashboard:
    """A draw's dashboard. ``length`` is the ledger's length and ``last_event_id`` the
    draw's latest live event when the rest was read: the live feed resumes from there,
    and entries with an index below ``length`` are already counted."""

    draw: Draw
    chart: Chart
    recent: list[EntryView]
    length: int = 0
    last_event_id: str | None = None


@dataclass(frozen=True)
class TopRow:
    name: str
    ballots: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ballots": self.ballots}


@dataclass(frozen=True)
class TopLists:
    """A lottery's participants with the most ballots: today and of all time."""

    day: date
    today: list[TopRow]
    all_time: list[TopRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "today": [r.to_json() for r in self.today],
            "all_time": [r.to_json() for r in self.all_time],
        }


@dataclass(frozen=True)
class LotteryDashboard:
    """A lottery's dashboard: today's round (``draw`` is None until its first ballot)."""

    lottery: Lottery
    day: date
    round_id: str
    draw: Draw | None
    chart: Chart
    recent: list[EntryView]
    top: TopLists
    length: int = 0
    last_event_id: str | None = None


@dataclass(frozen=True)
class ActivityRow:
    """One of the instance's most active draws, with where its dashboard is."""

    draw: ActiveDraw

    @property
    def dashboard_url(self) -> str:
        """A lottery round's is its lottery's dashboard (which shows today's round)."""
        d = self.draw
        if d.lottery_id:
            return f"/lotteries/{d.lottery_id}/dashboard"
        return f"/draws/{d.draw_id}/dashboard"

    def to_json(self) -> dict[str, Any]:
        d = self.draw
        return {
            "draw_id": d.draw_id,
            "title": d.title,
            "kind": d.kind,
            "status": d.status,
            "created_by": d.created_by,
            "lottery_id": d.lottery_id or None,
            "entries_24h": d.entries,
            "last_entry_at": iso(d.last_minute * MINUTE_MS),
            "dashboard": self.dashboard_url,
        }


def bucket_size(first_minute: int, last_minute: int, max_points: int = MAX_POINTS) -> int:
    """The smallest bucket (minutes) that draws minutes ``first .. last`` in at most
    ``max_points`` buckets aligned to multiples of the bucket."""

    def points(size: int) -> int:
        return last_minute // size - first_minute // size + 1

    for size in _BUCKETS:
        if points(size) <= max_points:
            return size
    day = _BUCKETS[-1]
    multiple = 2
    while points(day * multiple) > max_points:
        multiple *= 2
    return day * multiple


@dataclass(frozen=True)
class ChartPlan:
    """Which counters a chart reads (``fields`` of the minutes hash) and the bucket each
    one adds to (``slots``)."""

    window: Window
    size: int
    start: int
    buckets: int
    fields: list[str]
    slots: list[int]

    def chart(self, counts: Sequence[int]) -> Chart:
        totals = [0] * self.buckets
        for slot, count in zip(self.slots, counts, strict=True):
            totals[slot] += count
        return Chart(self.window, self.size, self.start, tuple(totals))


def chart_plan(start_ms: int, end_ms: int, window: Window) -> ChartPlan:
    """The chart of a draw that took entries from ``start_ms`` to ``end_ms``: its last
    hour minute by minute, or its whole life in at most MAX_POINTS buckets (counted
    from the per-hour counters once a bucket is an hour or more)."""
    last = max(start_ms, end_ms) // MINUTE_MS
    if window is Window.hour:
        first = last - HOUR_WINDOW_MINUTES + 1
        fields = [str(m) for m in range(first, last + 1)]
        return ChartPlan(window, 1, first, len(fields), fields, list(range(len(fields))))
    first = start_ms // MINUTE_MS
    size = bucket_size(first, last)
    origin = first // size
    if size < 60:
        minutes = range(first, last + 1)
        fields = [str(m) for m in minutes]
        slots = [m // size - origin for m in minutes]
    else:
        # Every bucket size from an hour up is a whole number of hours.
        hours = range(first // 60, last // 60 + 1)
        fields = [f"h{h}" for h in hours]
        slots = [h * 60 // size - origin for h in hours]
    return ChartPlan(window, size, origin * size, last // size - origin + 1, fields, slots)


class DashboardService:
    """The dashboard's use cases; every one checks who is asking first."""

    def __init__(
        self,
        draws: DrawStore,
        stats: LiveStats,
        tickets: TicketLedger,
        lotteries: LotteryService,
        manager_networks: Sequence[IPNetwork] = (),
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._draws = draws
        self._stats = stats
        self._tickets = tickets
        self._lotteries = lotteries
        self._networks = tuple(manager_networks)
        self._clock = clock

    # -- one draw ------------------------------------------------------------------------
    async def _viewable(self, caller: Caller, draw_id: str) -> Draw:
        draw = await self._draws.get(draw_id)
        require_dashboard_viewer(caller, draw, self._networks)
        return draw

    async def draw_dashboard(
        self, caller: Caller, draw_id: str, window: Window = Window.hour
    ) -> DrawDashboard:
        """The draw, its chart over ``window`` and its latest entries, newest first."""
        draw = await self._viewable(caller, draw_id)
        plan = self._draw_plan(draw, window)
        snap = await self._stats.snapshot(draw.id, RECENT_ENTRIES, plan.fields)
        recent = await self._recent(draw, snap)
        return DrawDashboard(draw, plan.chart(snap.counts), recent, snap.length, snap.last_event_id)

    async def minutes(self, caller: Caller, draw_id: str, window: Window) -> Chart:
        """Entries per minute over the last hour of the draw, or over its whole life
        (bucketed to at most MAX_POINTS points)."""
        plan = self._draw_plan(await self._viewable(caller, draw_id), window)
        return plan.chart(await self._stats.counts(draw_id, plan.fields))

    async def search(self, caller: Caller, draw_id: str, raw_query: str) -> list[EntryView]:
        """Entrants whose GitHub login or account name starts with the query
        (case-insensitive), newest first, at most SEARCH_LIMIT; in a raffle, a ticket
        number finds its ticket (listed first). InvalidInput for a query shorter than two
        characters that is not a ticket number."""
        draw = await self._viewable(caller, draw_id)
        query = check_query(raw_query, tickets_too=draw.kind is DrawKind.raffle)
        return await self._search(draw, query)

    async def _search(self, draw: Draw, query: str) -> list[EntryView]:
        indexes: list[int] = []
        if draw.kind is DrawKind.raffle and _is_number(query):
            found = await self._ticket_claim(draw, int(query))
            if found is not None:
                indexes.append(found)
        if len(query) >= NAME_BUCKET_CHARS:
            hits = await self._stats.search_names(draw.id, query, SEARCH_LIMIT)
            indexes.extend(h.index for h in hits if h.index not in indexes)
        return await self._entries(draw, indexes[:SEARCH_LIMIT])

    async def _ticket_claim(self, draw: Draw, number: int) -> int | None:
        """The claim index of ticket ``number`` if it has been claimed."""
        perm = await self._tickets.permutation(draw.id)
        if not 1 <= number <= perm.size:
            return None
        index = tickets.claim_index(perm, number)
        return index if index < await self._stats.ledger_length(draw.id) else None

    # -- lotteries -------------------------------------------------------------------------
    async def _viewable_lottery(self, caller: Caller, lottery_id: str) -> Lottery:
        lottery = await self._lotteries.get(lottery_id)
        require_dashboard_viewer(caller, lottery, self._networks)
        return lottery

    def _today(self, lottery: Lottery) -> tuple[date, str]:
        day = lotteries.local_day(lottery.terms.zone, self._clock())
        return day, lotteries.round_draw_id(lottery.id, day)

    async def lottery_dashboard(
        self, caller: Caller, lottery_id: str, window: Window = Window.hour
    ) -> LotteryDashboard:
        """Today's round of the lottery: its chart, latest ballots and both top lists."""
        lottery = await self._viewable_lottery(caller, lottery_id)
        day, round_id = self._today(lottery)
        try:
            draw: Draw | None = await self._draws.get(round_id)
        except DrawNotFound:
            draw = None
        start_ms, end_ms = lotteries.day_bounds(lottery.terms.zone, day)
        plan = chart_plan(start_ms, min(self._clock(), end_ms - 1), window)
        top = await self._top_lists(lottery, day, round_id)
        if draw is None:
            return LotteryDashboard(
                lottery, day, round_id, None, plan.chart([0] * len(plan.fields)), [], top
            )
        snap = await self._stats.snapshot(round_id, RECENT_ENTRIES, plan.fields)
        recent = await self._recent(draw, snap)
        return LotteryDashboard(
            lottery,
            day,
            round_id,
            draw,
            plan.chart(snap.counts),
            recent,
            top,
            snap.length,
            snap.last_event_id,
        )

    async def lottery_search(
        self, caller: Caller, lottery_id: str, raw_query: str
    ) -> list[EntryView]:
        """:meth:`search` in today's round of the lottery (nothing before its first
        ballot)."""
        lottery = await self._viewable_lottery(caller, lottery_id)
        query = check_query(raw_query)
        _, round_id = self._today(lottery)
        try:
            draw = await self._draws.get(round_id)
        except DrawNotFound:
            return []
        return await self._search(draw, query)

    async def lottery_top(self, caller: Caller, lottery_id: str) -> TopLists:
        """The participants with the most ballots today, and of all time (the drawn
        rounds and today's), highest first, TOP_LIMIT each."""
        lottery = await self._viewable_lottery(caller, lottery_id)
        day, round_id = self._today(lottery)
        return await self._top_lists(lottery, day, round_id)

    async def _top_lists(self, lottery: Lottery, day: date, round_id: str) -> TopLists:
        today = await self._stats.round_top(round_id, TOP_LIMIT)
        all_time = await self._stats.lottery_top(lottery.id, round_id, TOP_LIMIT)
        return TopLists(
            day=day,
            today=[TopRow(n, b) for n, b in today],
            all_time=[TopRow(n, b) for n, b in all_time],
        )

    # -- the instance ----------------------------------------------------------------------
    async def activity(self, caller: Caller, limit: int = ACTIVITY_LIMIT) -> list[ActivityRow]:
        """The draws with the most entries in the last 24 hours (administrators only)."""
        require_admin(caller.user)
        minute = self._clock() // MINUTE_MS
        return [ActivityRow(d) for d in await self._stats.most_active(minute, limit)]

    # -- shared ----------------------------------------------------------------------------
    def _draw_plan(self, draw: Draw, window: Window) -> ChartPlan:
        start = draw.opened_ms if draw.opened_ms is not None else draw.created_ms
        end = draw.closed_ms if draw.closed_ms is not None else self._clock()
        return chart_plan(start, end, window)

    async def _recent(self, draw: Draw, snap: Snapshot) -> list[EntryView]:
        first = snap.length - len(snap.elements)
        views = await self._views(draw, list(range(first, snap.length)), snap.elements)
        return list(reversed(views))

    async def _entries(self, draw: Draw, indexes: list[int]) -> list[EntryView]:
        return await self._views(draw, indexes, await self._stats.elements(draw.id, indexes))

    async def _views(
        self, draw: Draw, indexes: Sequence[int], elements: Sequence[str]
    ) -> list[EntryView]:
        if draw.kind is DrawKind.raffle:
            perm = await self._tickets.permutation(draw.id)
            claims = [ClaimRecord.parse(i, e) for i, e in zip(indexes, elements, strict=True)]
            return [
                EntryView(c.index, tickets.ticket_number(perm, c.index), _holder(c), c.claimed_ms)
                for c in claims
            ]
        entries = [LedgerEntry.parse(i, e) for i, e in zip(indexes, elements, strict=True)]
        lottery = draw.kind is DrawKind.lottery
        return [
            EntryView(e.index, e.index + 1, _entrant(e, lottery), e.entered_ms) for e in entries
        ]


def _holder(claim: ClaimRecord) -> str:
    """A raffle claim's holder: the account name, or "anonymous" for an address."""
    if claim.claimant.startswith(ACCOUNT_PREFIX):
        return claim.claimant.removeprefix(ACCOUNT_PREFIX)
    return ANONYMOUS


def _entrant(entry: LedgerEntry, lottery: bool) -> str:
    """Who made a giveaway entry (its label: the GitHub login or account name) or a
    lottery ballot (the account name, as the search index and top lists have it)."""
    if lottery:
        return account_holder(entry.identity) or entry.label
    return entry.label
