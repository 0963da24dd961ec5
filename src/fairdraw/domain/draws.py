"""Draws: what an organiser asks for, the lifecycle, and the checks on both.

Lifecycle: ``draft → open → closed → drawn``, and ``cancelled`` from draft, open or
closed. The store applies each transition atomically; this module states which are legal
and validates what a user typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from fairdraw.domain import zones
from fairdraw.domain.embedding import parse_embed_origins
from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

TITLE_MAX = 120
DESCRIPTION_MAX = 5000
PRIZE_NAME_MAX = 100
PRIZES_MAX = 100
QUANTITY_MAX = 1000
DURATION_MAX_MS = 366 * 24 * 3600 * 1000
# "90m", "2h", "1h30m", "1d", "45s": the entry window, counted from when the draw opens.
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")


class DrawKind(StrEnum):
    giveaway = "giveaway"
    raffle = "raffle"
    lottery = "lottery"


class EntryIdentity(StrEnum):
    """Who an entrant is: a GitHub account (by its numeric id) or a fairdraw account."""

    github = "github"
    account = "account"


GITHUB_SIGN_IN_FOR_GITHUB = N_("Signing in with GitHub is for draws entered with GitHub accounts")

# Identity strings of entrants and claimants: "gh:<numeric GitHub id>", "u:<username>".
GITHUB_PREFIX = "gh:"
ACCOUNT_PREFIX = "u:"


def account_holder(identity: str) -> str | None:
    """The username in an account identity (``"u:pat"`` → ``"pat"``); None for others."""
    return identity.removeprefix(ACCOUNT_PREFIX) if identity.startswith(ACCOUNT_PREFIX) else None


class DrawStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    drawn = "drawn"
    cancelled = "cancelled"


# status → the statuses it may move to.
TRANSITIONS: Mapping[DrawStatus, frozenset[DrawStatus]] = {
    DrawStatus.draft: frozenset({DrawStatus.open, DrawStatus.cancelled}),
    DrawStatus.open: frozenset({DrawStatus.closed, DrawStatus.cancelled}),
    DrawStatus.closed: frozenset({DrawStatus.drawn, DrawStatus.cancelled}),
    DrawStatus.drawn: frozenset(),
    DrawStatus.cancelled: frozenset(),
}


class Claimants(StrEnum):
    """Who may claim raffle tickets: anyone (counted per client address) or accounts."""

    anonymous = "anonymous"
    account = "account"


@dataclass(frozen=True)
class RaffleTerms:
    """What makes a draw a raffle: N numbered tickets and who may claim how many."""

    ticket_count: int
    claimants: Claimants = Claimants.anonymous
    per_claimant: int = 1
    early_close: bool = False

    # The names of the terms among the draw's stored fields.
    FIELDS: ClassVar[tuple[str, ...]] = ("ticket_count", "claimants", "per_claimant", "early_close")

    def to_fields(self) -> dict[str, str]:
        """The terms as fields of the draw's stored hash."""
        return {
            "ticket_count": str(self.ticket_count),
            "claimants": self.claimants.value,
            "per_claimant": str(self.per_claimant),
            "early_close": "1" if self.early_close else "0",
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> RaffleTerms:
        return cls(
            ticket_count=int(fields["ticket_count"]),
            claimants=Claimants(fields["claimants"]),
            per_claimant=int(fields["per_claimant"]),
            early_close=fields.get("early_close") == "1",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ticket_count": self.ticket_count,
            "claimants": self.claimants.value,
            "per_claimant": self.per_claimant,
            "early_close": self.early_close,
        }


@dataclass(frozen=True)
class Prize:
    name: str
    quantity: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "quantity": self.quantity}


