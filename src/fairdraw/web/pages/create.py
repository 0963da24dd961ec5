"""``/draws/new``: the form that creates a giveaway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain.embedding import split_origins
from fairdraw.domain.errors import InvalidInput, NotAuthenticated
from fairdraw.web.deps import ServicesDep, VisitorDep
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


@dataclass(frozen=True)
class DrawForm:
    """The new-draw form as typed, kept to show it again next to its errors."""

    title: str = ""
    description: str = ""
    prizes: tuple[PrizeRow, ...] = ()
    deadline: str = ""
    duration: str = ""
    open_now: bool = True
    entry_identity: str = "github"
    auto_draw: bool = False
    embed_origins: str = ""
    github_sign_in: bool = False
    # Blank on a fresh form: the browser's zone is filled in by local_time.js, else UTC.
    time_zone: str = ""

    @classmethod
    def parse(cls, form: FormData) -> DrawForm:
        return cls(
            title=text(form, "title"),
            description=text(form, "description"),
            prizes=read_prize_rows(form),
            deadline=text(form, "deadline"),
            duration=text(form, "duration"),
            open_now=bool(text(form, "open")),
            entry_identity=text(form, "entry_identity") or "github",
            auto_draw=bool(text(form, "auto_draw")),
            embed_origins=text(form, "embed_origins"),
            github_sign_in=bool(text(form, "github_sign_in")),
            time_zone=text(form, "time_zone"),
        )

    def prize_list(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The non-blank rows as the service takes them, and each one's row number."""
        return prize_list(self.prizes)

    def rows_to_show(self) -> list[PrizeRow]:
        return rows_to_show(self.prizes)


def _form_page(
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    form: DrawForm,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context = {"form": form, "rows": form.rows_to_show(), "errors": errors}
    return render(request, services, visitor, "draw_new.html", context, status_code=status_code)


@router.get("/draws/new")
async def new_draw_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """The empty form; anonymous visitors log in first, participants get 403."""
    try:
        services.drawing.check_can_create(visitor.caller)
    except NotAuthenticated:
        return see_other(login_url("/draws/new"))
    return _form_page(request, services, visitor, DrawForm(), {})


@router.post("/draws/new")
async def create_draw(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Create the draw and go to its page; 422 with the form as typed on invalid input.
    The same form submitted twice creates one draw."""
    submitted = await checked_form(request, services, visitor)
    form = DrawForm.parse(submitted)
    prizes, rows = form.prize_list()

    async def create() -> Response:
        try:
            draw = await services.drawing.create(
                visitor.caller,
                title=form.title,
                description=form.description,
                prizes=prizes,
                deadline=form.deadline,
                duration=form.duration,
                open_now=form.open_now,
                entry_identity=form.entry_identity,
                auto_draw=form.auto_draw,
                embed_origins=split_origins(form.embed_origins),
                github_sign_in=form.github_sign_in,
                time_zone=form.time_zone,
            )
        except NotAuthenticated:
            return see_other(login_url("/draws/new"))
        except InvalidInput as error:
            errors = errors_by_row(error.errors, rows)
            return _form_page(request, services, visitor, form, errors, status_code=error.status)
        return see_other(f"/draws/{draw.id}")

    return await once(request, services, visitor, submitted, create)
