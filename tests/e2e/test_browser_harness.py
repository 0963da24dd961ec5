"""The page layout and form macros, rendered and checked in a real Chromium.

The layout is rendered with Jinja2 directly and served by the standard library's HTTP
server with the package's static files, so these checks need no app and no store.
"""

from __future__ import annotations

import enum
import functools
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import jinja2
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from starlette.datastructures import URL

import fairdraw.web
from fairdraw.web.app import create_templates
from tests.support.browser import (
    CONTRAST_SCRIPT,
    WCAG_AA_TEXT,
    collect_page_errors,
    screenshot,
)

WEB_DIR = Path(fairdraw.web.__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
PHONE: ViewportSize = {"width": 390, "height": 844}

# A page exercising the layout and every macro, with the errors a failed form shows.
SAMPLE_PAGE = """\
{% extends "base.html" %}
{% import "macros.html" as forms %}
{% block title %}Summer giveaway · fairdraw{% endblock %}
{% block content %}
<h1 class="title">Summer giveaway</h1>
<p class="block">Entries close on Friday. The seed commitment is
<span class="fd-mono">{{ commitment }}</span>.</p>
{{ forms.error_summary(errors) }}
<form method="post" action="/draws">
  {{ forms.csrf(csrf_token) }}
  {{ forms.field("title", "Title", errors=errors, help="Shown to entrants.", required=true) }}
  {{ forms.textarea("description", "Description", value="Two prizes.", errors=errors) }}
  <div class="field">
    <div class="control">
      <button class="button is-primary" type="submit">Create draw</button>
    </div>
  </div>
</form>
<h2 class="fd-result-heading mt-6">Winner: octocat</h2>
{% endblock %}
"""
SAMPLE_ERRORS = {"title": "Enter a title.", "description": "Keep it under 2000 characters."}


class Role(enum.Enum):
    PARTICIPANT = "participant"
    MANAGER = "manager"
    ADMIN = "admin"


@dataclass(frozen=True)
class SampleUser:
    username: str
    display_name: str
    role: Role


def _static_url(name: str, /, **params: str) -> URL:
    assert name == "static"
    return URL(f"/static/{params['path']}")


def _environment() -> jinja2.Environment:
    """The app's own template environment (its filters, translations and globals), strict
    about undefined names, with static URLs that need no request."""
    env = create_templates().env
    env.undefined = jinja2.StrictUndefined
    env.globals["url_for"] = _static_url
    return env


def _render(source: str, **context: Any) -> str:
    return _environment().from_string(source).render(**context)


def _render_page(user: SampleUser | None, notice: str | None = None) -> str:
    return _render(
        SAMPLE_PAGE,
        current_user=user,
        csrf_token="token-123",
        notice=notice,
        errors=SAMPLE_ERRORS,
        commitment="9f" * 32,
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a local server holding the sample page and the package's static files."""
    root = tmp_path_factory.mktemp("site")
    manager = SampleUser("ada", "Ada Lovelace", Role.MANAGER)
    page_html = _render_page(manager, notice="Draw created.")
    (root / "index.html").write_text(page_html, encoding="utf-8")
    (root / "static").symlink_to(STATIC_DIR, target_is_directory=True)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the layout as rendered text ------------------------------------------------------------


def test_anonymous_visitor_gets_a_login_link_and_no_manager_links() -> None:
    html = _render_page(None)

    assert '<a class="navbar-item" href="/login">Log in</a>' in html
    assert "Log out" not in html
    assert "/draws/new" not in html


@pytest.mark.parametrize(
    ("role", "sees_new_draw"),
    [(Role.PARTICIPANT, False), (Role.MANAGER, True), (Role.ADMIN, True)],
)
def test_logged_in_user_gets_logout_form_and_new_draw_by_role(
    role: Role, sees_new_draw: bool
) -> None:
    html = _render_page(SampleUser("ada", "Ada Lovelace", role))

    assert ('<a class="navbar-item" href="/draws/new">New draw</a>' in html) is sees_new_draw
    assert '<form class="navbar-item" method="post" action="/logout">' in html
    assert '<input type="hidden" name="csrf_token" value="token-123">' in html
    assert "Ada Lovelace" in html
    assert 'href="/login"' not in html


def test_layout_defaults_and_escapes_the_notice() -> None:
    html = _render('{% extends "base.html" %}', notice="<b>Saved</b>")

    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert "<title>fairdraw</title>" in html
    assert '<link rel="stylesheet" href="/static/vendor/bulma/bulma.min.css">' in html
    assert (
        '<div class="notification is-info is-light" role="status">&lt;b&gt;Saved&lt;/b&gt;</div>'
        in html
    )
    assert '<a class="navbar-item" href="/login">Log in</a>' in html


def test_layout_has_no_inline_script_or_style() -> None:
    html = _render_page(SampleUser("ada", "Ada", Role.ADMIN), notice="Hello")

    # fairdraw.js, live.js, messages.js and local_time.js, all files: no inline code; the
    # one other script element is the page scripts' words, a JSON data block never run.
    assert html.count("<script src=") == 4
    assert html.count("<script") == 5
    assert html.count('<script type="application/json" id="fd-messages">') == 1
    assert " style=" not in html
    assert "<style" not in html


def test_password_field_never_echoes_its_value() -> None:
    html = _render(
        '{% import "macros.html" as forms %}'
        '{{ forms.field("password", "Password", value="hunter2", type="password") }}'
    )

    assert "hunter2" not in html
    assert '<input class="input" type="password" id="password" name="password">' in html


def test_field_attrs_render_booleans_and_skip_false() -> None:
    html = _render(
        '{% import "macros.html" as forms %}'
        '{{ forms.field("handle", "GitHub handle", value="o\\"cat",'
        ' attrs={"autofocus": true, "disabled": false, "maxlength": 39}) }}'
    )

    assert (
        '<input class="input" type="text" id="handle" name="handle" value="o&#34;cat"'
        ' autofocus="autofocus" maxlength="39">'
    ) in html


# --- the layout in Chromium ------------------------------------------------------------------


def _stylesheets(page: Page) -> dict[str, int]:
    sheets: list[dict[str, Any]] = page.evaluate(
        "() => [...document.styleSheets].map(s => ({href: s.href, rules: s.cssRules.length}))"
    )
    return {str(sheet["href"]).rsplit("/static/", 1)[-1]: int(sheet["rules"]) for sheet in sheets}


def _overflow(page: Page) -> int:
    width: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


@pytest.mark.browser
def test_desktop_page_loads_bulma_and_project_styles_without_errors(page: Page, site: str) -> None:
    errors = collect_page_errors(page)
    page.goto(site + "/")

    sheets = _stylesheets(page)
    assert sheets.keys() == {"vendor/bulma/bulma.min.css", "fairdraw.css"}
    assert sheets["vendor/bulma/bulma.min.css"] > 1000
    assert sheets["fairdraw.css"] > 10
    # Bulma lays the desktop menu out as a flex row and sizes .title at 2rem.
    assert page.locator(".navbar-menu").evaluate("e => getComputedStyle(e).display") == "flex"
    assert page.locator("h1.title").evaluate("e => getComputedStyle(e).fontSize") == "32px"
    expect(page.locator(".navbar-burger")).to_be_hidden()
    expect(page).to_have_title("Summer giveaway · fairdraw")
    expect(page.get_by_role("status")).to_have_text("Draw created.")
    expect(page.get_by_role("link", name="New draw")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert _overflow(page) == 0
    assert errors == []
    assert screenshot(page, "harness-desktop").stat().st_size > 0


@pytest.mark.browser
def test_phone_layout_fits_and_burger_toggles_menu(page: Page, site: str) -> None:
    errors = collect_page_errors(page)
    page.set_viewport_size(PHONE)
    page.goto(site + "/")

    burger = page.get_by_role("button", name="Menu")
    expect(burger).to_be_visible()
    expect(burger).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Draws")).to_be_hidden()
    assert _overflow(page) == 0
    screenshot(page, "harness-phone")

    burger.click()

    expect(burger).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Draws")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert _overflow(page) == 0
    screenshot(page, "harness-phone-menu")
    assert errors == []


@pytest.mark.browser
def test_phone_navigation_works_without_javascript(browser: Browser, site: str) -> None:
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=False, reduced_motion="reduce"
    )
    try:
        page = context.new_page()
        page.goto(site + "/")

        expect(page.locator(".navbar-burger")).to_be_hidden()
        expect(page.get_by_role("link", name="Draws")).to_be_visible()
        expect(page.get_by_role("link", name="New draw")).to_be_visible()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        assert _overflow(page) == 0
    finally:
        context.close()


@pytest.mark.browser
def test_keyboard_focus_is_visible(page: Page, site: str) -> None:
    page.goto(site + "/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0

    page.keyboard.press("Tab")
    brand = page.locator(".fd-brand")
    expect(brand).to_be_focused()
    outline = brand.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline == ["solid", "3px"]


@pytest.mark.browser
def test_form_fields_are_labelled_described_and_linked_from_the_summary(
    page: Page, site: str
) -> None:
    page.goto(site + "/")

    title = page.get_by_label("Title")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description("Enter a title. Shown to entrants.")
    expect(page.get_by_label("Description")).to_have_accessible_description(
        "Keep it under 2000 characters."
    )
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(list(SAMPLE_ERRORS.values()))
    for field_name in SAMPLE_ERRORS:
        link = summary.locator(f'a[href="#{field_name}"]')
        expect(link).to_have_count(1)
        expect(page.locator(f"#{field_name}")).to_have_count(1)


TEXT_SELECTORS = [
    "main p",
    "h1.title",
    ".fd-brand",
    ".navbar-end a.navbar-item",
    ".navbar-end .button",
    ".fd-user",
    ".notification[role=status]",
    ".notification[role=alert] a",
    ".label",
    ".help:not(.is-danger)",
    ".help.is-danger",
    ".textarea",
    ".button.is-primary",
    ".fd-result-heading",
]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(
    page: Page, site: str, scheme: Literal["light", "dark"]
) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto(site + "/")
    if scheme == "dark":
        screenshot(page, "harness-desktop-dark")

    ratios: Mapping[str, float | None] = page.evaluate(CONTRAST_SCRIPT, TEXT_SELECTORS)

    assert set(ratios) == set(TEXT_SELECTORS)
    missing = [selector for selector, ratio in ratios.items() if ratio is None]
    assert missing == []
    too_low = {s: r for s, r in ratios.items() if r is not None and r < WCAG_AA_TEXT}
    assert too_low == {}
