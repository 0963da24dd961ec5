"""``/api/v1/draws``: the JSON twin of the draw pages."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.moments import now_ms
from fairdraw.i18n import N_
from fairdraw.web.acting import BEARER_SECURITY, DirectRoutes, acting_of, created
from fairdraw.web.api.schemas import DrawIn, DrawOut, EntryIn, PrizeIn, ReceiptOut, draw_out
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/draws", tags=["draws"], dependencies=[Depends(check_api_csrf)])
# The entry route: called directly, no dependency (web/acting.py); acting_of checks CSRF.
entries = DirectRoutes(tags=["draws"])

MANAGE = (errors.NotAuthenticated, errors.Forbidden, errors.NetworkNotAllowed, errors.CsrfFailed)
ONE_DRAW = (errors.DrawNotFound,)


@router.get("", response_model=list[DrawOut], responses=problem_responses())
async def list_draws(services: ServicesDep) -> list[DrawOut]:
    """Recent draws, newest first."""
    now = now_ms()
    return [draw_out(d, now) for d in await services.drawing.list_recent()]


@router.post(
    "",
    status_code=201,
    response_model=DrawOut,
    responses=problem_responses(*MANAGE),
)
async def create_draw(body: DrawIn, visitor: VisitorDep, services: ServicesDep) -> DrawOut:
    """Create a giveaway (a manager or admin only); ``open: true`` opens it at once.
    Raffles have a body of their own: ``POST /api/v1/raffles``."""
    draw = await services.drawing.create(
        visitor.caller,
        title=body.title,
        description=body.description,
        prizes=[p.model_dump() for p in body.prizes],
        deadline=body.deadline,
        duration=body.duration,
        open_now=body.open,
        entry_identity=body.entry_identity,
        auto_draw=body.auto_draw,
        embed_origins=body.embed_origins,
        github_sign_in=body.github_sign_in,
        time_zone=body.time_zone,
    )
    return draw_out(draw, now_ms())


@router.get("/{draw_id}", response_model=DrawOut, responses=problem_responses(*ONE_DRAW))
async def get_draw(draw_id: str, services: ServicesDep) -> DrawOut:
    return draw_out(await services.drawing.get(draw_id), now_ms())


TRANSITION_ERRORS = (*MANAGE, *ONE_DRAW, errors.InvalidTransition, errors.DeadlinePassed)


class DraftIn(BaseModel):
    """Settings of a draft to change, as at creation; a setting not given stays as it
    is. ``deadline``/``duration`` null or blank removes it, and giving one removes the
    other."""

    title: str | None = None
    description: str | None = None
    prizes: list[PrizeIn] | None = None
    deadline: str | None = Field(default=None, description="Giveaways: as at creation.")
    duration: str | None = Field(default=None, description="Giveaways: as at creation.")
    entry_identity: Literal["github", "account"] | None = Field(
        default=None, description="Giveaways."
    )
    auto_draw: bool | None = Field(default=None, strict=True, description="Giveaways.")
    embed_origins: list[str] | None = Field(default=None, description="Giveaways and raffles.")
    github_sign_in: bool | None = Field(default=None, strict=True, description="Giveaways.")
    ticket_count: int | None = Field(default=None, strict=True, description="Raffles.")
    claimants: Literal["anonymous", "account"] | None = Field(default=None, description="Raffles.")
    per_claimant: int | None = Field(default=None, strict=True, description="Raffles.")
    early_close: bool | None = Field(default=None, strict=True, description="Raffles.")
    time_zone: str | None = Field(
        default=None,
        description="Giveaways and raffles. Changing it alone keeps the deadline's instant.",
    )

    def changes(self) -> dict[str, object]:
        """The settings given: null means "no change", except that it removes a
        deadline or duration."""
        given = self.model_dump(exclude_unset=True)
        return {k: v for k, v in given.items() if v is not None or k in ("deadline", "duration")}


@router.patch(
    "/{draw_id}",
    response_model=DrawOut,
    responses=problem_responses(*MANAGE, *ONE_DRAW, errors.InvalidTransition),
)
async def edit_draft(
    draw_id: str, body: DraftIn, visitor: VisitorDep, services: ServicesDep
) -> DrawOut:
    """Change a draft (its managers): a giveaway's or a raffle's settings as at creation
    (not ``open``), checked as at creation (422 ``invalid_input`` names every bad or
    unknown setting). 409 ``invalid_transition`` once the draw has opened. Sending the
    same edit again leaves the same draft."""
    draw = await services.drawing.edit_draft(visitor.caller, draw_id, body.changes())
    return draw_out(draw, now_ms())


@router.post(
    "/{draw_id}/open", response_model=DrawOut, responses=problem_responses(*TRANSITION_ERRORS)
)
async def open_draw(draw_id: str, visitor: VisitorDep, services: ServicesDep) -> DrawOut:
    """Open a draft for entries; fixes and publishes the seed commitment."""
    return draw_out(await services.drawing.open(visitor.caller, draw_id), now_ms())


@router.post(
    "/{draw_id}/close", response_model=DrawOut, responses=problem_responses(*TRANSITION_ERRORS)
)
async def close_draw(draw_id: str, visitor: VisitorDep, services: ServicesDep) -> DrawOut:
    """Close entries and seal the ledger (Merkle root). Closing again is harmless."""
    return draw_out(await services.drawing.close(visitor.caller, draw_id), now_ms())


@router.post(
    "/{draw_id}/cancel", response_model=DrawOut, responses=problem_responses(*TRANSITION_ERRORS)
)
async def cancel_draw(draw_id: str, visitor: VisitorDep, services: ServicesDep) -> DrawOut:
    return draw_out(await services.drawing.cancel(visitor.caller, draw_id), now_ms())


@router.post(
    "/{draw_id}/draw",
    response_model=DrawOut,
    responses=problem_responses(*TRANSITION_ERRORS, errors.BeaconPending),
)
async def draw_winners(draw_id: str, visitor: VisitorDep, services: ServicesDep) -> DrawOut:
    """Draw the winners of a closed draw. Exactly one result is ever recorded; asking
    again returns it. 503 ``beacon_pending`` (with ``Retry-After``) while the beacon
    round its seal bound is not out; the scheduler then draws it when it is."""
    return draw_out(await services.drawing.draw_winners(visitor.caller, draw_id), now_ms())


@entries.post(
    "/api/v1/draws/{draw_id}/entries",
    status_code=201,
    response_model=ReceiptOut,
    responses=problem_responses(
        *ONE_DRAW,
        errors.DrawNotOpen,
        errors.DeadlinePassed,
        errors.AlreadyEntered,
        errors.GitHubUserNotFound,
        errors.GitHubUnavailable,
        errors.GitHubSignInRequired,
        errors.CsrfFailed,
        errors.NotAuthenticated,
        errors.RateLimited,
    ),
    openapi_extra=BEARER_SECURITY,
)
async def enter_draw(draw_id: str, body: EntryIn, request: Request) -> Response:
    """Enter with a GitHub username, or — for draws entered with accounts — as the
    logged-in caller. A second entry answers 409 ``already_entered``: for an account
    draw with the caller's original receipt, for a GitHub username with nothing about
    the entry (the receipt is shown only to whoever made it). A draw whose entrants
    prove their GitHub account (``github_sign_in``) refuses a typed username: 403
    ``github_sign_in_required``, whose ``sign_in`` names the page to sign in on. With an
    ``Idempotency-Key``, the entry and its answer are stored together: a retry gets this
    201 again, even if the server stopped before answering."""
    acting = await acting_of(request)
    receipt = await acting.services.entering.enter(
        draw_id, github=body.github, caller=acting.visitor.caller, retry=acting.retry
    )
    return created(receipt.to_json(), replayed=receipt.replayed)


@router.get(
    "/{draw_id}/winners",
    response_model=DrawOut,
    responses=problem_responses(*ONE_DRAW, errors.NotFound),
)
async def winners(draw_id: str, services: ServicesDep) -> DrawOut:
    """The draw with its result; 404 ``not_drawn`` until the winners are drawn."""
    draw = await services.drawing.get(draw_id)
    if draw.result is None:
        raise NotDrawn()
    return draw_out(draw, now_ms())


class NotDrawn(errors.NotFound):
    code = "not_drawn"
    title = N_("The winners have not been drawn yet")


@router.get(
    "/{draw_id}/proof",
    responses={
        200: {"content": {"application/json": {}}, "description": "The proof bundle."},
        **problem_responses(*ONE_DRAW, errors.NotFound),
    },
)
async def proof_bundle(draw_id: str, services: ServicesDep) -> Response:
    """The proof bundle (canonical JSON) for ``fairdraw verify``."""
    body = await services.drawing.proof_bundle(draw_id)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="fairdraw-{draw_id}-proof.json"'},
    )


@router.get(
    "/{draw_id}/entries.txt",
    response_class=PlainTextResponse,
    responses=problem_responses(*ONE_DRAW, errors.NotFound),
)
async def entries_file(draw_id: str, services: ServicesDep) -> StreamingResponse:
    """The sealed ledger: one ``index<TAB>ref`` line per entry (sent as it is read, so
    that a ledger of millions of entries is never held whole in memory)."""
    pieces = await services.drawing.open_entries_file(draw_id)
    return StreamingResponse(
        pieces,
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="fairdraw-{draw_id}-entries.txt"'},
    )
