"""Errors as HTTP responses: RFC 9457 problem+json for the API, a page for the browser."""

from __future__ import annotations

import http
import logging
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles

from fairdraw.domain import errors
from fairdraw.i18n import DEFAULT_LOCALE, N_, Alternatives, Message, current_locale, gettext
from fairdraw.logs import REQUEST_ID, REQUEST_ID_HEADER

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
        default=None,
        description="With already_entered, for an account draw: the caller's own receipt.",
    )
    request_id: str | None = Field(
        default=None, description="The request's id, as in the X-Request-ID header and logs."
    )


def problem_responses(*kinds: type[errors.FairdrawError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors a route can raise (plus 400, 413, 422, 500 and
    the 503 every route answers while the store is unreachable)."""
    by_status: dict[int, list[type[errors.FairdrawError]]] = defaultdict(list)
    every: tuple[type[errors.FairdrawError], ...] = (
        *kinds,
        MalformedRequest,
        ContentTooLarge,
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


def problem_document(error: errors.FairdrawError, instance: str | None) -> dict[str, Any]:
    """The RFC 9457 body of ``error``; ``instance`` is the request's path, if known."""
    # The words follow the request's language; type, status and code never change.
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": gettext(error.title),
        "status": error.status,
        "detail": gettext(error.detail),
        "code": error.code,
    }
    if instance is not None:
        body["instance"] = instance
    if isinstance(error, errors.InvalidInput):
        body["errors"] = {field: gettext(message) for field, message in error.errors.items()}
    body.update(error.extra)
    return body


def problem_response(
    error: errors.FairdrawError, request: Request, headers: Mapping[str, str] | None = None
) -> Response:
    """``error`` as an ``application/problem+json`` response, with ``headers`` added."""
    body = problem_document(error, request.url.path)
    headers = dict(headers or {})
    request_id = REQUEST_ID.get()  # set for each request by web/metrics.py
    if request_id is not None:
        body["request_id"] = request_id
        headers[REQUEST_ID_HEADER] = request_id
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

    async def on_fairdraw_error(
        request: Request, exc: Exception, headers: Mapping[str, str] | None = None
    ) -> Response:
        assert isinstance(exc, errors.FairdrawError)
        if exc.status >= 500:
            log.warning("%s %s → %s %s", request.method, request.url.path, exc.status, exc.code)
        if wants_json(request):
            return problem_response(exc, request, headers)
        response: Response = await render_error_page(request, exc)
        response.headers.update(headers or {})
        return response

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields: dict[str, str] = {}
        for item in exc.errors():
            location = [str(part) for part in item.get("loc", ())]
            # A field is named as the domain names it: "prizes.0.name", "offset", "date".
            if location and location[0] in ("body", "query", "path"):
                location = location[1:]
            fields[".".join(location) or "body"] = validation_message(item)
        return await on_fairdraw_error(request, errors.InvalidInput(fields))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        # Starlette's and FastAPI's own refusals: an unknown path, a method the path does
        # not take, a body that cannot be read, one over the size limit (web/limits.py).
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        kind = HTTP_ERRORS.get(exc.status_code)
        if kind is None:
            kind = MalformedRequest if 400 <= exc.status_code < 500 else errors.FairdrawError
        if kind is MethodNotAllowed:
            headers["Allow"] = allowed_methods(request)
        return await on_fairdraw_error(request, kind(unreadable_body(exc)), headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await on_fairdraw_error(request, errors.FairdrawError())

    async def on_store_unavailable(request: Request, exc: Exception) -> Response:
        # The store raises its outages as StoreError (store/connection.py); the client
        # library's own exceptions never reach this layer.
        assert isinstance(exc, errors.StoreError)
        cause = exc.__cause__ or exc
        log.error("store unavailable on %s %s: %s", request.method, request.url.path, cause)
        return await on_fairdraw_error(request, exc)

    app.add_exception_handler(errors.StoreError, on_store_unavailable)
    app.add_exception_handler(errors.FairdrawError, on_fairdraw_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


# Pydantic's own messages (the request schemas' types and bounds), by error type: in
# English they stay word for word as pydantic writes them; other languages get these,
# with the values of the error's ``ctx``. A type not listed stays in pydantic's words.
PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "json_invalid": N_("Invalid JSON"),
    "json_type": N_("The body should be JSON"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "list_type": N_("Input should be a valid list"),
    "too_short": N_("Should have at least %(min_length)s items, not %(actual_length)s"),
    "too_long": N_("Should have at most %(max_length)s items, not %(actual_length)s"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "date_from_datetime_parsing": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime"),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class PydanticMessage(Message):
    """A pydantic error's message: English as pydantic wrote it, other languages from
    :data:`PYDANTIC_MESSAGES`."""

    def __new__(cls, english: str, template: str, params: dict[str, object]) -> PydanticMessage:
        message = str.__new__(cls, english)
        message.template = template
        message.params = params
        return message

    def render(self, locale: str | None = None) -> str:
        if (locale or current_locale()) == DEFAULT_LOCALE:
            return str(self)
        return super().render(locale)

    def __reduce__(self) -> Any:
        return PydanticMessage, (str(self), self.template, self.params)


def validation_message(item: Mapping[str, Any]) -> str:
    """The message of one of pydantic's errors, to be put into the reader's language."""
    english = str(item.get("msg", "invalid"))
    template = PYDANTIC_MESSAGES.get(str(item.get("type")))
    if template is None:
        return english
    ctx = item.get("ctx") or {}
    params: dict[str, object] = {}
    for name in _PLACEHOLDER.findall(template):
        value = ctx.get(name)
        if not isinstance(value, (str, int, float)):
            return english
        params[name] = value
    if item.get("type") in _CHOICE_TYPES and isinstance(params.get("expected"), str):
        params["expected"] = _alternatives(str(params["expected"]))
    return PydanticMessage(english, template, params)


# Errors whose ``expected`` lists the allowed values, joined by pydantic in English.
_CHOICE_TYPES = frozenset({"literal_error", "enum"})


def _alternatives(expected: str) -> Alternatives:
    """pydantic's ``'a', 'b' or 'c'`` as its values, to be listed in the reader's
    language."""
    head, separator, last = expected.rpartition(" or ")
    if not separator:
        return Alternatives((expected,))
    return Alternatives((*head.split(", "), last))


# The refusals of HTTP itself, before any rule of fairdraw's is asked: they belong to the
# web layer, not to the domain's error tree.
class MalformedRequest(errors.FairdrawError):
    status = 400
    code = "malformed_request"
    title = N_("The request could not be read")


class MethodNotAllowed(errors.FairdrawError):
    status = 405
    code = "method_not_allowed"
    title = N_("Method not allowed")


class RequestTimeout(errors.FairdrawError):
    status = 408
    code = "request_timeout"
    title = N_("The request took too long to arrive")


class ContentTooLarge(errors.FairdrawError):
    status = 413
    code = "content_too_large"
    title = N_("The request body is too large")


class HeadersTooLarge(errors.FairdrawError):
    status = 431
    code = "headers_too_large"
    title = N_("The request line and headers are too large")


HTTP_ERRORS: dict[int, type[errors.FairdrawError]] = {
    400: MalformedRequest,
    404: errors.NotFound,
    405: MethodNotAllowed,
    408: RequestTimeout,
    413: ContentTooLarge,
    431: HeadersTooLarge,
}

# Every method a route of fairdraw's may take, in the order an Allow header lists them.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: every method some route takes at this path.

    Starlette names only the methods of the first route whose path matched, and
    FastAPI registers each method of a path as a route of its own, so its header
    would leave out the path's other methods."""
    found: list[str] = []
    # A mount (the static files) changed the root path to its own; the app's is kept aside.
    root_path = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    for method in METHODS:
        probe = {
            "type": "http",
            "method": method,
            "path": request.scope["path"],
            "root_path": root_path,
            "headers": [],
            "query_string": b"",
        }
        for route in request.app.router.routes:
            if isinstance(route, Mount):
                # A mount takes its whole subtree whatever the method; the only one
                # fairdraw has serves static files, which answer GET and HEAD.
                if isinstance(route.app, StaticFiles) and method in ("GET", "HEAD"):
                    match, _ = route.matches(probe)
                    if match is Match.FULL:
                        found.append(method)
                        break
                continue
            match, _ = route.matches(probe)
            if match is Match.FULL:
                found.append(method)
                break
    return ", ".join(found)


def unreadable_body(exc: StarletteHTTPException) -> str | None:
    """What was wrong with a body FastAPI could not parse (it answers every such body
    with one 400 and keeps the reason as the cause), or the refusal's own detail."""
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "The body is not valid UTF-8."
    if isinstance(cause, RecursionError):
        return "The JSON body is nested too deeply."
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "A number in the JSON body has too many digits."
    if isinstance(exc.detail, str) and exc.detail != _phrase(exc.status_code):
        return exc.detail
    return None


def _phrase(status: int) -> str | None:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return None
