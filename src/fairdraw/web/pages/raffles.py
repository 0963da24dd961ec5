"""A raffle's tickets: ``POST /draws/{id}/tickets`` claims one and goes to its card,
``/draws/{id}/tickets/{number}``, which the claiming browser can reload (and come back
to) for as long as claims are kept; ``/draws/{id}/check`` tells the holder of a ticket's
code whether it won."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain import tickets
from fairdraw.domain.draws import Claimants, Draw, DrawKind, DrawStatus
from fairdraw.domain.errors import (
    DrawNotOpen,
    FairdrawError,
    InvalidCode,
    InvalidInput,
    NotAuthenticated,
    RateLimited,
    SoldOut,
    TicketLimitReached,
    TicketNotFound,
    WrongDrawKind,
)
from fairdraw.i18n import format_number, gettext, ngettext
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.draws import show_draw_page
from fairdraw.web.pages.outcomes import (
    HeldTicket,
    form_retry,
    held_by_ticket,
    hold_ticket,
    kept_for,
)
from fairdraw.web.pages.raffle_views import (
    CheckOutcome,
    check_outcome,
    check_refusal,
    sentence,
    ticket_card,
    wait_text,
)
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text

router = APIRouter()

# Ticket numbers go up to 10^9: ten digits at most.
_NUMBER_DIGITS = 10


def _claim_refusal(error: FairdrawError, draw: Draw) -> str:
    """Why a claim was refused, in the words of the raffle page."""
    if isinstance(error, SoldOut):
        total = draw.raffle.ticket_count if draw.raffle else 0
        if total == 1:
            return gettext("Sorry, the only ticket has been claimed.")
        return gettext("Sorry, all %(total)s tickets have been claimed.") % {
            "total": format_number(total)
        }
    if isinstance(error, TicketLimitReached):
        terms = draw.raffle
        limit = terms.per_claimant if terms else 1
        message = ngettext(
            "You already hold a ticket of this raffle, as many as one person may.",
            "You already hold %(num)s tickets of this raffle, as many as one person may.",
            limit,
        ) % {"num": format_number(limit)}
        if terms is not None and terms.claimants is Claimants.anonymous:
            message += " " + gettext(
                "Tickets are counted per network address: someone else on your network"
                " may have claimed from it."
            )
        return message
    if isinstance(error, RateLimited):
        wait = wait_text(int(error.extra.get("retry_after", 60)))
        return gettext("Too many attempts from your network address; try again in %(wait)s.") % {
            "wait": wait
        }
    if draw.status is DrawStatus.draft:
        return gettext("This raffle is not open yet.")
    if draw.status is DrawStatus.cancelled:
        return gettext("This raffle was cancelled; no more tickets are handed out.")
    return gettext("This raffle is closed; no more tickets are handed out.")


def ticket_path(draw_id: str, number: int) -> str:
    return f"/draws/{draw_id}/tickets/{number}"


@router.post("/draws/{draw_id}/tickets")
async def claim_ticket(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Claim the next ticket and go to its card (303). The claim keeps the code sealed
    under the form's key, which only this browser is given (the ``fairdraw_tickets``
    cookie): the card shows the code again on reload, and the same form submitted twice
    gets the same ticket. A refusal shows the raffle page again with the reason."""
    form = await checked_form(request, services, visitor)
    key, retry = form_retry(request, services, visitor, form)
    try:
        ticket = await services.raffles.claim(draw_id, visitor.caller, retry)
    except NotAuthenticated:
        return see_other(login_url(f"/draws/{draw_id}"))
    except (SoldOut, TicketLimitReached, DrawNotOpen, RateLimited) as error:
        draw = await services.drawing.get(draw_id)
        extra = {"errors": {"_draw": _claim_refusal(error, draw)}}
        response = show_draw_page(request, services, visitor, draw, extra, status_code=error.status)
        if "retry_after" in error.extra:
            response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response
    response = see_other(ticket_path(draw_id, ticket.number))
    hold_ticket(response, request, services, HeldTicket(draw_id, ticket.number, retry.name, key))
    return response


