"""``/api/v1/draws/{id}/reveal``: the presenter's reveal steps (the JSON twin of the
presenter page's buttons)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.moments import now_ms
from fairdraw.web.api.schemas import DrawOut, draw_out
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(
    prefix="/api/v1/draws", tags=["presenting"], dependencies=[Depends(check_api_csrf)]
)

REVEAL_ERRORS = (
    errors.NotAuthenticated,
    errors.Forbidden,
    errors.NetworkNotAllowed,
    errors.CsrfFailed,
    errors.DrawNotFound,
    errors.InvalidTransition,
    errors.InvalidInput,
)


class RevealIn(BaseModel):
    step: int = Field(
        strict=True,
        description="How many prize slots the presentation shows: 0 (none yet) to the "
        "number of slots (all of them: the summary). Absolute, so sending it again is "
        "harmless.",
        examples=[1],
        json_schema_extra={"minimum": 0},
    )


@router.post(
    "/{draw_id}/reveal", response_model=DrawOut, responses=problem_responses(*REVEAL_ERRORS)
)
async def reveal(
    draw_id: str, body: RevealIn, visitor: VisitorDep, services: ServicesDep
) -> DrawOut:
    """Move a drawn draw's presentation to ``step`` (its managers and administrators;
    a lottery round's, its lottery's creator). Every page following the draw shows the
    same step; the winners themselves were fixed when the draw was recorded."""
    draw = await services.presenting.reveal(visitor.caller, draw_id, body.step)
    return draw_out(draw, now_ms())
