"""``POST /api/v1/draws/{id}/import``: a draft giveaway's entrants from a CSV file."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.imports import DELIMITERS, Duplicates, ImportOptions
from fairdraw.domain.moments import now_ms
from fairdraw.web.api.schemas import DrawOut, draw_out
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/draws", tags=["draws"], dependencies=[Depends(check_api_csrf)])


class RowProblemOut(BaseModel):
    row: int | None = Field(description="The line the row starts on (the header is 1).")
    column: str | None = Field(description="The column's header; null for the whole row.")
    problem: str


class ImportOut(BaseModel):
    draw: DrawOut
    entry_count: int
    sha256: str = Field(description="SHA-256 (hex) of the file as uploaded.")
    name_column: str
    dedupe_column: str | None
    delimiter: str
    skipped: list[RowProblemOut] = Field(
        description="Duplicates left out (duplicates=skip), the first 100."
    )
    skipped_count: int


_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/{draw_id}/import",
    response_model=ImportOut,
    openapi_extra=_CSV_BODY,
    responses=problem_responses(
        errors.NotAuthenticated,
        errors.Forbidden,
        errors.NetworkNotAllowed,
        errors.CsrfFailed,
        errors.DrawNotFound,
        errors.WrongDrawKind,
        errors.InvalidTransition,
        errors.ListAlreadyImported,
    ),
)
async def import_list(
    draw_id: str,
    request: Request,
    visitor: VisitorDep,
    services: ServicesDep,
    name_column: str | None = None,
    dedupe_column: str | None = None,
    duplicates: Duplicates = Duplicates.refuse,
    delimiter: Literal["comma", "semicolon", "tab"] | None = None,
) -> ImportOut:
    """Make the rows of a CSV file (UTF-8, a header row) the entrants of a draft
    giveaway, in file order, and seal it: the draw is then closed and ready to draw. The
    whole file is checked first; 422 ``invalid_input`` lists its ``problems`` (row,
    column, problem; the first 100) and ``problem_count``, and nothing is stored. Sending
    the same file again answers the same; another file after an import is 409
    ``list_already_imported``."""
    options = ImportOptions(
        name_column=name_column or None,
        dedupe_column=dedupe_column or None,
        duplicates=duplicates,
        delimiter=DELIMITERS[delimiter] if delimiter else None,
    )
    data = await request.body()
    result = await services.importing.import_list(visitor.caller, draw_id, data, options)
    return ImportOut(draw=draw_out(result.draw, now_ms()), **result.to_json())
