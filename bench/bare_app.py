"""The framework floor for bench_entries.py: a bare FastAPI endpoint doing one script call.

``POST /enter/{draw_id}`` with ``{"github": LOGIN}`` runs the real ``enter`` script once
(no profile lookup, no reference HMAC, no error mapping, no middleware) and answers 201.
The difference between this and fairdraw's own endpoint is what fairdraw adds per entry.

Run by bench_entries.py as ``uvicorn bench.bare_app:create_app --factory --workers 2``,
with the store URL in ``FAIRDRAW_BENCH_STORE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

STORE_URL_VARIABLE = "FAIRDRAW_BENCH_STORE_URL"
# A fixed reference of the real length: the script stores it, it does not read it.
_REF = "0" * 32


class EntryIn(BaseModel):
    github: str


def create_app() -> FastAPI:
    """The bare app; the store URL comes from the environment (one app per worker)."""
    url = os.environ[STORE_URL_VARIABLE]
    keys = Keys()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = connect(url)
        app.state.scripts = Scripts(redis)
        try:
            yield
        finally:
            await redis.aclose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/ready")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.post("/enter/{draw_id}", status_code=201)
    async def enter(draw_id: str, body: EntryIn, request: Request) -> JSONResponse:
        scripts: Scripts = request.app.state.scripts
        created, index, _element = await scripts.call(
            "enter", keys.draw_keys(draw_id), [f"gh:{body.github}", _REF, body.github]
        )
        return JSONResponse({"index": int(index), "created": bool(created)}, status_code=201)

    return app
