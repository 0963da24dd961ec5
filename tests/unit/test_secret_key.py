"""The secret key check: generated keys pass, long but predictable ones are refused."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from pydantic import SecretStr

from fairdraw.config import (
    MIN_SECRET_BITS,
    ConfigError,
    Settings,
    check_secret,
    ensure_secret_key,
    secret_strength_bits,
)

HOW_TO_GENERATE = (
    "python -c 'import secrets; print(secrets.token_urlsafe(32))' or: openssl rand -hex 32"
)

WEAK_KEYS = [
    "changeme" * 4,
    "changemechangeme" * 8,
    "a" * 32,
    "a" * 200,
    "1234567890" * 4,
    "12345678901234567890123456789012",
    "abcdefghijklmnopqrstuvwxyz012345",
    "zyxwvutsrqponmlkjihgfedcba987654",
    "ab" * 16,
    "Password1" * 4,
    "0123456789abcdef" * 4,
    "secret-key-" * 4,
]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_long_but_predictable_keys_are_refused_with_how_to_generate_one(key: str) -> None:
    assert len(key) >= 32
    assert secret_strength_bits(key) < MIN_SECRET_BITS
    with pytest.raises(ConfigError) as refused:
        check_secret(key)
    message = str(refused.value)
    assert message.startswith("FAIRDRAW_SECRET_KEY is too predictable")
    assert message.endswith(HOW_TO_GENERATE)
    assert key not in message


@pytest.mark.parametrize(
    ("name", "generate"),
    [
        ("secrets.token_urlsafe(32)", lambda: secrets.token_urlsafe(32)),
        ("secrets.token_urlsafe(48), the embedded default", lambda: secrets.token_urlsafe(48)),
        ("openssl rand -hex 32", lambda: secrets.token_hex(32)),
        ("openssl rand -base64 32", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
    ],
)
def test_generated_keys_are_accepted(name: str, generate: object) -> None:
    assert callable(generate)
    for _ in range(2000):
        key = generate()
        assert secret_strength_bits(key) >= MIN_SECRET_BITS + 100, (name, key)
        check_secret(key)


def test_the_estimate_discounts_runs_and_repeats_only() -> None:
    # 32 characters of lower-case letters and digits, no run, no repeated stretch.
    varied = "q7w2e9r4t1y8u3i6o0p5a2s7d4f9g1h3"
    assert secret_strength_bits(varied) == pytest.approx(32 * 5.1699250014)
    # Its two halves each repeated: the second copy is worth only its first two
    # characters, which complete no three-character stretch seen before.
    twice = varied[:16] * 2
    assert secret_strength_bits(twice) == pytest.approx(18 * 5.1699250014)
    # A run of three is cut to its first two characters.
    assert secret_strength_bits("abc") == pytest.approx(2 * 4.7004397181)
    assert secret_strength_bits("") == 0


@pytest.mark.parametrize(
    ("key", "start"),
    [
        ("changeme", "FAIRDRAW_SECRET_KEY is a known placeholder"),
        ("short-but-random-7Qx", "FAIRDRAW_SECRET_KEY must be at least 32 characters long"),
    ],
)
def test_placeholders_and_short_keys_also_say_how_to_generate_one(key: str, start: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_secret(key)
    assert str(refused.value).startswith(start)
    assert str(refused.value).endswith(HOW_TO_GENERATE)


def test_a_missing_key_says_how_to_generate_one() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings(redis_url="redis://127.0.0.1:1/0", secret_key=None).secret_bytes()
    assert (
        str(refused.value)
        == f"FAIRDRAW_SECRET_KEY is not set; generate one with: {HOW_TO_GENERATE}"
    )


def test_a_predictable_key_from_the_environment_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(redis_url=None, data_dir=tmp_path, secret_key=SecretStr("a" * 64))
    with pytest.raises(ConfigError, match="too predictable"):
        ensure_secret_key(settings)
    with pytest.raises(ConfigError, match="too predictable"):
        settings.secret_bytes()


def test_a_predictable_key_in_the_data_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("changeme" * 8)
    with pytest.raises(ConfigError, match="too predictable"):
        ensure_secret_key(Settings(redis_url=None, data_dir=tmp_path, secret_key=None))


def test_the_key_the_embedded_store_generates_is_accepted(tmp_path: Path) -> None:
    ready = ensure_secret_key(Settings(redis_url=None, data_dir=tmp_path, secret_key=None))
    assert ready.secret_key is not None
    key = ready.secret_key.get_secret_value()
    assert (tmp_path / "secret_key").read_text() == key
    assert secret_strength_bits(key) >= MIN_SECRET_BITS
