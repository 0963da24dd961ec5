"""E-mail rules without I/O: addresses, the sender setting, tokens, message ids, the
SMTP client's options for each FAIRDRAW_SMTP_SECURITY."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from fairdraw.config import Settings
from fairdraw.domain import mail
from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import Message
from fairdraw.services.smtp import SmtpTransport

SECRET = b"k" * 32
MAIL = {"smtp_from": "Draws <draws@example.org>", "public_url": "https://draws.example.org/"}


def test_addresses_are_normalised_or_refused_by_field() -> None:
    assert mail.normalize_address("  Pat.Person@Example.ORG ") == "Pat.Person@example.org"
    assert mail.normalize_address("pat@exämple.org") == "pat@xn--exmple-cua.org"
    for bad, message in [
        ("", "The e-mail address must not be empty."),
        ("no-at-sign", "This is not an e-mail address: "),
        ("a@localhost", "This is not an e-mail address: "),
        ("pät@example.org", "This is not an e-mail address: "),
        ("\uff50\uff41\uff54@example.org", "This is not an e-mail address: "),  # full-width "pat"
        ("x" * 250 + "@example.org", "The e-mail address must be at most 254 characters long."),
    ]:
        with pytest.raises(InvalidInput) as refused:
            mail.normalize_address(bad)
        assert list(refused.value.errors) == ["email"]
        assert refused.value.errors["email"].startswith(message)
    with pytest.raises(InvalidInput) as refused:
        mail.normalize_address("no-at-sign")
    reason = refused.value.errors["email"]
    assert isinstance(reason, Message)
    assert reason.render("de") == (
        "Das ist keine E-Mail-Adresse: " + reason.removeprefix("This is not an e-mail address: ")
    )


def test_logs_see_masked_addresses() -> None:
    assert mail.masked("pat.person@example.org") == "p***@example.org"


def test_tokens_are_hashed_under_the_secret_and_malformed_ones_name_nothing() -> None:
    token = mail.new_token()
    assert len(token) == 43
    digest = mail.token_hash(SECRET, token)
    assert digest is not None
    assert len(digest) == 64
    assert digest != mail.token_hash(b"j" * 32, token)
    assert token not in digest
    assert mail.token_hash(SECRET, token + "x") is None
    assert mail.token_hash(SECRET, "../" + token[3:]) is None


def test_one_message_id_per_draw_recipient_and_kind() -> None:
    first = mail.message_id(SECRET, "drawid", "pat", mail.WON)
    assert first == mail.message_id(SECRET, "drawid", "pat", mail.WON)
    assert first.startswith("mail_")
    assert len(first) == 37
    others = {
        mail.message_id(SECRET, "drawid", "pat", mail.ALTERNATE),
        mail.message_id(SECRET, "drawid", "alice", mail.WON),
        mail.message_id(SECRET, "otherid", "pat", mail.WON),
    }
    assert first not in others
    assert len(others) == 3


def test_a_notice_is_a_plain_text_message() -> None:
    notice = mail.winner_notice("pat", "pat@example.org", "Give", ["A", "B"], "R", "P")
    assert notice.subject == "You won A and B in Give"
    message = mail.email_message(notice, "Draws <draws@example.org>", "mail_1")
    assert message["From"] == "Draws <draws@example.org>"
    assert message["To"] == "pat@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_type() == "text/plain"
    alternate = mail.alternate_notice("pat", "pat@example.org", "Give", [2, 5], "R")
    assert alternate.subject == "You are alternate #2 and #5 in Give"


def test_mail_is_off_without_a_host_and_needs_a_sender_and_public_url_with_one() -> None:
    assert SmtpTransport.from_settings(Settings()) is None
    with pytest.raises(ValidationError, match="FAIRDRAW_SMTP_HOST needs FAIRDRAW_PUBLIC_URL"):
        Settings(smtp_host="smtp.example.org", smtp_from="draws@example.org")
    with pytest.raises(ValidationError, match="FAIRDRAW_SMTP_HOST needs FAIRDRAW_SMTP_FROM"):
        Settings(smtp_host="smtp.example.org", public_url="https://draws.example.org")
    with pytest.raises(ValidationError, match="FAIRDRAW_SMTP_FROM"):
        Settings(smtp_from="Draws <not an address>")
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url="draws.example.org")
    settings = Settings(smtp_host="smtp.example.org", **MAIL)
    assert settings.public_url == "https://draws.example.org"
    assert settings.smtp_from == "Draws <draws@example.org>"
    assert (settings.smtp_port, settings.smtp_security) == (587, "starttls")


@pytest.mark.parametrize(
    ("security", "use_tls", "start_tls"),
    [("starttls", False, True), ("tls", True, False), ("none", False, False)],
)
def test_the_client_requires_what_the_security_setting_says(
    security: str, use_tls: bool, start_tls: bool
) -> None:
    settings = Settings(
        smtp_host="smtp.example.org",
        smtp_port=2525,
        smtp_security=security,
        smtp_username="fairdraw",
        smtp_password=SecretStr("app password"),
        smtp_timeout_seconds=7,
        **MAIL,
    )
    transport = SmtpTransport.from_settings(settings)
    assert transport is not None
    assert transport.client_options() == {
        "hostname": "smtp.example.org",
        "port": 2525,
        "timeout": 7.0,
        "use_tls": use_tls,
        "start_tls": start_tls,
        "validate_certs": True,
        "username": "fairdraw",
        "password": "app password",
    }
    assert "app password" not in repr(settings)


def test_who_hears_what() -> None:
    won, ranks = mail.who_hears(
        [("Bike", "pat"), ("Mug", None), ("Pen", "pat"), ("Cap", "alice")],
        ["bob", "pat", None, "bob", "carol"],
    )
    assert won == {"pat": ["Bike", "Pen"], "alice": ["Cap"]}
    assert ranks == {"bob": [1, 4], "carol": [5]}
