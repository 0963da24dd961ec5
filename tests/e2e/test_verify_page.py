"""The browser's verifier (/verify) against fairdraw's Python verifier, in a real Chromium
against a real server: every vector and tamper case of the fairdraw/2 corpus must get the
same verdict from both, check by check; a few go through the page's real file inputs or
are dropped on it; a real draw's results page links to a verification that passes; the
page fetches nothing from another origin, even when a link names one, stays responsive on
a large ledger, and works without WebCrypto.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import FilePayload, Frame, Page, Request, Route, ViewportSize, expect

from fairdraw.domain import fairness, proof
from fairdraw.domain.beacon import QUICKNET
from fairdraw.domain.verification import VerifyReport, verify_bundle_bytes
from fairdraw.web import security
from fairdraw.web.pages.verify import content_security_policy
from tests.support.app import ADMIN, LiveServer, login
from tests.support.browser import collect_page_errors, low_contrast, real_errors, screenshot
from tests.support.fd2_corpus import Case, cases, verify_case
from tests.support.github_server import GitHubStandIn

PHONE: ViewportSize = {"width": 390, "height": 844}
VERIFY_PAGE_TEXT = [
    "h1.title",
    ".label",
    ".help",
    ".button.is-primary",
    "#verify-status",
    ".fd-verify-source",
    ".fd-verify-verdict",
    ".fd-verify-trust",
    ".fd-verify-name",
    ".fd-verify-status",
    ".fd-verify-about",
    ".fd-verify-detail",
]
# Long enough for the largest corpus case on a busy two-core machine.
VERIFY_TIMEOUT_MS = 120_000

# The page's own verifier, called with the bytes (base64) and the pinned chains (JSON).
VERIFY_SCRIPT = """async ([bundle, entries, chains]) => {
  const verifier = await import("/static/verify/verifier.js");
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const pinned = chains.map((chain) => verifier.chainFromJson(chain));
  return await verifier.verifyBytes(bytes(bundle), bytes(entries), { chains: pinned });
}"""

Outcome = tuple[bool, str | None, list[tuple[str, bool]]]
# The one part of a detail that is each BLS library's own words: why bytes are no point.
_LIBRARY_WORDS = re.compile(r"(the signature is not a point of the G1 subgroup): .*")


def python_outcome(report: VerifyReport) -> Outcome:
    """ok, the first failing check's name, and every check's name and result."""
    failed = report.first_failure
    checks = [(check.name, check.ok) for check in report.checks]
    return report.ok, failed.name if failed else None, checks


def page_outcome(report: dict[str, Any]) -> Outcome:
    """:func:`python_outcome` of the page's machine-readable report."""
    checks = [(str(check["name"]), bool(check["ok"])) for check in report["checks"]]
    failed = next((name for name, ok in checks if not ok), None)
    return bool(report["ok"]), failed, checks


def python_details(report: VerifyReport) -> list[str]:
    """Each check's detail, a BLS library's own error message left out."""
    return [_LIBRARY_WORDS.sub(r"\1: …", check.detail) for check in report.checks]


def page_details(report: dict[str, Any]) -> list[str]:
    """:func:`python_details` of the page's machine-readable report."""
    return [_LIBRARY_WORDS.sub(r"\1: …", str(check["detail"])) for check in report["checks"]]


def verify_in_page(page: Page, case: Case) -> dict[str, Any]:
    """The page's report on ``case``, from its verifier module."""
    arguments = [
        base64.b64encode(case.bundle).decode(),
        base64.b64encode(case.entries).decode(),
        case.chains,
    ]
    report: dict[str, Any] = page.evaluate(VERIFY_SCRIPT, arguments)
    return report


def other_origin_requests(page: Page, base: str) -> list[str]:
    """Start recording every request to an origin other than ``base`` that the page makes
    while it shows /verify (its workers' requests included)."""
    origin = urlsplit(base)
    foreign: list[str] = []
    on_verify = [False]

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            on_verify[0] = urlsplit(frame.url).path == "/verify"

    def on_request(request: Request) -> None:
        url = urlsplit(request.url)
        if on_verify[0] and (url.scheme, url.netloc) != (origin.scheme, origin.netloc):
            foreign.append(request.url)

    page.on("framenavigated", on_navigated)
    page.context.on("request", on_request)
    return foreign


def shown_report(page: Page) -> dict[str, Any]:
    """The report the page shows, once it has finished."""
    result = page.locator("#verify-result")
    expect(result).to_have_attribute("data-state", "done", timeout=VERIFY_TIMEOUT_MS)
    report: dict[str, Any] = json.loads(result.get_attribute("data-report") or "null")
    return report


