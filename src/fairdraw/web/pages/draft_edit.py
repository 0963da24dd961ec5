"""``/draws/{id}/edit``: a draft's settings in its kind's creation form, until it opens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain.drafts import settings_of
from fairdraw.domain.draws import Draw, DrawKind
from fairdraw.domain.embedding import split_origins
from fairdraw.domain.errors import InvalidInput, NotAuthenticated
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.create import DrawForm
from fairdraw.web.pages.outcomes import once
from fairdraw.web.pages.prize_rows import PrizeRow, errors_by_row, prize_list, rows_to_show
from fairdraw.web.pages.raffle_create import RaffleForm
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other

router = APIRouter()

EditForm = DrawForm | RaffleForm


def _edit_path(draw_id: str) -> str:
    return f"/draws/{draw_id}/edit"


def _form_of(draw: Draw) -> EditForm:
    """The draft's settings as its creation form shows them."""
    settings = settings_of(draw)
    rows = tuple(PrizeRow(p["name"], str(p["quantity"])) for p in settings["prizes"])
    if draw.kind is DrawKind.raffle:
        return RaffleForm(
            title=draw.title,
            description=draw.description,
            prizes=rows,
            ticket_count=str(settings["ticket_count"]),
            claimants=settings["claimants"],
            per_claimant=str(settings["per_claimant"]),
            early_close=settings["early_close"],
            open_now=False,
            embed_origins="\n".join(settings["embed_origins"]),
            time_zone=settings["time_zone"],
        )
    return DrawForm(
        title=draw.title,
        description=draw.description,
        prizes=rows,
        deadline=settings["deadline"] or "",
        duration=settings["duration"] or "",
        open_now=False,
        entry_identity=settings["entry_identity"],
        auto_draw=settings["auto_draw"],
        embed_origins="\n".join(settings["embed_origins"]),
        github_sign_in=settings["github_sign_in"],
        time_zone=settings["time_zone"],
    )


def _parse(draw: Draw, submitted: FormData) -> EditForm:
    return (
        RaffleForm.parse(submitted) if draw.kind is DrawKind.raffle else DrawForm.parse(submitted)
    )


def _changes(form: EditForm, prizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Every setting of the form (it shows them all), as the service takes them."""
    common: dict[str, Any] = {
        "title": form.title,
        "description": form.description,
        "prizes": prizes,
    }
    if isinstance(form, RaffleForm):
        return common | {
            "ticket_count": form.ticket_count,
            "claimants": form.claimants,
            "per_claimant": form.per_claimant,
            "early_close": form.early_close,
            "embed_origins": split_origins(form.embed_origins),
            "time_zone": form.time_zone,
        }
    return common | {
        "deadline": form.deadline,
        "duration": form.duration,
        "entry_identity": form.entry_identity,
        "auto_draw": form.auto_draw,
        "embed_origins": split_origins(form.embed_origins),
        "github_sign_in": form.github_sign_in,
        "time_zone": form.time_zone,
    }


def _form_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    draw: Draw,
    form: EditForm,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context = {
        "form": form,
        "rows": rows_to_show(form.prizes),
        "errors": errors,
        "editing": True,
        "action": _edit_path(draw.id),
    }
    template = "raffle_new.html" if draw.kind is DrawKind.raffle else "draw_new.html"
    return render(request, services, visitor, template, context, status_code=status_code)


@router.get("/draws/{draw_id}/edit")
async def edit_page(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The draft's form, filled in; anonymous visitors log in first, others than its
    managers get 403, and a draw that has opened 409."""
    try:
        draw = await services.drawing.draft_to_edit(visitor.caller, draw_id)
    except NotAuthenticated:
        return see_other(login_url(_edit_path(draw_id)))
    return _form_page(request, services, visitor, draw, _form_of(draw), {})


@router.post("/draws/{draw_id}/edit")
async def save_draft(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Save the form and go to the draft's page; 422 with the form as typed on invalid
    input. The same form submitted twice saves once."""
    submitted = await checked_form(request, services, visitor)

    async def save() -> Response:
        try:
            draw = await services.drawing.draft_to_edit(visitor.caller, draw_id)
        except NotAuthenticated:
            return see_other(login_url(_edit_path(draw_id)))
        form = _parse(draw, submitted)
        prizes, rows = prize_list(form.prizes)
        try:
            await services.drawing.edit_draft(visitor.caller, draw_id, _changes(form, prizes))
        except InvalidInput as error:
            errors = errors_by_row(error.errors, rows)
            return _form_page(
                request, services, visitor, draw, form, errors, status_code=error.status
            )
        return see_other(f"/draws/{draw_id}")

    return await once(request, services, visitor, submitted, save)
