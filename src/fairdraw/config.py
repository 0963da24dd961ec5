"""Settings: one typed object, read once from ``FAIRDRAW_*`` environment variables.

Every field is documented in ``docs/operations.md``; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
import string
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fairdraw.domain.errors import FairdrawError
from fairdraw.domain.lotteries import zone_names
from fairdraw.domain.mail import sender as mail_sender

# Secrets that appear in examples and tutorials; starting with one would make every
# session cookie and entry reference forgeable by anyone who read the same example.
KNOWN_PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "your-secret-key",
        "insecure",
        "development",
        "dev",
        "test",
        "fairdraw",
        "please-change-me",
    }
)
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
KEY_GENERATION_HINT = (
    "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))' "
    "or: openssl rand -hex 32"
)
# Character classes of the strength estimate, with their sizes; any other character
# counts as one of the 33 printable ASCII symbols (space included).
_SECRET_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
_OTHER_CLASS_SIZE = 33
_RATE = re.compile(r"[1-9][0-9]*\s*/\s*(second|minute|hour|day)")
SECRET_FILE_NAME = "secret_key"  # noqa: S105 (a file name, not a secret)
SIGNING_KEY_FILE_NAME = "signing_key"
# drand's public HTTP relays (League of Entropy), in the order tried.
DEFAULT_BEACON_RELAYS = (
    "https://api.drand.sh",
    "https://api2.drand.sh",
    "https://api3.drand.sh",
    "https://drand.cloudflare.com",
)


class ConfigError(FairdrawError):
    code = "config_error"
    title = "fairdraw is not configured correctly"


class Settings(BaseSettings):
    """fairdraw's settings. Environment variables are the field names, upper-cased,
    with the ``FAIRDRAW_`` prefix (``redis_url`` → ``FAIRDRAW_REDIS_URL``)."""

    model_config = SettingsConfigDict(env_prefix="FAIRDRAW_", extra="ignore")

    redis_url: str | None = Field(
        default=None,
        description="Redis/Valkey URL (redis://, rediss://, unix://). Unset: embedded store.",
    )
    data_dir: Path = Field(default=Path("var"), description="Embedded store data and secret.")
    key_prefix: str = Field(default="fairdraw:", min_length=1, description="Prefix of every key.")
    store_binary: str | None = Field(
        default=None, description="Path of the valkey-server/redis-server for the embedded store."
    )
    store_replica_acks: Annotated[int, Field(ge=0, le=16)] = Field(
        default=0,
        description="Replicas that must hold each write (WAIT) before it is acknowledged; "
        "0: do not wait.",
    )
    # At most 4 s: the cluster client gives up on any answer after 5 s.
    store_replica_acks_timeout_ms: Annotated[int, Field(ge=1, le=4000)] = Field(
        default=1000,
        description="How long a write waits for those replicas before it answers 503.",
    )
    store_batching: bool = Field(
        default=True,
        description="Send the store commands that concurrent requests issue together as one "
        "pipeline (a single server; a cluster's client sends each on its own).",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signing and hashing key; at least 32 characters."
    )
    admin_username: str = Field(default="admin", description="Admin created on first start.")
    admin_password: SecretStr | None = Field(
        default=None, description="If set, the admin account is created on first start."
    )
    github_api_url: str = Field(default="https://api.github.com", description="GitHub API base.")
    github_token: SecretStr | None = Field(default=None, description="GitHub token (optional).")
    github_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    github_cache_seconds: Annotated[int, Field(ge=1)] = 3600
    github_client_id: str | None = Field(
        default=None,
        description="Client ID of the GitHub OAuth App (or GitHub App) entrants sign in "
        "with; with the client secret, lets draws ask entrants to prove their account.",
    )
    github_client_secret: SecretStr | None = Field(
        default=None, description="Client secret of that GitHub OAuth App or GitHub App."
    )
    github_oauth_url: str = Field(
        default="https://github.com",
        description="Where GitHub's /login/oauth/authorize and /login/oauth/access_token are.",
    )
    session_idle_seconds: Annotated[int, Field(ge=60)] = 8 * 3600
    session_absolute_seconds: Annotated[int, Field(ge=60)] = 7 * 24 * 3600
    cookie_secure: bool | None = Field(
        default=None, description="Force the Secure cookie flag; unset: only over HTTPS."
    )
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text lines, or one JSON object per line (json)."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token Prometheus must send to GET /metrics; unset: no /metrics.",
    )

    # -- accounts and API tokens ------------------------------------------------------
    registration: Literal["open", "closed"] = "open"
    access_token_seconds: Annotated[int, Field(ge=60, le=24 * 3600)] = 15 * 60
    refresh_token_seconds: Annotated[int, Field(ge=3600)] = 30 * 24 * 3600

    # -- daily lotteries ------------------------------------------------------------------
    timezone: str = Field(default="UTC", description="Default IANA time zone of new lotteries.")
    scheduler: bool = Field(
        default=True, description="Run the lottery scheduler inside `fairdraw serve`."
    )
    scheduler_interval_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    scheduler_lease_seconds: Annotated[float, Field(ge=2, le=600)] = 30.0

    # -- live feeds -----------------------------------------------------------------------
    live_connections_per_address: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=20, description="Open live feeds one client address may hold per process."
    )
    live_queue_size: Annotated[int, Field(ge=16, le=100_000)] = Field(
        default=1024,
        description="Messages a watcher may fall behind before it is dropped (it reconnects).",
    )
    live_buffer_bytes: Annotated[int, Field(ge=4096, le=64 * 2**20)] = Field(
        default=256 * 1024,
        description="Bytes a watcher's connection may hold unsent before it is dropped.",
    )
    live_max_readers: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=1000,
        description="Draws one process may watch at once (one store connection each).",
    )
    live_count_interval_seconds: Annotated[float, Field(ge=0, le=10)] = Field(
        default=0.2, description="Least time between two public entry-count messages."
    )

    # -- retries -------------------------------------------------------------------------
    idempotency_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = Field(
        default=24 * 3600,
        description="How long the answer to a request with an Idempotency-Key is kept for "
        "retries (and a claimed ticket's code can be shown again to its claimant).",
    )
    idempotency_lease_seconds: Annotated[float, Field(ge=1, le=600)] = Field(
        default=15.0,
        description="How long a request with an Idempotency-Key that never finished (its "
        "process died) keeps its key in flight (409) before a retry may run.",
    )

    # -- requests ------------------------------------------------------------------------
    max_body_bytes: Annotated[int, Field(ge=64 * 1024, le=1024 * 2**20)] = Field(
        default=2**20,
        description="Largest request body accepted (413 beyond), counted as it arrives.",
    )
    import_max_rows: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        default=1_000_000,
        description="Most rows of entrants an imported list may have; its bytes are "
        "bounded by the largest request body.",
    )

    # -- fairness: the randomness beacon and the instance's signing key --------------------
    beacon: Literal["quicknet", "none"] = Field(
        default="quicknet",
        description="Public randomness beacon every new draw binds at its seal: drand's "
        "quicknet, or none (offline: each draw then says it trusts its operator).",
    )
    beacon_chain_file: Path | None = Field(
        default=None,
        description="Another drand chain to bind instead of quicknet: its info as JSON "
        "(chain_hash, public_key, period, genesis_time, scheme), as a relay's /info gives.",
    )
    beacon_relays: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_BEACON_RELAYS),
        description="drand HTTP relays, comma-separated, tried in order.",
    )
    beacon_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        default=5.0, description="How long one relay may take to answer before the next."
    )
    beacon_margin_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        default=5,
        description="The bound round is the first one more than this after the seal.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 signing key (PEM); unset: signing_key in the data directory, "
        "created on first start. Hosts of one instance must share it.",
    )

    # -- webhooks ------------------------------------------------------------------------
    webhook_allow_http: bool = Field(
        default=False,
        description="Allow plain http:// webhook URLs to loopback hosts (tests, local "
        "receivers); otherwise every webhook URL must be https://.",
    )
    webhook_allow_private_networks: bool = Field(
        default=False,
        description="Deliver webhooks to private, loopback and other non-public "
        "addresses (receivers in the operator's own network); otherwise a receiver's "
        "host must resolve to a public address when each message is sent.",
    )

    # -- e-mail ----------------------------------------------------------------------------
    smtp_host: str | None = Field(
        default=None, description="SMTP server that sends notifications; unset: no e-mail."
    )
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=587, description="SMTP server port (587 STARTTLS, 465 TLS, 25 plain)."
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: upgrade the connection (required); tls: TLS from the first "
        "byte; none: plain text (loopback relays only).",
    )
    smtp_username: str | None = Field(default=None, description="SMTP login name, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str | None = Field(
        default=None,
        description="Sender of notifications: an address, optionally with a name "
        "(fairdraw <draws@example.org>). Required with FAIRDRAW_SMTP_HOST.",
    )
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        default=30.0, description="How long one SMTP exchange may take before it is retried."
    )
    public_url: str | None = Field(
        default=None,
        description="This instance's address as people reach it (https://draws.example.org); "
        "the base of links in e-mail. Required with FAIRDRAW_SMTP_HOST.",
    )

    # -- networks ------------------------------------------------------------------------
    manager_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="CIDRs allowed to manage draws; empty: anywhere."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="CIDRs of reverse proxies whose X-Forwarded-For counts."
    )

    # -- rate limits ("N/second|minute|hour|day", see the limits library) ------------------
    rate_limit_login_user: str = "10/minute"
    rate_limit_login_address: str = "30/minute"
    rate_limit_registration: str = "10/hour"
    rate_limit_entries: str = "60/minute"
    rate_limit_token_refresh: str = "60/minute"  # noqa: S105 (a rate, not a secret)
    rate_limit_ticket_codes: str = "5/minute"

    @field_validator("manager_networks", "trusted_proxies", "beacon_relays", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("beacon_relays")
    @classmethod
    def _valid_relays(cls, value: list[str]) -> list[str]:
        for relay in value:
            if not relay.startswith(("http://", "https://")):
                raise ValueError(f"a beacon relay is an http(s) URL, got {relay!r}")
        if not value:
            raise ValueError("give at least one beacon relay (or set FAIRDRAW_BEACON=none)")
        return [relay.rstrip("/") for relay in value]

    @field_validator("github_oauth_url")
    @classmethod
    def _oauth_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"GitHub's OAuth URL is an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("manager_networks", "trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @field_validator(
        "rate_limit_login_user",
        "rate_limit_login_address",
        "rate_limit_registration",
        "rate_limit_entries",
        "rate_limit_token_refresh",
        "rate_limit_ticket_codes",
    )
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        if not _RATE.fullmatch(value.strip()):
            raise ValueError("use N/second, N/minute, N/hour or N/day, e.g. 10/minute")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # The zones a lottery may have: loadable names that are places (not "localtime").
        if value.strip() not in zone_names():
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. Europe/Berlin")
        return value.strip()

    @field_validator("smtp_from")
    @classmethod
    def _valid_sender(cls, value: str | None) -> str | None:
        return mail_sender(value) if value is not None and value.strip() else None

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", url):
            raise ValueError("use an http(s) URL without query or fragment: https://example.org")
        return url

    @model_validator(mode="after")
    def _mail_has_links(self) -> Settings:
        # Mail is also sent for draws the scheduler settles, with no request to take an
        # address from; and a Host header is the sender's to choose, so links in mail
        # never come from one.
        if self.smtp_host and not self.public_url:
            raise ValueError(
                "FAIRDRAW_SMTP_HOST needs FAIRDRAW_PUBLIC_URL (the base of links in mail)"
            )
        if self.smtp_host and not self.smtp_from:
            raise ValueError("FAIRDRAW_SMTP_HOST needs FAIRDRAW_SMTP_FROM (the sender)")
        return self

    @field_validator("key_prefix")
    @classmethod
    def _prefix_has_no_braces(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("the key prefix must not contain { or } (they mark hash tags)")
        return value

    @property
    def github_sign_in(self) -> bool:
        """True when entrants can sign in with GitHub (both OAuth credentials are set)."""
        return bool(self.github_client_id and self.github_client_secret)

    @property
    def embedded(self) -> bool:
        """True when fairdraw runs its own private store."""
        return not self.redis_url

    def secret_bytes(self) -> bytes:
        """The secret key as bytes; raises ConfigError if missing or unsafe."""
        if self.secret_key is None:
            raise ConfigError(f"FAIRDRAW_SECRET_KEY is not set; {KEY_GENERATION_HINT}")
        value = self.secret_key.get_secret_value()
        check_secret(value)
        return value.encode()


def check_secret(value: str) -> None:
    """Refuse placeholder, short and predictable secrets (see :func:`secret_strength_bits`);
    the ConfigError says how to generate a good one."""
    if value.strip().lower() in KNOWN_PLACEHOLDER_SECRETS:
        raise ConfigError(
            f"FAIRDRAW_SECRET_KEY is a known placeholder; set a random secret: "
            f"{KEY_GENERATION_HINT}"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"FAIRDRAW_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long; "
            f"{KEY_GENERATION_HINT}"
        )
    if secret_strength_bits(value) < MIN_SECRET_BITS:
        raise ConfigError(
            "FAIRDRAW_SECRET_KEY is too predictable: it repeats characters, runs "
            "(abc, 123) or stretches of itself (changemechangeme); it must be random, "
            f"{KEY_GENERATION_HINT}"
        )


def secret_strength_bits(value: str) -> float:
    """A rough upper estimate of the bits of a secret key, to catch keys typed by hand.

    Each character is worth log2 of the size of the character classes the key uses
    (a-z 26, A-Z 26, 0-9 10, anything else 33, summed), except a character that
    continues a run of three (``aaa``, ``abc``, ``321``) or completes three characters
    that already occurred earlier in the key (the second ``changeme``), which is worth
    nothing. A random key from ``secrets.token_urlsafe(32)`` rates about 275 bits,
    ``openssl rand -hex 32`` about 325; ``changeme`` repeated rates 47 however long,
    ``a`` repeated 9. Dictionary words are not recognised: a phrase can rate high and
    still be guessable.
    """
    size = sum(len(chars) for chars in _SECRET_CLASSES if any(c in chars for c in value))
    if any(not any(c in chars for chars in _SECRET_CLASSES) for c in value):
        size += _OTHER_CLASS_SIZE
    worth = math.log2(size) if size else 0.0
    unpredictable = 0
    earlier: set[str] = set()  # every three characters that ended before this one
    for i, char in enumerate(value):
        if i >= 3:
            earlier.add(value[i - 3 : i])
        if i >= 2:
            step = ord(char) - ord(value[i - 1])
            if abs(step) <= 1 and step == ord(value[i - 1]) - ord(value[i - 2]):
                continue
            if value[i - 2 : i + 1] in earlier:
                continue
        unpredictable += 1
    return unpredictable * worth


def signing_key_path(settings: Settings) -> Path:
    """Where the instance's Ed25519 signing key is kept."""
    return settings.signing_key_file or settings.data_dir / SIGNING_KEY_FILE_NAME


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, creating one in the data directory in embedded mode.

    With an external store the operator must provide ``FAIRDRAW_SECRET_KEY`` (several app
    servers must share it); with the embedded store a random key is generated on first
    start and kept, readable by the owner only, beside the data.
    """
    if settings.secret_key is not None:
        check_secret(settings.secret_key.get_secret_value())
        return settings
    if not settings.embedded:
        settings.secret_bytes()  # raises the explanatory ConfigError
    path = settings.data_dir / SECRET_FILE_NAME
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    value = path.read_text().strip()
    check_secret(value)
    return settings.model_copy(update={"secret_key": SecretStr(value)})
