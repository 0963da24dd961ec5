"""``/docs``: Swagger UI for the JSON API, served from fairdraw's own static files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter()

# No favicon request at all: an empty data URL (the CSP allows data: images).
_NO_FAVICON = "data:,"


@router.get("/docs")
async def api_docs(request: Request) -> HTMLResponse:
    """The interactive API reference; its assets are vendored under
    ``static/vendor/swagger-ui`` so the page works offline and loads nothing from a CDN."""
    app = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=_static(request, "swagger-ui-bundle.js"),
        swagger_css_url=_static(request, "swagger-ui.css"),
        swagger_favicon_url=_NO_FAVICON,
        # Swagger UI would otherwise send the schema to an outside validator service.
        swagger_ui_parameters={"validatorUrl": None},
    )


def _static(request: Request, name: str) -> str:
    # A path, not an absolute URL: behind a TLS proxy the app may see http.
    return request.url_for("static", path=f"vendor/swagger-ui/{name}").path
