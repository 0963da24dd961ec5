"""Submitting the server-rendered forms over HTTP, as a browser without JavaScript does,
and reading what the answer shows."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import httpx

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")


class FormBrowser:
    """One browser: an httpx client that keeps its cookies and reads CSRF tokens."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def csrf(self, path: str = "/login") -> str:
        page = await self.client.get(path)
        match = CSRF_FIELD.search(page.text)
        assert match, f"no CSRF field on {path}"
        return match[1]

    async def post(
        self, path: str, data: Mapping[str, str] | None = None, *, csrf: str | None = None
    ) -> httpx.Response:
        """Submit a form the way its page would, CSRF field included unless given."""
        token = csrf if csrf is not None else await self.csrf()
        return await self.client.post(path, data={"csrf_token": token, **(data or {})})

    async def log_in(self, credentials: tuple[str, str]) -> None:
        response = await self.post(
            "/login", {"username": credentials[0], "password": credentials[1]}
        )
        assert response.status_code == 303, response.text


# What a browser never shows as text: scripts (the page scripts' words among them, a JSON
# data block on every page) and style sheets.
_UNSHOWN = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE)


def text_of(page: str) -> str:
    """The page's text, tags and runs of whitespace collapsed, for phrase assertions."""
    return " ".join(html.unescape(_TAG.sub(" ", _UNSHOWN.sub(" ", page))).split())


def field_error(page: str, field: str) -> str:
    """The error message shown right under ``field`` (its ``<id>-error`` paragraph)."""
    match = re.search(rf'id="{re.escape(field)}-error">([^<]*)<', page)
    assert match, f"no error next to {field}"
    return html.unescape(match[1])


def input_value(page: str, field: str) -> str:
    """The value an ``<input>`` is shown with."""
    match = re.search(rf'<input[^>]*id="{re.escape(field)}"[^>]*value="([^"]*)"', page)
    assert match, f"no value in {field}"
    return html.unescape(match[1])
