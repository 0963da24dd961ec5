"""Sharing in a real Chromium against a real server: a page on another loopback origin
frames the draw's widget, which shows only where its organiser allowed that origin, and
the draw page's "Copy link" button puts the page's address on the clipboard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import VIEWPORT, collect_page_errors, real_errors, screenshot

PRIZES = [{"name": "Mug", "quantity": 1}]


class EmbeddingSite:
    """Another site, on its own loopback port: one page that frames what it is told to."""

    def __init__(self) -> None:
        self.page = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.page)))
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, format: str, *args: Any) -> None:
                # The test output is no place for an access log.
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def frame(self, frames: dict[str, str]) -> None:
        """Serve a page with one iframe per ``id → src``."""
        body = "".join(
            f'<iframe id="{name}" src="{src}" width="400" height="220"></iframe>'
            for name, src in frames.items()
        )
        self.page = f"<!doctype html><title>Blog</title><h1>Our blog</h1>{body}".encode()


@pytest.fixture
def embedding_site() -> Iterator[EmbeddingSite]:
    site = EmbeddingSite()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()
        thread.join(timeout=5)


def create_draw(server: LiveServer, title: str, embed_origins: list[str]) -> str:
    with httpx.Client(base_url=server.url) as client:
        session = client.post(
            "/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]}
        )
        body = {"title": title, "prizes": PRIZES, "open": True, "embed_origins": embed_origins}
        created = client.post(
            "/api/v1/draws", json=body, headers={"X-CSRF-Token": session.json()["csrf_token"]}
        )
    assert created.status_code == 201, created.text
    draw_id: str = created.json()["id"]
    return draw_id


def test_only_a_listed_origin_shows_the_widget(
    live_server: LiveServer, embedding_site: EmbeddingSite, page: Page
) -> None:
    base = live_server.url
    allowed = create_draw(live_server, "Blog giveaway", [embedding_site.origin])
    elsewhere = create_draw(live_server, "Somebody else's", ["https://news.example.org"])
    embedding_site.frame(
        {"allowed": f"{base}/draws/{allowed}/embed", "refused": f"{base}/draws/{elsewhere}/embed"}
    )
    refusals: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "frame-ancestors" in message.text:
            refusals.append(message.text)

    page.on("console", on_console)
    page.goto(embedding_site.origin + "/")
    widget = page.frame_locator("#allowed")
    expect(widget.locator("h1")).to_have_text("Blog giveaway")
    expect(widget.locator(".fd-embed-state")).to_have_text("Open for entries. 0 entries.")
    # Chromium refuses the other draw's widget: its frame shows Chromium's error page.
    refused = page.frame(name="refused")
    assert refused is not None
    refused.wait_for_url("chrome-error://chromewebdata/")
    expect(page.frame_locator("#refused").get_by_text("Somebody else's")).to_have_count(0)
    assert refusals == [
        f"Framing '{base}/' violates the following Content Security Policy directive: "
        '"frame-ancestors https://news.example.org". The request has been blocked.\n'
    ]
    # Entering happens on the draw's own page, in a new tab.
    with page.expect_popup() as opened:
        widget.get_by_role("link", name="Enter this draw").click()
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url == f"{base}/draws/{allowed}"
    screenshot(page, "sharing-embedded-widget")
    expect(popup.locator("h1").first).to_have_text("Blog giveaway")


def test_the_copy_link_button_copies_the_pages_address(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    base = live_server.url
    draw_id = create_draw(live_server, "Copy me", [])
    errors = collect_page_errors(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.goto(f"{base}/draws/{draw_id}")
    button = page.get_by_role("button", name="Copy link")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator(".fd-copy-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == f"{base}/draws/{draw_id}"
    assert real_errors(errors) == []
    screenshot(page, "sharing-copy-link")

    # Without JavaScript the address is there to select, and no button that does nothing.
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(f"{base}/draws/{draw_id}")
        expect(plain.get_by_label("Link to this page")).to_have_value(f"{base}/draws/{draw_id}")
        expect(plain.get_by_role("button", name="Copy link")).to_be_hidden()
    finally:
        context.close()
