"""The lottery pages: the list, a lottery with its one-click ballot, the form that creates
one, checking the winner of any date, past rounds, one round with its proof, and the
managers' schedule page with "draw now". Each has a JSON twin under ``/api/v1``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain import lotteries
from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import (
    BeaconPending,
    DrawNotFound,
    DrawNotOpen,
    InvalidInput,
    LotteryNotFound,
    LotteryNotRunning,
    NotAuthenticated,
)
from fairdraw.domain.moments import now_ms
from fairdraw.i18n import gettext
from fairdraw.services.lottery_views import DayState, Lottery, RoundView
from fairdraw.web.api.lottery_schemas import (
    lottery_status,
    round_out,
    round_page_url,
    scheduler_out,
)
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.draws import PAGE_BEACON_WAIT_SECONDS, waiting_for_beacon
from fairdraw.web.pages.lottery_views import (
    day_text,
    local_moment,
    outcome_of,
)
from fairdraw.web.pages.outcomes import ballot_signed, ballot_url, form_retry, once
from fairdraw.web.pages.receipt_views import kept_receipt
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text
from fairdraw.web.pages.time_format import Moment
from fairdraw.web.pages.views import duration_text, moment, moment_of_iso

router = APIRouter()

NEW_PATH = "/lotteries/new"
CHECK_PATH = "/lotteries/check"
SCHEDULE_PATH = "/lotteries/schedule"
RECENT_ROUNDS = 5
HISTORY_ROUNDS = 60
# Rounds listed per lottery as waiting for their draw: the scheduler draws the oldest
# first, so a longer backlog shows its head.
WAITING_MAX = 10


def _is_manager(visitor: Visitor) -> bool:
    return visitor.user is not None and visitor.user.role.can_manage_draws


def _not_running_text(lottery: Lottery, now: int) -> str:
    terms = lottery.terms
    if lottery_status(terms, now) == "upcoming":
        return gettext("This lottery has not started: its first day is %(day)s.") % {
            "day": day_text(terms.start)
        }
    return gettext("This lottery has ended; it takes no more ballots.")


# -- the list -----------------------------------------------------------------------------
@router.get("/lotteries")
async def list_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Running lotteries with the visitor's ballots today and a one-click ballot each;
    then the upcoming and the ended ones."""
    found = await services.lotteries.list_recent()
    mine = await services.lotteries.ballots_today([x.id for x in found], visitor.caller)
    now = now_ms()
    groups: dict[str, list[dict[str, Any]]] = {"running": [], "upcoming": [], "ended": []}
    for lottery in found:
        groups[lottery_status(lottery.terms, now)].append(
            {"lottery": lottery, "mine": mine[lottery.id]}
        )
    context = {**groups, "is_manager": _is_manager(visitor), "day_text": day_text}
    return render(request, services, visitor, "lottery_list.html", context)


# -- creating one -------------------------------------------------------------------------
@dataclass(frozen=True)
class LotteryForm:
    """The new-lottery form as typed, kept to show it again next to its errors."""

    name: str = ""
    description: str = ""
    prize: str = ""
    winners_per_day: str = "1"
    timezone: str = ""
    start: str = ""
    end: str = ""

    @classmethod
    def parse(cls, form: FormData) -> LotteryForm:
        return cls(**{name: text(form, name) for name in lotteries.LotteryTerms.FIELDS})


def _form_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    form: LotteryForm,
    errors: dict[str, str],
    status_code: int = 200,
    fresh: bool = False,
) -> Response:
    context = {"form": form, "errors": errors, "fresh": fresh}
    return render(request, services, visitor, "lottery_new.html", context, status_code=status_code)


