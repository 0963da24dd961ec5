"""Errors as HTTP responses: RFC 9457 problem+json for the API, a page for the browser."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairdraw.domain import errors
from fairdraw.store.connection import STORE_UNAVAILABLE_ERRORS

log = logging.getLogger("fairdraw.web")

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document with fairdraw's stable ``code``."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")
    errors: dict[str, str] | None = Field(default=None, description="Field → message.")
    receipt: dict[str, Any] | None = Field(
        default=None, description="With already_entered: the original receipt."
    )


def problem_responses(*kinds: type[errors.FairdrawError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors a route can raise (plus 422, 500 and the 503
    every route answers while the store is unreachable)."""
    by_status: dict[int, list[type[errors.FairdrawError]]] = defaultdict(list)
    every: tuple[type[errors.FairdrawError], ...] = (
        *kinds,
        errors.InvalidInput,
        errors.FairdrawError,
        errors.StoreError,
    )
    for kind in every:
        if kind not in by_status[kind.status]:
            by_status[kind.status].append(kind)
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            "description": "; ".join(f"`{k.code}`: {k.title}" for k in kinds_),
        }
        for status, kinds_ in sorted(by_status.items())
    }


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem_response(error: errors.FairdrawError, request: Request) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "instance": request.url.path,
    }
    if isinstance(error, errors.InvalidInput):
        body["errors"] = error.errors
    body.update(error.extra)
    headers: dict[str, str] = {}
    if "retry_after" in error.extra:
        headers["Retry-After"] = str(error.extra["retry_after"])
    if isinstance(error, errors.InvalidToken):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'  # RFC 6750 section 3
    return JSONResponse(
        body, status_code=error.status, media_type=PROBLEM_JSON, headers=headers or None
    )


def install_error_handlers(app: FastAPI, render_error_page: Any) -> None:
    """Route every error through one place; ``render_error_page(request, error)`` draws
    the browser's version."""

    async def on_fairdraw_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.FairdrawError)
        if exc.status >= 500:
            log.warning("%s %s → %s %s", request.method, request.url.path, exc.status, exc.code)
        if wants_json(request):
            return problem_response(exc, request)
        response: Response = await render_error_page(request, exc)
        return response

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields: dict[str, str] = {}
        for item in exc.errors():
            location = [str(part) for part in item.get("loc", ()) if part != "body"]
            fields[".".join(location) or "body"] = str(item.get("msg", "invalid"))
        return await on_fairdraw_error(request, errors.InvalidInput(fields))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind: type[errors.FairdrawError]
        if exc.status_code == 404:
            kind = errors.NotFound
        elif exc.status_code == 405:
            kind = MethodNotAllowed
        else:
            kind = errors.FairdrawError
        return await on_fairdraw_error(request, kind())

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await on_fairdraw_error(request, errors.FairdrawError())

    async def on_store_unavailable(request: Request, exc: Exception) -> Response:
        log.error("store unavailable on %s %s: %s", request.method, request.url.path, exc)
        return await on_fairdraw_error(request, errors.StoreError())

    for kind in STORE_UNAVAILABLE_ERRORS:
        app.add_exception_handler(kind, on_store_unavailable)
    app.add_exception_handler(errors.FairdrawError, on_fairdraw_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


class MethodNotAllowed(errors.FairdrawError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"
