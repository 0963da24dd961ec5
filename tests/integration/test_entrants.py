"""A draw's entrant list and exports on a real store: who may see them, pages and their
boundaries, search, outcomes after the draw, the exact CSV and JSON Lines, the formula
guard, a lottery's winners by date, and an export of 200,000 entries streamed in
bounded memory."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import tracemalloc
from typing import Any

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain.callers import Caller
from fairdraw.domain.moments import iso
from fairdraw.services.entrants import EXPORT_CHUNK
from fairdraw.store.keys import Keys
from fairdraw.web.api.entrants import ENTRANT_FIELDS, csv_stream, entrant_records
from tests.integration.test_dashboard import (
    MARIA,
    OTHER_MANAGER,
    add_manager,
    fill,
    giveaway,
    services,
)
from tests.integration.test_lottery_api import past_rounds
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login
from tests.support.ledgers import stored_entries

KEYS = Keys()
LABELS = ["Alice", "bob", "alina", "ALPHA-dev", "carol", "Al", "xal"]


async def entered_at(redis: Redis, draw_id: str) -> list[str]:
    return [iso(e.entered_ms) for e in await stored_entries(redis, draw_id)]


async def refs(redis: Redis, draw_id: str) -> list[str]:
    return [e.ref for e in await stored_entries(redis, draw_id)]


def parsed_csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def drawn_giveaway(app: FastAPI, redis: Redis, labels: list[str]) -> str:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, labels)
    await services(app).drawing.close(MARIA, draw_id)
    await services(app).drawing.draw_winners(MARIA, draw_id)
    return draw_id


# -- the list ---------------------------------------------------------------------------------
async def test_the_list_pages_through_the_ledger_in_order(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, LABELS)
    await login(app_client, MANAGER)
    times, ledger_refs = await entered_at(redis, draw_id), await refs(redis, draw_id)
    url = f"/api/v1/draws/{draw_id}/entrants"

    first = (await app_client.get(url, params={"limit": 3})).json()
    assert (first["offset"], first["limit"], first["total"], first["more"]) == (0, 3, 7, True)
    assert first["query"] == ""
    assert first["draw"]["id"] == draw_id
    assert first["entrants"][0] == {
        "index": 0,
        "number": 1,
        "entered_at": times[0],
        "label": "Alice",
        "ref": ledger_refs[0],
        "outcome": "pending",
        "prize": None,
        "slot": None,
        "rank": None,
    }
    assert [e["label"] for e in first["entrants"]] == ["Alice", "bob", "alina"]
    last = (await app_client.get(url, params={"offset": 6, "limit": 3})).json()
    assert ([e["index"] for e in last["entrants"]], last["more"]) == ([6], False)
    exact = (await app_client.get(url, params={"offset": 4, "limit": 3})).json()
    assert ([e["index"] for e in exact["entrants"]], exact["more"]) == ([4, 5, 6], False)
    beyond = (await app_client.get(url, params={"offset": 7})).json()
    assert (beyond["entrants"], beyond["more"], beyond["total"]) == ([], False, 7)
    whole = (await app_client.get(url)).json()
    assert (len(whole["entrants"]), whole["limit"]) == (7, 50)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "x"}):
        problem(await app_client.get(url, params=bad), 422, "invalid_input")


async def test_a_search_lists_name_matches_newest_first_a_page_at_a_time(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    await fill(redis, draw_id, LABELS)
    await login(app_client, MANAGER)
    url = f"/api/v1/draws/{draw_id}/entrants"

    async def found(**params: Any) -> tuple[list[str], bool, str]:
        body = (await app_client.get(url, params=params)).json()
        return [e["label"] for e in body["entrants"]], body["more"], body["query"]

    assert await found(q="al") == (["Al", "ALPHA-dev", "alina", "Alice"], False, "al")
    assert await found(q=" AL ", limit=2) == (["Al", "ALPHA-dev"], True, "AL")
    assert await found(q="al", offset=2, limit=2) == (["alina", "Alice"], False, "al")
    assert await found(q="al", offset=4) == ([], False, "al")
    assert await found(q="zz") == ([], False, "zz")
    problem(await app_client.get(url, params={"q": "a"}), 422, "invalid_input")


async def test_a_raffle_lists_tickets_and_finds_one_by_number(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    svc = services(app)
    raffle = await svc.drawing.create_raffle(
        MARIA,
        title="Raffle",
        prizes=[{"name": "Mug", "quantity": 1}],
        ticket_count=40,
        per_claimant=3,
        open_now=True,
    )
    anonymous = Caller(None, ipaddress.ip_address("10.0.0.1"))
    claims = [await svc.raffles.claim(raffle.id, anonymous) for _ in range(3)]
    await login(app_client, MANAGER)
    url = f"/api/v1/draws/{raffle.id}/entrants"
    body = (await app_client.get(url)).json()
    numbers = [e["number"] for e in body["entrants"]]
    assert numbers == [c.number for c in claims]
    assert [e["entered_at"] for e in body["entrants"]] == [c.claimed_at for c in claims]
    assert {e["label"] for e in body["entrants"]} == {"anonymous"}
    assert [e["ref"] for e in body["entrants"]] == [c.ref or str(c.number) for c in claims]
    one = (await app_client.get(url, params={"q": str(numbers[1])})).json()
    assert [e["index"] for e in one["entrants"]] == [1]


# -- who may look -----------------------------------------------------------------------------
async def test_only_the_draws_manager_and_admins_see_entrants_and_exports(
    app: FastAPI, app_settings: Settings, redis: Redis
) -> None:
    await add_manager(app_settings)
    draw_id = await giveaway(app)
    await fill(redis, draw_id, LABELS)
    paths = [
        f"/api/v1/draws/{draw_id}/entrants",
        f"/api/v1/draws/{draw_id}/entrants.csv",
        f"/api/v1/draws/{draw_id}/entrants.jsonl",
        f"/api/v1/draws/{draw_id}/winners.csv",
        f"/api/v1/draws/{draw_id}/winners.jsonl",
    ]
    transport = httpx.ASGITransport(app=app)
    for credentials, status in [
        (None, 401),
        (PARTICIPANT, 403),
        (OTHER_MANAGER, 403),
        (MANAGER, 200),
        (ADMIN, 200),
    ]:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            if credentials is not None:
                await login(client, credentials)
            for path in paths:
                response = await client.get(path)
                assert response.status_code == status, (credentials, path, response.text)
                if status != 200:
                    code = "not_authenticated" if status == 401 else "forbidden"
                    problem(response, status, code)
            if credentials == ADMIN:
                for path in paths:
                    missing = path.replace(draw_id, "nosuchdraw00")
                    problem(await client.get(missing), 404, "draw_not_found")


# -- outcomes and exports ---------------------------------------------------------------------
async def test_after_the_draw_every_row_has_its_outcome(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    labels = [f"user-{n:02}" for n in range(12)]
    draw_id = await drawn_giveaway(app, redis, labels)
    result = (await services(app).drawing.get(draw_id)).result
    assert result is not None
    winner = result.winners[0]
    alternates = [a.index for a in result.alternates]
    await login(app_client, MANAGER)
    rows = (await app_client.get(f"/api/v1/draws/{draw_id}/entrants")).json()["entrants"]
    outcomes = {r["index"]: (r["outcome"], r["prize"], r["slot"], r["rank"]) for r in rows}
    expected = {i: ("none", None, None, None) for i in range(12)}
    expected[winner.index] = ("winner", "Keyboard", 0, None)
    for rank, index in enumerate(alternates, start=1):
        expected[index] = ("alternate", None, None, rank)
    assert outcomes == expected

    picks = parsed_csv(await app_client.get(f"/api/v1/draws/{draw_id}/winners.csv"))
    ledger_refs = await refs(redis, draw_id)
    assert picks[0] == ["outcome", "prize", "slot", "rank", "index", "number", "ref", "label"]
    assert picks[1:] == [
        [
            "winner",
            "Keyboard",
            "0",
            "",
            str(winner.index),
            str(winner.index + 1),
            ledger_refs[winner.index],
            labels[winner.index],
        ],
        *[
            ["alternate", "", "", str(rank), str(i), str(i + 1), ledger_refs[i], labels[i]]
            for rank, i in enumerate(alternates, start=1)
        ],
    ]
    response = await app_client.get(f"/api/v1/draws/{draw_id}/winners.jsonl")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(x["outcome"], x["index"]) for x in lines] == [("winner", winner.index)] + [
        ("alternate", i) for i in alternates
    ]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="fairdraw-{draw_id}-winners.jsonl"'
    )


async def test_the_entrants_csv_and_json_lines_exactly(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    labels = ["=SUM(A1:A9)", "+cmd", "-2+3", "@import", 'comma, and "quotes"', "ünïcode", "plain"]
    draw_id = await giveaway(app)
    await fill(redis, draw_id, labels)
    times, ledger_refs = await entered_at(redis, draw_id), await refs(redis, draw_id)
    await login(app_client, MANAGER)

    response = await app_client.get(f"/api/v1/draws/{draw_id}/entrants.csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="fairdraw-{draw_id}-entrants.csv"'
    )
    assert response.content.startswith(b"index,number,entered_at,label,ref,outcome,")
    assert b'"comma, and ""quotes"""' in response.content
    rows = parsed_csv(response)
    assert rows[0] == list(ENTRANT_FIELDS)
    guarded = [
        "'=SUM(A1:A9)",
        "'+cmd",
        "'-2+3",
        "'@import",
        'comma, and "quotes"',
        "ünïcode",
        "plain",
    ]
    assert rows[1:] == [
        [str(i), str(i + 1), times[i], guarded[i], ledger_refs[i], "pending", "", "", ""]
        for i in range(7)
    ]

    response = await app_client.get(f"/api/v1/draws/{draw_id}/entrants.jsonl")
    assert response.headers["content-type"] == "application/jsonl; charset=utf-8"
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {
            "index": i,
            "number": i + 1,
            "entered_at": times[i],
            "label": labels[i],
            "ref": ledger_refs[i],
            "outcome": "pending",
            "prize": None,
            "slot": None,
            "rank": None,
        }
        for i in range(7)
    ]
    before = parsed_csv(await app_client.get(f"/api/v1/draws/{draw_id}/winners.csv"))
    assert before == [["outcome", "prize", "slot", "rank", "index", "number", "ref", "label"]]


