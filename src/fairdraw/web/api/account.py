"""``/api/v1/account``: the caller's own account and its e-mail address (the JSON twin
of ``/account/email``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.mail import MAX_ADDRESS_LENGTH, TOKEN_PATTERN, ConfirmationInvalid
from fairdraw.i18n import current_locale
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(
    prefix="/api/v1/account", tags=["account"], dependencies=[Depends(check_api_csrf)]
)

SIGNED_IN = (errors.NotAuthenticated, errors.InvalidToken, errors.CsrfFailed)


class AccountOut(BaseModel):
    username: str
    display_name: str
    role: Role
    email: str | None = Field(description="The account's e-mail address (normalised), if any.")
    email_confirmed: bool = Field(
        description="Whether the address is confirmed; only a confirmed address gets mail."
    )
    mail_enabled: bool = Field(description="Whether this instance sends e-mail at all.")


class AccountPatch(BaseModel):
    email: str | None = Field(
        description="A new address (a confirmation link is sent to it; it gets notices "
        "once confirmed), or null to remove the address.",
        json_schema_extra={"maxLength": MAX_ADDRESS_LENGTH},
    )


class ConfirmationIn(BaseModel):
    token: str = Field(
        description="The code from the confirmation message (the end of its link).",
        json_schema_extra={"pattern": f"^{TOKEN_PATTERN}$"},
    )


def account_out(user: User, mail_enabled: bool) -> AccountOut:
    return AccountOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        email=user.email,
        email_confirmed=user.email_confirmed,
        mail_enabled=mail_enabled,
    )


@router.get("", response_model=AccountOut, responses=problem_responses(*SIGNED_IN))
async def get_account(visitor: VisitorDep, services: ServicesDep) -> AccountOut:
    """Your account, with its e-mail address and whether it is confirmed."""
    user = await services.mail.account(visitor.user)
    return account_out(user, services.mail.enabled)


@router.patch(
    "",
    response_model=AccountOut,
    responses=problem_responses(*SIGNED_IN, errors.Conflict),
)
async def update_account(
    body: AccountPatch, visitor: VisitorDep, services: ServicesDep
) -> AccountOut:
    """Set or remove your e-mail address. A new address is unconfirmed until its link is
    followed (or its code sent to ``POST /api/v1/account/email/confirm``); setting the
    address it already has changes nothing (an unconfirmed one gets its link again, at
    most once in ten minutes)."""
    if body.email is None:
        user = await services.mail.remove_address(visitor.user)
    else:
        user = await services.mail.set_address(visitor.user, body.email, locale=current_locale())
    return account_out(user, services.mail.enabled)


@router.post(
    "/email/confirmation",
    response_model=AccountOut,
    status_code=202,
    responses=problem_responses(*SIGNED_IN),
)
async def resend_confirmation(visitor: VisitorDep, services: ServicesDep) -> AccountOut:
    """Send the confirmation link of your unconfirmed address again (at most once in ten
    minutes); nothing for a confirmed address or none."""
    user = await services.mail.resend_confirmation(visitor.user, locale=current_locale())
    return account_out(user, services.mail.enabled)


@router.post(
    "/email/confirm",
    response_model=AccountOut,
    responses=problem_responses(errors.CsrfFailed, ConfirmationInvalid),
)
async def confirm_address(body: ConfirmationIn, services: ServicesDep) -> AccountOut:
    """Confirm an address with the code its confirmation message carries; no login
    needed, the code is the proof. A code works once, within 24 hours: afterwards (or
    after the address changed) 404 ``confirmation_invalid``."""
    user = await services.mail.confirm(body.token, locale=current_locale())
    return account_out(user, services.mail.enabled)
