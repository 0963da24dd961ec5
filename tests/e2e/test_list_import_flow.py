"""Importing a giveaway's entrants in a real Chromium against a real server: a file with
bad rows shows a table of its problems, the fixed file seals the giveaway, and the draw
names its winners."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_dashboard_flow import manager_client
from tests.support.app import MANAGER, LiveServer
from tests.support.browser import collect_page_errors, log_in, press, real_errors

NAMES = ["Ada Lovelace", "Grace Hopper", "Katherine Johnson", "Alan Turing", "Edsger Dijkstra"]


def draft_giveaway(base: str) -> str:
    manager, csrf = manager_client(base)
    try:
        created = manager.post(
            "/api/v1/draws",
            json={"title": "Club night", "prizes": [{"name": "Book", "quantity": 2}]},
            headers={"X-CSRF-Token": csrf},
        )
    finally:
        manager.close()
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_manager_fixes_a_bad_file_imports_it_and_draws_named_winners(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    base = live_server.url
    draw_id = draft_giveaway(base)
    bad = tmp_path / "members.csv"
    bad.write_text(
        "name,email\n"
        + "".join(f"{n},{n.split()[0].lower()}@example.org\n" for n in NAMES)
        + ",nobody@example.org\nAda L.,ADA@example.org\n",
        encoding="utf-8",
    )
    good = tmp_path / "members-fixed.csv"
    good.write_text(
        "name,email\n" + "".join(f"{n},{n.split()[0].lower()}@example.org\n" for n in NAMES),
        encoding="utf-8",
    )
    errors = collect_page_errors(page)
    log_in(page, base, MANAGER)
    page.goto(f"{base}/draws/{draw_id}")
    page.get_by_role("link", name="Import entrants from a CSV file").click()
    expect(page.locator("h1")).to_have_text("Import entrants: Club night")

    page.get_by_label("CSV file", exact=True).set_input_files(str(bad))
    # The header's columns are offered as choices before the file is sent.
    expect(page.locator("#import-columns option")).to_have_count(2)
    page.get_by_label("Name column").fill("name")
    page.get_by_label("De-duplication column (optional)").fill("email")
    press(page, "Import and seal")
    expect(page.locator("#problems-heading")).to_have_text("The file was not imported: 2 problems")
    rows = page.locator("#problems-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td")).to_have_text(["7", "name", "The name is empty"])
    expect(rows.nth(1).locator("td")).to_have_text(["8", "email", "A duplicate of row 2"])
    # The form keeps what was typed; the file is chosen again.
    expect(page.get_by_label("Name column")).to_have_value("name")

    page.get_by_label("CSV file", exact=True).set_input_files(str(good))
    press(page, "Import and seal")
    expect(page).to_have_url(f"{base}/draws/{draw_id}")
    expect(page.locator(".fd-imported")).to_contain_text("an imported list of 5")
    expect(page.locator(".fd-no-receipts")).to_contain_text("Not applicable")

    press(page, "Draw winners")
    expect(page).to_have_url(f"{base}/draws/{draw_id}/results")
    shown = page.locator("main").inner_text()
    assert sum(name in shown for name in NAMES) >= 2
    # The refused file's answer is the 422 page with its problems, and nothing else failed.
    assert real_errors(errors) == [
        f"HTTP 422: {base}/draws/{draw_id}/import",
        "console: Failed to load resource: the server responded with a status of 422 "
        "(Unprocessable Entity)",
    ]
