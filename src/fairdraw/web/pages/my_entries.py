"""``/me/entries``: a logged-in user's giveaway entries, raffle tickets and lottery
ballots, newest first, a page at a time (``GET /api/v1/me/entries`` is its JSON twin).

A ticket's code is shown only where it can still be shown: in the browser that claimed
it, while the claim's record lasts (see :mod:`fairdraw.web.pages.outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import NotAuthenticated
from fairdraw.i18n import gettext
from fairdraw.services.my_entries import PAGE_SIZE, EntryKind, MyEntriesPage, MyEntry
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.outcomes import held_by_ticket, kept_for, receipt_url
from fairdraw.web.pages.rendering import render
from fairdraw.web.pages.views import Moment, moment

router = APIRouter()

PATH = "/me/entries"


@dataclass(frozen=True)
class ShownEntry:
    """One item as the page and the JSON show it: the item, where to see it, and a
    ticket's code where this browser can still open it."""

    entry: MyEntry
    url: str
    code: str | None
    when: Moment | None

    def to_json(self) -> dict[str, Any]:
        return {**self.entry.to_json(), "code": self.code, "url": self.url}


def _url(entry: MyEntry, services: Services) -> str:
    if entry.kind is EntryKind.ticket:
        return f"/draws/{entry.draw_id}/tickets/{entry.number}"
    if entry.kind is EntryKind.ballot and entry.lottery_id and entry.day:
        return f"/lotteries/{entry.lottery_id}/rounds/{entry.day}"
    return receipt_url(services.secret, entry.draw_id, entry.index)


def _offset(raw: str) -> int:
    return int(raw) if raw.isdecimal() and len(raw) < 10 else 0


async def my_entries(
    request: Request, services: Services, visitor: Visitor, offset: int, limit: int = PAGE_SIZE
) -> tuple[MyEntriesPage, list[ShownEntry]]:
    """The visitor's page of entries, each with its link and, for a ticket this browser
    claimed, its code while it can be shown (NotAuthenticated when logged out)."""
    page = await services.my_entries.page(visitor.caller, offset, limit)
    held = held_by_ticket(request)
    shown = []
    for entry in page.items:
        code = None
        ticket = held.get((entry.draw_id, entry.number))
        if entry.kind is EntryKind.ticket and ticket is not None:
            opener = services.idempotency.opener(ticket.key, ticket.name)
            kept = await services.raffles.kept_ticket(entry.draw_id, entry.number, opener)
            code = kept.code if kept is not None else None
        shown.append(ShownEntry(entry, _url(entry, services), code, moment(entry.at_ms)))
    return page, shown


@router.get(PATH)
async def my_entries_page(
    request: Request, services: ServicesDep, visitor: VisitorDep, offset: str = ""
) -> Response:
    """The visitor's entries, tickets and ballots, newest first (logged-out visitors are
    sent to log in)."""
    if visitor.user is None:
        raise NotAuthenticated(gettext("Log in to see your entries"))
    page, shown = await my_entries(request, services, visitor, _offset(offset))
    context = {
        "page": page,
        "shown": shown,
        "kept_for": kept_for(services),
        "newer": max(0, page.offset - page.limit) if page.offset > 0 else None,
        "older": page.offset + page.limit if page.has_more else None,
    }
    return render(request, services, visitor, "my_entries.html", context)
