"""``/register`` (self-service sign-up) and ``/account/password`` (change one's own)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import (
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    RegistrationClosed,
    UserExists,
)
from fairdraw.i18n import N_, gettext
from fairdraw.web import security
from fairdraw.web.deps import (
    Services,
    ServicesDep,
    Visitor,
    VisitorDep,
    rate_limited_password_change,
    set_session,
)
from fairdraw.web.flash import Flash
from fairdraw.web.pages.outcomes import once
from fairdraw.web.pages.rendering import (
    checked_form,
    local_path,
    render,
    see_other,
    switch_session,
    text,
)

router = APIRouter()

CHANGED_NOTICE = N_("Your password was changed. Every other session of yours has ended.")


def _register_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    *,
    username: str = "",
    display_name: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    next_path: str | None = None,
) -> Response:
    closed = not services.accounts.registration_open
    context = {
        "closed": closed,
        "username": username,
        "display_name": display_name,
        "errors": errors or {},
        "next": next_path or "",
    }
    status = RegistrationClosed.status if closed else status_code
    return render(request, services, visitor, "register.html", context, status_code=status)


@router.get("/register")
async def register_page(
    request: Request, services: ServicesDep, visitor: VisitorDep, next: str = ""
) -> Response:
    """The sign-up form; while registration is closed, a 403 page that says so. ``next``
    (a local path) is where the new account goes once created."""
    return _register_page(request, services, visitor, next_path=local_path(next))


@router.post("/register")
async def register(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Create a participant account, log it in and go to ``next`` (a local path) or
    home, where the new account is confirmed; the form again, with every
    wrong field marked, if that cannot be. The same form submitted twice registers once
    (the second submit gets the first one's session)."""
    form = await checked_form(request, services, visitor)
    username = text(form, "username")
    display_name = text(form, "display_name")
    next_path = local_path(text(form, "next"))

    async def register() -> Response:
        if services.accounts.registration_open:  # a closed site answers 403, never 429
            await services.limits.registration(visitor.address)
        try:
            user, token, _session = await services.accounts.register_and_log_in(
                username,
                text(form, "password"),
                display_name if display_name.strip() else None,
                confirmation=text(form, "password_confirm"),
            )
        except RegistrationClosed:
            return _register_page(request, services, visitor, next_path=next_path)
        except (InvalidInput, UserExists) as error:
            errors = error.errors if isinstance(error, InvalidInput) else {"username": error.title}
            return _register_page(
                request,
                services,
                visitor,
                username=username,
                display_name=display_name,
                errors=errors,
                status_code=error.status,
                next_path=next_path,
            )
        created = Flash("account_created", user.display_name or user.username)
        return await switch_session(request, services, visitor, token, next_path or "/", created)

    return await once(request, services, visitor, form, register)


def _password_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {"errors": errors or {}, "notice": notice}
    return render(request, services, visitor, "password.html", context, status_code=status_code)


@router.get("/account/password")
async def password_page(
    request: Request, services: ServicesDep, visitor: VisitorDep, changed: str = ""
) -> Response:
    """The form that changes one's own password (after login)."""
    if visitor.user is None:
        raise NotAuthenticated()
    return _password_page(
        request, services, visitor, notice=gettext(CHANGED_NOTICE) if changed else None
    )


@router.post("/account/password")
async def change_password(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Change the password, end every other session, and carry on in this browser under a
    fresh session; the form again, with the error next to its field, if that cannot be."""
    form = await checked_form(request, services, visitor)
    try:
        renewed = await rate_limited_password_change(
            services,
            visitor,
            text(form, "current_password"),
            text(form, "new_password"),
            confirmation=text(form, "new_password_confirm"),
        )
    except InvalidInput as error:
        return _password_page(
            request, services, visitor, errors=error.errors, status_code=error.status
        )
    except InvalidCredentials as error:
        errors = {"current_password": error.detail}
        return _password_page(request, services, visitor, errors=errors, status_code=error.status)
    if renewed is None:
        response = see_other("/login")
        security.clear_session_cookie(response)
        return response
    response = see_other("/account/password?changed=1")
    set_session(response, request, services, renewed[0])
    return response
