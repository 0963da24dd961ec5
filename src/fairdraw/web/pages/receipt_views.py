"""What a ticket's or a ballot's page shows of its signed receipt: the file its holder
keeps, and the text the "Check my entry" form sends.

Presentation only, like :mod:`fairdraw.web.pages.views`: the services sign.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fairdraw.domain.receipts import receipt_file, receipt_file_name


@dataclass(frozen=True)
class KeptReceipt:
    """A signed receipt as a page offers it: ``text`` (its canonical JSON, what the file
    holds and the check form posts), ``file_name`` and ``file_href`` (a ``data:`` URL, so
    keeping it needs no script and sends nothing anywhere)."""

    text: str
    file_name: str
    file_href: str


def kept_receipt_text(signed: Mapping[str, Any]) -> str:
    """A signed receipt as one line of canonical JSON."""
    return receipt_file(signed).decode().rstrip("\n")


def kept_receipt(signed: Mapping[str, Any] | None) -> KeptReceipt | None:
    """The receipt ``signed`` as a page offers it; None without one (``fairdraw/1``, or
    a server without a signing key)."""
    if signed is None:
        return None
    body = receipt_file(signed)
    return KeptReceipt(
        text=kept_receipt_text(signed),
        file_name=receipt_file_name(signed),
        file_href="data:application/json;charset=utf-8," + quote(body, safe=""),
    )
