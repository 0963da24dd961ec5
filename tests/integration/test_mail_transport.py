"""The SMTP transport against loopback servers: STARTTLS with a login, a server that
offers no STARTTLS (never plain text instead), a wrong password, a refused recipient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fairdraw.domain import mail
from fairdraw.services.smtp import SmtpTransport
from tests.support.smtp_server import SmtpServer

LOGIN = ("fairdraw", "app password 123")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tls_directory=tmp_path, credentials=LOGIN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def message(to: str = "pat@example.org") -> mail.Notice:
    return mail.Notice(mail.DRAWN, "pat", to, "Quiz was drawn", "Hello pat,\n")


def transport(server: SmtpServer, security: str, password: str = LOGIN[1]) -> SmtpTransport:
    return SmtpTransport(
        "127.0.0.1",
        server.port,
        security,
        "Draws <draws@example.org>",
        username=LOGIN[0],
        password=password,
        timeout_seconds=5,
        tls_context=server.client_tls() if server.certificate else None,
    )


async def test_starttls_with_a_login_delivers(tls_server: SmtpServer) -> None:
    sending = transport(tls_server, "starttls")
    outgoing = mail.email_message(message(), sending.sender, "mail_1")
    (attempt,) = await sending.send([outgoing])
    assert attempt.sent, attempt.error
    (got,) = tls_server.wait_for(1)
    assert got.rcpt_tos == ["pat@example.org"]
    assert got.subject == "Quiz was drawn"
    assert got.text == "Hello pat,\n"


async def test_a_wrong_password_is_retried_later(tls_server: SmtpServer) -> None:
    sending = transport(tls_server, "starttls", password="wrong password")
    (attempt,) = await sending.send([mail.email_message(message(), sending.sender, "mail_2")])
    assert not attempt.sent
    assert not attempt.final  # the settings can be fixed while the message waits
    assert attempt.error.startswith("SMTPAuthenticationError")
    assert tls_server.received == []


async def test_starttls_is_required_not_hoped_for(smtp_server: SmtpServer) -> None:
    # The plain loopback server offers no STARTTLS: nothing is sent in plain text.
    sending = SmtpTransport("127.0.0.1", smtp_server.port, "starttls", "draws@example.org")
    (attempt,) = await sending.send([mail.email_message(message(), sending.sender, "mail_3")])
    assert not attempt.sent
    assert "STARTTLS" in attempt.error
    assert smtp_server.received == []
