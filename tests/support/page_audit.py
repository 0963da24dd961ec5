"""Page audits for browser tests: accessibility rules (axe-core) and horizontal overflow.

axe-core is vendored under ``tests/support/vendor/axe-core`` as a test tool; fairdraw never
serves it. fairdraw's Content-Security-Policy refuses injected scripts, so a page audited
with :func:`axe_violations` must come from a browser context opened with
``bypass_csp=True`` (:func:`audit_context`), used for audits only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import Browser, BrowserContext, Page

AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# The impacts that fail an audit; "minor" and "moderate" findings are left to review.
FAILING_IMPACTS = frozenset({"serious", "critical"})
# The rules that look at colours: all that can change with the colour scheme.
COLOUR_RULES = ("color-contrast", "link-in-text-block")
# Elements listed per violation or overflow in a message: enough to find the culprit.
SHOWN_ELEMENTS = 5

_RUN_AXE = """
async rules => {
  const options = {resultTypes: ["violations"]};
  if (rules.length) options.runOnly = {type: "rule", values: rules};
  const results = await axe.run(document, options);
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")),
    summaries: v.nodes.map(n => n.failureSummary || ""),
  }));
}
"""

# Elements whose right edge passes the viewport's, outermost first (a child of one is not
# listed again), each as a short CSS-like path with its width.
_OVERFLOW = """
given => {
  const limit = given || window.innerWidth;
  const wide = document.documentElement.scrollWidth;
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    Array.from(e.classList).slice(0, 3).map(c => "." + c).join("");
  const path = e => {
    const parts = [];
    for (let x = e; x && x !== document.body && parts.length < 4; x = x.parentElement) {
      parts.unshift(name(x));
    }
    return parts.join(" > ");
  };
  const culprits = [];
  const seen = new Set();
  for (const e of document.body.querySelectorAll("*")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.right <= limit + 0.5) continue;
    let inside = false;
    for (let p = e.parentElement; p; p = p.parentElement) {
      if (seen.has(p)) { inside = true; break; }
      const style = getComputedStyle(p);
      if (style.overflowX !== "visible" && p !== document.body &&
          p !== document.documentElement) { inside = true; break; }
    }
    if (inside) continue;
    seen.add(e);
    culprits.push(path(e) + " (right edge " + Math.round(box.right) + "px)");
  }
  return {scrollWidth: wide, innerWidth: limit, culprits: culprits};
}
"""


@dataclass(frozen=True)
class Violation:
    """One axe rule broken on a page, with the elements that break it."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:SHOWN_ELEMENTS])
        more = len(self.targets) - SHOWN_ELEMENTS
        tail = f" and {more} more" if more > 0 else ""
        return f"{self.rule} ({self.impact}): {self.help} — {shown}{tail}"


@dataclass(frozen=True)
class Overflow:
    """A page wider than its viewport, and the elements sticking out."""

    scroll_width: int
    inner_width: int
    culprits: tuple[str, ...]

    def __str__(self) -> str:
        shown = "; ".join(self.culprits[:SHOWN_ELEMENTS]) or "no single element found"
        return f"page is {self.scroll_width}px wide in a {self.inner_width}px viewport: {shown}"


@contextmanager
def audit_context(
    browser: Browser, width: int, scheme: Literal["light", "dark"], height: int = 800
) -> Iterator[BrowserContext]:
    """A browser context for audits: ``width`` px wide, in the colour ``scheme``, with
    the page's CSP bypassed so that axe-core can be injected. Phones (under 600 px) are
    emulated as touch devices."""
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=scheme,
        reduced_motion="reduce",
        is_mobile=phone,
        has_touch=phone,
        bypass_csp=True,
    )
    try:
        yield context
    finally:
        context.close()


def axe_violations(page: Page, rules: Sequence[str] = ()) -> list[Violation]:
    """The serious and critical axe-core violations on the page as it is now, of every
    rule or of ``rules`` alone."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    found: list[dict[str, Any]] = page.evaluate(_RUN_AXE, list(rules))
    return [
        Violation(v["id"], v["impact"], v["help"], tuple(v["targets"]))
        for v in found
        if v["impact"] in FAILING_IMPACTS
    ]


def horizontal_overflow(page: Page) -> Overflow | None:
    """How the page overflows its viewport sideways, or None when it fits.

    The limit is the width the context was opened with: a phone browser zooms out to
    show a page wider than the screen, which widens ``window.innerWidth`` with it."""
    viewport = page.viewport_size
    limit = viewport["width"] if viewport else None
    measured: dict[str, Any] = page.evaluate(_OVERFLOW, limit)
    if measured["scrollWidth"] <= measured["innerWidth"]:
        return None
    return Overflow(measured["scrollWidth"], measured["innerWidth"], tuple(measured["culprits"]))


# Table cells squeezed to a character or two a line: the text of each cell, measured by the
# lines its characters fall on. Only cells with a word of four or more letters count.
_CRAMPED = """
() => {
  const found = [];
  for (const cell of document.querySelectorAll("main td, main th")) {
    const text = cell.innerText.trim();
    if (!/\\p{L}{4,}/u.test(text) || cell.getBoundingClientRect().width === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
    const longest = Math.max(...text.split(/\\s+/).map(w => w.length));
    if (longest >= 4 && tops.size >= 3 && tops.size * 2 >= text.replace(/\\s+/g, "").length) {
      found.push(text.slice(0, 40));
    }
  }
  return found;
}
"""


def cramped_table_cells(page: Page) -> list[str]:
    """Table cells so narrow that their words break every character or two (the start
    of each cell's text); a phone layout must stack or scroll such a table instead."""
    found: list[str] = page.evaluate(_CRAMPED)
    return found
