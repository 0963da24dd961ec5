"""The lottery API's request and response bodies, and what they say of a lottery today."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from fairdraw.domain import lotteries, zones
from fairdraw.domain.draws import DESCRIPTION_MAX, PRIZE_NAME_MAX, TITLE_MAX
from fairdraw.domain.lotteries import WINNERS_PER_DAY_MAX, LotteryTerms, RoundState
from fairdraw.services.lottery_views import DayState, Lottery, RoundView
from fairdraw.web.api.schemas import SignedStatementOut, number_rule, text_rule
from fairdraw.web.api.text_patterns import SPACE

LotteryStatus = Literal["upcoming", "running", "ended"]

_STATUS_OF_TODAY: dict[RoundState, LotteryStatus] = {
    RoundState.before_start: "upcoming",
    RoundState.running: "running",
    RoundState.after_end: "ended",
}


def lottery_status(terms: LotteryTerms, now_ms: int) -> LotteryStatus:
    """Whether ballots go into a round today (``running``), not yet, or no more."""
    today = lotteries.local_day(terms.zone, now_ms)
    return _STATUS_OF_TODAY[lotteries.state_of_date(terms, today, now_ms)]


def lottery_page_url(lottery_id: str) -> str:
    return f"/lotteries/{lottery_id}"


def round_page_url(lottery_id: str, day: str) -> str:
    return f"/lotteries/{lottery_id}/rounds/{day}"


def _zone_names(schema: dict[str, Any]) -> None:
    # Listed when the schema is built (the OpenAPI document), not at import. Blank, like
    # null, means the default zone.
    schema["anyOf"] = [
        {"type": "string", "enum": list(zones.canonical_zones())},
        {"type": "string", "pattern": f"^{SPACE}*$"},
        {"type": "null"},
    ]


class LotteryIn(BaseModel):
    name: str = Field(examples=["Daily coffee"], json_schema_extra=text_rule(TITLE_MAX))
    description: str = Field(
        default="", json_schema_extra=text_rule(DESCRIPTION_MAX, required=False)
    )
    prize: str = Field(
        description="What each day's winning ballot wins.",
        examples=["Coffee"],
        json_schema_extra=text_rule(PRIZE_NAME_MAX),
    )
    winners_per_day: int = Field(
        default=1,
        strict=True,
        description="How many ballots win the prize each day.",
        examples=[1],
        json_schema_extra=number_rule(1, WINNERS_PER_DAY_MAX),
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone whose midnight ends each round; FAIRDRAW_TIMEZONE if "
        "omitted or blank.",
        examples=["Europe/Berlin"],
        json_schema_extra=_zone_names,
    )
    start: str = Field(
        description="The first day (YYYY-MM-DD), today or later in the lottery's zone, and "
        "at most ten years ahead.",
        examples=["2026-12-01"],
        json_schema_extra={"format": "date"},
    )
    end: str | None = Field(
        default=None,
        description="The last day (YYYY-MM-DD), inclusive, not before `start` nor today; "
        "none for a lottery without end.",
        examples=["2026-12-24"],
        json_schema_extra={"format": "date"},
    )


class LotteryLinksOut(BaseModel):
    page: str
    rounds: str
    ballots: str


class LotteryOut(BaseModel):
    id: str
    name: str
    description: str
    prize: str
    winners_per_day: int
    timezone: str
    start: str
    end: str | None
    created_at: str
    created_by: str
    last_drawn_day: str | None = Field(
        description="The latest day whose round the scheduler has drawn."
    )
    status: LotteryStatus = Field(
        description="`running` while today's round takes ballots; `upcoming` before the "
        "start date, `ended` after the end date."
    )
    today: str = Field(description="Today's date in the lottery's time zone.")
    ballots_today: int | None = Field(
        description="The caller's ballots in today's round; null when not logged in."
    )
    today_round_id: str | None = Field(
        default=None,
        description="The draw id of today's round while the lottery runs: its live feed is "
        "`/api/v1/draws/{today_round_id}/events`, even before the day's first ballot.",
    )
    links: LotteryLinksOut


def lottery_out(lottery: Lottery, now_ms: int, ballots_today: int | None) -> LotteryOut:
    base = f"/api/v1/lotteries/{lottery.id}"
    status = lottery_status(lottery.terms, now_ms)
    today = lotteries.local_day(lottery.terms.zone, now_ms)
    running = status == "running"
    return LotteryOut(
        **lottery.to_json(),
        status=status,
        today=today.isoformat(),
        ballots_today=ballots_today,
        today_round_id=lotteries.round_draw_id(lottery.id, today) if running else None,
        links=LotteryLinksOut(
            page=lottery_page_url(lottery.id), rounds=f"{base}/rounds", ballots=f"{base}/ballots"
        ),
    )


class BallotOut(BaseModel):
    """A ballot's receipt."""

    lottery_id: str
    date: str = Field(description="The round (local date) the ballot was cast in.")
    round_id: str = Field(description="The id of that round's draw.")
    number: int = Field(description="The ballot's number in its round, from 1.")
    ref: str = Field(description="The ballot's public reference in the round's entries file.")
    cast_at: str
    ballots_today: int = Field(description="The caller's ballots in this round, this one included.")
    signed: SignedStatementOut | None = Field(
        default=None,
        description="fairdraw/2: the instance's signed promise that this ballot is in its "
        "round's ledger (a `receipt` statement); check it with `fairdraw verify-receipt`.",
    )


