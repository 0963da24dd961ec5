"""Signed receipts of raffle tickets and lottery ballots, as the API answers them and as
their pages show them, checked after the seal: against the signed entry proofs, on the
"Check my entry" page, and with ``fairdraw verify-receipt`` talking to a real server. A
censoring operator is played by changing the stored ledger directly, before the seal."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from typer.testing import CliRunner

from fairdraw.cli import app as cli
from fairdraw.config import Settings
from fairdraw.domain import fairness, lotteries, tickets
from fairdraw.domain.receipts import (
    CheckResult,
    Verdict,
    check_receipt,
    complaint_problem,
    signed_receipt,
)
from fairdraw.domain.signing import SigningKey, key_id, verify_statement
from fairdraw.store.keys import Keys
from fairdraw.web.app import create_app
from fairdraw.web.deps import Services
from tests.support.app import ADMIN, PARTICIPANT, LiveServer, login
from tests.support.forms import CSRF_FIELD, FormBrowser, text_of

KEYS = Keys()
PRIZES = [{"name": "Mug", "quantity": 1}]
runner = CliRunner()
_RECEIPT_FIELD = re.compile(r'name="receipt" value="([^"]*)"')
_RECEIPT_FILE = re.compile(r'href="(data:application/json;charset=utf-8,[^"]*)" download="([^"]+)"')
_JSON_URL = "data:application/json;charset=utf-8,"
_INCLUDED = "Your entry is in the sealed ledger"


@dataclass(frozen=True)
class PageReceipt:
    """What a ticket's or a ballot's page offers of its signed receipt."""

    posted: dict[str, Any]  # what its "Check my entry" form sends
    file_name: str
    file_bytes: bytes


def page_receipt(page: str) -> PageReceipt:
    posted = _RECEIPT_FIELD.search(page)
    download = _RECEIPT_FILE.search(page)
    assert posted, "no Check my entry form with the receipt on the page"
    assert download, "no receipt file to download on the page"
    body = unquote(html.unescape(download[1]).removeprefix(_JSON_URL)).encode()
    return PageReceipt(json.loads(html.unescape(posted[1])), download[2], body)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


def public_key(app: FastAPI) -> bytes:
    signing: SigningKey = services_of(app).signing
    return signing.public_key


def verifies(answer: dict[str, Any]) -> bool:
    stated = answer["statement"]
    path = [bytes.fromhex(h) for h in stated["path"]]
    return fairness.verify_inclusion(
        stated["index"], stated["ref"], stated["entry_count"], path, bytes.fromhex(stated["root"])
    )


def next_day_ms() -> int:
    """One second into tomorrow (UTC, the lotteries' zone here): today's round is over."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return lotteries.day_bounds(ZoneInfo("UTC"), tomorrow)[0] + 1000


def replaced_claim(element: str) -> str:
    """A raffle ledger element whose code commitment is one the operator chose."""
    code, rest = element.split("\t", 1)
    code_hash = code.split(":", 1)[0]
    chosen = fairness.code_commitment(tickets.parse_code(tickets.new_code()))
    return f"{code_hash}:{chosen}\t{rest}"


def replaced_ballot(element: str) -> str:
    """A lottery ledger element in the full layout: a ref of the operator's choosing."""
    ref = fairness.entry_ref_v2("u:mallory", fairness.new_nonce())
    return f"{ref}\t0\tu:mallory\tmallory"


# -- in-process: the API, the pages and the service ---------------------------------------


async def open_raffle(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """A new open fairdraw/2 raffle of 10 tickets (10 per address); its id and the
    admin's CSRF header."""
    headers = {"X-CSRF-Token": await login(client, ADMIN)}
    body = {
        "title": "Ticket receipts",
        "prizes": PRIZES,
        "ticket_count": 10,
        "per_claimant": 10,
        "early_close": True,
        "open": True,
    }
    created = await client.post("/api/v1/raffles", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["id"], headers


async def claim_on_the_page(browser: FormBrowser, draw_id: str) -> tuple[str, httpx.Response]:
    """Claim a ticket with the raffle page's form; the card's address and the card."""
    token = await browser.csrf(f"/draws/{draw_id}")
    claimed = await browser.post(f"/draws/{draw_id}/tickets", csrf=token)
    assert claimed.status_code == 303, claimed.text
    card = await browser.client.get(claimed.headers["location"])
    assert card.status_code == 200, card.text
    return claimed.headers["location"], card


async def proof_of(client: httpx.AsyncClient, draw_id: str, index: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/draws/{draw_id}/entries/{index}/proof")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def check_page(browser: FormBrowser, receipt: dict[str, Any]) -> str:
    """The text of the "Check my entry" page's answer to ``receipt``, posted as the
    ticket and ballot pages post it."""
    token = await browser.csrf("/check-entry")
    answer = await browser.post("/check-entry", {"receipt": json.dumps(receipt)}, csrf=token)
    assert answer.status_code == 200, answer.text
    after = answer.text.split('id="outcome"', 1)[1].split(">", 1)[1]
    return text_of(after.split('<form method="post" action="/check-entry" class="box', 1)[0])


async def test_ticket_receipts_from_the_api_and_the_page_are_included_after_the_seal(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    redis: Redis,
) -> None:
    draw_id, headers = await open_raffle(app_client)
    from_api = []
    for _ in range(2):
        claimed = await anon_client.post(f"/api/v1/draws/{draw_id}/tickets")
        assert claimed.status_code == 201, claimed.text
        from_api.append(claimed.json())
    browser = FormBrowser(anon_client)
    location, card = await claim_on_the_page(browser, draw_id)
    number = int(location.rsplit("/", 1)[1])
    code = re.search(r'id="ticket-code">([^<]+)<', card.text)
    assert code
    shown = page_receipt(card.text)
    key = public_key(app)

    # The card's receipt is the one the API would have answered for this claim.
    statement = shown.posted["statement"]
    commitment = fairness.code_commitment(tickets.parse_code(code[1]))
    claimed_at = statement["entered_at"]
    assert statement == {
        "type": "receipt",
        "algorithm": "fairdraw/2",
        "draw_id": draw_id,
        "index": 2,
        "ref": fairness.raffle_ref_v2(number, commitment),
        "entered_at": claimed_at,
        "key_id": key_id(key),
    }
    assert verify_statement(shown.posted, key)
    assert shown.file_name == f"fairdraw-receipt-{draw_id}-2.json"
    assert shown.file_bytes == canonical(shown.posted) + b"\n"
    words = text_of(card.text)
    assert (
        "Keep your receipt as a file This server's signed promise that your ticket is in "
        "the raffle's list of tickets." in words
    )
    assert f"Public reference {statement['ref']} Download the receipt Check my entry" in words
    assert 'action="/check-entry"' in card.text
    # The ticket file carries the receipt too.
    ticket_file = re.search(r'href="(data:text/plain;charset=utf-8,[^"]*)"', card.text)
    assert ticket_file
    lines = unquote(html.unescape(ticket_file[1])).split("\r\n")
    assert f"Public reference:  {statement['ref']}" in lines
    assert canonical(shown.posted).decode() in lines
    assert (
        "Once the raffle is sealed, check at http://testserver/check-entry that its sealed list"
        in lines
    )

    # A reload shows the same receipt and claims nothing.
    for _ in range(2):
        again = await anon_client.get(location)
        assert page_receipt(again.text) == shown
    assert await redis.llen(KEYS.ledger(draw_id)) == 3
    # A browser that did not claim the ticket gets no receipt of it.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as stranger:
        foreign = await stranger.get(location)
    assert foreign.status_code == 200
    assert "Keep your receipt as a file" not in foreign.text
    assert _RECEIPT_FIELD.search(foreign.text) is None

    receipts = [*from_api, shown.posted]
    service = services_of(app).receipts
    for receipt in receipts:
        assert (await service.check(receipt)).verdict is Verdict.not_sealed
    assert "Not sealed yet" in await check_page(browser, shown.posted)

    closed = await app_client.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
    assert closed.status_code == 200, closed.text
    sealed = closed.json()["seal"]
    for index, receipt in enumerate(receipts):
        answer = await proof_of(app_client, draw_id, index)
        assert answer["statement"]["ref"] == signed_receipt(receipt)["statement"]["ref"]
        assert answer["statement"]["root"] == sealed["root"]
        assert verify_statement(answer, key)
        assert verifies(answer)
        result = check_receipt(receipt, answer, key)
        assert result == CheckResult(
            Verdict.included,
            f"Entry {index} is in the ledger of 3 entries sealed at {sealed['sealed_at']} "
            f"with root {sealed['root']}",
            answer,
        )
        assert await service.check(receipt) == result
    checked = await check_page(browser, shown.posted)
    assert checked.startswith(f"{_INCLUDED} This server's signed proof")
    assert f"Reference sealed there {statement['ref']} Entries sealed 3" in checked
    # After the seal the card still offers the same receipt.
    assert page_receipt((await anon_client.get(location)).text) == shown


async def test_a_replaced_ticket_yields_a_complaint_from_its_page_receipt(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    redis: Redis,
) -> None:
    draw_id, headers = await open_raffle(app_client)
    browser = FormBrowser(anon_client)
    shown = [page_receipt((await claim_on_the_page(browser, draw_id))[1].text) for _ in range(2)]
    # The operator swaps the second ticket's commitment for one it holds the code of.
    element = str(await redis.lindex(KEYS.ledger(draw_id), 1))
    await redis.lset(KEYS.ledger(draw_id), 1, replaced_claim(element))
    closed = await app_client.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
    assert closed.status_code == 200, closed.text

    service = services_of(app).receipts
    assert (await service.check(shown[0].posted)).verdict is Verdict.included
    result = await service.check(shown[1].posted)
    assert result.verdict is Verdict.not_included
    assert result.detail == (
        "The sealed ledger holds another reference at index 1: your receipted entry was replaced"
    )
    assert result.complaint is not None
    assert result.complaint["receipt"] == shown[1].posted
    assert result.complaint["answer"] == await proof_of(app_client, draw_id, 1)
    assert complaint_problem(result.complaint, public_key(app)) is None
    checked = await check_page(browser, shown[1].posted)
    assert checked.startswith(
        "Your entry is not in the sealed ledger The sealed ledger holds another "
        "reference at index 1: your receipted entry was replaced."
    )
    assert "Download the complaint" in checked


async def test_a_fairdraw1_ticket_page_offers_no_receipt(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id, _ = await open_raffle(app_client)
    # A raffle made before fairdraw/2 has no algorithm field, and its claims no commitment.
    await redis.hdel(KEYS.draw_meta(draw_id), "algorithm")
    _, card = await claim_on_the_page(FormBrowser(anon_client), draw_id)
    assert re.search(r'id="ticket-code">[^<]+<', card.text)
    assert "Keep your receipt as a file" not in card.text
    assert _RECEIPT_FIELD.search(card.text) is None
    assert "Public reference" not in text_of(card.text)


async def open_lottery(client: httpx.AsyncClient) -> str:
    """A lottery (UTC) running from today, made by the admin; its id."""
    csrf = await login(client, ADMIN)
    today = datetime.now(UTC).date()
    body = {"name": "Ballot receipts", "prize": "Coffee", "start": today.isoformat()}
    created = await client.post("/api/v1/lotteries", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    lottery_id: str = created.json()["id"]
    return lottery_id


async def cast_on_the_page(browser: FormBrowser, lottery_id: str) -> tuple[str, httpx.Response]:
    """Cast a ballot with the lottery page's button; the receipt's address and page."""
    token = await browser.csrf(f"/lotteries/{lottery_id}")
    cast = await browser.post(f"/lotteries/{lottery_id}/ballots", csrf=token)
    assert cast.status_code == 303, cast.text
    page = await browser.client.get(cast.headers["location"])
    assert page.status_code == 200, page.text
    return cast.headers["location"], page


async def test_ballot_receipts_from_the_api_and_the_page_are_included_after_the_seal(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    redis: Redis,
) -> None:
    lottery_id = await open_lottery(app_client)
    browser = FormBrowser(anon_client)
    await browser.log_in(PARTICIPANT)
    csrf = await browser.csrf(f"/lotteries/{lottery_id}")
    cast = await anon_client.post(
        f"/api/v1/lotteries/{lottery_id}/ballots", headers={"X-CSRF-Token": csrf}
    )
    assert cast.status_code == 201, cast.text
    from_api = cast.json()
    round_id = from_api["round_id"]
    location, page = await cast_on_the_page(browser, lottery_id)
    shown = page_receipt(page.text)
    key = public_key(app)

    statement = shown.posted["statement"]
    assert statement["draw_id"] == round_id
    assert statement["index"] == 1
    assert statement["type"] == "receipt"
    assert verify_statement(shown.posted, key)
    assert f"Public reference {statement['ref']}" in text_of(page.text)
    assert shown.file_name == f"fairdraw-receipt-{round_id}-1.json"
    assert shown.file_bytes == canonical(shown.posted) + b"\n"
    assert "your ballot is in the list of this round's ballots" in text_of(page.text)
    # The API's receipt of the first ballot is what its page would have shown.
    first = await services_of(app).lotteries.ballot(lottery_id, from_api["date"], 1, 1)
    assert first is not None
    assert first.signed == from_api["signed"]
    # A reload casts nothing and shows the same receipt.
    for _ in range(2):
        assert page_receipt((await anon_client.get(location)).text) == shown
    assert await redis.llen(KEYS.ledger(round_id)) == 2

    receipts = [from_api, shown.posted]
    service = services_of(app).receipts
    assert (await service.check(shown.posted)).verdict is Verdict.not_sealed
    early = await app_client.get(f"/api/v1/draws/{round_id}/entries/0/proof")
    assert early.status_code == 404
    assert early.json()["code"] == "not_sealed"

    report = await services_of(app).scheduler.run_once(next_day_ms())
    assert [drawn[0] for drawn in report.drawn] == [lottery_id]
    for index, receipt in enumerate(receipts):
        answer = await proof_of(app_client, round_id, index)
        assert answer["statement"]["ref"] == signed_receipt(receipt)["statement"]["ref"]
        assert answer["statement"]["entry_count"] == 2
        assert verify_statement(answer, key)
        assert verifies(answer)
        assert check_receipt(receipt, answer, key).verdict is Verdict.included
        assert (await service.check(receipt)).verdict is Verdict.included
    checked = await check_page(browser, shown.posted)
    assert checked.startswith(f"{_INCLUDED} This server's signed proof")
    assert f"Reference sealed there {statement['ref']} Entries sealed 2" in checked


async def test_a_replaced_ballot_yields_a_complaint(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    redis: Redis,
) -> None:
    lottery_id = await open_lottery(app_client)
    browser = FormBrowser(anon_client)
    await browser.log_in(PARTICIPANT)
    shown = [page_receipt((await cast_on_the_page(browser, lottery_id))[1].text) for _ in range(2)]
    round_id = shown[0].posted["statement"]["draw_id"]
    element = str(await redis.lindex(KEYS.ledger(round_id), 0))
    await redis.lset(KEYS.ledger(round_id), 0, replaced_ballot(element))
    await services_of(app).scheduler.run_once(next_day_ms())

    service = services_of(app).receipts
    assert (await service.check(shown[1].posted)).verdict is Verdict.included
    result = await service.check(shown[0].posted)
    assert result.verdict is Verdict.not_included
    assert result.detail == (
        "The sealed ledger holds another reference at index 0: your receipted entry was replaced"
    )
    assert result.complaint is not None
    assert result.complaint["receipt"] == shown[0].posted
    assert complaint_problem(result.complaint, public_key(app)) is None


# -- fairdraw verify-receipt against a real server ---------------------------------------------


def saved(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def verify(path: str, server: LiveServer) -> Any:
    return runner.invoke(cli, ["verify-receipt", path, "--server", server.url])


@contextmanager
def page_session(
    server: LiveServer, credentials: tuple[str, str] | None = None
) -> Iterator[httpx.Client]:
    """A browser without JavaScript on the live server, logged in if ``credentials``."""
    with httpx.Client(base_url=server.url) as client:
        if credentials is not None:
            token = CSRF_FIELD.search(client.get("/login").text)
            assert token
            form = {"csrf_token": token[1], "username": credentials[0], "password": credentials[1]}
            assert client.post("/login", data=form).status_code == 303
        yield client


def submit(client: httpx.Client, form_page: str, action: str) -> httpx.Response:
    """Submit the one-button form ``action`` of ``form_page``; the page it leads to."""
    token = CSRF_FIELD.search(client.get(form_page).text)
    assert token
    sent = client.post(action, data={"csrf_token": token[1]})
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"])
    assert page.status_code == 200, page.text
    return page


async def seal_todays_rounds(settings: Settings) -> None:
    """Run the lottery schedule as of tomorrow: today's rounds are sealed and drawn."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await services_of(application).scheduler.run_once(next_day_ms())


def test_verify_receipt_checks_ticket_and_ballot_receipts(
    live_server: LiveServer, redis_sync: SyncRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with httpx.Client(base_url=live_server.url) as admin:
        session = admin.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
        headers = {"X-CSRF-Token": session.json()["csrf_token"]}
        body = {
            "title": "CLI tickets",
            "prizes": PRIZES,
            "ticket_count": 10,
            "per_claimant": 10,
            "early_close": True,
            "open": True,
        }
        draw_id = admin.post("/api/v1/raffles", json=body, headers=headers).json()["id"]
        today = datetime.now(UTC).date().isoformat()
        lottery = {"name": "CLI ballots", "prize": "Coffee", "start": today}
        lottery_id = admin.post("/api/v1/lotteries", json=lottery, headers=headers).json()["id"]

        with httpx.Client(base_url=live_server.url) as holder:
            ticket = holder.post(f"/api/v1/draws/{draw_id}/tickets")
            assert ticket.status_code == 201, ticket.text
        with page_session(live_server) as browser:
            ticket_page = page_receipt(
                submit(browser, f"/draws/{draw_id}", f"/draws/{draw_id}/tickets").text
            )
            dropped_page = page_receipt(
                submit(browser, f"/draws/{draw_id}", f"/draws/{draw_id}/tickets").text
            )
        with page_session(live_server, PARTICIPANT) as participant:
            token = CSRF_FIELD.search(participant.get(f"/lotteries/{lottery_id}").text)
            assert token
            ballot = participant.post(
                f"/api/v1/lotteries/{lottery_id}/ballots", headers={"X-CSRF-Token": token[1]}
            )
            assert ballot.status_code == 201, ballot.text
            ballot_page = page_receipt(
                submit(
                    participant, f"/lotteries/{lottery_id}", f"/lotteries/{lottery_id}/ballots"
                ).text
            )
        files = {
            "ticket-api.json": json.dumps(ticket.json(), indent=2).encode(),
            ticket_page.file_name: ticket_page.file_bytes,
            dropped_page.file_name: dropped_page.file_bytes,
            "ballot-api.json": json.dumps(ballot.json(), indent=2).encode(),
            ballot_page.file_name: ballot_page.file_bytes,
        }
        paths = {name: saved(tmp_path, name, content) for name, content in files.items()}

        early = verify(paths[ticket_page.file_name], live_server)
        assert early.exit_code == 2
        assert "The draw is not sealed yet" in early.output
        # The operator swaps the third ticket's commitment before the seal.
        element = str(redis_sync.lindex(KEYS.ledger(draw_id), 2))
        redis_sync.lset(KEYS.ledger(draw_id), 2, replaced_claim(element))
        closed = admin.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
        assert closed.status_code == 200, closed.text
    asyncio.run(seal_todays_rounds(live_server.settings))

    for name, entries in [
        ("ticket-api.json", 3),
        (ticket_page.file_name, 3),
        ("ballot-api.json", 2),
        (ballot_page.file_name, 2),
    ]:
        included = verify(paths[name], live_server)
        assert included.exit_code == 0, (name, included.output)
        assert re.match(
            rf"INCLUDED: Entry \d is in the ledger of {entries} entries sealed at", included.output
        )
    assert f"fairdraw-receipt-{draw_id}-1.json" == ticket_page.file_name

    dropped = verify(paths[dropped_page.file_name], live_server)
    assert dropped.exit_code == 1, dropped.output
    name = f"fairdraw-complaint-{draw_id}-2.json"
    assert dropped.output.splitlines()[0] == (
        "NOT INCLUDED: The sealed ledger holds another reference at index 2: your receipted "
        "entry was replaced"
    )
    complaint = json.loads((tmp_path / name).read_bytes())
    assert complaint["receipt"] == dropped_page.posted
    key = httpx.get(f"{live_server.url}/.well-known/fairdraw-signing-key").json()["public_key"]
    assert complaint_problem(complaint, bytes.fromhex(key)) is None
