"""The server-rendered pages: the browser's renderer over the same service calls as the
JSON API. ``router`` holds every page; ``render_error_page`` draws any FairdrawError."""

from __future__ import annotations

import html
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fairdraw.domain.errors import FairdrawError, InvalidCredentials, NotAuthenticated
from fairdraw.i18n import current_locale, gettext
from fairdraw.web.pages import (
    account_email,
    accounts,
    admin,
    auth,
    check_entry,
    create,
    dashboard,
    docs,
    draft_edit,
    draws,
    entrants,
    forfeits,
    form_targets,
    github_oauth,
    home,
    imports,
    languages,
    lotteries,
    my_entries,
    presenting,
    raffle_create,
    raffles,
    receipt_file,
    results,
    sharing,
    verify,
)
from fairdraw.web.pages.rendering import login_url, render_page, see_other
from fairdraw.web.problems import MethodNotAllowed

log = logging.getLogger("fairdraw.web")

router = APIRouter(include_in_schema=False)
router.include_router(home.router)
router.include_router(auth.router)
router.include_router(account_email.router)
router.include_router(accounts.router)
router.include_router(admin.router)
router.include_router(docs.router)
# Before draws.router: "/draws/new" must not be taken for a draw id, nor "tickets" and
# "check" for the managers' actions of POST /draws/{id}/{action}.
router.include_router(create.router)
router.include_router(raffle_create.router)
router.include_router(raffles.router)
router.include_router(results.router)
# Also before draws.router: POST /draws/{id}/reveal is the presenter's, not an action.
router.include_router(presenting.router)
router.include_router(sharing.router)
# Also before draws.router: POST /draws/{id}/edit saves a draft, it is no action.
router.include_router(draft_edit.router)
# Also before draws.router: POST /draws/{id}/import uploads a list, it is no action.
router.include_router(imports.router)
router.include_router(dashboard.router)
router.include_router(entrants.router)
# Also before draws.router: POST /draws/{id}/forfeits forfeits a winner, it is no action.
router.include_router(forfeits.router)
router.include_router(draws.router)
router.include_router(github_oauth.router)
router.include_router(lotteries.router)
router.include_router(my_entries.router)
router.include_router(check_entry.router)
router.include_router(receipt_file.router)
router.include_router(verify.router)
router.include_router(languages.router)

_PLAIN_ERROR_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} · fairdraw</title></head>
<body><main><h1>{title}</h1><p><a href="/">{back}</a></p></main></body></html>
"""


async def render_error_page(request: Request, error: FairdrawError) -> Response:
    """The browser's view of ``error``: its title and detail, with its status code.

    A page that needs a login sends an anonymous visitor to the login form instead.
    """
    if (
        isinstance(error, NotAuthenticated)
        and not isinstance(error, InvalidCredentials)
        and request.method in ("GET", "HEAD")
    ):
        query = request.url.query
        return see_other(login_url(request.url.path + (f"?{query}" if query else "")))
    title, detail = gettext(error.title), gettext(error.detail)
    context = {"error": error, "title": title, "detail": detail}
    if isinstance(error, MethodNotAllowed) and request.method in ("GET", "HEAD"):
        # A form's target opened as a page: what it is, and the page it belongs to.
        context |= {
            "title": gettext(form_targets.FORM_TARGET_TITLE),
            "detail": gettext(form_targets.FORM_TARGET_DETAIL),
            "page_link": form_targets.page_above(request),
        }
    try:
        response = await render_page(request, "error.html", context, status_code=error.status)
    except Exception:
        # The store may be what failed; the error must still reach the browser.
        log.exception("could not render the error page for %s", error.code)
        page = _PLAIN_ERROR_PAGE.format(
            lang=current_locale(),
            title=html.escape(title),
            back=html.escape(gettext("Back to the draws")),
        )
        response = HTMLResponse(page, status_code=error.status)
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


__all__ = ["render_error_page", "router"]