@dataclass(frozen=True)
class NewDraw:
    """A validated request to create a draw."""

    title: str
    description: str
    prizes: tuple[Prize, ...]
    deadline_ms: int | None = None
    duration_ms: int | None = None
    kind: DrawKind = DrawKind.giveaway
    entry_identity: EntryIdentity = EntryIdentity.github
    raffle: RaffleTerms | None = None
    # Draw the winners when the deadline closes entries, with nobody pressing a button.
    auto_draw: bool = False
    # Origins whose pages may frame the draw's widget (domain/embedding.py).
    embed_origins: tuple[str, ...] = ()
    # Entrants prove their GitHub account (OAuth sign-in) instead of typing a username.
    github_sign_in: bool = False
    # The canonical IANA zone its times are typed and shown in (domain/zones.py).
    time_zone: str = zones.DEFAULT_ZONE

    @property
    def slot_count(self) -> int:
        return sum(p.quantity for p in self.prizes)


@dataclass(frozen=True)
class Seal:
    root: str
    entry_count: int
    sealed_ms: int
    # The beacon round bound at the seal (fairdraw/2 with a beacon), and its chain.
    beacon_round: int | None = None
    beacon_chain: str | None = None
    # When that round is published (epoch ms).
    beacon_due_ms: int | None = None


@dataclass(frozen=True)
class WinnerView:
    """A winner as shown on the results page: stored with the result, never refetched."""

    slot: int
    prize: str
    index: int
    ref: str
    login: str
    name: str
    avatar_url: str | None
    html_url: str | None


@dataclass(frozen=True)
class DrawResult:
    bundle: dict[str, Any]
    winners: tuple[WinnerView, ...]
    alternates: tuple[WinnerView, ...]
    unawarded: tuple[str, ...]
    drawn_ms: int


@dataclass(frozen=True)
class Draw:
    id: str
    kind: DrawKind
    title: str
    description: str
    prizes: tuple[Prize, ...]
    status: DrawStatus
    created_ms: int
    created_by: str
    entry_count: int = 0
    deadline_ms: int | None = None
    duration_ms: int | None = None
    opened_ms: int | None = None
    closed_ms: int | None = None
    commitment: str | None = None
    entry_identity: EntryIdentity = EntryIdentity.github
    seal: Seal | None = None
    result: DrawResult | None = field(default=None, repr=False)
    raffle: RaffleTerms | None = None
    # How far a presenter has revealed the result: 0 .. slot_count (None: not started).
    reveal_step: int | None = None
    # Drawn by the scheduler as soon as its deadline closes it.
    auto_draw: bool = False
    # The proof version the draw was created under: its refs and bundle follow it.
    algorithm: str = "fairdraw/1"
    # fairdraw/2 without a beacon: the draw trusts its operator (fixed at creation).
    trusts_operator: bool = False
    # Origins whose pages may frame the draw's widget (domain/embedding.py).
    embed_origins: tuple[str, ...] = ()
    # Entrants prove their GitHub account (OAuth sign-in) instead of typing a username.
    github_sign_in: bool = False
    # Its entrants are an imported list (domain/imports.py), sealed at the import.
    imported: bool = False
    # The IANA zone its organiser typed its times in; shown without JavaScript. Draws
    # stored before zones existed read as UTC.
    time_zone: str = zones.DEFAULT_ZONE
    # A lottery round's lottery ("" for any other draw).
    lottery_id: str = ""

    @property
    def binds_beacon(self) -> bool:
        """Whether this draw's randomness comes from a public beacon round."""
        return self.algorithm != "fairdraw/1" and not self.trusts_operator

    @property
    def waiting_for_beacon(self) -> bool:
        """Whether the draw is sealed to a beacon round and waits for it: closed, its
        round bound, no result yet."""
        return (
            self.status is DrawStatus.closed
            and self.seal is not None
            and self.seal.beacon_round is not None
            and self.result is None
        )

    @property
    def slot_count(self) -> int:
        return sum(p.quantity for p in self.prizes)

    @property
    def tickets_left(self) -> int | None:
        """Unclaimed tickets of a raffle (None for other kinds)."""
        if self.raffle is None:
            return None
        return max(0, self.raffle.ticket_count - self.entry_count)

    def deadline_passed(self, now_ms: int) -> bool:
        return self.deadline_ms is not None and now_ms >= self.deadline_ms

    def accepting_entries(self, now_ms: int) -> bool:
        return self.status is DrawStatus.open and not self.deadline_passed(now_ms)

    def closable(self, now_ms: int) -> bool:
        """Open, and not a raffle that closes only when its last ticket is claimed."""
        if self.raffle is not None and not self.raffle.early_close:
            return False
        return self.status is DrawStatus.open

    def drawable(self, now_ms: int) -> bool:
        """Closed, or open with its deadline passed (drawing then closes it first)."""
        return self.status is DrawStatus.closed or (
            self.status is DrawStatus.open and self.deadline_passed(now_ms)
        )


