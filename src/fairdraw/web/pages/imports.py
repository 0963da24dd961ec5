"""``/draws/{id}/import``: a draft giveaway's entrants from a CSV file, as a page form.

The form works without JavaScript: a file of one column needs no choice, and a refusal
lists the file's columns and every bad row; ``js/import.js`` only fills the column
choices from the chosen file's header before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import NotAuthenticated
from fairdraw.domain.imports import (
    DELIMITERS,
    Duplicates,
    ImportOptions,
    ListRejected,
    RowProblem,
    header_columns,
)
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.outcomes import once
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text

router = APIRouter()


@dataclass(frozen=True)
class ImportForm:
    """The form as typed (the file itself is never drawn back into a page)."""

    name_column: str = ""
    dedupe_column: str = ""
    duplicates: str = Duplicates.refuse.value
    delimiter: str = ""

    @classmethod
    def parse(cls, form: FormData) -> ImportForm:
        return cls(
            name_column=text(form, "name_column").strip(),
            dedupe_column=text(form, "dedupe_column").strip(),
            duplicates=text(form, "duplicates") or Duplicates.refuse.value,
            delimiter=text(form, "delimiter"),
        )

    def options(self) -> ImportOptions:
        """The reading options; an unknown policy or delimiter reads as the default."""
        duplicates = Duplicates.skip if self.duplicates == "skip" else Duplicates.refuse
        return ImportOptions(
            name_column=self.name_column or None,
            dedupe_column=self.dedupe_column or None,
            duplicates=duplicates,
            delimiter=DELIMITERS.get(self.delimiter),
        )


def _path(draw_id: str) -> str:
    return f"/draws/{draw_id}/import"


def _page(
    request: Request,
    services: Services,
    visitor: Visitor,
    draw: Draw,
    form: ImportForm,
    *,
    columns: list[str] | None = None,
    problems: tuple[RowProblem, ...] = (),
    problem_count: int = 0,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "draw": draw,
        "form": form,
        "columns": columns or [],
        "problems": problems,
        "problem_count": problem_count,
        "max_rows": services.settings.import_max_rows,
        "max_bytes": services.settings.max_body_bytes,
    }
    return render(request, services, visitor, "draw_import.html", context, status_code=status_code)


@router.get("/draws/{draw_id}/import")
async def import_page(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The import form of a draft giveaway, for its managers."""
    try:
        draw = await services.importing.importable(visitor.caller, draw_id)
    except NotAuthenticated:
        return see_other(login_url(_path(draw_id)))
    return _page(request, services, visitor, draw, ImportForm())


@router.post("/draws/{draw_id}/import")
async def import_file(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Import the uploaded file and go to the sealed giveaway's page (303); 422 with a
    table of the file's problems otherwise, nothing stored. The same form submitted
    twice imports once."""
    submitted = await checked_form(request, services, visitor)
    form = ImportForm.parse(submitted)
    upload = submitted.get("file")

    async def act() -> Response:
        try:
            draw = await services.importing.importable(visitor.caller, draw_id)
        except NotAuthenticated:
            return see_other(login_url(_path(draw_id)))
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            await services.importing.import_list(visitor.caller, draw_id, data, form.options())
        except ListRejected as error:
            return _page(
                request,
                services,
                visitor,
                draw,
                form,
                columns=header_columns(data, form.options().delimiter),
                problems=error.problems,
                problem_count=int(error.extra["problem_count"]),
                status_code=error.status,
            )
        return see_other(f"/draws/{draw_id}")

    return await once(request, services, visitor, submitted, act)