async def test_a_lotterys_winners_by_date(
    app: FastAPI, app_settings: Settings, redis: Redis
) -> None:
    past = await past_rounds(app, redis)
    history = await services(app).lotteries.history(past.lottery_id)
    drawn = [r for r in history if r.winners]
    assert len(drawn) == 1
    winner = drawn[0].winners[0]
    await add_manager(app_settings)
    transport = httpx.ASGITransport(app=app)
    url = f"/api/v1/lotteries/{past.lottery_id}/winners.csv"
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        problem(await client.get(url), 401, "not_authenticated")
        await login(client, OTHER_MANAGER)
        problem(await client.get(url), 403, "forbidden")
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await login(client, MANAGER)
        rows = parsed_csv(await client.get(url))
        assert rows == [
            ["date", "round", "prize", "ballot", "ref", "name"],
            [
                past.first.isoformat(),
                drawn[0].round_id,
                "Coffee",
                str(winner.number),
                winner.ref,
                winner.name,
            ],
        ]
        lines = (await client.get(url.replace(".csv", ".jsonl"))).text.splitlines()
        assert [json.loads(line)["date"] for line in lines] == [past.first.isoformat()]
        problem(
            await client.get("/api/v1/lotteries/nosuchlotter/winners.csv"),
            404,
            "lottery_not_found",
        )


