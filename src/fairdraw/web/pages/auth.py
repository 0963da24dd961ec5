"""``/login`` and ``/logout``: the browser session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import InvalidCredentials
from fairdraw.web import security
from fairdraw.web.deps import ServicesDep, VisitorDep, rate_limited_login
from fairdraw.web.pages.rendering import (
    checked_form,
    local_path,
    render,
    see_other,
    switch_session,
    text,
)

router = APIRouter()


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
    """Start a session and go to ``next`` (a local path) or home; 401 with one generic
    message for every failure, so the form does not reveal which usernames exist."""
    form = await checked_form(request, services, visitor)
    username = text(form, "username")
    next_path = local_path(text(form, "next"))
    try:
        _user, token, _session = await rate_limited_login(
            services, visitor, username, text(form, "password")
        )
    except InvalidCredentials as error:
        context = {
            "next": next_path or "",
            "username": username,
            "errors": {"_login": error.title},
        }
        return render(request, services, visitor, "login.html", context, status_code=401)
    return await switch_session(request, services, visitor, token, next_path or "/")


@router.post("/logout")
async def log_out(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """End the session server-side and forget the cookie; the old cookie is then worthless."""
    await checked_form(request, services, visitor)
    if visitor.token is not None:
        await services.accounts.logout(visitor.token)
    response = see_other("/")
    security.clear_session_cookie(response)
    return response