class RoundWinnerOut(BaseModel):
    ballot: int = Field(description="The winning ballot's number.")
    ref: str
    name: str = Field(description="The display name of the ballot's holder.")
    prize: str


class RoundLinksOut(BaseModel):
    page: str
    results: str | None
    proof: str | None
    entries: str | None


class RoundOut(BaseModel):
    lottery_id: str
    date: str
    state: DayState = Field(
        description="`drawn` (see `winners`), `no_ballots`, `not_drawn` (the day ended, the "
        "draw is due), `running` (today), `future`, `before_start` or `after_end`."
    )
    round_id: str = Field(description="The id of the round's draw (kind `lottery`).")
    ballots: int
    winners: list[RoundWinnerOut]
    drawn_at: str | None
    due_at: str | None = Field(description="When the day ends and the round may be drawn.")
    links: RoundLinksOut


def round_out(view: RoundView) -> RoundOut:
    drawn = view.state in (DayState.drawn, DayState.no_ballots)
    base = f"/api/v1/draws/{view.round_id}"
    return RoundOut(
        **view.to_json(),
        links=RoundLinksOut(
            page=round_page_url(view.lottery_id, view.day.isoformat()),
            results=f"/draws/{view.round_id}/results" if drawn else None,
            proof=f"{base}/proof" if drawn else None,
            entries=f"{base}/entries.txt" if drawn else None,
        ),
    )


class SchedulerOut(BaseModel):
    enabled: bool = Field(description="Whether this server runs a scheduler loop.")
    instance: str = Field(description="This server's scheduler instance.")
    leader: str | None = Field(description="The instance holding the lease, if any.")
    last_run_at: str | None
    last_lag_ms: int | None = Field(
        description="How long after its day ended the oldest round of the last run was drawn."
    )
    last_drawn: list[str] = Field(description="`lottery_id:date` of each round the last run drew.")
    next_due_at: str | None
    next_due_lottery: str | None
    overdue_ms: int = Field(
        description="How long ago the next due round became due; 0 if it is not due yet. "
        "More than a few scheduler intervals means no scheduler is drawing."
    )
    last_settled_at: str | None = Field(
        default=None, description="When the scheduler last closed a draw at its deadline."
    )
    last_settled: list[str] = Field(
        default_factory=list,
        description="Draw ids whose deadline that pass settled (closed, sealed, and drawn "
        "if they asked to be drawn automatically).",
    )
    next_deadline_at: str | None = Field(
        default=None, description="The next deadline of an open draw the scheduler will act on."
    )
    next_deadline_draw: str | None = None


def scheduler_out(
    status: Mapping[str, object], *, enabled: bool, instance: str, now_ms: int
) -> SchedulerOut:
    """:meth:`~fairdraw.services.scheduler.Scheduler.status` with this server's part."""
    overdue = 0
    next_due = status.get("next_due_at")
    if isinstance(next_due, str):
        due = datetime.fromisoformat(next_due.replace("Z", "+00:00"))
        overdue = max(0, now_ms - int(due.timestamp() * 1000))
    fields = {**status, "enabled": enabled, "instance": instance, "overdue_ms": overdue}
    return SchedulerOut.model_validate(fields)
