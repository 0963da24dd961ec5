from __future__ import annotations
import re
from collections.abc import Iterator
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.app import LiveServer, MANAGER, PARTICIPANT
from tests.support.browser import screenshot

# TEMPORARY-OVERRIDE-START
import asyncio as _asyncio  # noqa: E402
import threading as _threading  # noqa: E402
import time as _time  # noqa: E402
from typing import Any as _Any  # noqa: E402

import uvicorn as _uvicorn  # noqa: E402

from fairdraw.web.app import create_app as _create_app  # noqa: E402
from tests.support import app as _support  # noqa: E402


@pytest.fixture
def live_server(store_url: str, github: _Any, redis_sync: _Any) -> Iterator[LiveServer]:
    settings = _support.make_settings(store_url, github.url)
    t = _threading.Thread(target=lambda: _asyncio.run(_support.create_accounts(settings)))
    t.start()
    t.join()
    config = _uvicorn.Config(
        _create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = _uvicorn.Server(config)
    thread = _threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        _time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, github)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_scratch(live_server: LiveServer, admin_credentials: tuple[str, str], page: Page, browser: Browser) -> None:
    base = live_server.url
    page.goto(base + "/")
    screenshot(page, "zz-home-empty")
    page.goto(base + "/login")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("bad password x")
    page.get_by_role("button", name="Log in").click()
    screenshot(page, "zz-login-failed")
    page.get_by_label("Username").fill(admin_credentials[0])
    page.get_by_label("Password").fill(admin_credentials[1])
    page.get_by_role("button", name="Log in").click()
    page.goto(base + "/draws/new")
    screenshot(page, "zz-new")
    page.get_by_label("Prize 3").fill("Mug")
    page.locator("[id='prizes.1.quantity']").fill("3")
    page.get_by_label("…or entries stay open for").fill("soon")
    page.get_by_role("button", name="Create draw").click()
    screenshot(page, "zz-new-errors")
    page.get_by_label("Title").fill("Big raffle")
    page.get_by_label("…or entries stay open for").fill("2h")
    page.get_by_label("Prize 2").fill("Hat")
    page.get_by_role("button", name="Add another prize").click()
    page.get_by_label("Prize 6").fill("Pen")
    page.get_by_role("button", name="Create draw").click()
    expect(page).to_have_url(re.compile(r"/draws/[a-z2-7]{12}$"))
    screenshot(page, "zz-draw-admin")
    page.goto(base + "/")
    screenshot(page, "zz-home-admin")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    p2 = phone.new_page()
    p2.goto(page.url if False else base + "/")
    p2.get_by_role("link", name="Big raffle").click()
    p2.get_by_label("Your GitHub username").fill("nobody-here")
    p2.get_by_role("button", name="Enter the draw").click()
    screenshot(p2, "zz-enter-error-phone")
    p2.goto(base + "/draws/new")
    screenshot(p2, "zz-redirect-login-phone")
    p2.goto(base + "/draws/abcdefghijkl")
    screenshot(p2, "zz-404-phone")
    p2.goto(base + "/draws/new")
    p2.get_by_label("Username").fill(MANAGER[0])
    p2.get_by_label("Password").fill(MANAGER[1])
    p2.get_by_role("button", name="Log in").click()
    expect(p2).to_have_url(base + "/draws/new")
    screenshot(p2, "zz-new-phone")
    page.goto(base + "/docs")
    page.wait_for_selector(".swagger-ui .info")
    screenshot(page, "zz-docs")
    phone.close()
