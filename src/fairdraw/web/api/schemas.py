"""The API's request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from fairdraw.domain.draws import (
    DESCRIPTION_MAX,
    PRIZE_NAME_MAX,
    PRIZES_MAX,
    QUANTITY_MAX,
    TITLE_MAX,
    Draw,
    WinnerView,
)
from fairdraw.domain.moments import iso
from fairdraw.domain.tickets import CODE_TEXT_MAX, MAX_TICKETS
from fairdraw.web.api.text_patterns import (
    GITHUB_LOGIN_PATTERN,
    NOT_BLANK,
    SPACE,
    TICKET_CODE_PATTERN,
    duration_pattern,
    lazy_pattern,
)


# The domain's rules, said in the OpenAPI schema so that a client (or a fuzzer) knows what
# is accepted. The domain still checks them and words the errors; texts are checked after
# their surrounding spaces are trimmed. Booleans and numbers are strict: a JSON boolean or
# integer, never 0/1, "true" or "5".
def text_rule(max_length: int, *, required: bool = True) -> dict[str, Any]:
    """The schema of a text of at most ``max_length`` characters, not blank if required."""
    rule: dict[str, Any] = {"maxLength": max_length}
    if required:
        rule |= {"minLength": 1, "pattern": NOT_BLANK}
    return rule


def number_rule(minimum: int, maximum: int | None = None) -> dict[str, Any]:
    """The schema of a whole number from ``minimum`` to ``maximum``."""
    rule: dict[str, Any] = {"minimum": minimum}
    if maximum is not None:
        rule["maximum"] = maximum
    return rule


# A draw's or raffle's time zone, as creation and draft edits take it (read by
# domain/zones.py: aliases become the zone they name, anything else is refused).
TimeZoneIn = Annotated[
    str | None,
    Field(
        description="IANA time zone (such as Europe/Berlin) its pages show its times in "
        "and a `deadline` without an offset is read in; an alias (US/Pacific) is stored as "
        "the zone it names. Blank: UTC.",
        examples=["Europe/Berlin"],
        json_schema_extra={"maxLength": 64},
    ),
]


class PrizeIn(BaseModel):
    name: str = Field(
        examples=["Mechanical keyboard"],
        description="Unique within the draw (in any letter case).",
        json_schema_extra=text_rule(PRIZE_NAME_MAX),
    )
    quantity: int = Field(
        default=1, strict=True, examples=[1], json_schema_extra=number_rule(1, QUANTITY_MAX)
    )


PRIZES_RULE: dict[str, Any] = {"minItems": 1, "maxItems": PRIZES_MAX}


def _deadline_rule(schema: dict[str, Any]) -> None:
    # An RFC 3339 date-time, which every client can write; the server also reads the
    # other ISO 8601 forms Python's datetime.fromisoformat takes, without an offset too.
    schema["anyOf"] = [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": f"^{SPACE}*$"},
        {"type": "null"},
    ]


class DrawIn(BaseModel):
    title: str = Field(examples=["Meetup #42 giveaway"], json_schema_extra=text_rule(TITLE_MAX))
    description: str = Field(
        default="", json_schema_extra=text_rule(DESCRIPTION_MAX, required=False)
    )
    prizes: list[PrizeIn] = Field(json_schema_extra=PRIZES_RULE)
    deadline: str | None = Field(
        default=None,
        description="ISO 8601 time after which entries are refused (without an offset: "
        "in `time_zone`, a time the zone skips refused, a repeated one its first "
        "occurrence); it must be in the future. Not with `duration`. Blank: none.",
        json_schema_extra=_deadline_rule,
    )
    duration: str | None = Field(
        default=None,
        description="Entry window counted from opening, at most 366 days: 30m, 2h, 1h30m, 1d. "
        "Blank: none.",
        json_schema_extra=lazy_pattern(duration_pattern),
    )
    open: bool = Field(default=False, strict=True, description="Open the draw right away.")
    entry_identity: Literal["github", "account"] = Field(
        default="github",
        description="How entrants are identified: a GitHub username, or their fairdraw account.",
    )
    auto_draw: bool = Field(
        default=False,
        strict=True,
        description="Draw the winners automatically when the deadline closes entries; "
        "needs `deadline` or `duration`.",
    )
    embed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (`https://host[:port]`, no path; at most 10) whose pages may "
        "show the draw's widget, `/draws/{id}/embed`, in a frame. Empty: no site may.",
        examples=[["https://example.org"]],
    )
    github_sign_in: bool = Field(
        default=False,
        strict=True,
        description="Entrants prove their GitHub account: they sign in with GitHub on the "
        "draw's page, and a typed username is refused. Only with `entry_identity` github, "
        "and only on a server with a GitHub OAuth app.",
    )
    time_zone: TimeZoneIn = None


class RaffleIn(BaseModel):
    title: str = Field(examples=["Charity raffle"], json_schema_extra=text_rule(TITLE_MAX))
    description: str = Field(
        default="", json_schema_extra=text_rule(DESCRIPTION_MAX, required=False)
    )
    prizes: list[PrizeIn] = Field(
        description="Each ticket wins at most one prize: the quantities add up to at most "
        "`ticket_count`.",
        json_schema_extra=PRIZES_RULE,
    )
    ticket_count: int = Field(
        strict=True,
        description="Tickets numbered 1 to N, 1 ≤ N ≤ 10⁹.",
        examples=[500],
        json_schema_extra=number_rule(1, MAX_TICKETS),
    )
    claimants: Literal["anonymous", "account"] = Field(
        default="anonymous",
        description="Who may claim: anyone (counted per client address) or fairdraw accounts.",
    )
    per_claimant: int = Field(
        default=1,
        strict=True,
        description="Tickets one claimant may hold, 1 to `ticket_count`.",
        json_schema_extra=number_rule(1, MAX_TICKETS),
    )
    early_close: bool = Field(
        default=False,
        strict=True,
        description="Whether its managers may close it before the last ticket is claimed.",
    )
    embed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (`https://host[:port]`, no path; at most 10) whose pages may "
        "show the raffle's widget, `/draws/{id}/embed`, in a frame. Empty: no site may.",
        examples=[["https://example.org"]],
    )
    open: bool = Field(default=False, strict=True, description="Open the raffle right away.")
    time_zone: TimeZoneIn = None


class EntryIn(BaseModel):
    github: str | None = Field(
        default=None,
        description="GitHub username (draws entered with GitHub, which require it); account "
        "draws use the caller. 1 to 39 letters, digits or single inner hyphens; one leading "
        "@ is dropped.",
        examples=["octocat"],
        json_schema_extra={"pattern": GITHUB_LOGIN_PATTERN},
    )


class LoginIn(BaseModel):
    username: str
    password: str


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description="Send as X-CSRF-Token on state-changing calls.")


class OpeningOut(BaseModel):
    identity: str = Field(description="The entrant's identity (e.g. gh:583231).")
    nonce: str = Field(description="The entry's secret 16-byte nonce, 32 hex characters.")


class SignedStatementOut(BaseModel):
    statement: dict[str, Any] = Field(description="What the instance states (canonical JSON).")
    signature: str = Field(description="Ed25519 signature of the statement, 128 hex.")


class TicketOut(BaseModel):
    draw_id: str
    number: int = Field(description="The ticket number, 1 to the raffle's ticket count.")
    code: str = Field(
        description="The verification code, shown only in this answer: fairdraw keeps only "
        "a keyed hash of it.",
        examples=["AAAQE-AYEAU-DAOCA-JBIFQ-YDIOB4"],
    )
    claimed_at: str
    index: int | None = Field(default=None, description="The claim's place in the ledger.")
    ref: str | None = Field(
        default=None,
        description="fairdraw/2: the claim's public reference, `number:commitment`, where "
        "the commitment is sha256 of the code (see fairness-v2.md); the code opens it. "
        "Null in fairdraw/1 raffles.",
    )
    signed: SignedStatementOut | None = Field(
        default=None,
        description="fairdraw/2: the instance's signed promise that this claim is in the "
        "ledger (a `receipt` statement); check it with `fairdraw verify-receipt`.",
    )


class TicketCheckIn(BaseModel):
    number: int = Field(
        strict=True,
        description="The ticket number.",
        examples=[17],
        json_schema_extra=number_rule(1, MAX_TICKETS),
    )
    code: str = Field(
        description="The ticket's verification code; case, spaces and hyphens do not matter.",
        examples=["AAAQE-AYEAU-DAOCA-JBIFQ-YDIOB4"],
        json_schema_extra={"pattern": TICKET_CODE_PATTERN, "maxLength": CODE_TEXT_MAX},
    )


class TicketCheckOut(BaseModel):
    draw_id: str
    number: int
    valid: bool = Field(description="Always true: a code that does not match is a 403.")
    status: Literal["not_drawn", "won", "not_won", "cancelled", "forfeited"]
    has_won: bool
    prize: str | None = Field(description="The prize this ticket won, if it won one.")
    alternate: int | None = Field(
        default=None,
        description="The ticket's rank among the alternates (1 = first), if it was drawn as "
        "one: not_won (waiting for a forfeit), or won (promoted after one).",
    )


class PrizeOut(BaseModel):
    name: str
    quantity: int


class BeaconBindingOut(BaseModel):
    chain_hash: str = Field(description="The drand chain the draw binds (hex).")
    round: int = Field(description="The round bound at the seal: published after it.")
    due_at: str | None = Field(description="When the round is published (ISO-8601 UTC).")


class SealOut(BaseModel):
    root: str
    entry_count: int
    sealed_at: str
    beacon: BeaconBindingOut | None = Field(
        default=None,
        description="fairdraw/2 with a beacon: the round whose randomness decides the "
        "draw; the draw waits for it. Null otherwise.",
    )


class PersonOut(BaseModel):
    index: int
    ref: str
    login: str
    name: str
    avatar_url: str | None
    html_url: str | None


class WinnerOut(PersonOut):
    slot: int
    prize: str


class ResultOut(BaseModel):
    drawn_at: str
    winners: list[WinnerOut]
    alternates: list[PersonOut]
    unawarded: list[str]
    seed: str
    algorithm: str


class RaffleOut(BaseModel):
    ticket_count: int
    claimants: str
    per_claimant: int
    early_close: bool
    tickets_left: int = Field(description="Tickets not claimed yet.")


class LinksOut(BaseModel):
    page: str
    proof: str | None
    entries: str | None


class DrawOut(BaseModel):
    id: str
    kind: str
    title: str
    description: str
    prizes: list[PrizeOut]
    status: str
    entry_identity: str
    accepting_entries: bool
    entry_count: int
    created_at: str
    opened_at: str | None
    deadline: str | None
    duration_ms: int | None
    auto_draw: bool = Field(
        default=False, description="Whether the winners are drawn automatically at the deadline."
    )
    closed_at: str | None
    commitment: str | None
    algorithm: str = Field(
        default="fairdraw/1", description="The proof version: fairdraw/1 or fairdraw/2."
    )
    trusts_operator: bool = Field(
        default=False,
        description="True when no public beacon decides this draw (fairdraw/1, or "
        "fairdraw/2 on a server without one): its randomness is the operator's seed alone.",
    )
    seal: SealOut | None
    waiting_for_beacon: bool = Field(
        default=False,
        description="True while the draw is sealed to a beacon round (`seal.beacon`) "
        "that has not decided it yet: drawing it answers 503 `beacon_pending` with "
        "`Retry-After` until the round is published.",
    )
    result: ResultOut | None
    links: LinksOut
    embed_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may frame the draw's widget, `/draws/{id}/embed`.",
    )
    github_sign_in: bool = Field(
        default=False,
        description="Whether entrants prove their GitHub account by signing in on the "
        "draw's page (typed usernames are refused).",
    )
    time_zone: str = Field(
        default="UTC",
        description="The IANA time zone its organiser chose; times here are UTC instants.",
    )
    raffle: RaffleOut | None = Field(
        description="A raffle's tickets and their rules; null for other kinds."
    )
    reveal_step: int | None = Field(
        default=None,
        description="How many prize slots the presenter has revealed (0 .. the number "
        "of slots); null until a presentation starts. The result is public either way.",
    )


class ReceiptOut(BaseModel):
    draw_id: str
    index: int
    ref: str
    entered_at: str
    github: str | None
    account: str | None
    algorithm: str = Field(description="The proof version of the draw: fairdraw/1 or fairdraw/2.")
    opening: OpeningOut | None = Field(
        description="fairdraw/2: the identity and secret nonce the ref commits to. Keep it: "
        "it shows the entry is yours. Null for fairdraw/1 draws."
    )
    signed: SignedStatementOut | None = Field(
        description="fairdraw/2: the instance's signed promise that this entry is in the "
        "ledger (a `receipt` statement); check it with `fairdraw verify-receipt`."
    )


def _person(view: WinnerView) -> dict[str, Any]:
    return {
        "index": view.index,
        "ref": view.ref,
        "login": view.login,
        "name": view.name,
        "avatar_url": view.avatar_url,
        "html_url": view.html_url,
    }


def _maybe_iso(ms: int | None) -> str | None:
    return iso(ms) if ms is not None else None


def draw_out(draw: Draw, now_ms: int) -> DrawOut:
    result = None
    if draw.result is not None:
        result = ResultOut(
            drawn_at=iso(draw.result.drawn_ms),
            winners=[
                WinnerOut(slot=w.slot, prize=w.prize, **_person(w)) for w in draw.result.winners
            ],
            alternates=[PersonOut(**_person(a)) for a in draw.result.alternates],
            unawarded=list(draw.result.unawarded),
            seed=str(draw.result.bundle["seed"]),
            algorithm=str(draw.result.bundle["algorithm"]),
        )
    seal = None
    if draw.seal is not None:
        beacon = None
        if draw.seal.beacon_round is not None and draw.seal.beacon_chain is not None:
            beacon = BeaconBindingOut(
                chain_hash=draw.seal.beacon_chain,
                round=draw.seal.beacon_round,
                due_at=_maybe_iso(draw.seal.beacon_due_ms),
            )
        seal = SealOut(
            root=draw.seal.root,
            entry_count=draw.seal.entry_count,
            sealed_at=iso(draw.seal.sealed_ms),
            beacon=beacon,
        )
    raffle = None
    if draw.raffle is not None:
        raffle = RaffleOut(**draw.raffle.to_json(), tickets_left=draw.tickets_left or 0)
    base = f"/api/v1/draws/{draw.id}"
    return DrawOut(
        id=draw.id,
        kind=draw.kind.value,
        title=draw.title,
        description=draw.description,
        prizes=[PrizeOut(name=p.name, quantity=p.quantity) for p in draw.prizes],
        status=draw.status.value,
        entry_identity=draw.entry_identity.value,
        accepting_entries=draw.accepting_entries(now_ms),
        entry_count=draw.entry_count,
        created_at=iso(draw.created_ms),
        opened_at=_maybe_iso(draw.opened_ms),
        deadline=_maybe_iso(draw.deadline_ms),
        duration_ms=draw.duration_ms,
        auto_draw=draw.auto_draw,
        closed_at=_maybe_iso(draw.closed_ms),
        commitment=draw.commitment,
        algorithm=draw.algorithm,
        trusts_operator=not draw.binds_beacon,
        embed_origins=list(draw.embed_origins),
        github_sign_in=draw.github_sign_in,
        time_zone=draw.time_zone,
        seal=seal,
        waiting_for_beacon=draw.waiting_for_beacon,
        result=result,
        links=LinksOut(
            page=f"/draws/{draw.id}",
            proof=f"{base}/proof" if draw.result is not None else None,
            entries=f"{base}/entries.txt" if draw.seal is not None else None,
        ),
        raffle=raffle,
        reveal_step=draw.reveal_step,
    )
