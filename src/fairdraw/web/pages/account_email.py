"""``/account/email``: set, change, remove and confirm one's e-mail address (the pages
twin of ``/api/v1/account``).

The confirmation link carries its code after ``#``, which browsers never send: the code
appears in no request line, so in no access log. The confirmation page reads it into its
form (``js/confirm_email.js``), or the code is typed in; the form posts it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.errors import InvalidInput, NotAuthenticated
from fairdraw.domain.mail import ConfirmationInvalid
from fairdraw.i18n import N_, current_locale, gettext
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.outcomes import once
from fairdraw.web.pages.rendering import checked_form, render, see_other, text

router = APIRouter()

NOTICES = {
    "saved": N_("Your address was saved. Follow the link we sent to it to confirm it."),
    "sent": N_("The confirmation link was sent again (at most once in ten minutes)."),
    "removed": N_("Your address was removed; nothing will be sent to it."),
}


async def _email_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    *,
    value: str | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    account = await services.mail.account(visitor.user)
    context = {
        "account": account,
        "mail_enabled": services.mail.enabled,
        "value": account.email or "" if value is None else value,
        "errors": errors or {},
        "notice": notice,
    }
    return render(
        request, services, visitor, "account_email.html", context, status_code=status_code
    )


@router.get("/account/email")
async def email_page(
    request: Request, services: ServicesDep, visitor: VisitorDep, done: str = ""
) -> Response:
    """The account's e-mail address: whether it is confirmed, and the forms to change it."""
    if visitor.user is None:
        raise NotAuthenticated()
    return await _email_page(
        request, services, visitor, notice=gettext(NOTICES[done]) if done in NOTICES else None
    )


@router.post("/account/email")
async def change_email(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Save (``action=save``), remove (``remove``) or resend the link of (``resend``) the
    address, then show the page again; the form with its error if the address is not one."""
    form = await checked_form(request, services, visitor)
    action = text(form, "action")
    value = text(form, "email")

    async def act() -> Response:
        if action == "remove":
            await services.mail.remove_address(visitor.user)
            return see_other("/account/email?done=removed")
        if action == "resend":
            await services.mail.resend_confirmation(visitor.user, locale=current_locale())
            return see_other("/account/email?done=sent")
        try:
            await services.mail.set_address(visitor.user, value, locale=current_locale())
        except InvalidInput as error:
            return await _email_page(
                request, services, visitor, value=value, errors=error.errors, status_code=422
            )
        return see_other("/account/email?done=saved")

    return await once(request, services, visitor, form, act)


def _confirm_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {"errors": errors or {}}
    return render(
        request, services, visitor, "account_confirm.html", context, status_code=status_code
    )


@router.get("/account/email/confirm")
async def confirm_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """The page a confirmation link opens: its form takes the code from the link."""
    return _confirm_page(request, services, visitor)


@router.post("/account/email/confirm")
async def confirm(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Confirm the address the code was sent to, then say so; the form again, with the
    reason, for a code that is not (or no longer) valid."""
    form = await checked_form(request, services, visitor)

    async def act() -> Response:
        try:
            await services.mail.confirm(text(form, "token"), locale=current_locale())
        except ConfirmationInvalid as error:
            errors = {"token": error.title}
            return _confirm_page(
                request, services, visitor, errors=errors, status_code=error.status
            )
        return see_other("/account/email/confirmed")

    # A double click confirms once and both clicks see it confirmed.
    return await once(request, services, visitor, form, act)


@router.get("/account/email/confirmed")
async def confirmed_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Where a confirmation ends (reloading it confirms nothing again)."""
    return render(request, services, visitor, "account_confirmed.html")
