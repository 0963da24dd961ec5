"""``/draws/{id}/entrants``: the draw's entrants for its manager, a page at a time, with
a search and the export downloads. The JSON twin and the exports are in
:mod:`fairdraw.web.api.entrants`; who may look is the entrants service's decision."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.draws import DrawKind
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.moments import now_ms
from fairdraw.i18n import gettext
from fairdraw.services.entrants import PAGE_DEFAULT, EntrantRow, EntrantsPage, Outcome
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.rendering import render
from fairdraw.web.pages.views import Moment, draw_page, moment

router = APIRouter()


@dataclass(frozen=True)
class EntrantLine:
    """One table row of the page."""

    number: int
    label: str
    at: Moment | None
    ref: str
    outcome: str


def outcome_text(row: EntrantRow) -> str:
    placing = row.placing
    if placing.outcome is Outcome.winner and placing.rank is not None:
        return gettext("Winner: %(prize)s (promoted alternate %(rank)s)") % {
            "prize": placing.prize,
            "rank": placing.rank,
        }
    if placing.outcome is Outcome.winner:
        return gettext("Winner: %(prize)s") % {"prize": placing.prize}
    if placing.outcome is Outcome.alternate:
        return gettext("Alternate %(rank)s") % {"rank": placing.rank}
    if placing.outcome is Outcome.forfeited:
        return gettext("Forfeited: %(prize)s") % {"prize": placing.prize}
    return "—" if placing.outcome is Outcome.none else gettext("Not drawn yet")


def _line(row: EntrantRow, zone: str) -> EntrantLine:
    return EntrantLine(row.number, row.label, moment(row.at_ms, zone), row.ref, outcome_text(row))


def _url(path: str, offset: int, q: str) -> str:
    params = {k: v for k, v in (("q", q), ("offset", str(offset) if offset else "")) if v}
    return f"{path}?{urlencode(params)}" if params else path


def _pages(path: str, page: EntrantsPage) -> dict[str, str | None]:
    """The previous and next pages' addresses (None at either end)."""
    previous = _url(path, max(0, page.offset - page.limit), page.query) if page.offset else None
    following = _url(path, page.offset + page.limit, page.query) if page.more else None
    return {"previous": previous, "next": following}


@router.get("/draws/{draw_id}/entrants")
async def entrants_page(
    draw_id: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    offset: int = 0,
    q: str = "",
) -> Response:
    """The draw's entrants, PAGE_DEFAULT at a time; a search lists name matches."""
    search_error: str | None = None
    status_code = 200
    try:
        page = await services.entrants.page(
            visitor.caller, draw_id, max(0, offset), PAGE_DEFAULT, q
        )
    except InvalidInput as error:
        search_error = gettext(error.errors.get("q", error.detail))
        status_code = error.status
        page = await services.entrants.page(visitor.caller, draw_id, 0, PAGE_DEFAULT)
    draw = page.draw
    api = f"/api/v1/draws/{draw_id}"
    downloads = [
        {"url": f"{api}/entrants.csv", "text": gettext("Entrants (CSV)")},
        {"url": f"{api}/entrants.jsonl", "text": gettext("Entrants (JSON Lines)")},
    ]
    if draw.result is not None:
        downloads += [
            {"url": f"{api}/winners.csv", "text": gettext("Winners and alternates (CSV)")},
            {"url": f"{api}/winners.jsonl", "text": gettext("Winners and alternates (JSON Lines)")},
        ]
    raffle = draw.kind is DrawKind.raffle
    context = {
        "draw": draw,
        "view": draw_page(draw, visitor.user, now_ms()),
        "page": page,
        "rows": [_line(r, draw.time_zone) for r in page.rows],
        "first": page.offset + 1,
        "last": page.offset + len(page.rows),
        "q": page.query or q.strip(),
        "search_error": search_error,
        "search_label": gettext("Account name or ticket number")
        if raffle
        else gettext("GitHub login or account name"),
        "number_label": gettext("Ticket") if raffle else gettext("Entry"),
        "who_label": gettext("Holder") if raffle else gettext("Entrant"),
        "pages": _pages(f"/draws/{draw_id}/entrants", page),
        "downloads": downloads,
    }
    return render(request, services, visitor, "entrants.html", context, status_code=status_code)
