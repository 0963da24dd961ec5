"""An SMTP server on loopback (``aiosmtpd``, in its own thread) that keeps every message
it accepts. It can be stopped (connections are then refused) and started again on the
same port, as a mail server that is down for a while; it can require STARTTLS (with a
self-signed certificate the client is told to trust) and a login."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Delivered:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        content: str = body.get_content()  # type: ignore[attr-defined]
        return content.replace("\r\n", "\n")  # as sent: SMTP lines end in CRLF


class _Keeper:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_RCPT(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self._server.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        delivered = Delivered(str(envelope.mail_from), list(envelope.rcpt_tos), message)
        with self._server.lock:
            self._server.received.append(delivered)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files in ``directory``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class SmtpServer:
    """The server; with ``tls_directory`` it offers STARTTLS with a self-signed
    certificate kept there and requires it, and with ``credentials`` it requires that
    login (over TLS)."""

    def __init__(
        self, *, tls_directory: Path | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        self.received: list[Delivered] = []
        # Recipients refused for good (550), as a server refuses an unknown mailbox.
        self.refused: set[str] = set()
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller: Controller | None = None
        self._credentials = credentials
        self.certificate: Path | None = None
        self._server_tls: ssl.SSLContext | None = None
        if tls_directory is not None:
            self.certificate, key_file = self_signed(tls_directory)
            self._server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._server_tls.load_cert_chain(self.certificate, key_file)

    def client_tls(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and only it)."""
        assert self.certificate is not None
        return ssl.create_default_context(cafile=str(self.certificate))

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self._server_tls is not None:
            options.update(tls_context=self._server_tls, require_starttls=True)
        if self._credentials is not None:
            options.update(auth_required=True, authenticator=self._authenticate)
        self._controller = Controller(
            _Keeper(self), hostname="127.0.0.1", port=self.port, **options
        )
        self._controller.start()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self._credentials == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        """Stop listening: from now on connections are refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, seconds: float = 15.0) -> list[Delivered]:
        """The messages received, once there are at least ``count`` (or after ``seconds``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    break
            time.sleep(0.02)
        with self.lock:
            return list(self.received)

    def settings(self) -> dict[str, Any]:
        """The ``FAIRDRAW_SMTP_*`` settings (and public URL) that send to this server."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_from": "fairdraw <draws@example.org>",
            "smtp_timeout_seconds": 5.0,
            "public_url": "https://draws.example.org",
        }


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
