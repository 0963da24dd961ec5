"""``/api/v1/me``: what the caller has taken part in (the JSON twin of ``/me/entries``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.services.my_entries import MAX_PAGE_SIZE, PAGE_SIZE
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.my_entries import my_entries
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class MyEntryOut(BaseModel):
    """One entry, ticket or ballot of the caller."""

    kind: Literal["entry", "ticket", "ballot"]
    draw_id: str = Field(description="The draw (a lottery round for a ballot).")
    title: str
    status: str = Field(description="The draw's state: open, closed, drawn or cancelled.")
    at: str = Field(description="When it was entered, claimed or cast (UTC).")
    index: int = Field(description="Its place in the draw's ledger (0-based).")
    number: int = Field(
        description="What its receipt calls it: the entry index, the ticket number, the "
        "ballot number."
    )
    ref: str | None = Field(description="The public reference (entries and ballots).")
    entrant: str | None = Field(description="Who entered (giveaway entries).")
    lottery_id: str | None
    date: str | None = Field(description="A ballot's round (YYYY-MM-DD).")
    won: bool
    prize: str | None
    code: str | None = Field(
        description="A ticket's verification code, only where it can still be shown: to "
        "the browser that claimed it (its ticket cookie), while claims are kept."
    )
    url: str = Field(description="Its page: the receipt, the ticket card or the round.")


class MyEntriesOut(BaseModel):
    items: list[MyEntryOut]
    total: int = Field(description="How many the caller has (the newest 1,000 are kept).")
    offset: int
    limit: int


@router.get(
    "/entries",
    response_model=MyEntriesOut,
    responses=problem_responses(errors.NotAuthenticated, errors.InvalidToken),
)
async def list_my_entries(
    request: Request,
    visitor: VisitorDep,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> MyEntriesOut:
    """The caller's giveaway entries, raffle tickets and lottery ballots, newest first."""
    page, shown = await my_entries(request, services, visitor, offset, limit)
    return MyEntriesOut(
        items=[MyEntryOut.model_validate(item.to_json()) for item in shown],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )
