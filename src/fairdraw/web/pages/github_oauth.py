"""Entering with GitHub: the draw page's "Enter with GitHub" button (a form, so that
leaving for GitHub changes nothing on a GET) and the callback GitHub sends the browser
back to, which enters and goes to the entrant's receipt."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import DrawNotOpen, GitHubSignInFailed, GitHubUnavailable
from fairdraw.services.github_oauth import (
    BROWSER_COOKIE,
    CALLBACK_PATH,
    SIGN_IN_PATHS,
    SIGN_IN_SECONDS,
)
from fairdraw.web import security
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.draws import show_draw_page
from fairdraw.web.pages.outcomes import receipt_url
from fairdraw.web.pages.rendering import checked_form, see_other
from fairdraw.web.pages.sharing import public_url

router = APIRouter()


@router.post(SIGN_IN_PATHS + "/sign-in/{draw_id}")
async def begin_sign_in(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Send the browser to GitHub to prove which account it is (303), holding the
    sign-in cookie that the callback must see again. A draw that takes no entries now
    shows its page again with the reason. A sign-in begun while another is under way
    in the same browser (another tab) keeps the browser's cookie, so both can finish."""
    await checked_form(request, services, visitor)
    try:
        start = await services.github_sign_in.begin(
            draw_id, public_url(request, CALLBACK_PATH), request.cookies.get(BROWSER_COOKIE)
        )
    except (DrawNotOpen, GitHubSignInFailed, GitHubUnavailable) as error:
        draw = await services.drawing.get(draw_id)
        extra = {"errors": {"_draw": error.detail}}
        return show_draw_page(request, services, visitor, draw, extra, status_code=error.status)
    response = see_other(start.authorize_url)
    response.set_cookie(
        BROWSER_COOKIE,
        start.browser_token,
        max_age=SIGN_IN_SECONDS,
        httponly=True,
        # Lax: sent when GitHub sends the browser back (a top-level GET), not on
        # requests other sites make.
        samesite="lax",
        secure=security.cookie_secure(request, services.settings.cookie_secure),
        path=SIGN_IN_PATHS,
    )
    return response


@router.get(CALLBACK_PATH)
async def sign_in_callback(
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """Where GitHub sends the browser back: enter as the account that signed in and go
    to its receipt (303); an entry made before goes to that receipt, marked as already
    entered. A sign-in that failed shows the draw page (or, without a draw, the error
    page) with the reason."""
    outcome = await services.github_sign_in.complete(
        state=state,
        code=code,
        error=error,
        browser_token=request.cookies.get(BROWSER_COOKIE),
        redirect_uri=public_url(request, CALLBACK_PATH),
        caller=visitor.caller,
    )
    if outcome.error is not None:
        if outcome.draw_id is None:
            raise outcome.error
        draw = await services.drawing.get(outcome.draw_id)
        extra = {"errors": {"_draw": outcome.error.detail}}
        status = outcome.error.status
        return show_draw_page(request, services, visitor, draw, extra, status_code=status)
    if outcome.draw_id is None or outcome.receipt is None:
        raise GitHubSignInFailed()
    url = receipt_url(
        services.secret, outcome.draw_id, outcome.receipt.index, already=outcome.already
    )
    return see_other(url)