def test_every_corpus_case_gets_the_python_verifiers_verdict(
    live_server: LiveServer, page: Page
) -> None:
    page.set_default_timeout(VERIFY_TIMEOUT_MS)
    errors = collect_page_errors(page)
    foreign = other_origin_requests(page, live_server.url)
    page.goto(f"{live_server.url}/verify")
    corpus = cases()
    assert len(corpus) > 10

    mismatches = []
    worded_differently = []
    for case in corpus:
        expected = verify_case(case)
        python = python_outcome(expected)
        assert python[:2] == (case.expect_ok, case.expect_first_failure), case.name
        report = verify_in_page(page, case)
        if page_outcome(report) != python:
            mismatches.append((case.name, page_outcome(report), python))
        elif page_details(report) != python_details(expected):
            worded_differently.append((case.name, page_details(report)))

    assert mismatches == []
    assert worded_differently == []
    # The beacon cases ran the BLS check with the vendored library, from this server.
    loaded = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert any(url.endswith("/static/vendor/noble-curves/bls12-381.js") for url in loaded)
    assert foreign == []
    assert real_errors(errors) == []


def other_chains(case: Case) -> list[dict[str, Any]]:
    """The chains ``case`` pins besides quicknet."""
    return [chain for chain in case.chains if chain != QUICKNET.to_json()]


def chain_file(case: Case) -> list[FilePayload]:
    """The chain file a visitor would give for ``case``: its chain that is not quicknet."""
    others = other_chains(case)
    if not others:
        return []
    content = json.dumps(others[0]).encode()
    return [{"name": "chain.json", "mimeType": "application/json", "buffer": content}]


def through_the_inputs(corpus: Sequence[Case]) -> list[Case]:
    """A few cases with different verdicts that the page's inputs can express (quicknet
    and at most one other chain pinned)."""
    chosen: dict[tuple[bool, str | None, bool], Case] = {}
    for case in corpus:
        others = other_chains(case)
        if QUICKNET.to_json() not in case.chains or len(others) > 1:
            continue
        key = (case.expect_ok, case.expect_first_failure, bool(others))
        chosen.setdefault(key, case)
    return list(chosen.values())[:8]


def test_cases_through_the_file_inputs(live_server: LiveServer, page: Page) -> None:
    errors = collect_page_errors(page)
    foreign = other_origin_requests(page, live_server.url)
    page.goto(f"{live_server.url}/verify")
    chosen = through_the_inputs(cases())
    assert {case.expect_ok for case in chosen} == {True, False}

    for case in chosen:
        page.get_by_label("Proof bundle").set_input_files(
            {"name": "proof.json", "mimeType": "application/json", "buffer": case.bundle}
        )
        page.get_by_label("Entries file").set_input_files(
            {"name": "entries.txt", "mimeType": "text/plain", "buffer": case.entries}
        )
        page.get_by_label("Beacon chain (optional)").set_input_files(chain_file(case))
        page.get_by_role("button", name="Verify").click()
        report = shown_report(page)

        python = verify_case(case)
        assert page_outcome(report) == python_outcome(python), case.name
        assert page_details(report) == python_details(python), case.name
        items = page.locator("#verify-checks > li")
        expect(items).to_have_count(len(python.checks))
        verdict = page.locator("#verify-verdict")
        failed = python.first_failure
        if failed is None:
            expect(verdict).to_contain_text("PASS")
        else:
            expect(verdict).to_contain_text(f"The {failed.name} check failed")
            first = page.locator(f"#verify-checks > li[data-check='{failed.name}']")
            expect(first.locator(".fd-verify-status")).to_have_text("Fail")
        expect(page.locator("#verify-trust")).to_be_visible(
            visible=python.ok and python.trusts_operator
        )

    assert foreign == []
    assert real_errors(errors) == []


def drop_file(page: Page, input_id: str, name: str, content: bytes) -> None:
    """Drop a file on the drop zone of the file input ``input_id``, as from a desktop."""
    transfer = page.evaluate_handle(
        """([name, content]) => {
          const transfer = new DataTransfer();
          const bytes = Uint8Array.from(atob(content), (c) => c.charCodeAt(0));
          transfer.items.add(new File([bytes], name));
          return transfer;
        }""",
        [name, base64.b64encode(content).decode()],
    )
    page.dispatch_event(f"[data-drop-for='{input_id}']", "drop", {"dataTransfer": transfer})


