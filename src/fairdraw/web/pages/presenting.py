"""``/draws/{id}/present``: the full-screen presenter page for a venue screen or a live
stream, its no-JavaScript buttons, and the "Live reveal" panel of the public draw pages.

The manager drives the presentation; everybody else who opens the page gets the audience
view, which only follows. Either way the page shows a result that was fixed when the draw
was recorded: it reveals, it never decides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from fairdraw.domain.draws import Draw, DrawKind, DrawStatus
from fairdraw.domain.errors import BeaconPending, NotAuthenticated
from fairdraw.domain.moments import now_ms
from fairdraw.i18n import N_, format_number, gettext, ngettext
from fairdraw.services.presenting import RevealSlot, reveal_slots, shown_step
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.draws import PAGE_BEACON_WAIT_SECONDS, waiting_for_beacon
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text
from fairdraw.web.pages.sharing import public_url
from fairdraw.web.pages.views import moment

router = APIRouter()


def feed_url(draw_id: str) -> str:
    """The draw's public live feed (Server-Sent Events)."""
    return f"/api/v1/draws/{draw_id}/events"


def present_url(draw_id: str) -> str:
    return f"/draws/{draw_id}/present"


def progress_text(step: int | None, slots: int) -> str:
    """How far the reveal has gone, in words (reveal.js says the same)."""
    if step is None:
        return ""
    if step <= 0:
        return gettext("The winners are about to be revealed.")
    if step >= slots:
        return gettext("All prizes revealed.") if slots > 1 else gettext("The prize is revealed.")
    return ngettext(
        "%(step)s of %(num)s prize revealed", "%(step)s of %(num)s prizes revealed", slots
    ) % {"step": format_number(step), "num": format_number(slots)}


@dataclass(frozen=True)
class RevealView:
    """What the "Live reveal" panel shows of a draw.

    ``step`` is None until a presenter starts (the panel then stays hidden); ``revealed``
    holds the slots shown so far, in order.
    """

    draw_id: str
    kind: str
    status: str
    step: int | None
    slots: int
    revealed: list[RevealSlot]

    @property
    def started(self) -> bool:
        return self.status == DrawStatus.drawn.value and self.step is not None

    @property
    def progress(self) -> str:
        return progress_text(self.step, self.slots)


def reveal_of(draw: Draw) -> RevealView:
    """The reveal panel of ``draw``, as a page renders it before any script runs."""
    drawn = draw.status is DrawStatus.drawn
    step = draw.reveal_step if drawn else None
    return RevealView(
        draw_id=draw.id,
        kind=draw.kind.value,
        status=draw.status.value,
        step=step,
        slots=draw.slot_count,
        revealed=reveal_slots(draw, step or 0) if drawn else [],
    )


def reveal_pending(draw_id: str, kind: str = DrawKind.lottery.value) -> RevealView:
    """The panel of a draw the page did not read (a lottery round's page): hidden, filled
    in by the live feed's first snapshot."""
    return RevealView(draw_id=draw_id, kind=kind, status="", step=None, slots=0, revealed=[])


