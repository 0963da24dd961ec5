"""``/api/v1/draws/{id}/forfeits`` and ``/substitutions``: forfeit a drawn winner, and
the public record of every substitution (``docs/fairness-v2.md``, "Substitutions")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.substitutions import REASON_MAX, NotAWinner
from fairdraw.web.api.text_patterns import NOT_BLANK
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/draws", tags=["draws"], dependencies=[Depends(check_api_csrf)])

MANAGE = (errors.NotAuthenticated, errors.Forbidden, errors.NetworkNotAllowed, errors.CsrfFailed)
Index = Annotated[int, Path(ge=0, description="The entry's index in the ledger (0-based).")]


class ForfeitIn(BaseModel):
    winner: int = Field(
        strict=True,
        ge=0,
        description="The ledger index of the entry that holds the prize now (a drawn winner, "
        "or an alternate promoted since).",
    )
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX,
        pattern=NOT_BLANK,
        description="Why the prize is forfeited; public, on the results page and in the "
        "substitutions record. Trimmed.",
    )


class PickOut(BaseModel):
    index: int
    ref: str


class PromotedOut(PickOut):
    alternate: int = Field(description="The alternate's rank: 1 is the bundle's first.")


class SubstitutionOut(BaseModel):
    at: str = Field(description="When, ISO 8601 UTC with milliseconds.")
    slot: int = Field(description="The prize slot (0-based, as in the bundle).")
    prize: str
    forfeited: PickOut
    promoted: PromotedOut | None = Field(
        description="Who the prize went to; null when no alternate was left (not awarded)."
    )
    reason: str


@router.post(
    "/{draw_id}/forfeits",
    status_code=201,
    response_model=SubstitutionOut,
    responses={
        200: {"model": SubstitutionOut, "description": "That entry had already forfeited."},
        **problem_responses(
            *MANAGE,
            errors.DrawNotFound,
            errors.InvalidTransition,
            errors.WrongDrawKind,
            NotAWinner,
        ),
    },
)
async def forfeit(
    draw_id: str, body: ForfeitIn, response: Response, visitor: VisitorDep, services: ServicesDep
) -> dict[str, Any]:
    """Forfeit the prize the entry ``winner`` holds (the draw's managers and
    administrators): it passes to the first alternate, in the published order, who has
    not won, was not promoted and did not forfeit; with none left it is not awarded.
    201 with the substitution; 200 with the earlier one if that entry already forfeited
    (the reason given then stays). 409 ``invalid_transition`` before the draw, 409
    ``not_a_winner`` when the entry holds no prize now, 409 ``wrong_draw_kind`` for a
    lottery round."""
    made, created = await services.forfeits.forfeit(
        visitor.caller, draw_id, body.winner, body.reason
    )
    if not created:
        response.status_code = 200
    return made.to_json()


class StandingOut(BaseModel):
    state: Literal["winner", "promoted", "alternate", "forfeited", "none"] = Field(
        description="A drawn winner holding its prize; an alternate promoted after a "
        "forfeit; an alternate still waiting; a winner who forfeited; or none of these."
    )
    rank: int | None = Field(description="The alternate's rank (1 = first), if it is one.")
    prize: str | None = Field(description="The prize it holds now, if any.")
    text: str = Field(description="The same, in words, as the check-entry page says it.")


@router.get(
    "/{draw_id}/entries/{index}/standing",
    response_model=StandingOut,
    responses=problem_responses(errors.DrawNotFound, errors.NotFound),
)
async def standing(draw_id: str, index: Index, services: ServicesDep) -> dict[str, Any]:
    """Where entry ``index`` stands after the draw and any forfeits (public, as on the
    results page); 404 ``not_found`` until the winners are drawn."""
    draw = await services.drawing.get(draw_id)
    if draw.result is None:
        raise errors.NotFound("Where an entry stands is known once the winners are drawn")
    found = await services.forfeits.standing(draw, index)
    return {
        "state": found.state,
        "rank": found.rank,
        "prize": found.prize,
        "text": found.describe(),
    }


@router.get(
    "/{draw_id}/substitutions",
    responses={
        200: {"content": {"application/json": {}}, "description": "The substitutions record."},
        **problem_responses(errors.DrawNotFound, errors.NotFound),
    },
)
async def substitutions(draw_id: str, services: ServicesDep) -> Response:
    """The draw's substitutions record (canonical JSON) for ``fairdraw verify
    --substitutions``; 404 until the winners are drawn."""
    body = await services.forfeits.record(draw_id)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="fairdraw-{draw_id}-substitutions.json"'
        },
    )
