"""``/draws/new``: the form that creates a giveaway."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain.errors import InvalidInput, NotAuthenticated
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text

router = APIRouter()

# Enough rows for most giveaways without JavaScript; the script adds more on request.
BLANK_PRIZE_ROWS = 5
_PRIZE_FIELD = re.compile(r"prizes\.(\d{1,4})\.(name|quantity)")
_PRIZE_ERROR = re.compile(r"prizes\.(\d+)\.(\w+)")


@dataclass(frozen=True)
class PrizeRow:
    """One row of the prize table as typed."""

    name: str
    quantity: str

    @property
    def blank(self) -> bool:
        return not self.name.strip() and not self.quantity.strip()


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

    @classmethod
    def parse(cls, form: FormData) -> DrawForm:
        rows: dict[int, dict[str, str]] = {}
        for key in form:
            if match := _PRIZE_FIELD.fullmatch(key):
                rows.setdefault(int(match[1]), {})[match[2]] = text(form, key)
        prizes = tuple(
            PrizeRow(rows[i].get("name", ""), rows[i].get("quantity", "")) for i in sorted(rows)
        )
        return cls(
            title=text(form, "title"),
            description=text(form, "description"),
            prizes=prizes,
            deadline=text(form, "deadline"),
            duration=text(form, "duration"),
            open_now=bool(text(form, "open")),
            entry_identity=text(form, "entry_identity") or "github",
        )

    def prize_list(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The non-blank rows as the service takes them, and each one's row number."""
        prizes: list[dict[str, Any]] = []
        rows: list[int] = []
        for row_number, row in enumerate(self.prizes):
            if row.blank:
                continue
            prize: dict[str, Any] = {"name": row.name}
            # An empty quantity means the default, as the placeholder says.
            if row.quantity.strip():
                prize["quantity"] = row.quantity
            prizes.append(prize)
            rows.append(row_number)
        return prizes, rows

    def rows_to_show(self) -> list[PrizeRow]:
        shown = list(self.prizes)
        shown += [PrizeRow("", "")] * max(0, BLANK_PRIZE_ROWS - len(shown))
        return shown


def errors_by_row(errors: dict[str, str], rows: list[int]) -> dict[str, str]:
    """Re-key ``prizes.N.field`` errors from the service's list index to the form row."""
    shown: dict[str, str] = {}
    for key, message in errors.items():
        match = _PRIZE_ERROR.fullmatch(key)
        if match and int(match[1]) < len(rows):
            key = f"prizes.{rows[int(match[1])]}.{match[2]}"
        shown[key] = message
    return shown


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
    """Create the draw and go to its page; 422 with the form as typed on invalid input."""
    form = DrawForm.parse(await checked_form(request, services, visitor))
    prizes, rows = form.prize_list()
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
        )
    except NotAuthenticated:
        return see_other(login_url("/draws/new"))
    except InvalidInput as error:
        errors = errors_by_row(error.errors, rows)
        return _form_page(request, services, visitor, form, errors, status_code=error.status)
    return see_other(f"/draws/{draw.id}")