def read_heading(
    errors: dict[str, str], title: str, description: str, *, what: str, field: str = "title"
) -> tuple[str, str]:
    """``title`` and ``description`` without surrounding space; a missing or long title
    (in ``field``) and a long description are added to ``errors``."""
    title = title.strip()
    description = description.strip()
    if not title:
        errors[field] = _MISSING_HEADING[what, field]
    elif len(title) > TITLE_MAX:
        errors[field] = at_most_characters(TITLE_MAX)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = at_most_characters(DESCRIPTION_MAX)
    return title, description


# What a missing title says, by (what, field): whole sentences, so each translates alone.
_MISSING_HEADING = {
    ("draw", "title"): N_("Give the draw a title"),
    ("raffle", "title"): N_("Give the raffle a title"),
}


def at_most_characters(limit: int) -> Message:
    """The refusal of a text longer than ``limit`` characters."""
    return Message(N_("At most %(limit)s characters"), limit=limit)


def whole_number(raw: object) -> int | None:
    """``raw`` as an int if it is one, or a string of at most 12 digits (``_`` allowed
    between them); None otherwise (booleans and floats included)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw if raw is not None else "").strip().replace("_", "")
    if not text.isdecimal() or len(text) > 12:
        return None
    return int(text)


def parse_prizes(raw: Sequence[Mapping[str, Any]]) -> tuple[tuple[Prize, ...], dict[str, str]]:
    """Validate a prize list; return the prizes and field errors keyed ``prizes.N.field``."""
    errors: dict[str, str] = {}
    prizes: list[Prize] = []
    seen: set[str] = set()
    if not raw:
        errors["prizes"] = N_("Add at least one prize")
    if len(raw) > PRIZES_MAX:
        errors["prizes"] = Message(N_("At most %(limit)s prizes"), limit=PRIZES_MAX)
    for i, item in enumerate(raw[:PRIZES_MAX]):
        name = str(item.get("name") or "").strip()
        quantity_raw = item.get("quantity", 1)
        if not name:
            errors[f"prizes.{i}.name"] = N_("Give the prize a name")
        elif len(name) > PRIZE_NAME_MAX:
            errors[f"prizes.{i}.name"] = at_most_characters(PRIZE_NAME_MAX)
        elif name.casefold() in seen:
            errors[f"prizes.{i}.name"] = N_("Prize names must be unique")
        seen.add(name.casefold())
        try:
            quantity = (
                int(str(quantity_raw).strip())
                if not isinstance(quantity_raw, int)
                else quantity_raw
            )
        except ValueError:
            errors[f"prizes.{i}.quantity"] = N_("Quantity must be a whole number")
            continue
        if isinstance(quantity_raw, bool) or not 1 <= quantity <= QUANTITY_MAX:
            errors[f"prizes.{i}.quantity"] = Message(
                N_("Quantity must be between 1 and %(limit)s"), limit=QUANTITY_MAX
            )
            continue
        prizes.append(Prize(name=name, quantity=quantity))
    return tuple(prizes), errors


def parse_duration(text: str) -> int:
    """``"1h30m"`` → milliseconds; raises ValueError on anything else or a zero duration."""
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        raise ValueError(text)
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    ms = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000
    if ms <= 0:
        raise ValueError(text)
    return ms


def parse_deadline(text: str, time_zone: str = zones.DEFAULT_ZONE) -> int:
    """An ISO 8601 time → epoch milliseconds; a time without an offset is a wall time in
    ``time_zone`` (ValueError if unreadable, zones.NonexistentLocalTime if the zone skips
    it; a repeated wall time is its first occurrence)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        if time_zone == zones.DEFAULT_ZONE:
            moment = moment.replace(tzinfo=UTC)
        else:
            try:
                return zones.local_to_ms(moment, zones.zone_info(time_zone))
            except OverflowError as exc:  # a wall time at the calendar's very ends
                raise ValueError(text) from exc
    return int(moment.timestamp() * 1000)


