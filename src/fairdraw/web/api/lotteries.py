"""``/api/v1/lotteries`` and ``/api/v1/scheduler``: the JSON twin of the lottery pages.

Each day of a lottery is a round, and each round is a draw of kind ``lottery``: its proof
and entries file are the ``/api/v1/draws/{round_id}/…`` downloads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from fairdraw.domain import errors
from fairdraw.domain.moments import now_ms
from fairdraw.services.lotteries import HISTORY_MAX
from fairdraw.web.acting import BEARER_SECURITY, DirectRoutes, acting_of, created
from fairdraw.web.api.lottery_schemas import (
    BallotOut,
    LotteryIn,
    LotteryOut,
    RoundOut,
    SchedulerOut,
    lottery_out,
    round_out,
    scheduler_out,
)
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(tags=["lotteries"], dependencies=[Depends(check_api_csrf)])
# The ballot route: called directly, no dependency (web/acting.py); acting_of checks CSRF.
ballots = DirectRoutes(tags=["lotteries"])

BASE = "/api/v1/lotteries"
MANAGE = (errors.NotAuthenticated, errors.Forbidden, errors.NetworkNotAllowed, errors.CsrfFailed)
ONE_LOTTERY = (errors.LotteryNotFound,)


@router.get(BASE, response_model=list[LotteryOut], responses=problem_responses())
async def list_lotteries(visitor: VisitorDep, services: ServicesDep) -> list[LotteryOut]:
    """Recent lotteries, newest first, each with the caller's ballots in today's round."""
    found = await services.lotteries.list_recent()
    counts = await services.lotteries.ballots_today([x.id for x in found], visitor.caller)
    now = now_ms()
    mine = visitor.user is not None
    return [lottery_out(x, now, counts[x.id] if mine else None) for x in found]


@router.post(BASE, status_code=201, response_model=LotteryOut, responses=problem_responses(*MANAGE))
async def create_lottery(body: LotteryIn, visitor: VisitorDep, services: ServicesDep) -> LotteryOut:
    """Create a daily lottery (a manager or admin only). Every local day from ``start``
    to ``end`` (inclusive; forever without one) is a round whose winning ballots are
    drawn after midnight in ``timezone``."""
    lottery = await services.lotteries.create(
        visitor.caller,
        name=body.name,
        description=body.description,
        prize=body.prize,
        winners_per_day=body.winners_per_day,
        timezone=body.timezone,
        start=body.start,
        end=body.end,
    )
    return lottery_out(lottery, now_ms(), 0)


@router.get(
    BASE + "/{lottery_id}", response_model=LotteryOut, responses=problem_responses(*ONE_LOTTERY)
)
async def get_lottery(lottery_id: str, visitor: VisitorDep, services: ServicesDep) -> LotteryOut:
    """The lottery, with the caller's ballots in today's round if logged in."""
    lottery = await services.lotteries.get(lottery_id)
    mine = None
    if visitor.user is not None:
        mine = (await services.lotteries.ballots_today([lottery_id], visitor.caller))[lottery_id]
    return lottery_out(lottery, now_ms(), mine)


@ballots.post(
    BASE + "/{lottery_id}/ballots",
    status_code=201,
    response_model=BallotOut,
    responses=problem_responses(
        *ONE_LOTTERY,
        errors.LotteryNotRunning,
        errors.DrawNotOpen,
        errors.NotAuthenticated,
        errors.InvalidToken,
        errors.CsrfFailed,
    ),
    openapi_extra=BEARER_SECURITY,
)
async def cast_ballot(lottery_id: str, request: Request) -> Response:
    """Cast one ballot, as the logged-in caller, in today's round; as many as you like.
    409 ``lottery_not_running`` before the start date and after the end date. With an
    ``Idempotency-Key``, the ballot and its answer are stored together: a retry gets the
    same ballot, even after midnight or if the server stopped before answering."""
    acting = await acting_of(request)
    ballot = await acting.services.lotteries.cast(
        lottery_id, acting.visitor.caller, retry=acting.retry
    )
    return created(ballot.to_json(), replayed=ballot.replayed)


@router.get(
    BASE + "/{lottery_id}/rounds",
    response_model=list[RoundOut],
    responses=problem_responses(*ONE_LOTTERY),
)
async def round_history(
    lottery_id: str,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=HISTORY_MAX)] = 60,
) -> list[RoundOut]:
    """Past rounds, newest first: every day from the start to the last one that ended,
    with its winners or why it has none."""
    return [round_out(v) for v in await services.lotteries.history(lottery_id, limit)]


@router.get(
    BASE + "/{lottery_id}/rounds/{date}",
    response_model=RoundOut,
    responses=problem_responses(*ONE_LOTTERY),
)
async def check_round(lottery_id: str, date: str, services: ServicesDep) -> RoundOut:
    """What there is to know of any date (YYYY-MM-DD) of the lottery: its winners, no
    ballots, not drawn yet, still running, in the future, or outside the lottery's dates."""
    return round_out(await services.lotteries.round(lottery_id, date))


@router.post(
    BASE + "/{lottery_id}/rounds/{date}/draw",
    response_model=RoundOut,
    responses=problem_responses(*MANAGE, *ONE_LOTTERY, errors.RoundNotOver),
)
async def draw_round_now(
    lottery_id: str, date: str, visitor: VisitorDep, services: ServicesDep
) -> RoundOut:
    """Draw a round whose day has ended without waiting for the scheduler (managers and
    admins). The result is the one the scheduler records; asking again returns it. 409
    ``round_not_over`` for today, future dates and dates outside the lottery."""
    return round_out(await services.lotteries.draw_now(visitor.caller, lottery_id, date))


@router.get("/api/v1/scheduler", response_model=SchedulerOut, responses=problem_responses(*MANAGE))
async def scheduler_status(visitor: VisitorDep, services: ServicesDep) -> SchedulerOut:
    """What the lottery scheduler did last and what is due next (managers and admins)."""
    services.drawing.check_can_create(visitor.caller)
    return scheduler_out(
        await services.scheduler.status(),
        enabled=services.settings.scheduler,
        instance=services.scheduler.instance,
        now_ms=now_ms(),
    )
