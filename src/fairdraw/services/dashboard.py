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
from datetime import date

from fairdraw.domain import lotteries, tickets
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, Draw, DrawKind, account_holder
from fairdraw.domain.errors import DrawNotFound
from fairdraw.domain.moments import now_ms
from fairdraw.domain.networks import IPNetwork
from fairdraw.services.accounts import require_admin
from fairdraw.services.dashboard_views import (
    ActivityRow,
    Chart,
    ChartPlan,
    DrawDashboard,
    EntryView,
    LotteryDashboard,
    TopLists,
    TopRow,
    Window,
    chart_plan,
    check_query,
    is_number,
)
from fairdraw.services.lotteries import LotteryService
from fairdraw.services.lottery_views import Lottery
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.services.viewing import require_draw_viewer
from fairdraw.store.draws import DrawStore, LedgerEntry
from fairdraw.store.keys import NAME_BUCKET_CHARS
from fairdraw.store.live_stats import MINUTE_MS as MINUTE_MS
from fairdraw.store.live_stats import LiveStats, Snapshot
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
        require_draw_viewer(caller, draw, self._networks)
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
        if draw.kind is DrawKind.raffle and is_number(query):
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
        require_draw_viewer(caller, lottery, self._networks)
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
        terms = await self._draws.ledger_terms(draw.id)
        entries = [LedgerEntry.parse(i, e, terms) for i, e in zip(indexes, elements, strict=True)]
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
