"""``/login`` and ``/logout``: the browser session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import InvalidCredentials, RateLimited
from fairdraw.i18n import N_, gettext
from fairdraw.web import security
from fairdraw.web.deps import ServicesDep, VisitorDep, rate_limited_login
from fairdraw.web.flash import Flash, set_flash
from fairdraw.web.pages.rendering import (
    checked_form,
    local_path,
    render,
    see_other,
    switch_session,
    text,
)

router = APIRouter()

# Shown above the form again, followed by when the next attempt may come.
LOGIN_LIMITED = N_("Too many login attempts for now.")


@router.get("/login")
async def login_page(
    request: Request, services: ServicesDep, visitor: VisitorDep, next: str = ""
) -> Response:
    """The login form; ``next`` is where a successful login goes."""
    return render(
        request,
        services,
        visitor,
        "login.html",
        {"next": local_path(next) or "", "username": "", "errors": {}},
    )


@router.post("/login")
async def log_in(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Start a session and go to ``next`` (a local path) or home, where "Signed in as"
    confirms it; otherwise the form again: 401 with one generic message for a wrong name
    or password (it does not reveal which usernames exist), 403 for a disabled account
    whose password was right, 429 with ``Retry-After`` past the login rate limit."""
    form = await checked_form(request, services, visitor)
    username = text(form, "username")
    next_path = local_path(text(form, "next"))
    try:
        user, token, _session = await rate_limited_login(
            services, visitor, username, text(form, "password")
        )
    except (InvalidCredentials, RateLimited) as error:
        limited = isinstance(error, RateLimited)
        # The form again, whatever went wrong: a disabled account (said only after the
        # password matched), the rate limit (with when to try again), or one generic
        # message for a wrong name or password.
        context = {
            "next": next_path or "",
            "username": username,
            "errors": {"_login": gettext(LOGIN_LIMITED if limited else error.title)},
            "retry_after": error.extra.get("retry_after"),
        }
        response = render(
            request, services, visitor, "login.html", context, status_code=error.status
        )
        if "retry_after" in error.extra:
            response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response
    signed_in = Flash("signed_in", user.display_name or user.username)
    return await switch_session(request, services, visitor, token, next_path or "/", signed_in)


@router.post("/logout")
async def log_out(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """End the session server-side and forget the cookie; the old cookie is then worthless."""
    await checked_form(request, services, visitor)
    if visitor.token is not None:
        await services.accounts.logout(visitor.token)
    response = see_other("/")
    security.clear_session_cookie(response)
    if visitor.user is not None:
        signed_out = Flash("signed_out")
        set_flash(response, request, services.secret, signed_out, services.settings.cookie_secure)
    return response