def validate_new_draw(
    *,
    title: str,
    description: str,
    prizes: Sequence[Mapping[str, Any]],
    deadline: str | None,
    duration: str | None,
    now_ms: int,
    entry_identity: str = EntryIdentity.github.value,
    auto_draw: bool = False,
    embed_origins: Sequence[str] = (),
    github_sign_in: bool = False,
    time_zone: str | None = None,
) -> NewDraw:
    """Check everything the organiser typed; raise InvalidInput listing every bad field.
    A ``deadline`` without an offset is read in ``time_zone`` (blank: UTC)."""
    errors: dict[str, str] = {}
    title, description = read_heading(errors, title, description, what="draw")
    zone = zones.DEFAULT_ZONE
    try:
        zone = zones.read_zone(time_zone)
    except InvalidInput as error:
        errors.update(error.errors)
    parsed_prizes, prize_errors = parse_prizes(prizes)
    errors.update(prize_errors)
    deadline_ms: int | None = None
    duration_ms: int | None = None
    deadline = (deadline or "").strip() or None
    duration = (duration or "").strip() or None
    if deadline and duration:
        errors["deadline"] = N_("Give a deadline or a duration, not both")
    elif deadline:
        try:
            deadline_ms = parse_deadline(deadline, zone)
        except zones.NonexistentLocalTime:
            wall = datetime.fromisoformat(deadline.strip())
            errors["deadline"] = zones.gap_message(wall, zone)
        except ValueError:
            errors["deadline"] = N_("Use a date and time such as 2026-12-24T18:00")
        else:
            if deadline_ms <= now_ms:
                errors["deadline"] = N_("The deadline must be in the future")
    elif duration:
        try:
            duration_ms = parse_duration(duration)
        except ValueError:
            errors["duration"] = N_("Use a duration such as 30m, 2h, 1h30m or 1d")
        else:
            if duration_ms > DURATION_MAX_MS:
                errors["duration"] = N_("At most 366 days")
    try:
        identity = EntryIdentity(entry_identity)
    except ValueError:
        errors["entry_identity"] = N_("Choose GitHub username or fairdraw account")
        identity = EntryIdentity.github
    if auto_draw and not deadline and not duration:
        errors["auto_draw"] = N_(
            "Drawing automatically needs a deadline or a duration: "
            "give one, or close entries and draw yourself"
        )
    origins, origins_error = parse_embed_origins(embed_origins)
    if origins_error:
        errors["embed_origins"] = origins_error
    if github_sign_in and identity is not EntryIdentity.github:
        errors["github_sign_in"] = GITHUB_SIGN_IN_FOR_GITHUB
    if errors:
        raise InvalidInput(errors)
    return NewDraw(
        entry_identity=identity,
        title=title,
        description=description,
        prizes=parsed_prizes,
        deadline_ms=deadline_ms,
        duration_ms=duration_ms,
        auto_draw=auto_draw,
        embed_origins=origins,
        github_sign_in=github_sign_in,
        time_zone=zone,
    )
