"""``POST /check-entry/receipt``: the receipt page's "Download your receipt", without
JavaScript. The page sends the receipt back and gets it as a file; the server echoes
only a receipt of its own (:func:`fairdraw.domain.receipt_files.echoed_receipt`) and
keeps nothing. The receipt holds the entrant's secret nonce: it travels only in the
form's body and the answer, never in a URL or a log line."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.receipt_files import echoed_receipt
from fairdraw.domain.receipts import ReceiptError, receipt_file_name
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.rendering import checked_form, text

router = APIRouter()

RECEIPT_FIELD = "receipt"


@router.post("/check-entry/receipt")
async def download_receipt(
    request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The posted receipt as ``fairdraw-receipt-<draw>-<index>.json``, in the bytes the
    entry API gave it (a resend gets the same file); 422 ``invalid_input`` when it is
    not a receipt this instance signed, with its opening."""
    form = await checked_form(request, services, visitor)
    try:
        body, signed = echoed_receipt(text(form, RECEIPT_FIELD), services.receipts.public_key)
    except ReceiptError as error:
        raise InvalidInput({RECEIPT_FIELD: str(error)}) from None
    name = receipt_file_name(signed)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
