"""E-mail: account addresses confirmed by a link, and the notices a drawn draw sends,
queued in the store and delivered over SMTP to a real server on loopback (aiosmtpd),
retried while it is down, never sent twice."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import lotteries
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.mail import ConfirmationInvalid
from fairdraw.services.lotteries import new_lottery_id
from fairdraw.services.mail import MailService
from fairdraw.services.smtp import SmtpTransport
from fairdraw.store.accounts import AccountStore
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.mail import MailStore
from fairdraw.web.deps import Services
from tests.support.app import MANAGER, PARTICIPANT, login, make_settings, password_hash
from tests.support.github_server import GitHubStandIn
from tests.support.smtp_server import SmtpServer

KEYS = Keys()
BASE = "https://draws.example.org"
LINK = re.compile(re.escape(BASE) + r"/account/email/confirm#([A-Za-z0-9_-]{43})")
OTHERS = {"alice": "alice password 123", "bob": "bob password 1234", "carol": "carol password 12"}


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn, smtp_server: SmtpServer) -> Settings:
    return make_settings(store_url, github.url, **smtp_server.settings())


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


@pytest_asyncio.fixture
async def people(app: FastAPI, redis: Redis) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """A logged-in client for the manager, the participant and three more accounts."""
    store = AccountStore(redis, KEYS, services_of(app).secret)
    for name, password in OTHERS.items():
        await store.create_user(User(name, name, Role.participant, 0), password_hash(password))
    clients: dict[str, httpx.AsyncClient] = {}
    transport = httpx.ASGITransport(app=app)
    for name, password in [MANAGER, PARTICIPANT, *OTHERS.items()]:
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        csrf = await login(client, (name, password))
        client.headers["X-CSRF-Token"] = csrf
        clients[name] = client
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


async def drain(service: MailService, passes: int = 10) -> int:
    """Send until nothing is due; the attempts made."""
    made = 0
    for _ in range(passes):
        attempts = await service.deliver_due()
        if not attempts:
            return made
        made += attempts
    return made


async def set_address(client: httpx.AsyncClient, email: str | None) -> dict[str, Any]:
    response = await client.patch("/api/v1/account", json={"email": email})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def confirmed_address(
    app: FastAPI, server: SmtpServer, client: httpx.AsyncClient, email: str
) -> None:
    """Set ``email`` on the client's account and confirm it by the mailed link."""
    before = len(server.received)
    await set_address(client, email)
    assert await drain(services_of(app).mail) == 1
    message = server.wait_for(before + 1)[-1]
    token = LINK.search(message.text)
    assert token is not None
    response = await client.post("/api/v1/account/email/confirm", json={"token": token[1]})
    assert response.status_code == 200, response.text