@router.get(NEW_PATH)
async def new_lottery_page(
    request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The empty form, starting today in the default time zone."""
    try:
        services.drawing.check_can_create(visitor.caller)
    except NotAuthenticated:
        return see_other(login_url(NEW_PATH))
    zone = services.settings.timezone
    today = lotteries.local_day(ZoneInfo(zone), now_ms())
    form = LotteryForm(timezone=zone, start=today.isoformat())
    return _form_page(request, services, visitor, form, {}, fresh=True)


@router.post(NEW_PATH)
async def create_lottery(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Create the lottery and go to its page; 422 with the form as typed on invalid input.
    The same form submitted twice creates one lottery."""
    submitted = await checked_form(request, services, visitor)
    form = LotteryForm.parse(submitted)

    async def create() -> Response:
        try:
            lottery = await services.lotteries.create(
                visitor.caller,
                name=form.name,
                description=form.description,
                prize=form.prize,
                # Empty means the default, as the placeholder says.
                winners_per_day=form.winners_per_day.strip() or 1,
                timezone=form.timezone,
                start=form.start,
                end=form.end,
            )
        except NotAuthenticated:
            return see_other(login_url(NEW_PATH))
        except InvalidInput as error:
            return _form_page(request, services, visitor, form, error.errors, error.status)
        return see_other(f"/lotteries/{lottery.id}")

    return await once(request, services, visitor, submitted, create)


# -- checking a date ----------------------------------------------------------------------
@router.get(CHECK_PATH)
async def check_page(
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    lottery: str = "",
    date: str = "",
) -> Response:
    """Pick a lottery and any date: its winner, or why there is none. A lottery alone
    (``?lottery=``) fills in its today; 404 for an unknown lottery, 422 for a bad date."""
    choices = await services.lotteries.list_recent()
    errors: dict[str, str] = {}
    status_code = 200
    chosen: Lottery | None = None
    view: RoundView | None = None
    typed = date.strip()
    if lottery.strip():
        try:
            chosen = await services.lotteries.get(lottery.strip())
        except LotteryNotFound as error:
            errors["lottery"] = gettext("There is no such lottery; pick one from the list")
            status_code = error.status
    elif typed:
        errors["lottery"] = gettext("Choose a lottery")
        status_code = InvalidInput.status
    if chosen is not None and not typed:
        typed = lotteries.local_day(chosen.terms.zone, now_ms()).isoformat()
    elif chosen is not None:
        try:
            view = await services.lotteries.round(chosen.id, typed)
        except InvalidInput as error:
            errors.update(error.errors)
            status_code = error.status
    if chosen is not None and chosen.id not in {x.id for x in choices}:
        choices.append(chosen)
    context = {
        "choices": [("", gettext("Choose a lottery"))] + [(x.id, x.terms.name) for x in choices],
        "chosen": chosen,
        "typed_date": typed,
        "view": view,
        "outcome": outcome_of(view, chosen) if view and chosen else None,
        "errors": errors,
    }
    return render(
        request, services, visitor, "lottery_check.html", context, status_code=status_code
    )


# -- the managers' schedule ---------------------------------------------------------------
@router.get(SCHEDULE_PATH)
async def schedule_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """What the scheduler did last and what is due next, and the rounds whose day has
    ended but are not drawn yet, each with a "draw now" button (managers and admins)."""
    services.drawing.check_can_create(visitor.caller)
    now = now_ms()
    status = scheduler_out(
        await services.scheduler.status(),
        enabled=services.settings.scheduler,
        instance=services.scheduler.instance,
        now_ms=now,
    )
    found = await services.lotteries.list_recent()
    waiting: list[dict[str, Any]] = []
    for lottery in found:
        days = lotteries.rounds_due(lottery.terms, lottery.last_day, now)[:WAITING_MAX]
        for day in days:
            view = await services.lotteries.round(lottery.id, day)
            if view.state is DayState.not_drawn:
                waiting.append({"lottery": lottery, "view": view, "day": day_text(day)})
    names = {x.id: x.terms.name for x in found}
    drawn = []
    for item in status.last_drawn:
        lottery_id, _, drawn_day = item.partition(":")
        name = names.get(lottery_id, lottery_id)
        drawn.append({"name": name, "day": drawn_day, "url": round_page_url(lottery_id, drawn_day)})
    next_due = moment_of_iso(status.next_due_at) if status.next_due_at else None
    # Under a second late is a scheduler on time, between two passes.
    overdue = duration_text(status.overdue_ms) if status.overdue_ms >= 1000 else None
    context = {
        "status": status,
        "last_run": moment_of_iso(status.last_run_at) if status.last_run_at else None,
        "lag": duration_text(status.last_lag_ms) if status.last_lag_ms is not None else None,
        "drawn": drawn,
        "next_due": next_due,
        "next_lottery": names.get(status.next_due_lottery or "", status.next_due_lottery),
        "overdue": overdue,
        "waiting": waiting,
    }
    return render(request, services, visitor, "lottery_schedule.html", context)


# -- one lottery --------------------------------------------------------------------------
async def _round_draws(services: Services, views: list[RoundView]) -> dict[str, Draw]:
    """The draws of the rounds ``views`` show, by round id: what each one's randomness
    comes from. A round nobody cast a ballot in has none."""
    found: dict[str, Draw] = {}
    for view in views:
        try:
            found[view.round_id] = await services.drawing.get(view.round_id)
        except DrawNotFound:
            continue
    return found


def _beacon_due(draw: Draw | None, lottery: Lottery) -> Moment | None:
    """When the beacon round ``draw`` waits for is due, in the lottery's zone."""
    if draw is None or draw.seal is None:
        return None
    return moment(draw.seal.beacon_due_ms, lottery.terms.timezone)


async def _lottery_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    lottery_id: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lottery = await services.lotteries.get(lottery_id)
    now = now_ms()
    status = lottery_status(lottery.terms, now)
    today = lotteries.local_day(lottery.terms.zone, now)
    today_round = None
    if status == "running":
        today_round = await services.lotteries.round(lottery_id, today)
    mine = None
    if visitor.user is not None:
        mine = (await services.lotteries.ballots_today([lottery_id], visitor.caller))[lottery_id]
    recent = await services.lotteries.history(lottery_id, RECENT_ROUNDS)
    round_draws = await _round_draws(services, recent)
    context = {
        "lottery": lottery,
        "status": status,
        "today": day_text(today),
        "today_round": today_round,
        "mine": mine,
        "recent": [
            {
                "view": v,
                "outcome": outcome_of(v, lottery),
                "draw": round_draws.get(v.round_id),
                "beacon_due": _beacon_due(round_draws.get(v.round_id), lottery),
            }
            for v in recent
        ],
        "errors": errors or {},
        "is_manager": _is_manager(visitor),
        "day_text": day_text,
    }
    return render(request, services, visitor, "lottery.html", context, status_code=status_code)


@router.get("/lotteries/{lottery_id}")
async def lottery_page(
    lottery_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The lottery, today's round with the visitor's ballots and the ballot button, and
    the latest results."""
    return await _lottery_page(request, services, visitor, lottery_id)


@router.post("/lotteries/{lottery_id}/ballots")
async def cast_ballot(
    lottery_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Cast one ballot in today's round and go to its receipt (303), which has a button
    for another. The same form submitted twice casts once: its idempotency key is stored
    with the ballot. A refusal shows the lottery page again with the reason (409)."""
    form = await checked_form(request, services, visitor)
    _, retry = form_retry(request, services, visitor, form)
    try:
        ballot = await services.lotteries.cast(lottery_id, visitor.caller, retry=retry)
    except NotAuthenticated:
        return see_other(login_url(f"/lotteries/{lottery_id}"))
    except (LotteryNotRunning, DrawNotOpen) as error:
        if isinstance(error, LotteryNotRunning):
            reason = _not_running_text(await services.lotteries.get(lottery_id), now_ms())
        else:
            reason = "Today\u2019s round is already closed; try again in a moment."
        errors = {"_ballot": reason}
        return await _lottery_page(request, services, visitor, lottery_id, errors, error.status)
    url = ballot_url(services.secret, lottery_id, ballot.day, ballot.number, ballot.ballots_today)
    return see_other(url)


@router.get("/lotteries/{lottery_id}/ballots/{date}")
async def ballot_page(
    lottery_id: str,
    date: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    n: str = "",
    mine: str = "",
    s: str = "",
) -> Response:
    """A ballot's receipt, for whoever holds its signed link (its caster, sent here after
    casting it), with a button for another ballot. Reloading it casts nothing."""
    signed = n.isdecimal() and mine.isdecimal()
    if not signed or not ballot_signed(services.secret, lottery_id, date, n, mine, s):
        raise LotteryNotFound(gettext("No such ballot"))
    lottery = await services.lotteries.get(lottery_id)
    ballot = await services.lotteries.ballot(lottery_id, date, int(n), int(mine))
    if ballot is None:
        raise LotteryNotFound(gettext("No such ballot"))
    context = {
        "lottery": lottery,
        "ballot": ballot,
        "day": day_text(ballot.day),
        "cast": local_moment(ballot.cast_ms, lottery.terms.zone),
        "receipt": kept_receipt(ballot.signed),
    }
    return render(request, services, visitor, "lottery_ballot.html", context)


@router.get("/lotteries/{lottery_id}/rounds")
async def history_page(
    lottery_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Past rounds, newest first, with their winners and ballot counts."""
    lottery = await services.lotteries.get(lottery_id)
    views = await services.lotteries.history(lottery_id, HISTORY_ROUNDS)
    context = {
        "lottery": lottery,
        "rows": [{"view": v, "outcome": outcome_of(v, lottery)} for v in views],
        "limit": HISTORY_ROUNDS,
    }
    return render(request, services, visitor, "lottery_history.html", context)


@router.get("/lotteries/{lottery_id}/rounds/{date}")
async def round_page(
    lottery_id: str, date: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """One date of the lottery: its winners with the proof and entries downloads, or why
    there are none; managers may draw a round whose day has ended."""
    lottery = await services.lotteries.get(lottery_id)
    view = await services.lotteries.round(lottery_id, date)
    round_draw = (await _round_draws(services, [view])).get(view.round_id)
    context = {
        "lottery": lottery,
        "view": view,
        "round_draw": round_draw,
        "beacon_due": _beacon_due(round_draw, lottery),
        "outcome": outcome_of(view, lottery),
        "links": round_out(view).links,
        "drawn_at": local_moment(view.drawn_ms, lottery.terms.zone) if view.drawn_ms else None,
        "can_draw": _is_manager(visitor) and view.state is DayState.not_drawn,
        "day": day_text(view.day),
    }
    return render(request, services, visitor, "lottery_round.html", context)


@router.post("/lotteries/{lottery_id}/rounds/{date}/draw")
async def draw_round(
    lottery_id: str, date: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """A manager draws an ended round now; then its page shows the winners."""
    await checked_form(request, services, visitor)
    try:
        view = await services.lotteries.draw_now(
            visitor.caller, lottery_id, date, beacon_wait=PAGE_BEACON_WAIT_SECONDS
        )
    except BeaconPending:
        # draw_now read the date before it drew, so it is a real day.
        day = lotteries.parse_day(date)
        round_id = lotteries.round_draw_id(lottery_id, day)
        back = round_page_url(lottery_id, day.isoformat())
        return await waiting_for_beacon(request, services, round_id, back)
    return see_other(round_page_url(lottery_id, view.day.isoformat()))