def test_files_dropped_on_the_page_are_verified(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/verify")
    case = next(case for case in cases() if case.expect_ok and len(case.chains) == 1)

    drop_file(page, "bundle-file", "proof.json", case.bundle)
    drop_file(page, "entries-file", "entries.txt", case.entries)
    dropped = page.get_by_label("Proof bundle").evaluate("input => input.files[0].name")
    assert dropped == "proof.json"
    page.get_by_role("button", name="Verify").click()
    report = shown_report(page)

    assert page_outcome(report) == python_outcome(verify_case(case))
    expect(page.locator("#verify-source")).to_have_text("Files: proof.json and entries.txt")


def test_a_draw_verifies_from_its_results_page_on_a_phone(
    live_server: LiveServer, page: Page
) -> None:
    draw_id = asyncio.run(run_a_draw(live_server.url, live_server.github))
    page.set_viewport_size(PHONE)
    errors = collect_page_errors(page)
    foreign = other_origin_requests(page, live_server.url)
    page.context.route("https://avatars.githubusercontent.com/**", blank_avatar)
    page.goto(f"{live_server.url}/draws/{draw_id}/results")

    page.get_by_role("link", name="Verify in your browser").click()
    expect(page).to_have_url(
        f"{live_server.url}/verify?bundle=/api/v1/draws/{draw_id}/proof"
        f"&entries=/api/v1/draws/{draw_id}/entries.txt"
    )
    report = shown_report(page)

    bundle = page.request.get(f"{live_server.url}/api/v1/draws/{draw_id}/proof").body()
    entries = page.request.get(f"{live_server.url}/api/v1/draws/{draw_id}/entries.txt").body()
    python = verify_bundle_bytes(bundle, entries)
    assert python.ok
    assert report["ok"] is True
    assert report["algorithm"] == python.algorithm == fairness.ALGORITHM_V2
    assert page_details(report) == python_details(python)
    # Tests run without a beacon: the page says plainly whom such a draw trusts.
    assert report["trusts_operator"] is True
    expect(page.locator("#verify-verdict")).to_contain_text("PASS (trusts its operator: no beacon)")
    expect(page.locator("#verify-trust")).to_contain_text("This draw trusts its operator.")
    expect(page.locator("#verify-checks > li[data-status='pass']")).to_have_count(11)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
    screenshot(page, "verify-phone")
    assert low_contrast(page, VERIFY_PAGE_TEXT, reload=False) == {}
    assert foreign == []
    assert real_errors(errors) == []


def blank_avatar(route: Route) -> None:
    """GitHub's avatar CDN, answered locally (the results page shows avatars)."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96"/>'
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


async def run_a_draw(base: str, github: GitHubStandIn) -> str:
    """A giveaway opened, entered by three GitHub users, closed and drawn through the API."""
    async with (
        httpx.AsyncClient(base_url=base) as organiser,
        httpx.AsyncClient(base_url=base) as entrant,
    ):
        csrf = await login(organiser, ADMIN)
        headers = {"X-CSRF-Token": csrf}
        body = {"title": "Verified giveaway", "prizes": [{"name": "Mug", "quantity": 2}]}
        created = await organiser.post(
            "/api/v1/draws", json={**body, "open": True}, headers=headers
        )
        assert created.status_code == 201, created.text
        draw_id: str = created.json()["id"]
        for user_id in (11, 12, 13):
            github.add_user(f"user{user_id}", user_id, f"User {user_id}")
            entered = await entrant.post(
                f"/api/v1/draws/{draw_id}/entries", json={"github": f"user{user_id}"}
            )
            assert entered.status_code == 201, entered.text
        for action in ("close", "draw"):
            done = await organiser.post(f"/api/v1/draws/{draw_id}/{action}", headers=headers)
            assert done.status_code == 200, done.text
    return draw_id


def test_links_to_other_sites_are_refused_without_a_request(
    live_server: LiveServer, page: Page
) -> None:
    foreign = other_origin_requests(page, live_server.url)
    page.goto(
        f"{live_server.url}/verify?bundle=https://example.com/proof.json"
        "&entries=//example.com/entries.txt"
    )

    expect(page.locator("#verify-result")).to_have_attribute("data-state", "error")
    expect(page.get_by_role("status")).to_contain_text("on another site (https://example.com)")
    expect(page.locator("#verify-result")).to_be_hidden()
    assert foreign == []


def large_ledger(count: int) -> tuple[bytes, bytes]:
    """A fairdraw/1 bundle and entries file of ``count`` entries (the ledger is read the
    same way in both versions)."""
    refs = [f"{i:032x}" for i in range(count)]
    root = fairness.merkle_root(refs)
    seed = bytes(range(32))
    prizes = [("Bike", 1)]
    outcome = fairness.select_winners(root, seed, count, prizes, 1)
    picks = [w.index for w in outcome.winners] + list(outcome.alternates)
    bundle = proof.build_bundle(
        draw={
            "id": "d_large",
            "kind": "lottery",
            "title": "Large",
            "prizes": [{"name": "Bike", "quantity": 1}],
            "one_prize_per_entrant": False,
        },
        root=root,
        entry_count=count,
        sealed_at="2026-12-06T21:00:00Z",
        commitment=fairness.commitment(seed),
        seed=seed,
        outcome=outcome,
        refs_of_picks={i: refs[i] for i in picks},
        alternates=1,
    )
    return proof.canonical_json(bundle), proof.entries_file(refs).encode()


def watch_responsiveness(page: Page) -> None:
    """Record in the page the longest time it goes without running a timer
    (``longestGap``, ms) and the progress bar's values (``progressSeen``)."""
    page.evaluate(
        """() => {
          window.longestGap = 0;
          let last = performance.now();
          setInterval(() => {
            const now = performance.now();
            window.longestGap = Math.max(window.longestGap, now - last);
            last = now;
          }, 10);
          window.progressSeen = new Set();
          const bar = document.getElementById("verify-progress");
          new MutationObserver(() => window.progressSeen.add(bar.value)).observe(bar, {
            attributes: true,
          });
        }"""
    )


def test_a_large_ledger_is_hashed_with_progress_and_the_page_stays_responsive(
    live_server: LiveServer, page: Page
) -> None:
    bundle, entries = large_ledger(3 * fairness.CHUNK_LEAVES + 1234)
    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Proof bundle").set_input_files(
        {"name": "proof.json", "mimeType": "application/json", "buffer": bundle}
    )
    page.get_by_label("Entries file").set_input_files(
        {"name": "entries.txt", "mimeType": "text/plain", "buffer": entries}
    )
    watch_responsiveness(page)
    page.get_by_role("button", name="Verify").click()
    report = shown_report(page)

    assert report["ok"] is True, report["verdict"]
    assert page.evaluate("() => window.progressSeen.size") >= 3
    # Hashing runs in workers: the page keeps answering (a generous bound for busy CI).
    assert page.evaluate("() => window.longestGap") < 1000


