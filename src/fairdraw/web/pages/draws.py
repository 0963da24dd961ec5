"""``/draws/{id}``: the draw page, its entry form and the managers' buttons (a raffle's
tickets are claimed and checked in :mod:`fairdraw.web.pages.raffles`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw, DrawKind
from fairdraw.domain.errors import (
    AlreadyEntered,
    BeaconPending,
    DrawNotOpen,
    GitHubUnavailable,
    GitHubUserNotFound,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from fairdraw.domain.moments import now_ms
from fairdraw.domain.receipt_files import api_receipt_bytes
from fairdraw.i18n import N_, gettext
from fairdraw.web import security
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.flash import beacon_pending, set_flash
from fairdraw.web.pages.outcomes import form_retry, receipt_signed, receipt_url
from fairdraw.web.pages.rendering import checked_form, login_url, render, see_other, text
from fairdraw.web.pages.views import draw_page, moment_of_iso

router = APIRouter()

GITHUB_UNREACHABLE = N_(
    "GitHub could not be reached to check the username, so nothing was entered. "
    "This is a temporary problem, not a mistake in what you typed: try again in a minute."
)

Transition = Callable[[Caller, str], Awaitable[Draw]]

# How long the Draw button waits for the draw's beacon round before it goes back to the
# draw page (the scheduler draws it when the round is out): a browser is not kept
# waiting for the API's full beacon wait.
PAGE_BEACON_WAIT_SECONDS = 3.0


def show_draw_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    draw: Draw,
    extra: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The page of ``draw`` (a giveaway's or a raffle's); ``extra`` adds to or overrides
    its context, e.g. ``errors`` with ``_draw`` for a refusal of the whole form."""
    context: dict[str, Any] = {
        "draw": draw,
        "view": draw_page(draw, visitor.user, now_ms()),
        "github": "",
        "errors": {},
    }
    context.update(extra or {})
    template = "raffle.html" if draw.kind is DrawKind.raffle else "draw.html"
    response = render(request, services, visitor, template, context, status_code=status_code)
    if draw.github_sign_in:
        oauth_url = services.settings.github_oauth_url
        response.headers["Content-Security-Policy"] = security.sign_in_policy(oauth_url)
    return response


@router.get("/draws/{draw_id}")
async def show_draw(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    draw = await services.drawing.get(draw_id)
    return show_draw_page(request, services, visitor, draw)


@router.get("/draws/{draw_id}/receipt")
async def show_receipt(
    draw_id: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    i: str = "",
    s: str = "",
    already: str = "",
) -> Response:
    """The receipt of entry ``i``, for whoever holds its signed link (the entrant, sent
    here after entering): it names the entrant, so the link is the key. Reloading it
    shows the same receipt and enters nothing."""
    if not i.isdecimal() or not receipt_signed(services.secret, draw_id, i, s):
        raise NotFound()
    receipt = await services.entering.receipt(draw_id, int(i))
    if receipt is None:
        raise NotFound()
    draw = await services.drawing.get(draw_id)
    shown = receipt.to_json()
    view = {**shown, "moment": moment_of_iso(str(shown.get("entered_at", "")), draw.time_zone)}
    # The file the entrant keeps (fairdraw/2, signed): the bytes the entry API answers.
    kept = api_receipt_bytes(shown).decode() if receipt.signed else ""
    context = {"draw": draw, "receipt": view, "already": already == "1", "receipt_file": kept}
    return render(request, services, visitor, "receipt.html", context)


@router.post("/draws/{draw_id}/enter")
async def enter_draw(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Enter with a GitHub username (or as the visitor's account) and go to the receipt
    (303). A second entry of an account goes to its original receipt, marked as such; a
    username that already entered shows the draw page again saying only that. The same
    form submitted twice enters once: its idempotency key is stored with the entry, and
    the second submit goes to the receipt. A refused username shows the draw page again
    with the reason."""
    form = await checked_form(request, services, visitor)
    github = text(form, "github")
    _, retry = form_retry(request, services, visitor, form)
    try:
        receipt = await services.entering.enter(
            draw_id,
            github=github if "github" in form else None,
            caller=visitor.caller,
            retry=retry,
        )
    except NotAuthenticated:
        return see_other(login_url(f"/draws/{draw_id}"))
    except AlreadyEntered as error:
        if "receipt" in error.extra:
            index = int(error.extra["receipt"]["index"])
            return see_other(receipt_url(services.secret, draw_id, index, already=True))
        draw = await services.drawing.get(draw_id)
        extra = {"github": github, "errors": {"github": error.detail}}
        return show_draw_page(request, services, visitor, draw, extra, status_code=error.status)
    except (InvalidInput, GitHubUserNotFound, GitHubUnavailable, DrawNotOpen) as error:
        draw = await services.drawing.get(draw_id)
        if isinstance(error, InvalidInput):
            message = error.errors.get("github", error.detail)
        else:
            message = error.detail
        key = "_draw" if isinstance(error, DrawNotOpen) else "github"
        if isinstance(error, GitHubUnavailable):
            # Not the entrant's mistake: shown as a passing problem, not a field to correct.
            key, message = "_unavailable", gettext(GITHUB_UNREACHABLE)
        extra = {"github": github, "errors": {key: message}}
        return show_draw_page(request, services, visitor, draw, extra, status_code=error.status)
    return see_other(receipt_url(services.secret, draw_id, receipt.index))


async def _transition(
    draw_id: str,
    request: Request,
    services: Services,
    visitor: Visitor,
    step: Transition,
    then: str,
) -> Response:
    """Run one lifecycle step for the visitor and go to ``then``; anonymous visitors are
    sent to log in, a draw waiting for its beacon round goes back to its page, which says
    so; every other refusal renders the error page."""
    await checked_form(request, services, visitor)
    try:
        await step(visitor.caller, draw_id)
    except NotAuthenticated:
        return see_other(login_url(f"/draws/{draw_id}"))
    except BeaconPending:
        return await waiting_for_beacon(request, services, draw_id, f"/draws/{draw_id}")
    return see_other(then)


async def waiting_for_beacon(
    request: Request, services: Services, draw_id: str, back: str
) -> Response:
    """Back to ``back`` (the page the button was on), confirming which beacon round the
    draw waits for and when that is due (it asked to be drawn, so the scheduler draws it
    once the round is out)."""
    draw = await services.drawing.get(draw_id)
    response = see_other(back)
    seal = draw.seal
    if seal is not None and seal.beacon_round is not None and seal.beacon_due_ms is not None:
        flash = beacon_pending(seal.beacon_round, seal.beacon_due_ms, draw.time_zone)
        set_flash(response, request, services.secret, flash, services.settings.cookie_secure)
    return response


# Lifecycle buttons: action → (service step, page to go to afterwards).
_STEPS: dict[str, tuple[Callable[[Services], Transition], str]] = {
    "open": (lambda s: s.drawing.open, "/draws/{id}"),
    "close": (lambda s: s.drawing.close, "/draws/{id}"),
    "cancel": (lambda s: s.drawing.cancel, "/draws/{id}"),
    "draw": (
        lambda s: functools.partial(s.drawing.draw_winners, beacon_wait=PAGE_BEACON_WAIT_SECONDS),
        "/draws/{id}/results",
    ),
}


@router.post("/draws/{draw_id}/{action}")
async def run_step(
    draw_id: str, action: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Open, close, cancel or draw (the managers' buttons on the draw page)."""
    if action not in _STEPS:
        raise NotFound()
    step, then = _STEPS[action]
    return await _transition(
        draw_id, request, services, visitor, step(services), then.format(id=draw_id)
    )
