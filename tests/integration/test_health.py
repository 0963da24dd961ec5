"""Health check, and what users get when the store is unreachable."""

from __future__ import annotations

import httpx

from fairdraw.web.app import create_app
from tests.support.app import make_settings
from tests.support.github_server import GitHubStandIn


async def test_healthz_ok(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_store_down_is_503_not_500(github: GitHubStandIn) -> None:
    app = create_app(make_settings("redis://127.0.0.1:1/0", github.url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            health = await client.get("/healthz")
            assert health.status_code == 503
            api = await client.get("/api/v1/draws")
            assert api.status_code == 503
            assert api.json()["code"] == "store_unavailable"
            assert api.headers["retry-after"] == "5"
            assert "Traceback" not in api.text
            page = await client.get("/")
            assert page.status_code == 503
            assert "text/html" in page.headers["content-type"]
