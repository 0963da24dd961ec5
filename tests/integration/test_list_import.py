"""Imported lists over real HTTP on the real store: a CSV file becomes a sealed giveaway's
ledger, is drawn and verified; bad files are refused row by row with nothing stored."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from typer.testing import CliRunner

from fairdraw.cli import app
from fairdraw.domain.errors import Conflict
from fairdraw.store.imports import STAGING_TTL_MS, ImportSeal, ImportStore, StagedEntry
from fairdraw.store.keys import Keys
from tests.support.app import (
    ADMIN,
    MANAGER,
    PARTICIPANT,
    LiveServer,
    live_server_of,
    login,
    make_settings,
)
from tests.support.forms import text_of
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 2}]
GOOD = "name;email\nAda Lovelace;ada@example.org\nGrace Hopper;grace@example.org\n" + "".join(
    f"Member {i};m{i}@example.org\n" for i in range(1, 9)
)
NAMES = ["Ada Lovelace", "Grace Hopper", *(f"Member {i}" for i in range(1, 9))]
LARGE_ROWS = 100_000
runner = CliRunner()


@pytest.fixture
def server(store_url: str, github: GitHubStandIn, redis_sync: Any) -> Iterator[LiveServer]:
    """A real server whose bodies may hold the large list (8 MiB)."""
    settings = make_settings(store_url, github.url, max_body_bytes=8 * 2**20)
    yield from live_server_of(settings, github)


@pytest_asyncio.fixture
async def manager(redis: Redis, server: LiveServer) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A manager's client, logged in (after the store is flushed for the test)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        yield client, await login(client, MANAGER)


async def new_draw(client: httpx.AsyncClient, csrf: str, path: str = "/api/v1/draws") -> str:
    body: dict[str, Any] = {"title": "Club raffle night", "prizes": PRIZES}
    if path.endswith("raffles"):
        body["ticket_count"] = 10
    response = await client.post(path, json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


async def upload(
    client: httpx.AsyncClient, csrf: str, draw_id: str, text: str | bytes, **params: str
) -> httpx.Response:
    content = text.encode() if isinstance(text, str) else text
    return await client.post(
        f"/api/v1/draws/{draw_id}/import",
        content=content,
        params=params,
        headers={"X-CSRF-Token": csrf, "Content-Type": "text/csv"},
    )


async def draw_keys(redis: Redis, draw_id: str) -> list[str]:
    return sorted([k async for k in redis.scan_iter(match=f"*{{d:{draw_id}}}*")])


async def test_an_imported_list_is_sealed_drawn_by_name_and_verifies(
    manager: tuple[httpx.AsyncClient, str], redis: Redis, tmp_path: Path
) -> None:
    client, csrf = manager
    draw_id = await new_draw(client, csrf)
    response = await upload(client, csrf, draw_id, GOOD, name_column="name")
    assert response.status_code == 200, response.text
    result = response.json()
    assert {k: v for k, v in result.items() if k != "draw"} == {
        "entry_count": 10,
        "sha256": result["sha256"],
        "name_column": "name",
        "dedupe_column": None,
        "delimiter": ";",
        "skipped": [],
        "skipped_count": 0,
    }
    assert (result["draw"]["status"], result["draw"]["entry_count"]) == ("closed", 10)
    assert result["draw"]["seal"]["entry_count"] == 10
    assert await draw_keys(redis, draw_id) == sorted(
        {KEYS.draw_meta(draw_id), KEYS.ledger(draw_id), KEYS.events(draw_id)}
        | {KEYS.names(draw_id, n) for n in NAMES}
    )
    log = (await client.get(f"/api/v1/draws/{draw_id}/log")).json()
    assert [leaf["entry"]["type"] for leaf in log] == ["commit", "seal"]
    # The same file again answers the same; the list is searchable by name.
    assert (await upload(client, csrf, draw_id, GOOD, name_column="name")).json() == result
    found = (await client.get(f"/api/v1/draws/{draw_id}/entrants", params={"q": "Gra"})).json()
    assert [e["label"] for e in found["entrants"]] == ["Grace Hopper"]

    drawn = await client.post(f"/api/v1/draws/{draw_id}/draw", headers={"X-CSRF-Token": csrf})
    assert drawn.status_code == 200, drawn.text
    winners = drawn.json()["result"]["winners"]
    assert len(winners) == 3
    assert all(w["name"] == NAMES[w["index"]] for w in winners)
    bundle = (await client.get(f"/api/v1/draws/{draw_id}/proof")).content
    opened = [w["opening"]["identity"] for w in json.loads(bundle)["winners"]]
    assert opened == [f"list:{NAMES[w['index']]}" for w in winners]
    (tmp_path / "proof.json").write_bytes(bundle)
    entries = (await client.get(f"/api/v1/draws/{draw_id}/entries.txt")).content
    (tmp_path / "entries.txt").write_bytes(entries)
    verified = runner.invoke(
        app, ["verify", str(tmp_path / "proof.json"), str(tmp_path / "entries.txt")]
    )
    assert verified.exit_code == 0, verified.output
    assert verified.output.splitlines()[-1] == "PASS (trusts its operator: no beacon)"

    exported = (await client.get(f"/api/v1/draws/{draw_id}/entrants.csv")).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["label"] for r in rows] == NAMES
    assert sorted(r["label"] for r in rows if r["outcome"] == "winner") == sorted(
        w["name"] for w in winners
    )
    # After the draw too, the same file answers the same; another file is refused.
    again = await upload(client, csrf, draw_id, GOOD, name_column="name")
    assert {k: v for k, v in again.json().items() if k != "draw"} == {
        k: v for k, v in result.items() if k != "draw"
    }
    other = await upload(client, csrf, draw_id, GOOD + "Late Comer;late@example.org\n")
    assert (other.status_code, other.json()["code"]) == (409, "list_already_imported")
    read_otherwise = await upload(client, csrf, draw_id, GOOD, name_column="email")
    assert (read_otherwise.status_code, read_otherwise.json()["code"]) == (
        409,
        "list_already_imported",
    )


async def test_bad_rows_are_reported_exactly_and_nothing_is_stored(
    manager: tuple[httpx.AsyncClient, str], redis: Redis
) -> None:
    client, csrf = manager
    draw_id = await new_draw(client, csrf)
    before = await draw_keys(redis, draw_id)
    bad = (
        b"\xef\xbb\xbfname,email\n"
        b"Ada,ada@example.org\n"
        b",nobody@example.org\n"
        b"Grace,grace@example.org,extra\n"
        b"Ad\xe9,latin1@example.org\n"
        b"Ada again,ADA@example.org\n" + b"X" * 201 + b",long@example.org\n"
    )
    response = await upload(client, csrf, draw_id, bad, name_column="name", dedupe_column="email")
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["errors"] == {"file": "The file has 5 problems"}
    assert problem["problem_count"] == 5
    assert problem["problems"] == [
        {"row": 3, "column": "name", "problem": "The name is empty"},
        {"row": 4, "column": None, "problem": "Has 3 fields; the header has 2"},
        {"row": 5, "column": "name", "problem": "Not valid UTF-8 text"},
        {"row": 6, "column": "email", "problem": "A duplicate of row 2"},
        {"row": 7, "column": "name", "problem": "The name is longer than 200 characters"},
    ]
    columns = await upload(client, csrf, draw_id, "name,email\nAda,a@example.org\n")
    assert columns.json()["problems"] == [
        {
            "row": 1,
            "column": None,
            "problem": "Choose the name column; the columns are: name, email",
        }
    ]
    assert await draw_keys(redis, draw_id) == before
    draw = (await client.get(f"/api/v1/draws/{draw_id}")).json()
    assert (draw["status"], draw["entry_count"]) == ("draft", 0)
    # Skipping duplicates keeps the first row of each and reports the others.
    skipped = await upload(
        client,
        csrf,
        draw_id,
        "name\nAda\nBob\nada\nAda\n",
        duplicates="skip",
    )
    assert skipped.status_code == 200, skipped.text
    assert (skipped.json()["entry_count"], skipped.json()["skipped_count"]) == (2, 2)
    assert skipped.json()["skipped"] == [
        {"row": 4, "column": "name", "problem": "A duplicate of row 2: skipped"},
        {"row": 5, "column": "name", "problem": "A duplicate of row 2: skipped"},
    ]


async def test_only_a_draft_giveaways_managers_import(
    manager: tuple[httpx.AsyncClient, str], server: LiveServer
) -> None:
    client, csrf = manager
    raffle_id = await new_draw(client, csrf, "/api/v1/raffles")
    refused = await upload(client, csrf, raffle_id, GOOD, name_column="name")
    assert (refused.status_code, refused.json()["code"]) == (409, "wrong_draw_kind")
    open_id = await new_draw(client, csrf)
    await client.post(f"/api/v1/draws/{open_id}/open", headers={"X-CSRF-Token": csrf})
    refused = await upload(client, csrf, open_id, GOOD, name_column="name")
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")

    draft_id = await new_draw(client, csrf)
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        refused = await anonymous.post(
            f"/api/v1/draws/{draft_id}/import",
            content=GOOD,
            headers={"Content-Type": "text/csv"},
        )
        assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")
        participant_csrf = await login(anonymous, PARTICIPANT)
        refused = await upload(anonymous, participant_csrf, draft_id, GOOD, name_column="name")
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    async with httpx.AsyncClient(base_url=server.url) as admin:
        admin_csrf = await login(admin, ADMIN)
        done = await upload(admin, admin_csrf, draft_id, GOOD, name_column="name")
        assert (done.status_code, done.json()["entry_count"]) == (200, 10)


async def test_a_list_of_a_hundred_thousand_rows_imports_and_draws(
    manager: tuple[httpx.AsyncClient, str],
) -> None:
    client, csrf = manager
    draw_id = await new_draw(client, csrf)
    text = "name,member\n" + "".join(f"Person {i},{i}\n" for i in range(LARGE_ROWS))
    started = time.perf_counter()
    response = await upload(client, csrf, draw_id, text, name_column="name", dedupe_column="member")
    imported = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.json()["draw"]["seal"]["entry_count"] == LARGE_ROWS
    started = time.perf_counter()
    drawn = await client.post(f"/api/v1/draws/{draw_id}/draw", headers={"X-CSRF-Token": csrf})
    assert drawn.status_code == 200, drawn.text
    drawing = time.perf_counter() - started
    for winner in drawn.json()["result"]["winners"]:
        assert winner["name"] == f"Person {winner['index']}"
    print(
        f"\nimported {LARGE_ROWS:,} rows ({len(text):,} bytes) over HTTP in {imported:.2f} s;"
        f" drawn in {drawing:.2f} s"
    )


async def test_an_import_that_dies_before_its_seal_leaves_only_expiring_staged_rows(
    manager: tuple[httpx.AsyncClient, str], redis: Redis
) -> None:
    client, csrf = manager
    draw_id = await new_draw(client, csrf)
    imports = ImportStore(redis, KEYS)
    token = "0" * 32
    entries = [StagedEntry(f"{'a' * 64}\t1\tlist:Ada\tAda\t{'0' * 32}", "Ada", 0)]
    buckets = await imports.stage(draw_id, token, entries)
    staged = KEYS.import_staging(draw_id, token)
    assert all(
        any(p.fullmatch(k) for p in KEYS.patterns()) for k in await draw_keys(redis, draw_id)
    )
    assert 0 < await redis.pttl(staged) <= STAGING_TTL_MS
    assert 0 < await redis.pttl(KEYS.import_staging_names(draw_id, token, "Ada")) <= STAGING_TTL_MS
    draw = (await client.get(f"/api/v1/draws/{draw_id}")).json()
    assert (draw["status"], draw["entry_count"]) == ("draft", 0)
    # A seal whose staged rows are not all there (they expired) stores nothing.
    seal = ImportSeal("f" * 64, {}, 2, b"\x00" * 32, "c" * 64, "d" * 64)
    with pytest.raises(Conflict):
        await imports.seal(draw_id, token, buckets, seal, None)
    assert await draw_keys(redis, draw_id) == [KEYS.draw_meta(draw_id)]
    assert (await client.get(f"/api/v1/draws/{draw_id}")).json()["status"] == "draft"
    # The import after it runs as if nothing had happened.
    done = await upload(client, csrf, draw_id, GOOD, name_column="name")
    assert (done.status_code, done.json()["entry_count"]) == (200, 10)


async def test_the_page_form_names_the_columns_lists_bad_rows_and_imports_once(
    manager: tuple[httpx.AsyncClient, str], redis: Redis
) -> None:
    client, csrf = manager
    draw_id = await new_draw(client, csrf)
    draw_page = (await client.get(f"/draws/{draw_id}")).text
    assert f'href="/draws/{draw_id}/import"' in draw_page
    form_page = (await client.get(f"/draws/{draw_id}/import")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form_page)
    assert key is not None
    fields = {"csrf_token": csrf, "idempotency_key": key[1]}

    async def submit(text: str, **more: str) -> httpx.Response:
        files = {"file": ("members.csv", text.encode(), "text/csv")}
        return await client.post(f"/draws/{draw_id}/import", data=fields | more, files=files)

    # Two columns and none chosen: the page says which there are, and stores nothing.
    refused = await submit(GOOD)
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "The file was not imported: 1 problem" in shown
    assert "1 Choose the name column; the columns are: name, email" in shown
    assert '<option value="email">' in refused.text
    assert await draw_keys(redis, draw_id) == [KEYS.draw_meta(draw_id)]

    done = await submit(GOOD, name_column="name")
    assert (done.status_code, done.headers["location"]) == (303, f"/draws/{draw_id}")
    # The same form sent again gets the same redirect and imports nothing more.
    again = await submit(GOOD, name_column="name")
    assert (again.status_code, again.headers["location"]) == (303, f"/draws/{draw_id}")
    draw = (await client.get(f"/api/v1/draws/{draw_id}")).json()
    assert (draw["status"], draw["entry_count"]) == ("closed", 10)
    assert "an imported list of 10" in text_of((await client.get(f"/draws/{draw_id}")).text)