async def test_an_address_is_confirmed_once_by_its_link(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    pat = people["pat"]
    shown = await set_address(pat, "Pat.Person@Example.ORG")
    assert shown == {
        "username": "pat",
        "display_name": "pat",
        "role": "participant",
        "email": "Pat.Person@example.org",
        "email_confirmed": False,
        "mail_enabled": True,
    }
    # The same address again, at once: no second link.
    await set_address(pat, "Pat.Person@example.org")
    assert await drain(services_of(app).mail) == 1
    (message,) = smtp_server.wait_for(1)
    assert message.rcpt_tos == ["Pat.Person@example.org"]
    assert message.mail_from == "draws@example.org"
    assert message.to == "Pat.Person@example.org"
    assert message.subject == "Confirm your e-mail address for fairdraw"
    found = LINK.search(message.text)
    assert found is not None
    token = found[1]
    assert message.text == (
        "Hello pat,\n\n"
        "please confirm that Pat.Person@example.org is your address for notices from "
        f"fairdraw:\n\n{BASE}/account/email/confirm#{token}\n\n"
        f"or enter this code on your account page: {token}\n\n"
        "The link works once, within 24 hours. If you did not ask for this, ignore this "
        "message; nothing will be sent to this address.\n"
    )
    # The store keeps only a keyed hash of the token, and no text once it is sent.
    dump = [await redis.dump(k) async for k in redis.scan_iter("fairdraw:*")]
    assert not any(token.encode() in (value or b"") for value in dump)

    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    refused = await pat.post("/api/v1/account/email/confirm", json={"token": wrong})
    assert refused.status_code == 404
    assert refused.json()["code"] == "confirmation_invalid"
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with anonymous:  # the code is the proof: no login needed
        done = await anonymous.post("/api/v1/account/email/confirm", json={"token": token})
        assert done.status_code == 200, done.text
        assert done.json()["email_confirmed"] is True
        again = await anonymous.post("/api/v1/account/email/confirm", json={"token": token})
        assert again.status_code == 404
    assert (await pat.get("/api/v1/account")).json()["email_confirmed"] is True

    # A new address is unconfirmed again; removing it leaves none.
    changed = await set_address(pat, "pat@example.net")
    assert (changed["email"], changed["email_confirmed"]) == ("pat@example.net", False)
    removed = await set_address(pat, None)
    assert (removed["email"], removed["email_confirmed"]) == (None, False)


async def test_a_link_for_an_address_since_changed_or_expired_is_refused(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    pat = people["pat"]
    await set_address(pat, "old@example.org")
    await set_address(pat, "new@example.org")
    assert await drain(services_of(app).mail) == 2
    first, _ = smtp_server.wait_for(2)
    found = LINK.search(first.text)
    assert found is not None
    stale = await pat.post("/api/v1/account/email/confirm", json={"token": found[1]})
    assert stale.status_code == 404
    assert (await pat.get("/api/v1/account")).json()["email"] == "new@example.org"

    services = services_of(app)
    short = MailService(
        MailStore(redis, KEYS),
        AccountStore(redis, KEYS, services.secret),
        DrawStore(redis, KEYS),
        services.secret,
        transport=SmtpTransport.from_settings(services.settings),
        public_url=BASE,
        confirmation_seconds=1,
    )
    user = await short.account(_user("carol"))
    await short.set_address(user, "carol@example.org")
    assert await drain(short) == 1
    message = smtp_server.wait_for(3)[-1]
    found = LINK.search(message.text)
    assert found is not None
    await asyncio.sleep(1.2)
    with pytest.raises(ConfirmationInvalid):
        await short.confirm(found[1])


def _user(name: str) -> User:
    return User(name, name, Role.participant, 0)


async def test_bad_addresses_are_refused_and_nothing_is_stored(
    people: dict[str, httpx.AsyncClient],
) -> None:
    pat = people["pat"]
    for bad in ["not an address", "a@b", "x" * 250 + "@example.org", ""]:
        response = await pat.patch("/api/v1/account", json={"email": bad})
        assert response.status_code == 422, bad
        assert response.json()["code"] == "invalid_input"
        assert list(response.json()["errors"]) == ["email"]
    assert (await pat.get("/api/v1/account")).json()["email"] is None


async def create_account_draw(manager: httpx.AsyncClient, prizes: list[dict[str, Any]]) -> str:
    body = {"title": "Staff giveaway", "prizes": prizes, "open": True, "entry_identity": "account"}
    response = await manager.post("/api/v1/draws", json=body)
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


async def test_a_drawn_giveaway_tells_winners_alternates_and_the_organiser_once(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    service = services_of(app).mail
    for name in ("maria", "pat", "alice"):
        await confirmed_address(app, smtp_server, people[name], f"{name}@example.org")
    await set_address(people["bob"], "bob@example.org")  # never confirmed
    assert await drain(service) == 1
    before = len(smtp_server.wait_for(4))

    maria = people["maria"]
    draw_id = await create_account_draw(
        maria, [{"name": "Keyboard", "quantity": 1}, {"name": "Mug", "quantity": 1}]
    )
    for name in ("pat", "alice", "bob", "carol"):
        entered = await people[name].post(f"/api/v1/draws/{draw_id}/entries", json={})
        assert entered.status_code == 201, entered.text
    for action in ("close", "draw", "close", "draw"):
        response = await maria.post(f"/api/v1/draws/{draw_id}/{action}")
        assert response.status_code in (200, 409), response.text
    result = (await maria.get(f"/api/v1/draws/{draw_id}/winners")).json()["result"]
    winners = [(w["prize"], w["login"]) for w in result["winners"]]
    alternates = [a["login"] for a in result["alternates"]]
    assert sorted([w for _, w in winners] + alternates) == ["alice", "bob", "carol", "pat"]

    expected: dict[str, tuple[str, str]] = {}
    results = f"{BASE}/draws/{draw_id}/results"
    for prize, name in winners:
        if name in ("pat", "alice"):
            expected[name] = (
                f"You won {prize} in Staff giveaway",
                f"Hello {name},\n\nyou won {prize} in Staff giveaway.\n\n"
                f"Results: {results}\n"
                f"Proof that the draw was fair: {BASE}/api/v1/draws/{draw_id}/proof\n\n"
                "The organiser will be in touch about your prize.\n",
            )
    for rank, name in enumerate(alternates, start=1):
        if name in ("pat", "alice"):
            expected[name] = (
                f"You are alternate #{rank} in Staff giveaway",
                f"Hello {name},\n\nStaff giveaway was drawn and you are alternate #{rank}. "
                "If a winner does not claim their prize, it passes to the alternates in "
                f"this order.\n\nResults: {results}\n",
            )
    expected["maria"] = (
        "Staff giveaway was drawn",
        "Hello maria,\n\nStaff giveaway was drawn.\n\nWinners:\n"
        + "".join(f"- {prize}: {name}\n" for prize, name in winners)
        + f"\nAlternates: 2\n\nResults and proof: {results}\n",
    )

    assert await drain(service) == 3
    got = smtp_server.wait_for(before + 3)[before:]
    assert {m.rcpt_tos[0]: (m.subject, m.text) for m in got} == {
        f"{name}@example.org": notice for name, notice in expected.items()
    }
    assert all(m.message["From"] == "fairdraw <draws@example.org>" for m in got)

    # Announcing the draw again (the scheduler, a retried request) sends nothing more.
    drawn = await services_of(app).drawing.get(draw_id)
    await service.announce("drawn", drawn)
    assert await drain(service) == 0
    await asyncio.sleep(0.2)
    assert len(smtp_server.received) == before + 3
    # Every mail key is one keys.py names; sent messages keep neither text nor address.
    patterns = KEYS.patterns()
    mail_keys = [k async for k in redis.scan_iter("fairdraw:*mail*")]
    assert mail_keys
    assert all(any(p.fullmatch(k) for p in patterns) for k in mail_keys)
    for key in mail_keys:
        if ":message:" in key:
            kept = await redis.hgetall(key)
            assert kept["status"] == "sent"
            assert "text" not in kept
            assert "to" not in kept


async def test_a_promoted_alternate_is_told_once(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer
) -> None:
    service = services_of(app).mail
    for name in ("pat", "alice"):
        await confirmed_address(app, smtp_server, people[name], f"{name}@example.org")
    maria = people["maria"]
    draw_id = await create_account_draw(maria, [{"name": "Keyboard", "quantity": 1}])
    for name in ("pat", "alice"):
        entered = await people[name].post(f"/api/v1/draws/{draw_id}/entries", json={})
        assert entered.status_code == 201, entered.text
    for action in ("close", "draw"):
        assert (await maria.post(f"/api/v1/draws/{draw_id}/{action}")).status_code == 200
    assert await drain(service) == 2  # the winner's and the alternate's notices
    before = len(smtp_server.wait_for(4))
    result = (await maria.get(f"/api/v1/draws/{draw_id}/winners")).json()["result"]
    (winner,), (alternate,) = result["winners"], result["alternates"]

    body = {"winner": winner["index"], "reason": "Did not answer"}
    for _ in range(2):  # a repeated forfeit answers the substitution already made
        made = await maria.post(f"/api/v1/draws/{draw_id}/forfeits", json=body)
        assert made.status_code in (200, 201), made.text
    assert await drain(service) == 1
    (message,) = smtp_server.wait_for(before + 1)[before:]
    name = alternate["login"]
    assert message.rcpt_tos == [f"{name}@example.org"]
    assert message.subject == "You now hold Keyboard in Staff giveaway"
    assert message.text == (
        f"Hello {name},\n\na winner of Staff giveaway forfeited Keyboard, and as alternate "
        "#1 you are the next in line: you now hold Keyboard.\n\n"
        f"Results, with every substitution: {BASE}/draws/{draw_id}/results\n"
        f"Proof that the draw was fair: {BASE}/api/v1/draws/{draw_id}/proof\n\n"
        "The organiser will be in touch about your prize.\n"
    )
    assert await drain(service) == 0
    # Their lists of entries say who holds the prize now.
    (promoted,) = (await people[name].get("/api/v1/me/entries")).json()["items"]
    assert (promoted["won"], promoted["prize"]) == (True, "Keyboard")
    (forfeited,) = (await people[winner["login"]].get("/api/v1/me/entries")).json()["items"]
    assert (forfeited["won"], forfeited["prize"]) == (False, None)


async def test_mail_waits_while_the_server_is_down_and_is_sent_once_when_back(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    services = services_of(app)
    quick = MailService(
        MailStore(redis, KEYS),
        AccountStore(redis, KEYS, services.secret),
        DrawStore(redis, KEYS),
        services.secret,
        transport=SmtpTransport.from_settings(services.settings),
        public_url=BASE,
        backoff_base_ms=50,
    )
    smtp_server.stop()
    await set_address(people["pat"], "pat@example.org")
    for attempt in (1, 2, 3):
        assert await quick.deliver_due() == 1
        (key,) = [k async for k in redis.scan_iter("fairdraw:{mail}:message:*")]
        kept = await redis.hgetall(key)
        assert kept["status"] == "pending"
        assert kept["attempts"] == str(attempt)
        assert kept["last_error"].startswith("SMTPConnectError")
        assert await quick.deliver_due() == 0  # not due again before its backoff
        await asyncio.sleep(0.5)
    smtp_server.start()  # the same port again
    assert await quick.deliver_due() == 1
    assert await drain(quick) == 0
    (message,) = smtp_server.wait_for(1)
    assert message.subject == "Confirm your e-mail address for fairdraw"
    assert (await redis.hgetall(key))["status"] == "sent"
    await asyncio.sleep(0.2)
    assert len(smtp_server.received) == 1


async def test_a_message_is_given_up_after_the_bound(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    services = services_of(app)
    now = [1_900_000_000_000]
    bounded = MailService(
        MailStore(redis, KEYS),
        AccountStore(redis, KEYS, services.secret),
        DrawStore(redis, KEYS),
        services.secret,
        transport=SmtpTransport.from_settings(services.settings),
        public_url=BASE,
        clock=lambda: now[0],
        backoff_base_ms=60_000,
        max_attempts=3,
    )
    smtp_server.stop()
    await set_address(people["pat"], "pat@example.org")
    (key,) = [k async for k in redis.scan_iter("fairdraw:{mail}:message:*")]
    for _ in range(3):
        assert await bounded.deliver_due() == 1
        now[0] += 24 * 3600 * 1000
    kept = await redis.hgetall(key)
    assert (kept["status"], kept["attempts"]) == ("failed", "3")
    assert "text" not in kept
    assert "to" not in kept
    assert await redis.zcard(KEYS.mail_due()) == 0
    assert await bounded.deliver_due() == 0


async def test_without_an_smtp_host_nothing_is_queued_or_sent(
    store_url: str, github: GitHubStandIn, redis: Redis, smtp_server: SmtpServer
) -> None:
    from fairdraw.web.app import create_app
    from tests.support.app import create_accounts

    settings = make_settings(store_url, github.url)
    await create_accounts(settings)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as maria:
            maria.headers["X-CSRF-Token"] = await login(maria, MANAGER)
            shown = await set_address(maria, "maria@example.org")
            assert (shown["email_confirmed"], shown["mail_enabled"]) == (False, False)
            draw_id = await create_account_draw(maria, [{"name": "Mug", "quantity": 1}])
            assert (
                await maria.post(f"/api/v1/draws/{draw_id}/entries", json={})
            ).status_code == 201
            for action in ("close", "draw"):
                assert (await maria.post(f"/api/v1/draws/{draw_id}/{action}")).status_code == 200
            assert await services_of(application).mail.deliver_due() == 0
    assert [k async for k in redis.scan_iter("fairdraw:*mail*")] == []
    assert smtp_server.received == []


async def test_a_drawn_account_raffle_tells_its_ticket_holders(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer
) -> None:
    service = services_of(app).mail
    for name in ("pat", "alice"):
        await confirmed_address(app, smtp_server, people[name], f"{name}@example.org")
    before = len(smtp_server.wait_for(2))
    maria = people["maria"]
    raffle = await maria.post(
        "/api/v1/raffles",
        json={
            "title": "Bike raffle",
            "prizes": [{"name": "Bike", "quantity": 1}],
            "ticket_count": 3,
            "claimants": "account",
            "per_claimant": 2,
            "open": True,
        },
    )
    assert raffle.status_code == 201, raffle.text
    draw_id = raffle.json()["id"]
    for name in ("pat", "pat", "alice"):
        claimed = await people[name].post(f"/api/v1/draws/{draw_id}/tickets")
        assert claimed.status_code == 201, claimed.text
    drawn = await maria.post(f"/api/v1/draws/{draw_id}/draw")
    assert drawn.status_code == 200, drawn.text
    result = (await maria.get(f"/api/v1/draws/{draw_id}/winners")).json()["result"]
    ((winner, ticket),) = [(w["login"], w["name"]) for w in result["winners"]]
    (alternate,) = [a["login"] for a in result["alternates"]]

    subjects = {f"{winner}@example.org": "You won Bike in Bike raffle"}
    if alternate != winner:  # one who won hears of that only
        subjects[f"{alternate}@example.org"] = "You are alternate #1 in Bike raffle"
    assert await drain(service) == len(subjects)  # maria has no address: nothing for her
    got = smtp_server.wait_for(before + len(subjects))[before:]
    assert {m.rcpt_tos[0]: m.subject for m in got} == subjects
    assert ticket.startswith("Ticket ")


async def test_a_recipient_refused_for_good_is_given_up_at_once_and_logged_masked(
    app: FastAPI,
    people: dict[str, httpx.AsyncClient],
    smtp_server: SmtpServer,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.refused.add("pat.person@example.org")
    with caplog.at_level("INFO", logger="fairdraw.mail"):
        await set_address(people["pat"], "pat.person@example.org")
        assert await drain(services_of(app).mail) == 1
    (key,) = [k async for k in redis.scan_iter("fairdraw:{mail}:message:*")]
    kept = await redis.hgetall(key)
    assert (kept["status"], kept["attempts"]) == ("failed", "1")
    assert kept["last_error"].startswith("SMTPRecipientsRefused")
    assert "p***@example.org" in kept["last_error"]
    assert await redis.zcard(KEYS.mail_due()) == 0
    assert smtp_server.received == []
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "gave up e-mail" in logged
    assert "p***@example.org" in logged
    assert "pat.person@" not in logged


async def test_a_drawn_lottery_round_tells_its_winner_and_the_organiser(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    services = services_of(app)
    for name in ("maria", "pat"):
        await confirmed_address(app, smtp_server, people[name], f"{name}@example.org")
    before = len(smtp_server.wait_for(2))
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    terms = lotteries.LotteryTerms(
        name="Daily coffee",
        description="",
        prize="Coffee",
        winners_per_day=1,
        timezone="UTC",
        start=yesterday,
        end=None,
    )
    lottery_id = new_lottery_id()
    fields = {**terms.to_fields(), "id": lottery_id, "created_by": MANAGER[0]}
    await LotteryStore(redis, KEYS).create(lottery_id, fields, lotteries.due_ms(terms, yesterday))
    start, end = lotteries.day_bounds(ZoneInfo("UTC"), yesterday)
    pat = Caller(User("pat", "Pat", Role.participant, 0))
    await services.lotteries.cast(lottery_id, pat, at_ms=(start + end) // 2)
    report = await services.scheduler.run_once(end + 1000)
    assert report.drawn == [(lottery_id, yesterday)]
    draw = await services.drawing.get(lotteries.round_draw_id(lottery_id, yesterday))

    assert await drain(services.mail) == 2
    got = smtp_server.wait_for(before + 2)[before:]
    results = f"{BASE}/draws/{draw.id}/results"
    assert {m.rcpt_tos[0]: (m.subject, m.text) for m in got} == {
        "pat@example.org": (
            f"You won Coffee in {draw.title}",
            f"Hello pat,\n\nyou won Coffee in {draw.title}.\n\nResults: {results}\n"
            f"Proof that the draw was fair: {BASE}/api/v1/draws/{draw.id}/proof\n\n"
            "The organiser will be in touch about your prize.\n",
        ),
        "maria@example.org": (
            f"{draw.title} was drawn",
            f"Hello maria,\n\n{draw.title} was drawn.\n\nWinners:\n- Coffee: Pat\n\n"
            f"Alternates: 0\n\nResults and proof: {results}\n",
        ),
    }
