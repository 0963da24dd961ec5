"""``/draws/{id}/forfeits``: the managers' page to forfeit a drawn winner, and what the
results page shows of the substitutions (current winners, and each forfeit with its
time and reason)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain import substitutions
from fairdraw.domain.draws import Draw, WinnerView
from fairdraw.domain.errors import InvalidInput, NotAuthenticated
from fairdraw.domain.substitutions import NotAWinner, Substitution
from fairdraw.i18n import gettext
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.outcomes import once
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text
from fairdraw.web.pages.views import Moment, PrizeResult, initials, moment_of_iso

router = APIRouter()


@dataclass(frozen=True)
class SubstitutionView:
    """One forfeit as the results page lists it."""

    at: Moment | None
    prize: str
    reason: str
    forfeited: WinnerView
    promoted: WinnerView | None
    alternate: int | None


@dataclass(frozen=True)
class CurrentResult:
    """The result after the substitutions: who holds each prize now (grouped as the
    results page groups them), the promoted holders' ranks, the prizes that lapsed for
    want of alternates, and the substitutions themselves."""

    prizes: list[PrizeResult]
    promoted: dict[int, int]
    lapsed: dict[str, int]
    substitutions: list[SubstitutionView]


def _people(draw: Draw) -> dict[int, WinnerView]:
    """Every picked entry's stored view (winners and alternates) by ledger index."""
    if draw.result is None:
        return {}
    return {p.index: p for p in (*draw.result.alternates, *draw.result.winners)}


def _view(people: Mapping[int, WinnerView], index: int, ref: str) -> WinnerView:
    found = people.get(index)
    if found is not None:
        return found
    return WinnerView(
        -1, "", index, ref, "", gettext("Entry %(index)s") % {"index": index}, None, None
    )


def current_result(draw: Draw, made: Sequence[Substitution]) -> CurrentResult:
    """The draw's result after ``made`` (its substitutions, in order)."""
    if draw.result is None:
        return CurrentResult([], {}, {}, [])
    people = _people(draw)
    holdings = substitutions.holdings(draw.result.bundle, made)
    lapsed: dict[str, int] = {}
    holders: list[WinnerView] = []
    promoted: dict[int, int] = {}
    for holding in holdings:
        if holding.holder is None:
            lapsed[holding.prize] = lapsed.get(holding.prize, 0) + 1
            continue
        view = _view(people, holding.holder.index, holding.holder.ref)
        holders.append(dataclasses.replace(view, slot=holding.slot, prize=holding.prize))
        if holding.alternate is not None:
            promoted[holding.holder.index] = holding.alternate
    prizes = []
    for prize in draw.prizes:
        won = [w for w in holders if w.prize == prize.name]
        missing = sum(1 for name in draw.result.unawarded if name == prize.name)
        prizes.append(PrizeResult(prize.name, prize.quantity, won, missing))
    listed = [
        SubstitutionView(
            at=moment_of_iso(sub.at, draw.time_zone),
            prize=sub.prize,
            reason=sub.reason,
            forfeited=_view(people, sub.forfeited.index, sub.forfeited.ref),
            promoted=_view(people, sub.promoted.pick.index, sub.promoted.pick.ref)
            if sub.promoted is not None
            else None,
            alternate=sub.promoted.alternate if sub.promoted is not None else None,
        )
        for sub in made
    ]
    return CurrentResult(prizes, promoted, lapsed, listed)


async def _show(
    request: Request,
    services: Services,
    visitor: Visitor,
    draw: Draw,
    extra: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    made = await services.forfeits.substitutions(draw.id)
    context: dict[str, Any] = {
        "draw": draw,
        "current": current_result(draw, made),
        "initials": initials,
        "errors": {},
        "values": {},
    }
    context.update(extra or {})
    return render(request, services, visitor, "forfeits.html", context, status_code=status_code)


@router.get("/draws/{draw_id}/forfeits")
async def show_forfeits(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The current winners of a drawn draw, each with a form to forfeit it (its
    managers and administrators only)."""
    draw = await services.forfeits.draw_to_forfeit(visitor.caller, draw_id)
    return await _show(request, services, visitor, draw)


@router.post("/draws/{draw_id}/forfeits")
async def forfeit_winner(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Forfeit one winner with a reason, then show the results page (303). Sent twice,
    the form acts once; a refused form shows this page again with the reason."""
    form = await checked_form(request, services, visitor)

    async def act() -> Response:
        winner, reason = text(form, "winner"), text(form, "reason")
        try:
            if text(form, "confirm") != "yes":
                raise InvalidInput({"confirm": gettext("Tick the box to confirm the forfeit")})
            if not winner.isdecimal():
                raise NotAWinner(gettext("Choose a winner to forfeit"))
            await services.forfeits.forfeit(visitor.caller, draw_id, int(winner), reason)
        except NotAuthenticated:
            return see_other(login_url(f"/draws/{draw_id}/forfeits"))
        except (InvalidInput, NotAWinner) as error:
            draw = await services.forfeits.draw_to_forfeit(visitor.caller, draw_id)
            if isinstance(error, InvalidInput):
                errors = dict(error.errors)
            else:
                errors = {"_forfeit": error.detail}
            extra = {"errors": errors, "values": {"winner": winner, "reason": reason}}
            return await _show(request, services, visitor, draw, extra, error.status)
        return see_other(f"/draws/{draw_id}/results#substitutions")

    return await once(request, services, visitor, form, act)
