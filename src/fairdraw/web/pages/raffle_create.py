"""``/raffles/new``: the form that creates a numbered raffle."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain.draws import Claimants
from fairdraw.domain.embedding import split_origins
from fairdraw.domain.errors import InvalidInput, NotAuthenticated
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.outcomes import once
from fairdraw.web.pages.prize_rows import (
    PrizeRow,
    errors_by_row,
    prize_list,
    read_prize_rows,
    rows_to_show,
)
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text

router = APIRouter()

NEW_RAFFLE_PATH = "/raffles/new"


@dataclass(frozen=True)
class RaffleForm:
    """The new-raffle form as typed, kept to show it again next to its errors."""

    title: str = ""
    description: str = ""
    prizes: tuple[PrizeRow, ...] = ()
    ticket_count: str = ""
    claimants: str = Claimants.anonymous.value
    per_claimant: str = "1"
    early_close: bool = False
    open_now: bool = True
    embed_origins: str = ""
    # Blank on a fresh form: the browser's zone is filled in by local_time.js, else UTC.
    time_zone: str = ""

    @classmethod
    def parse(cls, form: FormData) -> RaffleForm:
        return cls(
            title=text(form, "title"),
            description=text(form, "description"),
            prizes=read_prize_rows(form),
            ticket_count=text(form, "ticket_count"),
            claimants=text(form, "claimants") or Claimants.anonymous.value,
            per_claimant=text(form, "per_claimant"),
            early_close=bool(text(form, "early_close")),
            open_now=bool(text(form, "open")),
            embed_origins=text(form, "embed_origins"),
            time_zone=text(form, "time_zone"),
        )


def _form_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    form: RaffleForm,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context = {"form": form, "rows": rows_to_show(form.prizes), "errors": errors}
    return render(request, services, visitor, "raffle_new.html", context, status_code=status_code)


@router.get(NEW_RAFFLE_PATH)
async def new_raffle_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """The empty form; anonymous visitors log in first, participants get 403."""
    try:
        services.drawing.check_can_create(visitor.caller)
    except NotAuthenticated:
        return see_other(login_url(NEW_RAFFLE_PATH))
    return _form_page(request, services, visitor, RaffleForm(), {})


@router.post(NEW_RAFFLE_PATH)
async def create_raffle(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Create the raffle and go to its page; 422 with the form as typed on invalid input.
    The same form submitted twice creates one raffle."""
    submitted = await checked_form(request, services, visitor)
    form = RaffleForm.parse(submitted)
    prizes, rows = prize_list(form.prizes)

    async def create() -> Response:
        try:
            draw = await services.drawing.create_raffle(
                visitor.caller,
                title=form.title,
                description=form.description,
                prizes=prizes,
                ticket_count=form.ticket_count,
                claimants=form.claimants,
                # Empty means the default, as the placeholder says.
                per_claimant=form.per_claimant.strip() or 1,
                early_close=form.early_close,
                open_now=form.open_now,
                embed_origins=split_origins(form.embed_origins),
                time_zone=form.time_zone,
            )
        except NotAuthenticated:
            return see_other(login_url(NEW_RAFFLE_PATH))
        except InvalidInput as error:
            errors = errors_by_row(error.errors, rows)
            return _form_page(request, services, visitor, form, errors, status_code=error.status)
        return see_other(f"/draws/{draw.id}")

    return await once(request, services, visitor, submitted, create)
