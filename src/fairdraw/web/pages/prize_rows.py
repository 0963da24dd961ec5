"""The prize table of the new-draw forms: rows as typed, read back, and their errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from fairdraw.web.pages.rendering import text

# Enough rows for most draws without JavaScript; the script adds more on request.
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


def read_prize_rows(form: FormData) -> tuple[PrizeRow, ...]:
    """The ``prizes.N.name`` / ``prizes.N.quantity`` fields of ``form``, in row order."""
    rows: dict[int, dict[str, str]] = {}
    for key in form:
        if match := _PRIZE_FIELD.fullmatch(key):
            rows.setdefault(int(match[1]), {})[match[2]] = text(form, key)
    return tuple(
        PrizeRow(rows[i].get("name", ""), rows[i].get("quantity", "")) for i in sorted(rows)
    )


def prize_list(rows: Sequence[PrizeRow]) -> tuple[list[dict[str, Any]], list[int]]:
    """The non-blank rows as the services take them, and each one's row number."""
    prizes: list[dict[str, Any]] = []
    numbers: list[int] = []
    for row_number, row in enumerate(rows):
        if row.blank:
            continue
        prize: dict[str, Any] = {"name": row.name}
        # An empty quantity means the default, as the placeholder says.
        if row.quantity.strip():
            prize["quantity"] = row.quantity
        prizes.append(prize)
        numbers.append(row_number)
    return prizes, numbers


def rows_to_show(rows: Sequence[PrizeRow]) -> list[PrizeRow]:
    """The typed rows, topped up with blank ones."""
    shown = list(rows)
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