# One draw's big screen and its audience ask for the same code again and again.
@functools.lru_cache(maxsize=256)
def results_qr(url: str) -> Markup:
    """A QR code of ``url`` as inline SVG (no script, no style attribute: CSP-clean)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="fd-qr",
        title=gettext("QR code: %(url)s") % {"url": url},
        omitsize=True,
    )
    # segno escapes the title it writes; the rest is its own path data.
    return Markup(svg)  # noqa: S704


_COUNT_WORDS = {
    DrawKind.giveaway: (N_("entry"), N_("entries")),
    DrawKind.raffle: (N_("ticket claimed"), N_("tickets claimed")),
    DrawKind.lottery: (N_("ballot"), N_("ballots")),
}
_KIND_LABELS = {
    DrawKind.giveaway: N_("Giveaway"),
    DrawKind.raffle: N_("Raffle"),
    DrawKind.lottery: N_("Lottery round"),
}


def state_text(draw: Draw, now: int) -> str:
    """Where the draw stands, as the big screen says it (present.js says the same)."""
    if draw.status is DrawStatus.open and draw.deadline_passed(now):
        return gettext("Entries closed by the deadline \u2014 ready to draw")
    return {
        DrawStatus.draft: gettext("Not open yet"),
        DrawStatus.open: gettext("Open for entries"),
        DrawStatus.closed: gettext("Entries closed \u2014 ready to draw"),
        DrawStatus.drawn: gettext("Winners drawn \u2014 ready to reveal"),
        DrawStatus.cancelled: gettext("Cancelled \u2014 no winners"),
    }[draw.status]


def startable(draw: Draw, now: int) -> bool:
    """Whether the big screen's start button can close and draw ``draw`` now; a lottery
    round is drawn by its schedule, a raffle without early close by its last ticket."""
    if draw.kind is DrawKind.lottery:
        return False
    return draw.status is DrawStatus.closed or (
        draw.status is DrawStatus.open and (draw.closable(now) or draw.deadline_passed(now))
    )


def stage_of(draw: Draw, step: int) -> str:
    """``intro`` (title, prizes, count), ``winner`` (one winner in the spotlight) or
    ``summary`` (every winner and the QR code of the results page)."""
    if draw.status is not DrawStatus.drawn or step <= 0:
        return "intro"
    return "summary" if step >= draw.slot_count else "winner"


def present_context(draw: Draw, presenter: bool, results_url: str) -> dict[str, Any]:
    """Everything present.html shows besides the draw itself."""
    now = now_ms()
    drawn = draw.status is DrawStatus.drawn
    step = shown_step(draw)
    revealed = reveal_slots(draw, step)
    one, many = (gettext(word) for word in _COUNT_WORDS[draw.kind])
    return {
        "draw": draw,
        "presenter": presenter,
        "step": step,
        "slots": draw.slot_count,
        "stage": stage_of(draw, step),
        "revealed": revealed,
        "current": revealed[-1] if revealed else None,
        "progress": progress_text(step if drawn else None, draw.slot_count),
        "count_words": (one, many),
        "kind_label": gettext(_KIND_LABELS[draw.kind]),
        "state_text": state_text(draw, now),
        "startable": presenter and startable(draw, now),
        "start_label": gettext("Draw winners")
        if draw.status is DrawStatus.closed
        else gettext("Close entries and draw winners"),
        "drawn": moment(draw.result.drawn_ms, draw.time_zone) if draw.result else None,
        "results_url": results_url,
        "qr": results_qr(results_url),
        "feed": feed_url(draw.id),
    }


@router.get("/draws/{draw_id}/present")
async def present_page(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The presenter page: its manager drives it, anybody else follows it."""
    draw = await services.drawing.get(draw_id)
    presenter = services.presenting.may_present(visitor.caller, draw)
    # As the audience reaches it: through a trusted reverse proxy, the proxy's address.
    results_url = public_url(request, request.url_for("show_results", draw_id=draw.id).path)
    context = present_context(draw, presenter, results_url)
    return render(request, services, visitor, "present.html", context)


@router.post("/draws/{draw_id}/present/start")
async def start_form(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The start button without JavaScript: close if open, draw, back to the big screen."""
    await checked_form(request, services, visitor)
    try:
        await services.presenting.start(
            visitor.caller, draw_id, beacon_wait=PAGE_BEACON_WAIT_SECONDS
        )
    except NotAuthenticated:
        return see_other(login_url(present_url(draw_id)))
    except BeaconPending:
        return await waiting_for_beacon(request, services, draw_id, present_url(draw_id))
    return see_other(present_url(draw_id))


@router.post("/draws/{draw_id}/reveal")
async def reveal_form(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The reveal buttons without JavaScript: store the step, back to the big screen."""
    form = await checked_form(request, services, visitor)
    try:
        await services.presenting.reveal(visitor.caller, draw_id, text(form, "step"))
    except NotAuthenticated:
        return see_other(login_url(present_url(draw_id)))
    return see_other(present_url(draw_id))


# Functions every template may call (web/app.py installs them): the reveal panel of the
# public draw pages needs them, and those pages' routes know nothing of presenting.
TEMPLATE_GLOBALS: dict[str, Any] = {"reveal_of": reveal_of, "reveal_pending": reveal_pending}
