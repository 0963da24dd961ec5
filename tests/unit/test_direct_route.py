"""DirectRoute: the busiest routes' endpoints called without FastAPI's request handler.
Every answer, right or wrong, must be the one the same endpoint gives on an APIRoute."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from fairdraw.web.acting import DirectRoute, DirectRoutes


class Body(BaseModel):
    github: str | None = None
    count: int = 1


async def enter(draw_id: str, body: Body, request: Request) -> Response:
    return JSONResponse(
        {"draw_id": draw_id, "body": body.model_dump(), "path": request.url.path},
        status_code=201,
    )


async def claim(draw_id: str, request: Request) -> Response:
    return JSONResponse({"draw_id": draw_id, "method": request.method}, status_code=201)


def _post(route_class: type[APIRoute], path: str, **request: Any) -> tuple[int, Any]:
    """POST to an app whose two routes are of ``route_class``: the status and JSON."""

    return _post_to(_app(route_class), path, **request)


def _post_to(app: FastAPI, path: str, **request: Any) -> tuple[int, Any]:
    async def post() -> tuple[int, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            answer = await client.post(path, **request)
            return answer.status_code, answer.json()

    return asyncio.run(post())


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(prefix="/api", route_class=route_class)
    router.add_api_route("/{draw_id}/entries", enter, methods=["POST"], status_code=201)
    router.add_api_route("/{draw_id}/tickets", claim, methods=["POST"], status_code=201)
    app = FastAPI()
    app.include_router(router)
    return app


BODIES: list[tuple[bytes, dict[str, str]]] = [
    (b'{"github": "octocat"}', {"content-type": "application/json"}),
    (b'{"github": "octocat", "count": "3"}', {"content-type": "application/json"}),
    (b'{"github": "octocat"}', {"content-type": "application/json; charset=utf-8"}),
    (b'{"github": "octocat"}', {"content-type": "application/vnd.x+json"}),
    (b"{}", {"content-type": "application/json"}),
    (b'{"github": 12}', {"content-type": "application/json"}),
    (b'{"count": "many"}', {"content-type": "application/json"}),
    (b'{"github": "a"', {"content-type": "application/json"}),
    (b'["octocat"]', {"content-type": "application/json"}),
    (b"null", {"content-type": "application/json"}),
    (b"", {"content-type": "application/json"}),
    (b'{"github": "octocat"}', {"content-type": "text/plain"}),
    (b'{"github": "octocat"}', {}),
    (b'{"github": "octocat"} trailing', {"content-type": "application/json"}),
]


@pytest.mark.parametrize(("body", "headers"), BODIES)
def test_a_direct_route_answers_as_fastapi_does(body: bytes, headers: dict[str, str]) -> None:
    expected = _post(APIRoute, "/api/d1/entries", content=body, headers=headers)
    assert _post(DirectRoute, "/api/d1/entries", content=body, headers=headers) == expected


def test_the_direct_route_passes_path_request_and_body() -> None:
    assert _post(DirectRoute, "/api/d%201/entries", json={"github": "octocat"}) == (
        201,
        {"draw_id": "d 1", "body": {"github": "octocat", "count": 1}, "path": "/api/d 1/entries"},
    )
    assert _post(DirectRoute, "/api/d1/tickets") == (201, {"draw_id": "d1", "method": "POST"})


async def _with_query(draw_id: str, limit: int) -> Response:
    return Response()


async def _untyped(draw_id, request: Request) -> Response:  # type: ignore[no-untyped-def]
    return Response()


def _sync(draw_id: str) -> Response:
    return Response()


async def _two_bodies(draw_id: str, one: Body, two: Body) -> Response:
    return Response()


@pytest.mark.parametrize("endpoint", [_with_query, _untyped, _sync, _two_bodies])
def test_a_direct_route_refuses_an_endpoint_it_cannot_call(endpoint: object) -> None:
    router = APIRouter(route_class=DirectRoute)
    with pytest.raises(TypeError):
        router.add_api_route("/{draw_id}", endpoint, methods=["POST"])  # type: ignore[arg-type]


def test_a_direct_route_refuses_a_dependency() -> None:
    router = APIRouter(route_class=DirectRoute, dependencies=[Depends(lambda: None)])
    with pytest.raises(TypeError, match="no dependency"):
        router.add_api_route("/{draw_id}", claim, methods=["POST"])


def test_direct_routes_are_added_to_the_router_given_as_direct_routes() -> None:
    routes = DirectRoutes(tags=["draws"])
    routes.post("/api/{draw_id}/tickets", status_code=201, summary="Claim")(claim)
    app = FastAPI()
    routes.add_to(app.router)
    (route,) = [r for r in app.router.routes if getattr(r, "path", "") == "/api/{draw_id}/tickets"]
    assert isinstance(route, DirectRoute)
    assert (route.methods, route.tags, route.status_code, route.summary) == (
        {"POST"},
        ["draws"],
        201,
        "Claim",
    )
    assert _post_to(app, "/api/d1/tickets") == (201, {"draw_id": "d1", "method": "POST"})
