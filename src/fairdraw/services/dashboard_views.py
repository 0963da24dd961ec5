"""What the organiser dashboard shows: its views (charts, entries, top lists, the most
active draws) and how a chart is read from the per-minute and per-hour counters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.moments import iso
from fairdraw.i18n import N_, Message
from fairdraw.services.lottery_views import Lottery
from fairdraw.store.keys import NAME_BUCKET_CHARS
from fairdraw.store.live_stats import MINUTE_MS, ActiveDraw

QUERY_MAX = 64
HOUR_WINDOW_MINUTES = 60
# The whole-draw chart has at most this many points; longer draws are bucketed.
MAX_POINTS = 500
# Bucket sizes in minutes, smallest first; beyond the last, whole multiples of it.
_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440)


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
        raise InvalidInput({"q": N_("Type a name or a ticket number, on one line")})
    if len(query) > QUERY_MAX:
        raise InvalidInput({"q": Message(N_("Type at most %(limit)s characters"), limit=QUERY_MAX)})
    if len(query) < NAME_BUCKET_CHARS and not (tickets_too and is_number(query)):
        wanted = (
            N_("Type at least %(limit)s characters or a ticket number")
            if tickets_too
            else N_("Type at least %(limit)s characters of a name")
        )
        raise InvalidInput({"q": Message(wanted, limit=NAME_BUCKET_CHARS)})
    return query


def is_number(text: str) -> bool:
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
