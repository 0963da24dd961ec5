"""Request dependencies: the services, who is asking, and the CSRF check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from fairdraw.config import Settings
from fairdraw.domain.accounts import Session, User
from fairdraw.domain.errors import CsrfFailed
from fairdraw.services.accounts import AccountService
from fairdraw.services.drawing import DrawingService
from fairdraw.services.entering import EnteringService
from fairdraw.web import security


@dataclass
class Services:
    """Everything a request handler may call, built once per process by the lifespan."""

    settings: Settings
    secret: bytes
    drawing: DrawingService
    entering: EnteringService
    accounts: AccountService
    templates: Jinja2Templates


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


@dataclass(frozen=True)
class Visitor:
    """Who sent the request: a logged-in user with their session, or nobody."""

    user: User | None
    session: Session | None
    token: str | None


async def get_visitor(request: Request, services: ServicesDep) -> Visitor:
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    token = request.cookies.get(security.SESSION_COOKIE)
    visitor = Visitor(None, None, None)
    if token:
        found = await services.accounts.session_user(token)
        if found is not None:
            visitor = Visitor(found[0], found[1], token)
    request.state.visitor = visitor
    return visitor


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


async def current_user(visitor: VisitorDep) -> User | None:
    return visitor.user


CurrentUser = Annotated[User | None, Depends(current_user)]


async def check_api_csrf(request: Request, visitor: VisitorDep, services: ServicesDep) -> None:
    """A state-changing API call that rides on the session cookie must carry the CSRF
    token in ``X-CSRF-Token``; calls without a session cookie carry no ambient authority."""
    if request.method in security.SAFE_METHODS:
        return
    if visitor.session is None:
        return
    token = request.headers.get(security.CSRF_HEADER)
    if not security.csrf_valid(services.secret, request, visitor.session, token):
        raise CsrfFailed()


def form_csrf_ok(request: Request, visitor: Visitor, services: Services, token: str | None) -> None:
    """Raise CsrfFailed unless a form's ``csrf_token`` field belongs to this browser."""
    if not security.csrf_valid(services.secret, request, visitor.session, token):
        raise CsrfFailed()


def csrf_for(request: Request, visitor: Visitor, services: Services) -> str:
    """The CSRF token to embed in this browser's forms (sets the anonymous cookie if new)."""
    return security.csrf_token(services.secret, security.csrf_binding(request, visitor.session))
