"""``/api/v1/session``: log in and out with the browser session cookie."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from fairdraw.domain import errors
from fairdraw.web import security
from fairdraw.web.api.schemas import LoginIn, SessionOut
from fairdraw.web.deps import (
    ServicesDep,
    VisitorDep,
    check_api_csrf,
    rate_limited_login,
    set_session,
)
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/session", tags=["session"])


@router.post(
    "",
    response_model=SessionOut,
    responses=problem_responses(
        errors.InvalidCredentials, errors.AccountDisabled, errors.RateLimited
    ),
)
async def log_in(
    body: LoginIn, request: Request, response: Response, services: ServicesDep, visitor: VisitorDep
) -> SessionOut:
    """Log in; sets the session cookie and returns the CSRF token for later calls."""
    user, token, session = await rate_limited_login(services, visitor, body.username, body.password)
    set_session(response, request, services, token)
    return SessionOut(
        username=user.username,
        role=user.role.value,
        csrf_token=security.csrf_token(services.secret, "s:" + session.csrf_secret),
    )


@router.get("", response_model=SessionOut, responses=problem_responses(errors.NotAuthenticated))
async def who_am_i(visitor: VisitorDep, services: ServicesDep) -> SessionOut:
    if visitor.user is None or visitor.session is None:
        raise errors.NotAuthenticated()
    return SessionOut(
        username=visitor.user.username,
        role=visitor.user.role.value,
        csrf_token=security.csrf_token(services.secret, "s:" + visitor.session.csrf_secret),
    )


@router.delete(
    "",
    status_code=204,
    dependencies=[Depends(check_api_csrf)],
    responses=problem_responses(errors.CsrfFailed),
)
async def log_out(visitor: VisitorDep, services: ServicesDep) -> Response:
    """End the session server-side; the old cookie authorises nothing afterwards."""
    if visitor.token is not None:
        await services.accounts.logout(visitor.token)
    response = Response(status_code=204)
    security.clear_session_cookie(response)
    return response
