"""The organiser dashboard's JSON: the twin of ``/draws/{id}/dashboard``,
``/lotteries/{id}/dashboard`` and ``/admin/activity``. Only a draw's manager and
administrators may read them (the instance's activity: administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.moments import now_ms
from fairdraw.services.dashboard import SEARCH_LIMIT
from fairdraw.services.dashboard_views import ActivityRow, Chart, EntryView, TopLists, Window
from fairdraw.web.api.lottery_schemas import LotteryOut, lottery_out
from fairdraw.web.api.schemas import DrawOut, draw_out
from fairdraw.web.api.text_patterns import SEARCH_PATTERN
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["dashboard"], dependencies=[Depends(check_api_csrf)])

VIEWER = (errors.NotAuthenticated, errors.Forbidden, errors.NetworkNotAllowed)
ONE_DRAW = (*VIEWER, errors.DrawNotFound)
ONE_LOTTERY = (*VIEWER, errors.LotteryNotFound)


def private_feed(draw_id: str) -> str:
    """The draw's private live feed (Server-Sent Events with who entered)."""
    return f"/api/v1/draws/{draw_id}/events/private"


class EntryOut(BaseModel):
    index: int = Field(description="The entry's place in the ledger, from 0.")
    number: int = Field(description="The entry number (index + 1), or a raffle's ticket number.")
    who: str = Field(
        description='GitHub login or account name; "anonymous" for an anonymous claim.'
    )
    at: str


class PointOut(BaseModel):
    minute: int = Field(description="The bucket's first minute, in minutes since the epoch.")
    at: str
    count: int


class ChartOut(BaseModel):
    window: Window
    bucket_minutes: int = Field(description="1 for the last hour; larger for a long draw.")
    total: int
    points: list[PointOut]


class DashboardOut(BaseModel):
    draw: DrawOut
    chart: ChartOut
    recent: list[EntryOut] = Field(description="The latest entries, newest first.")
    live_feed: str = Field(description="The private live feed to follow for new entries.")
    last_event_id: str | None = Field(
        description="The draw's latest live event when this was read: resume the feed "
        "from it (``Last-Event-ID``) to miss nothing and count nothing twice."
    )


class SearchOut(BaseModel):
    query: str
    limit: int
    results: list[EntryOut] = Field(description="Newest first; a ticket number's ticket first.")


class TopRowOut(BaseModel):
    name: str
    ballots: int


class TopOut(BaseModel):
    date: str = Field(description="Today in the lottery's time zone.")
    today: list[TopRowOut]
    all_time: list[TopRowOut]


class LotteryDashboardOut(BaseModel):
    lottery: LotteryOut
    round_id: str
    round: DrawOut | None = Field(description="Today's round; null until its first ballot.")
    chart: ChartOut
    recent: list[EntryOut]
    top: TopOut
    live_feed: str
    last_event_id: str | None


class ActivityOut(BaseModel):
    draw_id: str
    title: str
    kind: str
    status: str
    created_by: str
    lottery_id: str | None
    entries_24h: int
    last_entry_at: str
    dashboard: str


def _entries(views: list[EntryView]) -> list[EntryOut]:
    return [EntryOut(**v.to_json()) for v in views]


def _chart(chart: Chart) -> ChartOut:
    return ChartOut.model_validate(chart.to_json())


def _top(top: TopLists) -> TopOut:
    return TopOut.model_validate(top.to_json())


def _activity(row: ActivityRow) -> ActivityOut:
    return ActivityOut.model_validate(row.to_json())


WindowQuery = Annotated[
    Window, Query(description="`hour`: the last hour, by minute; `all`: the whole draw.")
]


@router.get(
    "/draws/{draw_id}/dashboard",
    response_model=DashboardOut,
    responses=problem_responses(*ONE_DRAW),
)
async def dashboard(
    draw_id: str, visitor: VisitorDep, services: ServicesDep, window: WindowQuery = Window.hour
) -> DashboardOut:
    """The draw with its entries per minute and its 20 latest entries."""
    found = await services.dashboard.draw_dashboard(visitor.caller, draw_id, window)
    return DashboardOut(
        draw=draw_out(found.draw, now_ms()),
        chart=_chart(found.chart),
        recent=_entries(found.recent),
        live_feed=private_feed(draw_id),
        last_event_id=found.last_event_id,
    )


@router.get(
    "/draws/{draw_id}/entries",
    response_model=SearchOut,
    responses=problem_responses(*ONE_DRAW),
)
async def search_entries(
    draw_id: str,
    visitor: VisitorDep,
    services: ServicesDep,
    q: Annotated[
        str,
        Query(
            description="Two or more characters of a name, or a ticket number (a single "
            "digit only in a raffle).",
            json_schema_extra={"pattern": SEARCH_PATTERN},
        ),
    ],
) -> SearchOut:
    """Entrants whose GitHub login or account name starts with ``q`` (two characters or
    more, case-insensitive), newest first, at most 50; in a raffle a ticket number finds
    its ticket. 422 ``invalid_input`` for a shorter query."""
    found = await services.dashboard.search(visitor.caller, draw_id, q)
    return SearchOut(query=q.strip(), limit=SEARCH_LIMIT, results=_entries(found))


@router.get(
    "/draws/{draw_id}/minutes",
    response_model=ChartOut,
    responses=problem_responses(*ONE_DRAW),
)
async def minutes(
    draw_id: str, visitor: VisitorDep, services: ServicesDep, window: WindowQuery = Window.hour
) -> ChartOut:
    """Entries per minute: the last hour, or the whole draw in at most 500 points."""
    return _chart(await services.dashboard.minutes(visitor.caller, draw_id, window))


@router.get(
    "/lotteries/{lottery_id}/top",
    response_model=TopOut,
    responses=problem_responses(*ONE_LOTTERY),
)
async def lottery_top(lottery_id: str, visitor: VisitorDep, services: ServicesDep) -> TopOut:
    """The participants with the most ballots today and of all time, highest first."""
    return _top(await services.dashboard.lottery_top(visitor.caller, lottery_id))


@router.get(
    "/lotteries/{lottery_id}/dashboard",
    response_model=LotteryDashboardOut,
    responses=problem_responses(*ONE_LOTTERY),
)
async def lottery_dashboard(
    lottery_id: str, visitor: VisitorDep, services: ServicesDep, window: WindowQuery = Window.hour
) -> LotteryDashboardOut:
    """Today's round of the lottery: its ballots per minute, latest ballots, top lists."""
    found = await services.dashboard.lottery_dashboard(visitor.caller, lottery_id, window)
    now = now_ms()
    return LotteryDashboardOut(
        lottery=lottery_out(found.lottery, now, None),
        round_id=found.round_id,
        round=draw_out(found.draw, now) if found.draw is not None else None,
        chart=_chart(found.chart),
        recent=_entries(found.recent),
        top=_top(found.top),
        live_feed=private_feed(found.round_id),
        last_event_id=found.last_event_id,
    )


@router.get(
    "/admin/activity",
    response_model=list[ActivityOut],
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden),
)
async def activity(visitor: VisitorDep, services: ServicesDep) -> list[ActivityOut]:
    """The instance's draws with the most entries in the last 24 hours (administrators)."""
    return [_activity(row) for row in await services.dashboard.activity(visitor.caller)]
