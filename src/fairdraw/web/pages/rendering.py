"""Shared plumbing of the pages: render a template, read a form, redirect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from fairdraw.web import security
from fairdraw.web.deps import (
    Services,
    Visitor,
    csrf_for,
    form_csrf_ok,
    get_visitor,
    services_of,
    set_session,
)
from fairdraw.web.flash import Flash, clear_flash, read_flash, set_flash


def render(
    request: Request,
    services: Services,
    visitor: Visitor,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """Render ``template`` with what base.html needs (``current_user``, ``csrf_token``,
    ``registration_open``)."""
    values: dict[str, Any] = {
        "current_user": visitor.user,
        "csrf_token": csrf_for(request, visitor, services),
        "registration_open": services.accounts.registration_open,
    }
    flash = read_flash(request, services.secret)
    if flash is not None:
        values["flash"] = flash
    values.update(context or {})
    response = services.templates.TemplateResponse(
        request, template, values, status_code=status_code
    )
    if flash is not None:  # shown once
        clear_flash(response, request, services.settings.cookie_secure)
    # Every page carries a CSRF token or someone's own data; neither belongs in a cache.
    response.headers["Cache-Control"] = "no-store"
    security.set_csrf_cookie_if_new(response, request, services.settings.cookie_secure)
    return response


async def render_page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """:func:`render` for code that holds only the request (the error handler)."""
    services = services_of(request)
    visitor = await get_visitor(request, services)
    return render(request, services, visitor, template, context, status_code=status_code)


def text(form: FormData, name: str) -> str:
    """A text field of a submitted form; missing fields and file uploads read as ``""``."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def checked_form(request: Request, services: Services, visitor: Visitor) -> FormData:
    """The submitted form, after its CSRF field has been checked (CsrfFailed otherwise)."""
    form = await request.form()
    form_csrf_ok(request, visitor, services, text(form, security.CSRF_FIELD) or None)
    return form


def see_other(url: str) -> RedirectResponse:
    """The redirect after a successful POST: the browser follows it with a GET."""
    return RedirectResponse(url, status_code=303)


def local_path(candidate: str | None) -> str | None:
    """``candidate`` if it is a path on this site (``/draws/x?y``), else None.

    Guards ``next=`` against open redirects: ``//evil.example`` and ``/\\evil.example``
    are other sites to a browser, and control characters could split headers.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return None
    if "\\" in candidate or any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    return candidate


def login_url(next_path: str) -> str:
    """The login page, returning to ``next_path`` afterwards."""
    return "/login?next=" + quote(next_path, safe="/")


async def switch_session(
    request: Request,
    services: Services,
    visitor: Visitor,
    token: str,
    to: str,
    flash: Flash | None = None,
) -> Response:
    """Go to ``to`` with the new session ``token``, confirming ``flash`` there; a session
    the browser held before ends rather than lingering until its TTL."""
    if visitor.token is not None:
        await services.accounts.logout(visitor.token)
    response = see_other(to)
    set_session(response, request, services, token)
    if flash is not None:
        set_flash(response, request, services.secret, flash, services.settings.cookie_secure)
    return response