# -- a large export ---------------------------------------------------------------------------
async def test_an_export_of_200000_entries_streams_in_bounded_memory(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    count = 200_000
    draw_id = await giveaway(app)
    ledger = KEYS.ledger(draw_id)
    async with redis.pipeline(transaction=False) as pipe:
        for start in range(0, count, 10_000):
            pipe.rpush(
                ledger,
                *[
                    f"{n:064x}\t{1_700_000_000_000 + n}\tgh:{n + 1}\tb{n}"
                    for n in range(start, start + 10_000)
                ],
            )
        await pipe.execute()

    chunks = await services(app).entrants.open_export(MARIA, draw_id)
    pieces = 0
    size = 0
    tracemalloc.start()
    try:
        async for piece in csv_stream(ENTRANT_FIELDS, entrant_records(chunks)):
            pieces += 1
            size += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pieces == 1 + count // EXPORT_CHUNK
    # The whole file is about 24 MB; read a chunk at a time, it needs a fifth of that
    # at most (one chunk of EXPORT_CHUNK rows is about 3 MB with its Python objects).
    assert size > 24_000_000
    assert peak < size // 5, (peak, size)

    await login(app_client, MANAGER)
    response = await app_client.get(f"/api/v1/draws/{draw_id}/entrants.csv")
    lines = response.content.split(b"\r\n")
    assert len(lines) == count + 2
    assert lines[-1] == b""
    assert (
        lines[count]
        == (
            f"{count - 1},{count},{iso(1_700_000_000_000 + count - 1)},b{count - 1},"
            f"{count - 1:064x},pending,,,"
        ).encode()
    )


# -- the page ---------------------------------------------------------------------------------
async def test_the_entrants_page_for_the_draws_manager(
    app: FastAPI, app_settings: Settings, redis: Redis
) -> None:
    await add_manager(app_settings)
    labels = [f"user-{n:03}" for n in range(60)]
    draw_id = await drawn_giveaway(app, redis, labels)
    result = (await services(app).drawing.get(draw_id)).result
    assert result is not None
    winner = result.winners[0]
    path = f"/draws/{draw_id}/entrants"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        anonymous = await client.get(path)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login?next=")
        await login(client, OTHER_MANAGER)
        assert (await client.get(path)).status_code == 403
        assert (
            'href="/draws/' + draw_id + '/entrants"'
            not in (await client.get(f"/draws/{draw_id}")).text
        )
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await login(client, MANAGER)
        assert f'href="{path}"' in (await client.get(f"/draws/{draw_id}")).text
        page = await client.get(path)
        assert page.status_code == 200
        assert "1\u201350 of 60." in page.text
        assert page.text.count("<tr>") == 51
        assert f'href="{path}?offset=50">Next</a>' in page.text
        assert f'href="/api/v1/draws/{draw_id}/entrants.csv" download' in page.text
        assert f'href="/api/v1/draws/{draw_id}/winners.csv" download' in page.text
        if winner.index < 50:
            assert f"Winner: {winner.prize}" in page.text
        second = await client.get(path, params={"offset": 50})
        assert "51\u201360 of 60." in second.text
        assert f'href="{path}">Previous</a>' in second.text
        assert "Next</a>" not in second.text
        found = await client.get(path, params={"q": "user-05"})
        assert found.text.count("<tr>") == 11
        assert "user-059" in found.text
        refused = await client.get(path, params={"q": "u"})
        assert refused.status_code == 422
        assert 'aria-invalid="true"' in refused.text
        assert "Type at least 2 characters" in refused.text