def test_only_the_verify_page_allows_its_import_map(live_server: LiveServer, page: Page) -> None:
    errors = collect_page_errors(page)
    response = page.goto(f"{live_server.url}/verify")
    assert response is not None
    policy = response.headers["content-security-policy"]
    import_map = page.locator("script[type=importmap]").inner_text()
    assert json.loads(import_map) == {"imports": {"@noble/hashes/": "/static/vendor/noble-hashes/"}}
    assert policy == content_security_policy(import_map)
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/]{43}='", policy)
    home = page.request.get(f"{live_server.url}/")
    assert home.headers["content-security-policy"] == security.CONTENT_SECURITY_POLICY
    assert real_errors(errors) == []


# Served over plain HTTP on a local network, a page has no WebCrypto (it is not a secure
# context): the verifier then hashes and checks Ed25519 with the vendored @noble libraries.
NO_WEBCRYPTO = """
Object.defineProperty(Crypto.prototype, "subtle", { get: () => undefined, configurable: true });
"""


def test_without_webcrypto_the_page_falls_back_to_the_vendored_libraries(
    live_server: LiveServer, page: Page
) -> None:
    page.add_init_script(NO_WEBCRYPTO)
    errors = collect_page_errors(page)
    page.goto(f"{live_server.url}/verify")
    assert page.evaluate("() => crypto.subtle") is None
    corpus = cases()
    # The valid vectors, and one case for each check that can fail first.
    sample = {case.expect_first_failure: case for case in reversed(corpus)}
    chosen = [case for case in corpus if case.expect_ok] + list(sample.values())

    for case in chosen:
        python = python_outcome(verify_case(case))
        assert page_outcome(verify_in_page(page, case)) == python, case.name

    loaded = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert any(url.endswith("/static/vendor/noble-curves/ed25519.js") for url in loaded)
    assert any(url.endswith("/static/vendor/noble-hashes/hmac.js") for url in loaded)
    assert real_errors(errors) == []
