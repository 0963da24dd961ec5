"""Forfeit and promote over real HTTP: who may forfeit, what a repeat does, what the
results page, the substitutions record, the draw log and a ticket check then say, and
that the record verifies against the published bundle."""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from redis.asyncio import Redis
from typer.testing import CliRunner

from fairdraw.cli import app as cli
from fairdraw.domain.moments import iso
from fairdraw.domain.proof import bundle_hash, canonical_json
from fairdraw.domain.substitution_check import check_substitutions
from fairdraw.services.live import public_message
from fairdraw.store.events import StoredEvent
from fairdraw.store.keys import Keys
from fairdraw.web.pages.views import moment_of_iso
from tests.integration.test_raffle_api import check, claim, create_raffle, serving
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login, make_settings
from tests.support.forms import FormBrowser, field_error
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Laptop", "quantity": 1}, {"name": "Sticker", "quantity": 1}]


@pytest_asyncio.fixture
async def url(store_url: str, github: GitHubStandIn, redis: Redis) -> AsyncIterator[str]:
    async with serving(make_settings(store_url, github.url)) as served:
        yield served


@contextlib.asynccontextmanager
async def signed_in(
    url: str, credentials: tuple[str, str] | None
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client of the live app, logged in as ``credentials`` (anonymous: None), and
    its CSRF token."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client, await login(client, credentials) if credentials else ""


async def drawn_giveaway(
    url: str, github: GitHubStandIn, entrants: int = 6, time_zone: str = "UTC"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A giveaway of two prizes drawn by the admin from ``entrants`` GitHub entries: the
    draw as GET /winners shows it, and the entries' receipts."""
    receipts = []
    async with signed_in(url, ADMIN) as (admin, csrf):
        headers = {"X-CSRF-Token": csrf}
        body = {
            "title": "Forfeit giveaway",
            "prizes": PRIZES,
            "open": True,
            "time_zone": time_zone,
        }
        draw = (await admin.post("/api/v1/draws", json=body, headers=headers)).json()
        for n in range(entrants):
            github.add_user(f"entrant{n}", 1000 + n, f"Entrant {n}")
            entered = await admin.post(
                f"/api/v1/draws/{draw['id']}/entries",
                json={"github": f"entrant{n}"},
                headers=headers,
            )
            assert entered.status_code == 201, entered.text
            receipts.append(entered.json())
        for action in ("close", "draw"):
            done = await admin.post(f"/api/v1/draws/{draw['id']}/{action}", headers=headers)
            assert done.status_code == 200, done.text
        shown: dict[str, Any] = (await admin.get(f"/api/v1/draws/{draw['id']}/winners")).json()
        return shown, receipts


async def forfeit(
    client: httpx.AsyncClient, csrf: str, draw_id: str, body: dict[str, Any], key: str = ""
) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf}
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(f"/api/v1/draws/{draw_id}/forfeits", json=body, headers=headers)


def picks(draw: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    result = draw["result"]
    return result["winners"], result["alternates"]


async def test_a_manager_forfeits_a_winner_and_the_first_alternate_is_promoted(
    url: str, github: GitHubStandIn, tmp_path: Path
) -> None:
    draw, _ = await drawn_giveaway(url, github)
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    laptop = winners[0]
    async with signed_in(url, ADMIN) as (admin, csrf):
        key = str(uuid.uuid4())
        body = {"winner": laptop["index"], "reason": "  Could not be reached  "}
        made = await forfeit(admin, csrf, draw_id, body, key)
        assert made.status_code == 201, made.text
        sub = made.json()
        assert sub == {
            "at": sub["at"],
            "slot": 0,
            "prize": "Laptop",
            "forfeited": {"index": laptop["index"], "ref": laptop["ref"]},
            "promoted": {
                "alternate": 1,
                "index": alternates[0]["index"],
                "ref": alternates[0]["ref"],
            },
            "reason": "Could not be reached",
        }
        # The same request again (a lost answer) is answered, not repeated.
        replayed = await forfeit(admin, csrf, draw_id, body, key)
        assert (replayed.status_code, replayed.json()) == (201, sub)
        assert replayed.headers["Idempotent-Replayed"] == "true"
        # Another request for the same winner answers the substitution already made.
        again = await forfeit(admin, csrf, draw_id, {**body, "reason": "other"})
        assert (again.status_code, again.json()) == (200, sub)

        record = await admin.get(f"/api/v1/draws/{draw_id}/substitutions")
        assert record.status_code == 200
        assert record.headers["content-type"] == "application/json"
        bundle = (await admin.get(f"/api/v1/draws/{draw_id}/proof")).content
        entries = (await admin.get(f"/api/v1/draws/{draw_id}/entries.txt")).content
        assert record.content == canonical_json(
            {
                "format": "fairdraw/2 substitutions",
                "draw": draw_id,
                "bundle": bundle_hash(json.loads(bundle)),
                "substitutions": [sub],
            }
        )
        assert all(c.ok for c in check_substitutions(bundle, record.content))

        # The log holds one forfeit leaf, tied to the logged bundle and the substitution.
        leaves = (await admin.get(f"/api/v1/draws/{draw_id}/log")).json()
        by_type = {leaf["entry"]["type"]: leaf["entry"] for leaf in leaves}
        assert [leaf["entry"]["type"] for leaf in leaves] == ["commit", "seal", "draw", "forfeit"]
        assert by_type["forfeit"] == {
            "type": "forfeit",
            "draw_id": draw_id,
            "time": sub["at"],
            "bundle_hash": by_type["draw"]["bundle_hash"],
            "number": 0,
            "substitution": hashlib.sha256(canonical_json(sub)).hexdigest(),
        }

        page = (await admin.get(f"/draws/{draw_id}/results")).text
        assert "Substitutions" in page
        assert "Could not be reached" in page
        laptop_section = page.split('id="prize-1"')[1].split('id="prize-2"')[0]
        assert f"Entrant {alternates[0]['index']}<" in laptop_section
        assert f"Entrant {laptop['index']}<" not in laptop_section
        assert "Promoted alternate #1" in page
        listed = page.split('class="fd-alternates"')[1].split("</ol>")[0].split("<li>")[1:]
        assert ["Promoted: holds a prize" in item for item in listed] == [True, False]
        assert f"/api/v1/draws/{draw_id}/substitutions" in page
        assert "--substitutions fairdraw-" in page

    # The command-line verifier checks the record with the bundle.
    (tmp_path / "bundle.json").write_bytes(bundle)
    (tmp_path / "entries.txt").write_bytes(entries)
    (tmp_path / "subs.json").write_bytes(record.content)
    args = ["verify", str(tmp_path / "bundle.json"), str(tmp_path / "entries.txt")]
    ran = CliRunner().invoke(cli, [*args, "--substitutions", str(tmp_path / "subs.json")])
    assert ran.exit_code == 0, ran.output
    assert "ok   substitutions_order: every substitution followed the published" in ran.output
    assert ran.output.rstrip().endswith("PASS (trusts its operator: no beacon)")
    tampered = json.loads(record.content)
    tampered["substitutions"][0]["promoted"]["alternate"] = 2
    (tmp_path / "subs.json").write_bytes(canonical_json(tampered))
    ran = CliRunner().invoke(cli, [*args, "--substitutions", str(tmp_path / "subs.json")])
    assert ran.exit_code == 1
    assert (
        ran.output.rstrip()
        .splitlines()[-1]
        .startswith("FAIL substitutions_order: substitution 0: promoted alternate #2")
    )


async def test_only_the_draws_managers_forfeit(url: str, github: GitHubStandIn) -> None:
    draw, _ = await drawn_giveaway(url, github)
    draw_id = draw["id"]
    winner = picks(draw)[0][0]["index"]
    body = {"winner": winner, "reason": "no show"}
    async with signed_in(url, None) as (anonymous, _):
        refused = await forfeit(anonymous, "", draw_id, body)
        assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")
        record = (await anonymous.get(f"/api/v1/draws/{draw_id}/substitutions")).json()
        assert record["substitutions"] == []
        page = await anonymous.get(f"/draws/{draw_id}/forfeits", follow_redirects=False)
        assert page.status_code == 303
    for credentials in (MANAGER, PARTICIPANT):  # another draw's manager; an entrant
        async with signed_in(url, credentials) as (other, csrf):
            refused = await forfeit(other, csrf, draw_id, body)
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
            assert (await other.get(f"/draws/{draw_id}/forfeits")).status_code == 403
    async with signed_in(url, ADMIN) as (admin, csrf):
        record = (await admin.get(f"/api/v1/draws/{draw_id}/substitutions")).json()
        assert record["substitutions"] == []
        assert (await forfeit(admin, csrf, draw_id, body)).status_code == 201


async def test_refusals_store_nothing(url: str, github: GitHubStandIn, redis: Redis) -> None:
    draw, _ = await drawn_giveaway(url, github)
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    async with signed_in(url, ADMIN) as (admin, csrf):
        for body, status, code in [
            ({"winner": winners[0]["index"], "reason": "   "}, 422, "invalid_input"),
            ({"winner": winners[0]["index"], "reason": "x" * 501}, 422, "invalid_input"),
            ({"winner": -1, "reason": "why"}, 422, "invalid_input"),
            ({"winner": "0", "reason": "why"}, 422, "invalid_input"),
            ({"winner": alternates[0]["index"], "reason": "why"}, 409, "not_a_winner"),
            ({"winner": 999, "reason": "why"}, 409, "not_a_winner"),
        ]:
            refused = await forfeit(admin, csrf, draw_id, body)
            assert (refused.status_code, refused.json()["code"]) == (status, code), body
        assert await redis.llen(KEYS.substitutions(draw_id)) == 0
        missing = await forfeit(admin, csrf, "aaaaaaaaaaaa", {"winner": 0, "reason": "why"})
        assert (missing.status_code, missing.json()["code"]) == (404, "draw_not_found")
        headers = {"X-CSRF-Token": csrf}
        body = {"title": "Not drawn", "prizes": PRIZES, "open": True}
        open_draw = (await admin.post("/api/v1/draws", json=body, headers=headers)).json()
        early = await forfeit(admin, csrf, open_draw["id"], {"winner": 0, "reason": "why"})
        assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")
        record = await admin.get(f"/api/v1/draws/{open_draw['id']}/substitutions")
        assert record.status_code == 404


async def test_forfeits_run_down_the_alternates_until_none_is_left(
    url: str, github: GitHubStandIn
) -> None:
    draw, _ = await drawn_giveaway(url, github, entrants=3)  # 2 winners, 1 alternate
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    assert len(alternates) == 1
    async with signed_in(url, ADMIN) as (admin, csrf):
        first = await forfeit(admin, csrf, draw_id, {"winner": winners[1]["index"], "reason": "a"})
        assert first.json()["promoted"]["index"] == alternates[0]["index"]
        # The promoted alternate forfeits in turn: nobody is left.
        second = await forfeit(
            admin, csrf, draw_id, {"winner": alternates[0]["index"], "reason": "b"}
        )
        assert second.status_code == 201
        assert (second.json()["slot"], second.json()["promoted"]) == (1, None)
        page = (await admin.get(f"/draws/{draw_id}/results")).text
        assert "Not awarded — forfeited, and no alternate was left" in page
        assert "Promoted, then forfeited" in page.split('class="fd-alternates"')[1]
        leaves = (await admin.get(f"/api/v1/draws/{draw_id}/log")).json()
        numbers = [leaf["entry"]["number"] for leaf in leaves if leaf["entry"]["type"] == "forfeit"]
        assert numbers == [0, 1]
        bundle = (await admin.get(f"/api/v1/draws/{draw_id}/proof")).content
        record = (await admin.get(f"/api/v1/draws/{draw_id}/substitutions")).content
        assert all(c.ok for c in check_substitutions(bundle, record))


async def test_the_exports_and_entrant_list_show_who_holds_each_prize_now(
    url: str, github: GitHubStandIn
) -> None:
    draw, _ = await drawn_giveaway(url, github, entrants=6)  # 2 winners, 2 alternates
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    assert (len(winners), len(alternates)) == (2, 2)
    async with signed_in(url, ADMIN) as (admin, csrf):
        made = await forfeit(admin, csrf, draw_id, {"winner": winners[0]["index"], "reason": "x"})
        assert made.status_code == 201, made.text
        exported = await admin.get(f"/api/v1/draws/{draw_id}/winners.jsonl")
        rows = [json.loads(line) for line in exported.text.splitlines()]
        listed = (await admin.get(f"/api/v1/draws/{draw_id}/entrants", params={"limit": 50})).json()
        page = (await admin.get(f"/draws/{draw_id}/entrants")).text

    def row(
        outcome: str, prize: str | None, slot: int | None, rank: int | None, pick: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "outcome": outcome,
            "prize": prize,
            "slot": slot,
            "rank": rank,
            "index": pick["index"],
            "number": pick["index"] + 1,
            "ref": pick["ref"],
            "label": pick["login"],
        }

    laptop, mug = winners[0]["prize"], winners[1]["prize"]
    assert rows == [
        row("winner", laptop, 0, 1, alternates[0]),  # the first alternate holds it now
        row("winner", mug, 1, None, winners[1]),
        row("forfeited", laptop, 0, None, winners[0]),
        row("alternate", None, None, 2, alternates[1]),
    ]
    by_index = {e["index"]: e for e in listed["entrants"]}
    assert by_index[winners[0]["index"]]["outcome"] == "forfeited"
    assert (
        by_index[alternates[0]["index"]]["outcome"],
        by_index[alternates[0]["index"]]["rank"],
    ) == ("winner", 1)
    assert f"Winner: {laptop} (promoted alternate 1)" in page
    assert f"Forfeited: {laptop}" in page


async def test_a_ticket_check_tells_alternates_their_rank_and_promotion(url: str) -> None:
    async with signed_in(url, ADMIN) as (admin, csrf):
        raffle = await create_raffle(
            admin, csrf, prizes=[{"name": "Hamper", "quantity": 1}], ticket_count=3, per_claimant=3
        )
        draw_id = raffle["id"]
        headers = {"X-CSRF-Token": csrf}
        codes = {}
        for _ in range(3):
            ticket = (await claim(admin, draw_id, headers)).json()
            codes[ticket["index"]] = (ticket["number"], ticket["code"])
        drawn = await admin.post(f"/api/v1/draws/{draw_id}/draw", headers=headers)
        assert drawn.status_code == 200, drawn.text
        result = drawn.json()["result"]
        winner, alternate = result["winners"][0]["index"], result["alternates"][0]["index"]

        async def status_of(index: int) -> tuple[str, str | None, int | None]:
            number, code = codes[index]
            answer = (await check(admin, draw_id, number, code, headers)).json()
            return answer["status"], answer["prize"], answer["alternate"]

        assert await status_of(winner) == ("won", "Hamper", None)
        assert await status_of(alternate) == ("not_won", None, 1)
        number, code = codes[alternate]
        page = await admin.post(
            f"/draws/{draw_id}/check", data={"number": number, "code": code, "csrf_token": csrf}
        )
        assert "Alternate #1" in page.text
        made = await forfeit(admin, csrf, draw_id, {"winner": winner, "reason": "Unclaimed"})
        assert made.status_code == 201
        assert await status_of(alternate) == ("won", "Hamper", 1)
        assert await status_of(winner) == ("forfeited", None, None)
        page = await admin.post(
            f"/draws/{draw_id}/check", data={"number": number, "code": code, "csrf_token": csrf}
        )
        assert "Winner (promoted): Hamper" in page.text
        results = (await admin.get(f"/draws/{draw_id}/results")).text
        assert f"Ticket {codes[winner][0]}</span> forfeited" in results
        assert f'passed to <span class="fd-promoted-to">Ticket {number}</span>' in results


async def test_each_substitution_is_announced_once_to_webhooks(
    url: str, github: GitHubStandIn, redis: Redis
) -> None:
    draw, _ = await drawn_giveaway(url, github)
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    async with signed_in(url, ADMIN) as (admin, csrf):
        hook = await admin.post(
            f"/api/v1/draws/{draw_id}/webhooks",
            json={"url": "https://hooks.example.com/fairdraw", "events": ["forfeit"]},
            headers={"X-CSRF-Token": csrf},
        )
        assert hook.status_code == 201, hook.text
        # The second forfeit of the same winner is a repeat: answered, not announced.
        for index, status in [
            (winners[0]["index"], 201),
            (winners[0]["index"], 200),
            (alternates[0]["index"], 201),
        ]:
            made = await forfeit(admin, csrf, draw_id, {"winner": index, "reason": "gone"})
            assert made.status_code == status
    queued = await redis.lrange(KEYS.webhook_queue(hook.json()["id"]), 0, -1)
    messages = [await redis.hgetall(KEYS.webhook_message(str(m))) for m in queued]
    assert [m["type"] for m in messages] == ["draw.forfeit", "draw.forfeit"]
    bodies = [json.loads(m["body"]) for m in messages]
    assert [b["type"] for b in bodies] == ["draw.forfeit", "draw.forfeit"]
    assert [(b["data"]["number"], b["data"]["forfeited"]["index"]) for b in bodies] == [
        (0, winners[0]["index"]),
        (1, alternates[0]["index"]),
    ]
    assert bodies[1]["data"]["promoted"]["index"] == alternates[1]["index"]


async def test_an_entry_check_tells_alternates_their_rank(url: str, github: GitHubStandIn) -> None:
    draw, receipts = await drawn_giveaway(url, github)
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    second = alternates[1]["index"]
    async with httpx.AsyncClient(base_url=url, timeout=30) as visitor:

        async def standing(index: int) -> dict[str, Any]:
            answer = await visitor.get(f"/api/v1/draws/{draw_id}/entries/{index}/standing")
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            return found

        async def checked(index: int) -> str:
            browser = FormBrowser(visitor)
            token = await browser.csrf("/check-entry")
            receipt = json.dumps(receipts[index]["signed"])
            page = await browser.post("/check-entry", {"receipt": receipt}, csrf=token)
            assert page.status_code == 200
            (shown,) = re.findall(r'<p class="notification fd-standing">([^<]*)</p>', page.text)
            return html.unescape(shown)

        waiting = (
            "Alternate #2: if a winner forfeits, the prize goes to the first alternate who "
            "has not won"
        )
        assert await standing(second) == {
            "state": "alternate",
            "rank": 2,
            "prize": None,
            "text": waiting,
        }
        assert await checked(second) == waiting
        assert await checked(winners[1]["index"]) == "Winner: Sticker"
        async with signed_in(url, ADMIN) as (admin, csrf):
            for holder in (winners[0], alternates[0]):  # the Laptop passes to alternate #2
                made = await forfeit(
                    admin, csrf, draw_id, {"winner": holder["index"], "reason": "no"}
                )
                assert made.status_code == 201
        assert await checked(second) == "Winner (promoted): Laptop, as alternate #2"
        assert (await standing(second))["state"] == "promoted"
        forfeited = "Forfeited: the prize went on to an alternate (see the results page)"
        assert await checked(winners[0]["index"]) == forfeited
        assert await checked(alternates[0]["index"]) == forfeited
        loser = next(i for i in range(6) if i not in {p["index"] for p in winners + alternates})
        assert await checked(loser) == "Not a winner"
        missing = await visitor.get("/api/v1/draws/aaaaaaaaaaaa/entries/0/standing")
        assert missing.status_code == 404


async def test_the_forfeit_form_confirms_acts_once_and_redirects(
    url: str, github: GitHubStandIn, redis: Redis
) -> None:
    draw, _ = await drawn_giveaway(url, github)
    draw_id = draw["id"]
    winner = picks(draw)[0][0]["index"]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        browser = FormBrowser(client)
        await browser.log_in(ADMIN)
        token = await browser.csrf(f"/draws/{draw_id}")
        assert (
            f'href="/draws/{draw_id}/forfeits">Forfeit a winner</a>'
            in (await client.get(f"/draws/{draw_id}")).text
        )
        form = {"winner": str(winner), "reason": "Moved abroad", "idempotency_key": "k" * 24}
        unconfirmed = await browser.post(f"/draws/{draw_id}/forfeits", form, csrf=token)
        assert unconfirmed.status_code == 422
        assert "Tick the box to confirm the forfeit" in unconfirmed.text
        blank = {**form, "reason": "  ", "confirm": "yes", "idempotency_key": "b" * 24}
        refused = await browser.post(f"/draws/{draw_id}/forfeits", blank, csrf=token)
        assert refused.status_code == 422
        assert field_error(refused.text, f"reason-{winner}") == "1 to 500 characters"
        assert await redis.llen(KEYS.substitutions(draw_id)) == 0
        confirmed = {**form, "confirm": "yes"}
        for _ in range(2):  # a double click: one forfeit, the same redirect
            done = await browser.post(f"/draws/{draw_id}/forfeits", confirmed, csrf=token)
            assert done.status_code == 303
            assert done.headers["location"] == f"/draws/{draw_id}/results#substitutions"
        assert await redis.llen(KEYS.substitutions(draw_id)) == 1
        again = await browser.post(f"/draws/{draw_id}/forfeits", confirmed, csrf="wrong")
        assert again.status_code == 403


async def test_each_substitution_is_a_live_event_once(
    url: str, github: GitHubStandIn, redis: Redis
) -> None:
    """Open pages learn of a forfeit from the draw's feed: one "forfeit" event per
    recorded substitution, written with it, none for a repeated request."""
    draw, _ = await drawn_giveaway(url, github, entrants=3)
    draw_id = draw["id"]
    winners, alternates = picks(draw)
    async with signed_in(url, ADMIN) as (admin, csrf):
        body = {"winner": winners[1]["index"], "reason": "no show"}
        assert (await forfeit(admin, csrf, draw_id, body)).status_code == 201
        again = await forfeit(admin, csrf, draw_id, body)
        assert again.status_code == 200  # the same substitution, not a second one
        body = {"winner": alternates[0]["index"], "reason": "no show either"}
        assert (await forfeit(admin, csrf, draw_id, body)).status_code == 201
    events = await redis.xrange(KEYS.events(draw_id))
    forfeits = [fields for _, fields in events if fields["t"] == "forfeit"]
    assert [f["p"] for f in forfeits] == ["0", "1"]
    assert all(f["at"].isdigit() for f in forfeits)
    assert events[-1][1]["t"] == "forfeit"
    assert 0 < await redis.pttl(KEYS.events(draw_id)) <= 7 * 24 * 3600 * 1000
    event_id, fields = events[-1]
    at = iso(int(fields["at"]))
    assert public_message(StoredEvent(event_id, fields)) == ("forfeit", {"position": 1, "at": at})


async def test_a_substitution_reads_in_the_draws_time_zone(url: str, github: GitHubStandIn) -> None:
    """Without JavaScript the results page shows when a prize moved on in the draw's
    zone, as every other instant of the page."""
    draw, _ = await drawn_giveaway(url, github, time_zone="Asia/Shanghai")
    winners, _ = picks(draw)
    async with signed_in(url, ADMIN) as (admin, csrf):
        made = await forfeit(
            admin, csrf, draw["id"], {"winner": winners[0]["index"], "reason": "No reply"}
        )
        assert made.status_code == 201, made.text
        at = made.json()["at"]
        page = (await admin.get(f"/draws/{draw['id']}/results")).text
    shown = moment_of_iso(at, "Asia/Shanghai")
    assert shown is not None
    section = page.split('id="substitutions"')[1]
    assert f'datetime="{shown.iso}"' in section
    assert f">{shown.text}</time>" in section
    assert "China Standard Time" in shown.text
