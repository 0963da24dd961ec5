"""``/api/v1/users``: registration and user administration; and
``/api/v1/session/password``: changing one's own password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fairdraw.domain import errors
from fairdraw.domain.accounts import (
    DEFAULT_PAGE_SIZE,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_PAGE_OFFSET,
    MAX_PAGE_SIZE,
    MAX_PASSWORD_LENGTH,
    MAX_USERNAME_LENGTH,
    MIN_PASSWORD_LENGTH,
    CannotDemoteSelf,
    CannotDisableSelf,
    LastAdmin,
    Role,
    User,
    UserPage,
)
from fairdraw.domain.moments import iso
from fairdraw.web import security
from fairdraw.web.api.text_patterns import USERNAME_PATTERN, display_name_pattern, lazy_pattern
from fairdraw.web.deps import (
    CurrentUser,
    ServicesDep,
    VisitorDep,
    check_api_csrf,
    rate_limited_password_change,
    set_session,
)
from fairdraw.web.problems import problem_responses

router = APIRouter(dependencies=[Depends(check_api_csrf)])

ADMIN_ONLY = (errors.NotAuthenticated, errors.Forbidden, errors.CsrfFailed)

PASSWORD_RULE: dict[str, Any] = {"minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH}


class RegistrationIn(BaseModel):
    username: str = Field(
        examples=["alice"],
        description="3 to 32 of a-z 0-9 _ . - (any case), starting with a letter or a digit.",
        json_schema_extra={"pattern": USERNAME_PATTERN},
    )
    password: str = Field(
        description="10 to 1,024 characters; not the username.", json_schema_extra=PASSWORD_RULE
    )
    display_name: str | None = Field(
        default=None,
        description=f"Defaults to the username. 1 to {MAX_DISPLAY_NAME_LENGTH} characters, "
        "no control or formatting characters.",
        json_schema_extra=lazy_pattern(display_name_pattern),
    )


class UserOut(BaseModel):
    username: str = Field(description="Normalised: NFKC, case-folded.")
    display_name: str
    role: Role
    disabled: bool
    created_at: str


class UserPageOut(BaseModel):
    users: list[UserOut]
    offset: int
    limit: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last.")


class UserPatch(BaseModel):
    # Null or absent leaves a field as it is; a patch that changes nothing is refused.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["role"], "properties": {"role": {"type": "string"}}},
                {"required": ["disabled"], "properties": {"disabled": {"type": "boolean"}}},
            ]
        }
    )

    role: Role | None = None
    disabled: bool | None = Field(default=None, strict=True)


class PasswordChangeIn(BaseModel):
    current_password: str
    new_password: str = Field(
        description="10 to 1,024 characters; not the username.", json_schema_extra=PASSWORD_RULE
    )


class PasswordChangedOut(BaseModel):
    username: str
    role: Role
    csrf_token: str | None = Field(
        description="The new session's CSRF token (send as X-CSRF-Token); null when the "
        "call did not come with a session cookie."
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        disabled=user.disabled,
        created_at=iso(user.created_ms),
    )


def page_out(page: UserPage) -> UserPageOut:
    return UserPageOut(
        users=[user_out(user) for user in page.users],
        offset=page.offset,
        limit=page.limit,
        next_offset=page.next_offset,
    )


@router.post(
    "/api/v1/users",
    tags=["users"],
    status_code=201,
    response_model=UserOut,
    responses=problem_responses(
        errors.RegistrationClosed, errors.UserExists, errors.RateLimited, errors.CsrfFailed
    ),
)
async def register(body: RegistrationIn, visitor: VisitorDep, services: ServicesDep) -> UserOut:
    """Create a participant account (only while ``FAIRDRAW_REGISTRATION=open``). The
    username is taken in every letter case: a second registration answers 409
    ``user_exists``. Log in afterwards with ``POST /api/v1/session``."""
    if services.accounts.registration_open:  # a closed site answers 403, never 429
        await services.limits.registration(visitor.address)
    user = await services.accounts.register(body.username, body.password, body.display_name)
    return user_out(user)


@router.get(
    "/api/v1/users",
    tags=["users"],
    response_model=UserPageOut,
    responses=problem_responses(*ADMIN_ONLY),
)
async def list_users(
    user: CurrentUser,
    services: ServicesDep,
    q: Annotated[
        str,
        Query(
            description="The start of a username, in any letter case.",
            json_schema_extra={"maxLength": MAX_USERNAME_LENGTH},
        ),
    ] = "",
    offset: Annotated[int, Query(le=MAX_PAGE_OFFSET, json_schema_extra={"minimum": 0})] = 0,
    limit: Annotated[
        int, Query(json_schema_extra={"minimum": 1, "maximum": MAX_PAGE_SIZE})
    ] = DEFAULT_PAGE_SIZE,
) -> UserPageOut:
    """Users in the order they were created (administrators only); ``q`` keeps those
    whose username starts with it, in any letter case."""
    return page_out(await services.accounts.list_users(user, q, offset, limit))


@router.patch(
    "/api/v1/users/{username}",
    tags=["users"],
    response_model=UserOut,
    responses=problem_responses(
        *ADMIN_ONLY, errors.NotFound, CannotDisableSelf, CannotDemoteSelf, LastAdmin
    ),
)
async def update_user(
    username: str, body: UserPatch, user: CurrentUser, services: ServicesDep
) -> UserOut:
    """Set a user's role and/or disable or enable them (administrators only). Disabling
    ends the user's sessions and tokens. At least one enabled administrator remains."""
    updated = await services.accounts.update_user(
        user, username, role=body.role, disabled=body.disabled
    )
    return user_out(updated)


@router.post(
    "/api/v1/session/password",
    tags=["session"],
    response_model=PasswordChangedOut,
    responses=problem_responses(
        errors.NotAuthenticated, errors.InvalidCredentials, errors.CsrfFailed, errors.RateLimited
    ),
)
async def change_password(
    body: PasswordChangeIn,
    request: Request,
    response: Response,
    visitor: VisitorDep,
    services: ServicesDep,
) -> PasswordChangedOut:
    """Change your password (401 ``invalid_credentials`` if ``current_password`` is
    wrong). Every other session and API token of yours ends; this browser session goes
    on under a new cookie, with the new CSRF token returned here."""
    renewed = await rate_limited_password_change(
        services, visitor, body.current_password, body.new_password
    )
    assert visitor.user is not None  # change_password refuses nobody
    csrf_token = None
    if renewed is not None:
        token, session = renewed
        set_session(response, request, services, token)
        csrf_token = security.csrf_token(services.secret, "s:" + session.csrf_secret)
    elif visitor.token is not None:
        security.clear_session_cookie(response)  # the session ended meanwhile
    return PasswordChangedOut(
        username=visitor.user.username, role=visitor.user.role, csrf_token=csrf_token
    )
