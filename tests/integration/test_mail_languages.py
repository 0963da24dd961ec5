"""E-mail in its reader's language: the locale of the request that set or confirmed an
address is kept with the account, and every notice to it is written in that language
(an account without one reads English), whoever queued it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import mail
from fairdraw.domain.moments import now_ms
from tests.integration import test_mail_notices as notices
from tests.integration.test_mail_notices import (
    BASE,
    KEYS,
    LINK,
    confirmed_address,
    create_account_draw,
    drain,
    services_of,
    set_address,
)
from tests.support.smtp_server import SmtpServer

GERMAN = "de-DE,de;q=0.9,en;q=0.5"
# The same app, SMTP server and signed-in accounts as the notices' tests.
app_settings = notices.app_settings
people = notices.people


async def test_a_german_account_gets_a_german_confirmation_with_the_same_message_id(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    pat = people["pat"]
    pat.headers["Accept-Language"] = GERMAN
    await set_address(pat, "pat@example.org")
    assert await redis.hget(KEYS.user("pat"), "lang") == "de"
    assert await drain(services_of(app).mail) == 1
    (message,) = smtp_server.wait_for(1)
    assert message.subject == "Bestätigen Sie Ihre E-Mail-Adresse für fairdraw"
    found = LINK.search(message.text)
    assert found is not None
    token = found[1]
    assert message.text == (
        "Hallo pat,\n\n"
        "bitte bestätigen Sie, dass pat@example.org Ihre Adresse für Benachrichtigungen von "
        f"fairdraw ist:\n\n{BASE}/account/email/confirm#{token}\n\n"
        f"oder geben Sie diesen Code auf Ihrer Kontoseite ein: {token}\n\n"
        "Der Link funktioniert einmal, innerhalb von 24 Stunden. Wenn Sie das nicht "
        "angefordert haben, ignorieren Sie diese Nachricht; an diese Adresse wird dann "
        "nichts gesendet.\n"
    )
    # The id is made of (address, window, account, kind), never of the words.
    secret = services_of(app).secret
    ids = {
        mail.message_id(secret, mail.confirmation_subject("pat@example.org", at), "pat", "confirm")
        for at in (now_ms() - mail.CONFIRMATION_WINDOW_MS, now_ms())
    }
    assert message.message["Message-ID"].strip("<>").partition("@")[0].rpartition(".")[2] in ids

    # Confirming from an English browser makes the account English from then on.
    pat.headers["Accept-Language"] = "en"
    confirmed = await pat.post("/api/v1/account/email/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert await redis.hget(KEYS.user("pat"), "lang") == "en"


async def test_notices_follow_each_accounts_language(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer, redis: Redis
) -> None:
    service = services_of(app).mail
    for name in ("pat", "alice", "maria"):
        if name != "alice":
            people[name].headers["Accept-Language"] = GERMAN
        await confirmed_address(app, smtp_server, people[name], f"{name}@example.org")
    # Alice's account is as old accounts are: no language recorded.
    await redis.hdel(KEYS.user("alice"), "lang")
    before = len(smtp_server.wait_for(3))

    maria = people["maria"]
    maria.headers["Accept-Language"] = "en"  # the organiser acts in English now
    draw_id = await create_account_draw(maria, [{"name": "Keyboard", "quantity": 1}])
    for name in ("pat", "alice"):
        entered = await people[name].post(f"/api/v1/draws/{draw_id}/entries", json={})
        assert entered.status_code == 201, entered.text
    for action in ("close", "draw"):
        assert (await maria.post(f"/api/v1/draws/{draw_id}/{action}")).status_code == 200
    result = (await maria.get(f"/api/v1/draws/{draw_id}/winners")).json()["result"]
    (winner,), (alternate,) = result["winners"], result["alternates"]
    results = f"{BASE}/draws/{draw_id}/results"
    proof = f"{BASE}/api/v1/draws/{draw_id}/proof"

    assert await drain(service) == 3
    got = {m.rcpt_tos[0]: m for m in smtp_server.wait_for(before + 3)[before:]}
    organiser = got.pop("maria@example.org")
    assert organiser.subject == "Staff giveaway wurde ausgelost"
    assert organiser.text == (
        "Hallo maria,\n\nStaff giveaway wurde ausgelost.\n\nGewinner:\n"
        f"- Keyboard: {winner['login']}\n\nNachrücker: 1\n\n"
        f"Ergebnisse und Nachweis: {results}\n"
    )
    german = {
        "won": (
            "Sie haben Keyboard in Staff giveaway gewonnen",
            "Hallo pat,\n\nSie haben Keyboard in Staff giveaway gewonnen.\n\n"
            f"Ergebnisse: {results}\nNachweis, dass die Verlosung fair war: {proof}\n\n"
            "Der Veranstalter meldet sich wegen Ihres Preises bei Ihnen.\n",
        ),
        "alternate": (
            "Sie sind Nachrücker #1 in Staff giveaway",
            "Hallo pat,\n\nStaff giveaway wurde ausgelost und Sie sind Nachrücker #1. Wenn "
            "ein Gewinner seinen Preis nicht annimmt, geht er in dieser Reihenfolge an die "
            f"Nachrücker.\n\nErgebnisse: {results}\n",
        ),
    }
    english = {
        "won": (
            "You won Keyboard in Staff giveaway",
            "Hello alice,\n\nyou won Keyboard in Staff giveaway.\n\n"
            f"Results: {results}\nProof that the draw was fair: {proof}\n\n"
            "The organiser will be in touch about your prize.\n",
        ),
        "alternate": (
            "You are alternate #1 in Staff giveaway",
            "Hello alice,\n\nStaff giveaway was drawn and you are alternate #1. If a winner "
            "does not claim their prize, it passes to the alternates in this order.\n\n"
            f"Results: {results}\n",
        ),
    }
    role = {winner["login"]: "won", alternate["login"]: "alternate"}
    assert (got["pat@example.org"].subject, got["pat@example.org"].text) == german[role["pat"]]
    assert (got["alice@example.org"].subject, got["alice@example.org"].text) == english[
        role["alice"]
    ]

    # The promotion, queued by the organiser's English request, is in the alternate's
    # language.
    body = {"winner": winner["index"], "reason": "Did not answer"}
    made = await maria.post(f"/api/v1/draws/{draw_id}/forfeits", json=body)
    assert made.status_code in (200, 201), made.text
    assert await drain(service) == 1
    (message,) = smtp_server.wait_for(before + 4)[before + 3 :]
    name = alternate["login"]
    assert message.rcpt_tos == [f"{name}@example.org"]
    if name == "pat":
        assert message.subject == "Keyboard in Staff giveaway gehört jetzt Ihnen"
        assert message.text == (
            "Hallo pat,\n\nein Gewinner von Staff giveaway hat auf Keyboard verzichtet, und "
            "als Nachrücker #1 sind Sie als Nächstes an der Reihe: Keyboard gehört jetzt "
            f"Ihnen.\n\nErgebnisse, mit jedem Nachrücken: {results}\n"
            f"Nachweis, dass die Verlosung fair war: {proof}\n\n"
            "Der Veranstalter meldet sich wegen Ihres Preises bei Ihnen.\n"
        )
    else:
        assert message.subject == "You now hold Keyboard in Staff giveaway"
        assert message.text.startswith("Hello alice,\n\na winner of Staff giveaway forfeited")


async def test_a_german_alternate_hears_of_the_promotion_in_german(
    app: FastAPI, people: dict[str, httpx.AsyncClient], smtp_server: SmtpServer
) -> None:
    service = services_of(app).mail
    for name in ("pat", "alice"):
        people[name].headers["Accept-Language"] = GERMAN
        await confirmed_address(app, smtp_server, people[name], f"{name}@example.org")
    maria = people["maria"]
    draw_id = await create_account_draw(maria, [{"name": "Keyboard", "quantity": 1}])
    for name in ("pat", "alice"):
        entered = await people[name].post(f"/api/v1/draws/{draw_id}/entries", json={})
        assert entered.status_code == 201, entered.text
    for action in ("close", "draw"):
        assert (await maria.post(f"/api/v1/draws/{draw_id}/{action}")).status_code == 200
    assert await drain(service) == 2
    before = len(smtp_server.wait_for(4))
    result = (await maria.get(f"/api/v1/draws/{draw_id}/winners")).json()["result"]
    (winner,), (alternate,) = result["winners"], result["alternates"]
    body = {"winner": winner["index"], "reason": "Did not answer"}
    made = await maria.post(f"/api/v1/draws/{draw_id}/forfeits", json=body)
    assert made.status_code in (200, 201), made.text
    assert await drain(service) == 1
    (message,) = smtp_server.wait_for(before + 1)[before:]
    name = alternate["login"]
    assert message.subject == "Keyboard in Staff giveaway gehört jetzt Ihnen"
    assert message.text == (
        f"Hallo {name},\n\nein Gewinner von Staff giveaway hat auf Keyboard verzichtet, und "
        "als Nachrücker #1 sind Sie als Nächstes an der Reihe: Keyboard gehört jetzt "
        f"Ihnen.\n\nErgebnisse, mit jedem Nachrücken: {BASE}/draws/{draw_id}/results\n"
        f"Nachweis, dass die Verlosung fair war: {BASE}/api/v1/draws/{draw_id}/proof\n\n"
        "Der Veranstalter meldet sich wegen Ihres Preises bei Ihnen.\n"
    )