@router.get("/draws/{draw_id}/tickets/{number}")
async def show_ticket(
    draw_id: str, number: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """A ticket's card, with its code in the browser that claimed it (while claims are
    kept); any other browser sees only that it holds no code for this ticket."""
    draw = await _raffle(services, draw_id)
    wanted = _ticket_number(number)
    if wanted is None:
        raise TicketNotFound()
    held = held_by_ticket(request).get((draw_id, wanted))
    kept = None
    if held is not None:
        opener = services.idempotency.opener(held.key, held.name)
        kept = await services.raffles.kept_ticket(draw_id, wanted, opener)
    draw_url = str(request.url_for("show_draw", draw_id=draw_id))
    check_url = str(request.url_for("check_form", draw_id=draw_id))
    check_entry_url = str(request.url_for("check_entry_form"))
    card = ticket_card(draw, wanted, kept, draw_url, check_url, check_entry_url)
    # render() marks every page no-store: this one may hold a secret.
    context = {"draw": draw, "card": card, "kept_for": kept_for(services)}
    return render(request, services, visitor, "ticket.html", context)


async def _raffle(services: Services, draw_id: str) -> Draw:
    draw = await services.drawing.get(draw_id)
    if draw.kind is not DrawKind.raffle:
        raise WrongDrawKind(gettext("Only raffles have tickets to check"))
    return draw


def _check_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    draw: Draw,
    *,
    number: str = "",
    code: str = "",
    errors: dict[str, str] | None = None,
    outcome: CheckOutcome | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "draw": draw,
        "number": number,
        "code": code,
        "errors": errors or {},
        "outcome": outcome,
    }
    return render(request, services, visitor, "ticket_check.html", context, status_code=status_code)


def _ticket_number(typed: str) -> int | None:
    """A typed ticket number (``"17"``, ``" #17 "``) as an int; None if it is not one."""
    digits = typed.strip().removeprefix("#").strip()
    if not digits.isdecimal() or len(digits) > _NUMBER_DIGITS:
        return None
    return int(digits)


@router.get("/draws/{draw_id}/check")
async def check_form(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep, number: str = ""
) -> Response:
    """The form: ticket number (``?number=`` fills it in) and verification code."""
    draw = await _raffle(services, draw_id)
    typed = number if _ticket_number(number) is not None else ""
    return _check_page(request, services, visitor, draw, number=typed)


@router.post("/draws/{draw_id}/check")
async def check_ticket(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Whether the ticket won: 200 with the outcome when the code matches; otherwise the
    form again with the reason next to its field (422, 404, 403 or 429)."""
    form = await checked_form(request, services, visitor)
    draw = await _raffle(services, draw_id)
    typed_number = text(form, "number").strip()
    code = text(form, "code")
    number = _ticket_number(typed_number)
    errors: dict[str, str] = {}
    status_code = InvalidInput.status
    retry_after: object = None
    try:
        if number is None:
            errors["number"] = gettext("Enter the ticket number, a whole number such as 17")
            tickets.parse_code(code)  # so that a bad code is reported in the same answer
        else:
            check = await services.raffles.check(draw_id, number, code, visitor.address)
            outcome = check_outcome(check, draw)
            # The code has done its job; it is not written back into the page.
            return _check_page(
                request, services, visitor, draw, number=typed_number, outcome=outcome
            )
    except InvalidInput as error:
        errors.update({field: sentence(message) for field, message in error.errors.items()})
    except (TicketNotFound, InvalidCode, RateLimited) as error:
        field, message = check_refusal(error)
        errors[field] = message
        status_code = error.status
        retry_after = error.extra.get("retry_after")
    response = _check_page(
        request,
        services,
        visitor,
        draw,
        number=typed_number,
        code=code,
        errors=errors,
        status_code=status_code,
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
