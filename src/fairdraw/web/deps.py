"""Request dependencies: the services, who is asking, and the CSRF check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

from fairdraw.config import Settings
from fairdraw.domain.accounts import Session, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.errors import CsrfFailed
from fairdraw.domain.signing import SigningKey
from fairdraw.services.accounts import AccountService
from fairdraw.services.dashboard import DashboardService
from fairdraw.services.draw_log import DrawLogService
from fairdraw.services.drawing import DrawingService
from fairdraw.services.entering import EnteringService
from fairdraw.services.entrants import EntrantsService
from fairdraw.services.forfeits import ForfeitService
from fairdraw.services.github_oauth import GitHubSignIn
from fairdraw.services.idempotency import IdempotencyService
from fairdraw.services.importing import ImportingService
from fairdraw.services.live import LiveHub
from fairdraw.services.lotteries import LotteryService
from fairdraw.services.mail import MailService
from fairdraw.services.my_entries import MyEntriesService
from fairdraw.services.presenting import PresentingService
from fairdraw.services.raffles import RaffleService
from fairdraw.services.ratelimit import RateLimits
from fairdraw.services.receipts import ReceiptService
from fairdraw.services.scheduler import Scheduler
from fairdraw.services.tokens import TokenService
from fairdraw.services.webhooks import WebhookService
from fairdraw.web import security
from fairdraw.web.client import IPAddress, IPNetwork, client_address


@dataclass
class Services:
    """Everything a request handler may call, built once per process by the lifespan."""

    settings: Settings
    secret: bytes
    drawing: DrawingService
    entering: EnteringService
    raffles: RaffleService
    lotteries: LotteryService
    scheduler: Scheduler
    accounts: AccountService
    tokens: TokenService
    templates: Jinja2Templates
    limits: RateLimits
    live: LiveHub
    dashboard: DashboardService
    presenting: PresentingService
    idempotency: IdempotencyService
    my_entries: MyEntriesService
    signing: SigningKey
    draw_log: DrawLogService
    receipts: ReceiptService
    webhooks: WebhookService
    mail: MailService
    entrants: EntrantsService
    importing: ImportingService
    forfeits: ForfeitService
    github_sign_in: GitHubSignIn
    trusted_proxies: tuple[IPNetwork, ...] = ()


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    # async: a plain function dependency would cost a thread hand-off on every request.
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


# Reads "Authorization: Bearer <access token>"; declaring it puts the OAuth2 password
# flow in the OpenAPI schema, so /docs gets a working Authorize button.
bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from `POST /api/v1/auth/token`.",
)
BearerToken = Annotated[str | None, Depends(bearer_scheme)]


def raw_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case), read from the raw headers of
    ``scope`` without building a ``Headers``."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def bearer_of(request: Request) -> str | None:
    """The token that :data:`bearer_scheme` reads from ``request`` (the first
    ``Authorization`` header, if its scheme is ``Bearer``), found in the raw headers: a
    request without one costs the scheme a ``KeyError`` raised and caught."""
    authorization = raw_header(request.scope, b"authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class Visitor:
    """Who sent the request: a logged-in user with their session, or nobody.

    A user authenticated by a bearer access token has no session: such a request
    carries no ambient authority, so it needs no CSRF token.
    """

    user: User | None
    session: Session | None
    token: str | None
    address: IPAddress | None = None

    @property
    def caller(self) -> Caller:
        """The visitor as the services see it: user and client address."""
        return Caller(self.user, self.address)


async def get_visitor(
    request: Request, services: ServicesDep, bearer: BearerToken = None
) -> Visitor:
    """The bearer token's user if the request has one (an invalid one is a 401
    ``invalid_token``, never a silent fallback to the cookie); else the session's.

    Called directly rather than as a dependency, it reads the session cookie only."""
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    token = request.cookies.get(security.SESSION_COOKIE)
    address = client_address(request, services.trusted_proxies)
    visitor = Visitor(None, None, None, address)
    if bearer is not None:
        user = await services.tokens.user_for_access_token(bearer)
        visitor = Visitor(user, None, None, address)
    elif token:
        found = await services.accounts.session_user(token)
        if found is not None:
            visitor = Visitor(found[0], found[1], token, address)
            # Using the session renewed its idle timeout; the cookie's lifetime follows.
            security.renew_session_cookie(
                request,
                token,
                services.accounts.session_seconds_left(found[1].created_ms),
                services.settings.cookie_secure,
            )
    request.state.visitor = visitor
    return visitor


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


async def current_user(visitor: VisitorDep) -> User | None:
    return visitor.user


CurrentUser = Annotated[User | None, Depends(current_user)]


async def check_api_csrf(request: Request, visitor: VisitorDep, services: ServicesDep) -> None:
    """A state-changing API call that rides on the session cookie must carry the CSRF
    token in ``X-CSRF-Token``; calls without a session cookie carry no ambient authority."""
    api_csrf_ok(request, visitor, services)


def api_csrf_ok(request: Request, visitor: Visitor, services: Services) -> None:
    """:func:`check_api_csrf`, called directly: CsrfFailed unless the call is safe."""
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


async def rate_limited_login(
    services: Services, visitor: Visitor, username: str, password: str
) -> tuple[User, str, Session]:
    """Log in through the login rate limits (per username and per client address); the
    one way the pages and the API start a session."""
    await services.limits.login(username, visitor.address)
    return await services.accounts.login(username, password)


async def rate_limited_password_change(
    services: Services,
    visitor: Visitor,
    current_password: str,
    new_password: str,
    confirmation: str | None = None,
) -> tuple[str, Session] | None:
    """Change the visitor's password through the login rate limits: checking the current
    password is a login attempt, so it spends the same budget (per username and per
    client address) and a stolen session cannot be used to guess the password."""
    if visitor.user is not None:
        await services.limits.login(visitor.user.username, visitor.address)
    return await services.accounts.change_password(
        visitor.user,
        current_password,
        new_password,
        confirmation=confirmation,
        session_token=visitor.token,
    )


def set_session(response: Response, request: Request, services: Services, token: str) -> None:
    """Give the browser its session cookie, with the session's lifetime (the idle
    timeout, at most the absolute lifetime) and the configured flags."""
    security.set_session_cookie(
        response,
        request,
        token,
        services.accounts.session_seconds_left(),
        services.settings.cookie_secure,
    )
