"""The e-mail pages without a browser: forms need their CSRF token, a bad address is
shown next to its field with nothing stored, a form sent twice acts once, and the
confirmation form takes a typed code."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.web.deps import Services
from tests.support.app import PARTICIPANT, login, make_settings
from tests.support.github_server import GitHubStandIn
from tests.support.smtp_server import SmtpServer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
CODE = re.compile(r"enter this code on your account page: ([A-Za-z0-9_-]{43})")


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn, smtp_server: SmtpServer) -> Settings:
    return make_settings(store_url, github.url, **smtp_server.settings())


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


async def form_fields(client: httpx.AsyncClient, path: str) -> tuple[str, str]:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    csrf, key = CSRF.search(page.text), FORM_KEY.search(page.text)
    assert csrf is not None
    return csrf[1], key[1] if key else ""


async def test_the_forms_set_and_confirm_an_address(
    app: FastAPI, app_client: httpx.AsyncClient, smtp_server: SmtpServer, redis: Redis
) -> None:
    assert (await app_client.get("/account/email")).status_code in (303, 401)
    await login(app_client, PARTICIPANT)
    before = await redis.dbsize()
    refused = await app_client.post("/account/email", data={"action": "save", "email": "a@b.c"})
    assert refused.status_code == 403
    assert await redis.dbsize() == before

    csrf, key = await form_fields(app_client, "/account/email")
    bad = {"csrf_token": csrf, "idempotency_key": key, "action": "save", "email": "nope"}
    shown = await app_client.post("/account/email", data=bad)
    assert shown.status_code == 422
    assert "This is not an e-mail address" in shown.text
    assert 'value="nope"' in shown.text
    assert (await app_client.get("/api/v1/account")).json()["email"] is None

    csrf, key = await form_fields(app_client, "/account/email")
    good = {"csrf_token": csrf, "idempotency_key": key, "action": "save", "email": "pat@ex.org"}
    for _ in range(2):  # sent twice: one change, one message
        saved = await app_client.post("/account/email", data=good)
        assert saved.status_code == 303
        assert saved.headers["location"] == "/account/email?done=saved"
    page = (await app_client.get("/account/email?done=saved")).text
    assert "Follow the link we sent to it to confirm it." in page
    assert "unconfirmed" in page
    assert await services_of(app).mail.deliver_due() == 1
    (message,) = smtp_server.wait_for(1)
    code = CODE.search(message.text)
    assert code is not None

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        csrf, key = await form_fields(other, "/account/email/confirm")
        wrong = await other.post(
            "/account/email/confirm",
            data={"csrf_token": csrf, "idempotency_key": key, "token": "x" * 43},
        )
        assert wrong.status_code == 404
        assert "This confirmation link is not valid" in wrong.text
        csrf, key = await form_fields(other, "/account/email/confirm")
        sent = {"csrf_token": csrf, "idempotency_key": key, "token": f" {code[1]} "}
        for _ in range(2):  # a double click: confirmed once, both see it
            done = await other.post("/account/email/confirm", data=sent)
            assert done.status_code == 303
            assert done.headers["location"] == "/account/email/confirmed"
        confirmed = await other.get("/account/email/confirmed")
        assert "Your e-mail address is confirmed" in confirmed.text
    assert (await app_client.get("/api/v1/account")).json()["email_confirmed"] is True

    csrf, key = await form_fields(app_client, "/account/email")
    remove = {"csrf_token": csrf, "idempotency_key": key, "action": "remove"}
    removed = await app_client.post("/account/email", data=remove)
    assert removed.headers["location"] == "/account/email?done=removed"
    assert "Your account has no e-mail address." in (await app_client.get("/account/email")).text
