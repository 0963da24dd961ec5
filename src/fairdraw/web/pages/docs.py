"""``/docs``: the API reference, server-rendered from the OpenAPI document so that it works
with a keyboard, a screen reader and no JavaScript; ``/docs/swagger``: Swagger UI, for
trying calls out, served from fairdraw's own static files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.api_reference import build_reference
from fairdraw.web.pages.rendering import render

router = APIRouter()

SWAGGER_PATH = "/docs/swagger"
# No favicon request at all: an empty data URL (the CSP allows data: images).
_NO_FAVICON = "data:,"


@router.get("/docs")
async def api_reference(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """Every operation and schema of the JSON API, as a plain page."""
    app = request.app
    context = {
        "reference": build_reference(app.openapi()),
        "swagger_url": SWAGGER_PATH,
        "openapi_url": app.openapi_url or "/openapi.json",
    }
    return render(request, services, visitor, "api_docs.html", context)


@router.get(SWAGGER_PATH)
async def api_explorer(request: Request) -> HTMLResponse:
    """The interactive API explorer; its assets are vendored under
    ``static/vendor/swagger-ui`` so the page works offline and loads nothing from a CDN."""
    app = request.app
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=_static(request, "swagger-ui-bundle.js"),
        swagger_css_url=_static(request, "swagger-ui.css"),
        swagger_favicon_url=_NO_FAVICON,
        # Swagger UI would otherwise send the schema to an outside validator service.
        swagger_ui_parameters={"validatorUrl": None},
    )
    # FastAPI's page names no language; screen readers need one to pick a voice.
    body = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
    return HTMLResponse(body)


def _static(request: Request, name: str) -> str:
    # A path, not an absolute URL: behind a TLS proxy the app may see http.
    return request.url_for("static", path=f"vendor/swagger-ui/{name}").path
