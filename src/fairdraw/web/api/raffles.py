"""Raffles in the JSON API: creating one, claiming a ticket, checking a ticket.

A raffle is a draw, so reading, opening, closing, drawing and cancelling it are the
``/api/v1/draws/{id}`` calls; what only raffles have is here.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from fairdraw.domain import errors
from fairdraw.domain.moments import now_ms
from fairdraw.web.acting import BEARER_SECURITY, DirectRoutes, acting_of, created
from fairdraw.web.api.draws import MANAGE, ONE_DRAW
from fairdraw.web.api.schemas import (
    DrawOut,
    RaffleIn,
    TicketCheckIn,
    TicketCheckOut,
    TicketOut,
    draw_out,
)
from fairdraw.web.client import client_address
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(tags=["raffles"])
# The claim route: called directly, no dependency (web/acting.py); acting_of checks CSRF.
claims = DirectRoutes(tags=["raffles"])

CSRF = [Depends(check_api_csrf)]
NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "/api/v1/raffles",
    status_code=201,
    response_model=DrawOut,
    responses=problem_responses(*MANAGE),
    dependencies=CSRF,
)
async def create_raffle(body: RaffleIn, visitor: VisitorDep, services: ServicesDep) -> DrawOut:
    """Create a raffle of ``ticket_count`` numbered tickets (a manager or admin only);
    ``open: true`` opens it at once. Its prizes' quantities may add up to at most
    ``ticket_count``: each ticket wins at most one prize. Without ``early_close`` it
    closes only when its last ticket is claimed."""
    draw = await services.drawing.create_raffle(
        visitor.caller,
        title=body.title,
        description=body.description,
        prizes=[p.model_dump() for p in body.prizes],
        ticket_count=body.ticket_count,
        claimants=body.claimants,
        per_claimant=body.per_claimant,
        early_close=body.early_close,
        open_now=body.open,
        embed_origins=body.embed_origins,
        time_zone=body.time_zone,
    )
    return draw_out(draw, now_ms())


@claims.post(
    "/api/v1/draws/{draw_id}/tickets",
    status_code=201,
    response_model=TicketOut,
    responses=problem_responses(
        *ONE_DRAW,
        errors.SoldOut,
        errors.TicketLimitReached,
        errors.DrawNotOpen,
        errors.WrongDrawKind,
        errors.NotAuthenticated,
        errors.InvalidToken,
        errors.CsrfFailed,
        errors.RateLimited,
    ),
    openapi_extra=BEARER_SECURITY,
)
async def claim_ticket(draw_id: str, request: Request) -> Response:
    """Claim the next ticket of an open raffle: anyone for anonymous raffles (one
    address holds up to ``per_claimant`` tickets), the logged-in caller for account
    raffles. The answer holds the ticket's verification code, which is shown only
    here; the last ticket closes the raffle.

    Send an ``Idempotency-Key``: the claim and its answer are then stored together (the
    code sealed under your key, which the server does not keep), so a retry with the
    same key gets the same ticket and code for 24 h, even if the answer was lost or the
    server stopped before answering. Without one, a lost answer is a lost code."""
    acting = await acting_of(request)
    ticket = await acting.services.raffles.claim(draw_id, acting.visitor.caller, acting.retry)
    # The code is a secret that exists nowhere else: no cache may keep a copy.
    return created(ticket.to_json(), replayed=ticket.replayed, headers=NO_STORE)


# No CSRF check: the answer is the same whoever asks, so a session cookie lends this
# call no authority a forged request could borrow; and the wrong-code limit it counts
# against is per ticket and client address, which anyone can spend from their own
# client anyway.
@router.post(
    "/api/v1/draws/{draw_id}/tickets/check",
    response_model=TicketCheckOut,
    responses=problem_responses(
        *ONE_DRAW,
        errors.TicketNotFound,
        errors.InvalidCode,
        errors.WrongDrawKind,
        errors.RateLimited,
    ),
)
async def check_ticket(
    draw_id: str, body: TicketCheckIn, request: Request, services: ServicesDep
) -> dict[str, object]:
    """Whether ticket ``number`` won, for whoever holds its ``code`` (a POST, so that the
    code appears in no URL and no access log). A wrong code is 403 ``invalid_code``;
    after a few wrong codes from one client address the ticket answers it 429
    ``rate_limited``, even for the right code, until ``Retry-After`` seconds have passed."""
    address = client_address(request, services.trusted_proxies)
    check = await services.raffles.check(draw_id, body.number, body.code, address)
    return check.to_json()  # validated once, against response_model
