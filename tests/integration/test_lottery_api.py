"""The lottery API through the real app and store: creating lotteries, casting ballots,
checking any date, the history, drawing a round early and the scheduler's status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import DESCRIPTION_MAX, QUANTITY_MAX
from fairdraw.domain.moments import iso, now_ms
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from fairdraw.web.deps import Services
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, login

KEYS = Keys()
BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
API = "/api/v1/lotteries"
_ID = re.compile(r"[a-z2-7]{12}")
_REF = re.compile(r"[0-9a-f]{64}")  # fairdraw/2: sha256 of the nonce and the identity


def person(name: str) -> Caller:
    """A participant the services know by name (display name: the name, capitalised)."""
    return Caller(
        User(username=name, display_name=name.title(), role=Role.participant, created_ms=0)
    )


ANN, BOB, PAT = person("ann"), person("bob"), person("pat")


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


def today_in(zone: ZoneInfo) -> date:
    return datetime.now(zone).date()


def midday(zone: ZoneInfo, day: date) -> int:
    """An instant in the middle of ``day``, well inside its round."""
    start, end = lotteries.day_bounds(zone, day)
    return (start + end) // 2


async def stored_lottery(
    redis: Redis,
    start: date,
    end: date | None = None,
    *,
    zone: str = "Europe/Berlin",
    name: str = "Daily coffee",
    winners_per_day: int = 1,
) -> str:
    """A lottery written straight into the store: creation refuses past start dates."""
    terms = lotteries.LotteryTerms(
        name=name,
        description="",
        prize="Coffee",
        winners_per_day=winners_per_day,
        timezone=zone,
        start=start,
        end=end,
    )
    lottery_id = new_lottery_id()
    fields = {**terms.to_fields(), "id": lottery_id, "created_by": MANAGER[0]}
    await LotteryStore(redis, KEYS).create(lottery_id, fields, lotteries.due_ms(terms, start))
    return lottery_id


@dataclass(frozen=True)
class PastRounds:
    """A Berlin lottery that started three days ago, drawn up to the day before
    yesterday: first day Ann 2 ballots and Bob 1, second day none, yesterday Pat 1 (not
    drawn yet)."""

    lottery_id: str
    first: date
    second: date
    yesterday: date
    run_ms: int


async def past_rounds(app: FastAPI, redis: Redis) -> PastRounds:
    services = services_of(app)
    today = today_in(BERLIN)
    first, second, yesterday = (today - timedelta(days=n) for n in (3, 2, 1))
    lottery_id = await stored_lottery(redis, first)
    moment = midday(BERLIN, first)
    for offset, caller in enumerate([ANN, ANN, BOB]):
        await services.lotteries.cast(lottery_id, caller, at_ms=moment + offset)
    await services.lotteries.cast(lottery_id, PAT, at_ms=midday(BERLIN, yesterday))
    # The scheduler wakes one second into yesterday: it draws the first two days only.
    run_ms = lotteries.day_bounds(BERLIN, yesterday)[0] + 1000
    report = await services.scheduler.run_once(run_ms)
    assert report.drawn == [(lottery_id, first), (lottery_id, second)]
    return PastRounds(lottery_id, first, second, yesterday, run_ms)


async def lottery_keys(redis: Redis) -> list[str]:
    """Every key a lottery, its schedule or one of its rounds could have written."""
    found = []
    for pattern in ("*lotter*", "*schedule*", "*{d:*"):
        found.extend([k async for k in redis.scan_iter(pattern)])
    return found


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def bearer(client: httpx.AsyncClient, credentials: tuple[str, str]) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": credentials[0], "password": credentials[1]},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# -- creating -----------------------------------------------------------------------------
async def test_a_manager_creates_a_lottery(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    today = today_in(UTC_ZONE)
    body = {"name": " Daily coffee ", "prize": "Coffee", "start": today.isoformat()}
    response = await app_client.post(API, json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    created = response.json()
    lottery_id = created["id"]
    assert _ID.fullmatch(lottery_id)
    assert created["created_at"].endswith("Z")
    assert {k: v for k, v in created.items() if k not in ("id", "created_at")} == {
        "name": "Daily coffee",
        "description": "",
        "prize": "Coffee",
        "winners_per_day": 1,
        "timezone": "UTC",  # FAIRDRAW_TIMEZONE's default
        "start": today.isoformat(),
        "end": None,
        "created_by": "maria",
        "last_drawn_day": None,
        "status": "running",
        "today": today.isoformat(),
        "ballots_today": 0,
        "today_round_id": lotteries.round_draw_id(lottery_id, today),
        "links": {
            "page": f"/lotteries/{lottery_id}",
            "rounds": f"{API}/{lottery_id}/rounds",
            "ballots": f"{API}/{lottery_id}/ballots",
        },
    }
    # Nobody is logged in on the other client: no count of their own.
    assert (await anon_client.get(API)).json() == [{**created, "ballots_today": None}]
    one = await anon_client.get(f"{API}/{lottery_id}")
    assert one.json() == {**created, "ballots_today": None}
    assert (await app_client.get(f"{API}/{lottery_id}")).json() == created


async def test_a_lottery_with_every_term(app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, ADMIN)
    start = today_in(ZoneInfo("Pacific/Auckland")) + timedelta(days=1)
    body = {
        "name": "Advent",
        "description": "One door a day",
        "prize": "Chocolate",
        "winners_per_day": 3,
        "timezone": "Pacific/Auckland",
        "start": start.isoformat(),
        "end": (start + timedelta(days=23)).isoformat(),
    }
    response = await app_client.post(API, json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    created = response.json()
    assert {k: created[k] for k in body} == body
    assert created["status"] == "upcoming"
    assert created["today"] == (start - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {
                "name": " ",
                "prize": "",
                "winners_per_day": 0,
                "description": "x" * (DESCRIPTION_MAX + 1),
            },
            {
                "name": "Give the lottery a name",
                "description": f"At most {DESCRIPTION_MAX} characters",
                "prize": "Give the prize a name",
                "winners_per_day": f"Winners per day must be between 1 and {QUANTITY_MAX}",
            },
        ),
        (
            {"timezone": "Mars/Olympus"},
            {"timezone": "Unknown time zone; use an IANA name such as Europe/Berlin"},
        ),
        (
            {"start": "2026-02-30", "end": "soon"},
            {"start": "Use a date such as 2026-11-22", "end": "Use a date such as 2026-11-22"},
        ),
        ({"start": "YESTERDAY"}, "start"),
        ({"end": "START-1"}, {"end": "The end date can't be before the start date"}),
        ({"winners_per_day": "2"}, {"winners_per_day": "Input should be a valid integer"}),
        ({"prize": None}, {"prize": "Input should be a valid string"}),
    ],
)
async def test_invalid_lotteries_are_refused_and_nothing_is_stored(
    app_client: httpx.AsyncClient,
    redis: Redis,
    changes: dict[str, Any],
    errors: dict[str, str] | str,
) -> None:
    csrf = await login(app_client, MANAGER)
    today = today_in(UTC_ZONE)
    words = {
        "YESTERDAY": (today - timedelta(days=1)).isoformat(),
        "START-1": (today - timedelta(days=1)).isoformat(),
    }
    body: dict[str, Any] = {"name": "Daily", "prize": "Coffee", "start": today.isoformat()}
    body |= {k: words.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    response = await app_client.post(API, json=body, headers={"X-CSRF-Token": csrf})
    found = problem(response, 422, "invalid_input")
    if errors == "start":
        errors = {"start": f"The start date can't be before today ({today.isoformat()})"}
    assert found["errors"] == errors
    assert await lottery_keys(redis) == []


async def test_only_managers_create_lotteries(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    body = {"name": "Daily", "prize": "Coffee", "start": today_in(UTC_ZONE).isoformat()}
    problem(await anon_client.post(API, json=body), 401, "not_authenticated")
    csrf = await login(app_client, PARTICIPANT)
    problem(await app_client.post(API, json=body, headers={"X-CSRF-Token": csrf}), 403, "forbidden")
    problem(await app_client.post(API, json=body), 403, "csrf_failed")
    assert await lottery_keys(redis) == []


# -- ballots ------------------------------------------------------------------------------
async def test_ballots_are_counted_per_participant_and_day(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    today = today_in(BERLIN)
    lottery_id = await stored_lottery(redis, today - timedelta(days=1))
    url = f"{API}/{lottery_id}/ballots"
    csrf = await login(app_client, PARTICIPANT)
    receipts = []
    for _ in range(3):
        response = await app_client.post(url, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 201, response.text
        receipts.append(response.json())
    round_id = lotteries.round_draw_id(lottery_id, today)
    assert [(r["number"], r["ballots_today"]) for r in receipts] == [(1, 1), (2, 2), (3, 3)]
    for receipt in receipts:
        assert set(receipt) == {
            "lottery_id",
            "date",
            "round_id",
            "number",
            "ref",
            "cast_at",
            "ballots_today",
            "signed",
        }
        assert (receipt["lottery_id"], receipt["date"]) == (lottery_id, today.isoformat())
        assert receipt["round_id"] == round_id
        assert _REF.fullmatch(receipt["ref"])
        # fairdraw/2: the instance signs its promise that the ballot is in the round.
        statement = receipt["signed"]["statement"]
        assert (statement["draw_id"], statement["index"], statement["ref"]) == (
            round_id,
            receipt["number"] - 1,
            receipt["ref"],
        )
    assert len({r["ref"] for r in receipts}) == 3

    # A bearer token needs no CSRF token; the manager's ballot is the round's fourth.
    token = await bearer(anon_client, MANAGER)
    theirs = await anon_client.post(url, headers=token)
    assert theirs.status_code == 201, theirs.text
    assert (theirs.json()["number"], theirs.json()["ballots_today"]) == (4, 1)

    assert (await app_client.get(f"{API}/{lottery_id}")).json()["ballots_today"] == 3
    assert [x["ballots_today"] for x in (await app_client.get(API)).json()] == [3]
    assert (await anon_client.get(f"{API}/{lottery_id}", headers=token)).json()[
        "ballots_today"
    ] == 1
    today_round = (await app_client.get(f"{API}/{lottery_id}/rounds/{today}")).json()
    assert (today_round["state"], today_round["ballots"]) == ("running", 4)
    assert await redis.llen(KEYS.ledger(round_id)) == 4


async def test_ballots_refused(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    today = today_in(BERLIN)
    running = await stored_lottery(redis, today)
    upcoming = await stored_lottery(redis, today + timedelta(days=1))
    ended = await stored_lottery(redis, today - timedelta(days=5), today - timedelta(days=1))
    problem(await anon_client.post(f"{API}/{running}/ballots"), 401, "not_authenticated")
    csrf = await login(app_client, PARTICIPANT)
    headers = {"X-CSRF-Token": csrf}
    problem(await app_client.post(f"{API}/{running}/ballots"), 403, "csrf_failed")
    problem(
        await app_client.post(f"{API}/abcdefghijkl/ballots", headers=headers),
        404,
        "lottery_not_found",
    )
    for lottery_id in (upcoming, ended):
        response = await app_client.post(f"{API}/{lottery_id}/ballots", headers=headers)
        problem(response, 409, "lottery_not_running")
    assert [k async for k in redis.scan_iter("*{d:*")] == []
    problem(await anon_client.get(f"{API}/abcdefghijkl"), 404, "lottery_not_found")


# -- rounds -------------------------------------------------------------------------------
async def test_what_each_date_says(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    past = await past_rounds(app, redis)
    lid = past.lottery_id
    first = (await app_client.get(f"{API}/{lid}/rounds/{past.first}")).json()
    round_id = lotteries.round_draw_id(lid, past.first)
    [winner] = first.pop("winners")
    assert winner["name"] == ("Ann" if winner["ballot"] <= 2 else "Bob")
    assert winner["prize"] == "Coffee"
    assert first.pop("drawn_at").endswith("Z")
    proof, entries = f"/api/v1/draws/{round_id}/proof", f"/api/v1/draws/{round_id}/entries.txt"
    assert first == {
        "lottery_id": lid,
        "date": past.first.isoformat(),
        "state": "drawn",
        "round_id": round_id,
        "ballots": 3,
        "due_at": iso(lotteries.day_bounds(BERLIN, past.first)[1]),
        "links": {
            "page": f"/lotteries/{lid}/rounds/{past.first}",
            "results": f"/draws/{round_id}/results",
            "proof": proof,
            "entries": entries,
        },
    }
    # The winning ballot's number is its line in the entries file, counted from 1.
    lines = (await app_client.get(entries)).text.splitlines()
    assert len(lines) == 3
    assert lines[winner["ballot"] - 1] == f"{winner['ballot'] - 1}\t{winner['ref']}"
    bundle = (await app_client.get(proof)).json()
    assert bundle["winners"][0]["index"] == winner["ballot"] - 1

    states = {}
    today = today_in(BERLIN)
    for day in [
        past.first - timedelta(days=1),
        past.second,
        past.yesterday,
        today,
        today + timedelta(days=1),
    ]:
        view = (await app_client.get(f"{API}/{lid}/rounds/{day}")).json()
        states[day] = (view["state"], view["ballots"], view["winners"], view["links"]["proof"])
    assert states == {
        past.first - timedelta(days=1): ("before_start", 0, [], None),
        past.second: (
            "no_ballots",
            0,
            [],
            f"/api/v1/draws/{lotteries.round_draw_id(lid, past.second)}/proof",
        ),
        past.yesterday: ("not_drawn", 1, [], None),
        today: ("running", 0, [], None),
        today + timedelta(days=1): ("future", 0, [], None),
    }
    ended = await stored_lottery(redis, past.first, past.second)
    after = (await app_client.get(f"{API}/{ended}/rounds/{past.yesterday}")).json()
    assert after["state"] == "after_end"


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "2026-02-30", " "])
async def test_a_malformed_date_is_422(
    app_client: httpx.AsyncClient, redis: Redis, day: str
) -> None:
    lid = await stored_lottery(redis, today_in(BERLIN))
    found = problem(await app_client.get(f"{API}/{lid}/rounds/{day}"), 422, "invalid_input")
    assert found["errors"] == {"date": "Use a date such as 2026-11-22"}
    unknown = await app_client.get(f"{API}/abcdefghijkl/rounds/2026-01-01")
    problem(unknown, 404, "lottery_not_found")


async def test_the_history_lists_past_rounds_newest_first(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    past = await past_rounds(app, redis)
    history = (await app_client.get(f"{API}/{past.lottery_id}/rounds")).json()
    assert [(r["date"], r["state"], r["ballots"], len(r["winners"])) for r in history] == [
        (past.yesterday.isoformat(), "not_drawn", 1, 0),
        (past.second.isoformat(), "no_ballots", 0, 0),
        (past.first.isoformat(), "drawn", 3, 1),
    ]
    checked = await app_client.get(f"{API}/{past.lottery_id}/rounds/{past.first}")
    assert history[2] == checked.json()
    newest = (await app_client.get(f"{API}/{past.lottery_id}/rounds?limit=1")).json()
    assert [r["date"] for r in newest] == [past.yesterday.isoformat()]
    for limit in ("0", "367", "x"):
        response = await app_client.get(f"{API}/{past.lottery_id}/rounds?limit={limit}")
        problem(response, 422, "invalid_input")
    fresh = await stored_lottery(redis, today_in(BERLIN))
    assert (await app_client.get(f"{API}/{fresh}/rounds")).json() == []


async def test_a_manager_draws_an_ended_round_now(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    past = await past_rounds(app, redis)
    lid = past.lottery_id
    url = f"{API}/{lid}/rounds/{past.yesterday}/draw"
    problem(await anon_client.post(url), 401, "not_authenticated")
    participant = await bearer(anon_client, PARTICIPANT)
    problem(await anon_client.post(url, headers=participant), 403, "forbidden")
    csrf = await login(app_client, MANAGER)
    headers = {"X-CSRF-Token": csrf}
    problem(await app_client.post(url), 403, "csrf_failed")
    today = today_in(BERLIN)
    for day in (today, today + timedelta(days=1), past.first - timedelta(days=1)):
        response = await app_client.post(f"{API}/{lid}/rounds/{day}/draw", headers=headers)
        problem(response, 409, "round_not_over")
    problem(
        await app_client.post(f"{API}/{lid}/rounds/someday/draw", headers=headers),
        422,
        "invalid_input",
    )
    problem(
        await app_client.post(f"{API}/abcdefghijkl/rounds/{past.yesterday}/draw", headers=headers),
        404,
        "lottery_not_found",
    )
    assert (await app_client.get(f"{API}/{lid}/rounds/{past.yesterday}")).json()[
        "state"
    ] == "not_drawn"

    drawn = await app_client.post(url, headers=headers)
    assert drawn.status_code == 200, drawn.text
    view = drawn.json()
    assert view["state"] == "drawn"
    assert [(w["ballot"], w["name"]) for w in view["winners"]] == [(1, "Pat")]
    assert view["links"]["proof"] is not None
    # Asking again, or the scheduler coming by later, changes nothing.
    assert (await app_client.post(url, headers=headers)).json() == view
    await services_of(app).scheduler.run_once()
    assert (await app_client.get(f"{API}/{lid}/rounds/{past.yesterday}")).json() == view
    # An already drawn round answers with its result too.
    again = await app_client.post(f"{API}/{lid}/rounds/{past.first}/draw", headers=headers)
    assert again.json() == (await app_client.get(f"{API}/{lid}/rounds/{past.first}")).json()


async def test_the_scheduler_status_after_a_run(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    url = "/api/v1/scheduler"
    problem(await anon_client.get(url), 401, "not_authenticated")
    problem(
        await anon_client.get(url, headers=await bearer(anon_client, PARTICIPANT)), 403, "forbidden"
    )
    await login(app_client, MANAGER)
    services = services_of(app)
    instance = services.scheduler.instance
    before = (await app_client.get(url)).json()
    assert before == {
        "enabled": False,
        "instance": instance,
        "leader": None,
        "last_run_at": None,
        "last_lag_ms": None,
        "last_drawn": [],
        "next_due_at": None,
        "next_due_lottery": None,
        "overdue_ms": 0,
        "last_settled_at": None,
        "last_settled": [],
        "next_deadline_at": None,
        "next_deadline_draw": None,
    }
    past = await past_rounds(app, redis)
    first_due = lotteries.day_bounds(BERLIN, past.first)[1]
    next_due = lotteries.day_bounds(BERLIN, past.yesterday)[1]
    # Yesterday's round is due and no scheduler runs: the status says how late it is.
    asked_ms = now_ms()
    after = (await app_client.get(url)).json()
    overdue = after.pop("overdue_ms")
    assert asked_ms - next_due <= overdue <= now_ms() - next_due
    assert after == {
        "enabled": False,
        "instance": instance,
        "leader": instance,
        "last_run_at": iso(past.run_ms),
        "last_lag_ms": past.run_ms - first_due,
        "last_drawn": [f"{past.lottery_id}:{past.first}", f"{past.lottery_id}:{past.second}"],
        "next_due_at": iso(next_due),
        "next_due_lottery": past.lottery_id,
        "last_settled_at": None,
        "last_settled": [],
        "next_deadline_at": None,
        "next_deadline_draw": None,
    }
