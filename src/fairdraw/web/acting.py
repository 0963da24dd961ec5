"""One dependency for the API's busiest state changes (entries, claims, ballots).

FastAPI resolves every node of a route's dependency graph on every request; resolving the
caller, the services, the CSRF check and the retry key as separate dependencies cost an
entry about a tenth of its web CPU. :func:`acting` does the same work as
``VisitorDep`` + ``ServicesDep`` + ``check_api_csrf`` + ``RetryDep``, through the same
functions, in one node (and the bearer scheme, which documents the route's security)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from fairdraw.domain.idempotency import RetryKey
from fairdraw.web.deps import (
    BearerToken,
    Services,
    Visitor,
    api_csrf_ok,
    get_visitor,
    services_of,
)
from fairdraw.web.idempotency import retry_of


@dataclass(frozen=True)
class Acting:
    """Who acts (checked for CSRF if they ride on a session cookie), with what services,
    and the request's retry key (``Idempotency-Key``)."""

    visitor: Visitor
    services: Services
    retry: RetryKey | None


async def acting(request: Request, bearer: BearerToken = None) -> Acting:
    services = services_of(request)
    visitor = await get_visitor(request, services, bearer)
    api_csrf_ok(request, visitor, services)
    return Acting(visitor, services, retry_of(request))


ActingDep = Annotated[Acting, Depends(acting)]
