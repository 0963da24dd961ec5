"""The API's busiest state changes (entries, claims, ballots): who acts, and the answer.

FastAPI resolves every node of a route's dependency graph on every request, and checks
and serializes what a route returns against its response model. For the three routes
that take most of the traffic, that machinery cost about a sixth of an entry's web CPU
(docs/benchmarks.md, "Entries without the dependency graph"). So these routes take only
their path and body from FastAPI:

- :func:`acting_of` does the work of ``VisitorDep`` + ``ServicesDep`` +
  ``check_api_csrf`` + ``RetryDep`` and the bearer scheme, through the same functions,
  called directly;
- :func:`created` answers with the JSON the service built. The route's response model
  still documents it, and the API's schema tests hold every answer to it;
- :data:`BEARER_SECURITY` documents the bearer scheme in the route's OpenAPI
  operation, as the scheme's dependency would have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from fairdraw.domain.idempotency import RetryKey
from fairdraw.web.deps import (
    Services,
    Visitor,
    api_csrf_ok,
    bearer_scheme,
    get_visitor,
    services_of,
)
from fairdraw.web.idempotency import REPLAYED_HEADER, retry_of

# For ``openapi_extra``: the security requirement a bearer dependency declares.
BEARER_SECURITY: dict[str, Any] = {"security": [{bearer_scheme.scheme_name: []}]}


@dataclass(frozen=True)
class Acting:
    """Who acts (checked for CSRF if they ride on a session cookie), with what services,
    and the request's retry key (``Idempotency-Key``)."""

    visitor: Visitor
    services: Services
    retry: RetryKey | None


async def acting_of(request: Request) -> Acting:
    """Who acts on ``request``: the bearer token's user, else the session's (an invalid
    token is 401, a session call without its CSRF token 403), as the dependencies say."""
    services = services_of(request)
    visitor = await get_visitor(request, services, await bearer_scheme(request))
    api_csrf_ok(request, visitor, services)
    return Acting(visitor, services, retry_of(request))


def created(
    body: Mapping[str, object], *, replayed: bool, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """201 with ``body``; marked as a replay when a keyed
    retry got back what its first attempt made (``Idempotent-Replayed``)."""
    answer = JSONResponse(dict(body), status_code=201, headers=headers)
    if replayed:
        answer.headers[REPLAYED_HEADER] = "true"
    return answer
