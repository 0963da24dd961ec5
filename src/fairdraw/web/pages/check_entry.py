"""``/check-entry`` ("Check my entry"): an entrant pastes their receipt, or comes from
their receipt page with it, and learns whether the sealed ledger holds their entry; if
it does not, they download the complaint that proves it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import DrawNotFound, InvalidInput
from fairdraw.domain.proof import canonical_json
from fairdraw.domain.receipts import (
    CheckResult,
    ReceiptError,
    Verdict,
    complaint_file,
    complaint_file_name,
    parse_receipt_text,
    signed_receipt,
)
from fairdraw.domain.substitutions import Standing
from fairdraw.i18n import gettext
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.rendering import checked_form, render, text

router = APIRouter()

RECEIPT_FIELD = "receipt"


def _page(
    request: Request,
    services: Services,
    visitor: Visitor,
    typed: str = "",
    *,
    errors: dict[str, str] | None = None,
    result: CheckResult | None = None,
    draw: Draw | None = None,
    standing: Standing | None = None,
    status_code: int = 200,
) -> Response:
    complaint = result.complaint if result is not None else None
    context: dict[str, Any] = {
        "standing": standing,
        "receipt": typed,
        "errors": errors or {},
        "result": result,
        "answer": result.answer["statement"] if result and result.answer else None,
        "draw": draw,
        # The download form sends the signed receipt back, to be checked again.
        "signed_receipt": canonical_json(complaint["receipt"]).decode() if complaint else "",
        "complaint_text": complaint_file(complaint).decode() if complaint else "",
        "server": str(request.base_url).rstrip("/"),
    }
    return render(request, services, visitor, "check_entry.html", context, status_code=status_code)


async def _check(
    request: Request, services: Services, visitor: Visitor
) -> tuple[str, CheckResult | Response]:
    """The posted receipt as typed, and what checking it came to; or the form again
    with the reason it cannot be read (422)."""
    form = await checked_form(request, services, visitor)
    typed = text(form, RECEIPT_FIELD)
    try:
        if not typed.strip():
            raise ReceiptError(gettext("Paste your receipt: the JSON you got when you entered"))
        receipt = parse_receipt_text(typed)
    except ReceiptError as error:
        errors = {RECEIPT_FIELD: str(error)}
        status = InvalidInput.status
        return typed, _page(request, services, visitor, typed, errors=errors, status_code=status)
    return typed, await services.receipts.check(receipt)


async def _draw_of(services: Services, result: CheckResult, typed: str) -> Draw | None:
    """The draw a receipt that could be checked is about, when this server has it."""
    if result.verdict is Verdict.invalid:
        return None
    statement = signed_receipt(parse_receipt_text(typed))["statement"]
    try:
        return await services.drawing.get(statement["draw_id"])
    except DrawNotFound:
        return None


@router.get("/check-entry")
async def check_entry_form(
    request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    return _page(request, services, visitor)


@router.post("/check-entry")
async def check_entry(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Check the posted receipt: 200 with what the check came to, or the form again with
    the reason the receipt cannot be read (422). Checking changes nothing, so the answer
    is the page itself."""
    typed, checked = await _check(request, services, visitor)
    if isinstance(checked, Response):
        return checked
    draw = await _draw_of(services, checked, typed)
    standing = None
    if draw is not None and draw.result is not None and checked.verdict is Verdict.included:
        # An included entry of a drawn draw: whether it won, or waits as an alternate.
        index = int(signed_receipt(parse_receipt_text(typed))["statement"]["index"])
        standing = await services.forfeits.standing(draw, index)
    return _page(request, services, visitor, typed, result=checked, draw=draw, standing=standing)


@router.post("/check-entry/complaint")
async def download_complaint(
    request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The complaint of a receipt whose entry the sealed ledger does not hold, as a JSON
    file (checked again now); any other outcome shows the page with it."""
    typed, checked = await _check(request, services, visitor)
    if isinstance(checked, Response):
        return checked
    if checked.complaint is None:
        draw = await _draw_of(services, checked, typed)
        return _page(request, services, visitor, typed, result=checked, draw=draw)
    name = complaint_file_name(checked.complaint)
    return Response(
        complaint_file(checked.complaint),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
