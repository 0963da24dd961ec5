"""The API's busiest state changes (entries, claims, ballots): who acts, and the answer.

FastAPI resolves every node of a route's dependency graph on every request, and checks
and serializes what a route returns against its response model. For the three routes
that take most of the traffic, that machinery cost about a sixth of an entry's web CPU
(docs/benchmarks.md, "Entries without the dependency graph"), FastAPI's request handler
(reading the body, solving the parameters, its telemetry spans) about a twentieth more,
and matching them through an included router about as much again ("Entries called
directly"). So these routes take nothing from FastAPI but their OpenAPI operation:

- :func:`acting_of` does the work of ``VisitorDep`` + ``ServicesDep`` +
  ``check_api_csrf`` + ``RetryDep`` and the bearer scheme (whose token ``bearer_of``
  reads), through the same functions, called directly;
- :func:`created` answers with the JSON the service built. The route's response model
  still documents it, and the API's schema tests hold every answer to it;
- :data:`BEARER_SECURITY` documents the bearer scheme in the route's OpenAPI
  operation, as the scheme's dependency would have;
- :class:`DirectRoute` calls the endpoint with its path parameters, the request and its
  JSON body read straight into the body's model, without FastAPI's request handler
  (its body reading, dependency solving and telemetry spans). Whatever does not read
  straight (no body, another content type, a body the model refuses) goes to FastAPI's
  own handler, so every error answer is the one FastAPI gives;
- :class:`DirectRoutes` declares them in their modules and adds them to the app's own
  router, ahead of the included routers, which FastAPI matches through a layer of
  their own on every request.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from fairdraw.domain.idempotency import RetryKey
from fairdraw.web.deps import (
    Services,
    Visitor,
    api_csrf_ok,
    bearer_of,
    bearer_scheme,
    get_visitor,
    services_of,
)
from fairdraw.web.idempotency import REPLAYED_HEADER, retry_of
from fairdraw.web.json_bodies import is_json

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
    visitor = await get_visitor(request, services, bearer_of(request))
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


class DirectRoute(APIRoute):
    """An API route whose endpoint is called directly (see the module's description).

    Its endpoint is async and takes only path parameters typed ``str``, the ``Request``,
    and at most one body of a pydantic model, with no dependency; any other route is
    refused when it is made. The OpenAPI operation is FastAPI's, from the same signature.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        endpoint = self.endpoint
        path_names, request_name, body = _direct_parameters(self)

        async def handler(request: Request) -> Response:
            values: dict[str, Any] = {name: request.path_params[name] for name in path_names}
            if request_name is not None:
                values[request_name] = request
            if body is not None:
                raw = await request.body()
                if not raw or not is_json(request.headers.get("content-type")):
                    return await standard(request)
                name, model = body
                try:
                    values[name] = model.model_validate_json(raw)
                except ValidationError:
                    return await standard(request)
            answer: Response = await endpoint(**values)
            return answer

        return handler


def _direct_parameters(
    route: APIRoute,
) -> tuple[tuple[str, ...], str | None, tuple[str, type[BaseModel]] | None]:
    """What :class:`DirectRoute` passes ``route``'s endpoint: its path parameters' names,
    the request's name and the body's name and model. TypeError if it needs more."""
    endpoint = route.endpoint
    where = f"{endpoint.__name__} ({route.path})"
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{where}: a DirectRoute's endpoint is async")
    if route.dependencies:
        raise TypeError(f"{where}: a DirectRoute takes no dependency")
    hints = typing.get_type_hints(endpoint)
    path_names: list[str] = []
    request_name: str | None = None
    body: tuple[str, type[BaseModel]] | None = None
    for name in inspect.signature(endpoint).parameters:
        hint = hints.get(name)
        if hint is str and name in route.param_convertors:
            path_names.append(name)
        elif hint is Request and request_name is None:
            request_name = name
        elif isinstance(hint, type) and issubclass(hint, BaseModel) and body is None:
            body = (name, hint)
        else:
            raise TypeError(
                f"{where}: {name} is none of what a DirectRoute passes (a str path "
                "parameter, the request, one body model)"
            )
    return tuple(path_names), request_name, body


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class DirectRoutes:
    """POST routes on :class:`DirectRoute`, declared with :meth:`post` (which takes what
    ``APIRouter.post`` takes) and added to a router by :meth:`add_to`: the app's own, so
    that no included router stands between the app and them."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._routes: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        def declare(endpoint: Endpoint) -> Endpoint:
            self._routes.append((path, endpoint, {**self._options, **options}))
            return endpoint

        return declare

    def add_to(self, router: APIRouter) -> None:
        for path, endpoint, options in self._routes:
            router.add_api_route(
                path, endpoint, methods=["POST"], route_class_override=DirectRoute, **options
            )
