"""Pytest plugin: a real Chromium driven through Playwright's sync API.

Fixtures: ``browser`` (one Chromium per session) and ``page`` (a fresh browser context per
test, 1280x800, closed afterwards). Helpers: ``screenshot``, ``collect_page_errors`` and
``contrast_ratios``.

Debian's ``/usr/bin/chromium`` is used; Playwright's own browser downloads are not. When
it is missing the browser tests skip locally but fail under ``CI=true``, so CI can never
pass without running them. Browser tests are plain ``def`` tests: the sync API refuses to
run inside an asyncio event loop. They may still use async fixtures and ``asyncio.run``
(see ``_other_loops_may_run``), and async tests may run after them in the same session.
Every test using these fixtures gets the ``browser`` marker, so ``-m "not browser"``
deselects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)

CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Long enough for a page of this app on a busy 2-core CI machine, short enough to fail fast.
DEFAULT_TIMEOUT_MS = 15_000
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "build" / "screenshots"

# WCAG 2.x level AA minimum contrast for normal-size text.
WCAG_AA_TEXT = 4.5
# Contrast of each selector's first match against what is painted behind it, following
# WCAG 2.x relative luminance; null where nothing matches. Argument: a list of selectors.
CONTRAST_SCRIPT = """
selectors => {
  const parse = text => {
    const m = text.match(/^rgba?\\(([^)]*)\\)$/);
    if (!m) throw new Error("unexpected colour " + text);
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = c => {
    const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    const white = {r: 255, g: 255, b: 255, a: 1};
    return layers.reverse().reduce((acc, layer) => over(layer, acc), white);
  };
  const result = {};
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    if (!element) { result[selector] = null; continue; }
    const bg = background(element);
    const fg = over(parse(getComputedStyle(element).color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    result[selector] = Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  }
  return result;
}
"""

_P = ParamSpec("_P")
_R = TypeVar("_R")
_REPORT_KEY = pytest.StashKey[dict[str, pytest.TestReport]]()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as ``build/screenshots/<name>.png`` and return its path."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"screenshot name must be a plain file name, got {name!r}")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def collect_page_errors(page: Page) -> list[str]:
    """Start recording console errors, uncaught exceptions and failed responses.

    Returns a list that fills as the page runs; attach before navigating.
    """
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            errors.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on(
        "requestfailed",
        lambda request: errors.append(f"failed: {request.url} ({request.failure})"),
    )
    page.on("response", on_response)
    return errors


def contrast_ratios(page: Page, selectors: list[str]) -> dict[str, float | None]:
    """Text contrast of the first element matching each selector (None: no match)."""
    ratios: dict[str, float | None] = page.evaluate(CONTRAST_SCRIPT, selectors)
    return ratios


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session."""
    if not CHROMIUM_PATH.exists():
        message = f"Chromium not installed ({CHROMIUM_PATH})"
        if _in_ci():
            pytest.fail(f"{message}: browser tests must run in CI")
        pytest.skip("Chromium not installed")
    with sync_playwright() as playwright:
        # Between its calls the sync API leaves its own loop marked as running on this
        # thread (that is how it refuses to be called from async code).
        playwright_loop = asyncio.events._get_running_loop()
        with _other_loops_may_run(playwright_loop):
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM_PATH),
                headless=True,
                args=list(CHROMIUM_ARGS),
            )
            try:
                yield launched
            finally:
                launched.close()


@contextlib.contextmanager
def _other_loops_may_run(playwright_loop: asyncio.AbstractEventLoop | None) -> Iterator[None]:
    """Let other event loops run on this thread while Playwright is started.

    Playwright's loop stays marked as running on the main thread between sync calls, so
    ``asyncio.run`` and pytest-asyncio's runners would refuse to start for the rest of the
    session, in async tests and in fixtures alike. While the browser lives, those entry
    points hide that mark for as long as they run and put it back afterwards; Playwright's
    loop is idle then, suspended in its own greenlet until the next sync call.
    """
    if playwright_loop is None:
        yield
        return

    def parking(run: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(run)
        def run_with_playwright_parked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if asyncio.events._get_running_loop() is not playwright_loop:
                return run(*args, **kwargs)
            asyncio.events._set_running_loop(None)
            try:
                return run(*args, **kwargs)
            finally:
                asyncio.events._set_running_loop(playwright_loop)

        return run_with_playwright_parked

    with pytest.MonkeyPatch.context() as patch:
        parked_asyncio_run = parking(asyncio.run)
        patch.setattr(asyncio, "run", parked_asyncio_run)
        patch.setattr(asyncio.runners, "run", parked_asyncio_run)
        patch.setattr(asyncio.Runner, "run", parking(asyncio.Runner.run))
        for method in ("run_until_complete", "run_forever"):
            original = getattr(asyncio.BaseEventLoop, method)
            patch.setattr(asyncio.BaseEventLoop, method, parking(original))
        yield


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context; a failing test leaves a screenshot behind."""
    # Reduced motion turns transitions off, so a screenshot never catches one half-way.
    context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        reports = request.node.stash.get(_REPORT_KEY, {})
        if "call" in reports and reports["call"].failed and not new_page.is_closed():
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", request.node.nodeid)[-120:]
            # A screenshot that cannot be taken must not hide the test's own failure.
            with contextlib.suppress(Exception):
                screenshot(new_page, f"failed-{name}")
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the browser, so it can be selected or deselected."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, for the failure screenshot in ``page``."""
    report: pytest.TestReport = yield
    item.stash.setdefault(_REPORT_KEY, {})[report.when] = report
    return report


def press(page: Page, button: str) -> None:
    """Click a submit button and wait for the next page to load completely, so that
    leaving it straight away aborts none of its requests."""
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def log_in(page: Page, base: str, credentials: tuple[str, str]) -> None:
    """Log in through the login page."""
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(credentials[0])
    page.get_by_label("Password").fill(credentials[1])
    press(page, "Log in")
    # On a phone the button is behind the navbar's menu: present, not necessarily shown.
    expect(page.get_by_role("button", name="Log out", include_hidden=True)).to_be_attached()


def real_errors(errors: list[str]) -> list[str]:
    """``errors`` without requests cancelled by leaving the page: Chromium aborts the
    favicon and lazily loaded images when a page is left or reloaded quickly (as a test
    does), which is no fault of the page."""
    return [e for e in errors if not (e.startswith("failed:") and e.endswith("(net::ERR_ABORTED)"))]


def low_contrast(page: Page, selectors: list[str], *, reload: bool = True) -> dict[str, object]:
    """Text below WCAG AA contrast in the light and the dark colour scheme.

    With ``reload`` each scheme gets a fresh load, so no colour transition is caught
    half-way; a page that answered a POST must not be reloaded (that would send the form
    again) and relies on its context's reduced motion instead.
    """
    found: dict[str, object] = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        if reload:
            page.reload()
        for selector, ratio in contrast_ratios(page, selectors).items():
            if ratio is None or ratio < WCAG_AA_TEXT:
                found[f"{scheme} {selector}"] = ratio
    page.emulate_media(color_scheme="light")
    return found
