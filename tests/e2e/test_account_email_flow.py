"""An account's e-mail address in a real Chromium against a real server: set it on the
account page, follow the confirmation link the loopback SMTP server received (its code
travels after "#", never to the server), and see it confirmed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.app import PARTICIPANT, create_accounts, make_settings, serve
from tests.support.browser import collect_page_errors, log_in, press, real_errors, screenshot
from tests.support.github_server import GitHubStandIn
from tests.support.smtp_server import SmtpServer, free_port


@pytest.fixture
def mailing_server(
    store_url: str, github: GitHubStandIn, redis_sync: object, smtp_server: SmtpServer
) -> Iterator[str]:
    """The app over real HTTP, sending mail to the loopback server; its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        store_url,
        github.url,
        **(smtp_server.settings() | {"public_url": base}),
        scheduler=True,
        scheduler_interval_seconds=0.2,
    )
    asyncio.run(create_accounts(settings))
    with serve(settings, port=port) as served:
        yield served.url


def test_an_address_set_on_the_account_page_is_confirmed_by_its_link(
    mailing_server: str, smtp_server: SmtpServer, page: Page
) -> None:
    base = mailing_server
    errors = collect_page_errors(page)
    log_in(page, base, PARTICIPANT)
    page.goto(f"{base}/account/email")
    expect(page.locator("#email-status")).to_have_text("Your account has no e-mail address.")
    page.get_by_label("Address").fill("Pat@Example.org")
    press(page, "Save address")
    expect(page.get_by_role("status")).to_have_text(
        "Your address was saved. Follow the link we sent to it to confirm it."
    )
    expect(page.locator("#email-status")).to_contain_text("Pat@example.org")
    expect(page.locator("#email-status .tag")).to_have_text("unconfirmed")
    expect(page.get_by_role("button", name="Resend the confirmation link")).to_be_visible()
    screenshot(page, "account-email-unconfirmed")

    (message,) = smtp_server.wait_for(1)
    assert message.rcpt_tos == ["Pat@example.org"]
    found = re.search(re.escape(base) + r"/account/email/confirm#[A-Za-z0-9_-]{43}", message.text)
    assert found is not None
    link = found[0]
    page.goto(link)
    expect(page.get_by_label("Confirmation code")).to_have_value(link.rpartition("#")[2])
    assert page.url == f"{base}/account/email/confirm"  # the code left the address bar
    press(page, "Confirm")
    expect(page.locator("#confirmed")).to_contain_text("Your e-mail address is confirmed")

    assert real_errors(errors) == []

    # The link works once: again, the form says why not (a 404 page).
    page.goto(link)
    press(page, "Confirm")
    expect(page.get_by_text("This confirmation link is not valid").first).to_be_visible()
    assert any(e.startswith(f"HTTP 404: {base}/account/email/confirm") for e in errors)
    errors.clear()

    page.goto(f"{base}/account/email")
    expect(page.locator("#email-status .tag")).to_have_text("confirmed")
    expect(page.get_by_role("button", name="Resend the confirmation link")).to_have_count(0)
    screenshot(page, "account-email-confirmed")
    assert real_errors(errors) == []
