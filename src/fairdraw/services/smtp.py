"""Sending e-mail over SMTP with ``aiosmtplib``: one connection per batch, the security
``FAIRDRAW_SMTP_SECURITY`` asks for (never less), and for each message whether it was
sent, or why not and whether trying again could help."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from fairdraw.config import Settings

_ERROR_CHARS = 200


@dataclass(frozen=True)
class Attempt:
    """How sending one message went: sent, or the error and whether it is final."""

    sent: bool
    error: str = ""
    final: bool = False


class SmtpTransport:
    """Sends messages to one SMTP server (``FAIRDRAW_SMTP_*``)."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.sender = sender
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout_seconds
        self._tls_context = tls_context

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTransport | None:
        """The transport the settings describe; None when mail is off (no host)."""
        if not settings.smtp_host or not settings.smtp_from:
            return None
        password = settings.smtp_password
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_from,
            username=settings.smtp_username or None,
            password=password.get_secret_value() if password is not None else None,
            timeout_seconds=settings.smtp_timeout_seconds,
        )

    def client_options(self) -> dict[str, Any]:
        """The options of the ``aiosmtplib.SMTP`` client: ``starttls`` requires the
        upgrade (a server that does not offer it is an error, never plain text), ``tls``
        speaks TLS from the start, ``none`` neither. Certificates are always checked."""
        options: dict[str, Any] = {
            "hostname": self._host,
            "port": self._port,
            "timeout": self._timeout,
            "use_tls": self._security == "tls",
            "start_tls": self._security == "starttls",
            "validate_certs": True,
        }
        if self._tls_context is not None:
            options["tls_context"] = self._tls_context
        if self._username:
            options["username"] = self._username
            options["password"] = self._password or ""
        return options

    async def send(self, messages: Sequence[EmailMessage]) -> list[Attempt]:
        """Send ``messages`` over one connection; how each went."""
        client = aiosmtplib.SMTP(**self.client_options())
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            failed = Attempt(False, _short(exc), final=_refused_for_good(exc))
            return [failed for _ in messages]
        attempts: list[Attempt] = []
        try:
            for message in messages:
                attempts.append(await self._send_one(client, message))
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        return attempts

    async def _send_one(self, client: aiosmtplib.SMTP, message: EmailMessage) -> Attempt:
        try:
            if not client.is_connected:
                await client.connect()
            await client.send_message(message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Attempt(False, _short(exc), final=_refused_for_good(exc))
        return Attempt(True)


def _refused_for_good(exc: BaseException) -> bool:
    """A 5xx answer (unknown recipient, refused sender): trying again will not help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False  # credentials can be fixed while the message waits
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:_ERROR_CHARS]
