"""What the raffle templates show: the ticket card, its file, and the outcome of a check.

Presentation only, like :mod:`fairdraw.web.pages.views`: every decision is the services'.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import InvalidCode, RateLimited, TicketNotFound
from fairdraw.services.raffles import Ticket, TicketCheck, TicketStatus
from fairdraw.web.pages.views import Moment, moment


@dataclass(frozen=True)
class TicketCard:
    """A freshly claimed ticket as its card shows it, once."""

    number: int
    code: str
    claimed: Moment | None
    sold_out: bool
    check_url: str
    file_name: str
    file_href: str


def ticket_file(draw: Draw, ticket: Ticket, draw_url: str, check_url: str) -> str:
    """The plain-text copy of a ticket that its holder downloads and keeps."""
    lines = [
        "fairdraw raffle ticket",
        "",
        f"Raffle:            {draw.title}",
        f"Raffle page:       {draw_url}",
        f"Ticket number:     {ticket.number}",
        f"Verification code: {ticket.code}",
        f"Claimed:           {ticket.claimed_at}",
        "",
        f"Check whether this ticket won at {check_url}",
        "with the ticket number and the verification code.",
        "The code is shown only once and cannot be recovered: keep this file safe,",
        "and share the code with nobody: whoever has it can check this ticket.",
    ]
    # CRLF: the file opens the same in every text editor, Windows Notepad included.
    return "\r\n".join(lines) + "\r\n"


def ticket_card(draw: Draw, ticket: Ticket, draw_url: str, check_url: str) -> TicketCard:
    """The card of ``ticket``; its download is a ``data:`` URL, as the code is stored
    nowhere the browser could fetch it from later."""
    body = ticket_file(draw, ticket, draw_url, check_url)
    return TicketCard(
        number=ticket.number,
        code=ticket.code,
        claimed=moment(ticket.claimed_ms),
        sold_out=ticket.sold_out,
        check_url=check_url,
        file_name=f"fairdraw-{draw.id}-ticket-{ticket.number}.txt",
        file_href="data:text/plain;charset=utf-8," + quote(body, safe=""),
    )


@dataclass(frozen=True)
class CheckOutcome:
    """The answer of the check form, with the Bulma colour that goes with it."""

    tone: str
    heading: str
    detail: str


def check_outcome(check: TicketCheck, draw: Draw) -> CheckOutcome:
    """What a matching code learns about its ticket."""
    number = check.number
    if check.status is TicketStatus.won:
        return CheckOutcome(
            "is-success",
            f"Won: {check.prize}",
            f"Congratulations! Ticket {number} won {check.prize}. Keep your code: the "
            "organiser may ask for it when you collect the prize.",
        )
    if check.status is TicketStatus.not_won:
        return CheckOutcome(
            "",
            "Not a winner",
            f"Ticket {number} did not win a prize in “{draw.title}”. Thanks for taking part!",
        )
    if check.status is TicketStatus.cancelled:
        return CheckOutcome(
            "is-danger",
            "This raffle was cancelled",
            f"Ticket {number} is genuine, but no winners will be drawn.",
        )
    return CheckOutcome(
        "is-info",
        "Not drawn yet — your ticket is valid",
        f"Ticket {number} is in the raffle. Come back after the draw to see whether it won.",
    )


def wait_text(seconds: int) -> str:
    """``1`` → ``"1 second"``, ``45`` → ``"45 seconds"``, ``600`` → ``"10 minutes"``."""
    seconds = max(1, seconds)
    if seconds < 120:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    return f"{-(-seconds // 60)} minutes"


def check_refusal(error: TicketNotFound | InvalidCode | RateLimited) -> tuple[str, str]:
    """The form field a refused check concerns (``_check`` for the whole form) and the
    message shown next to it."""
    if isinstance(error, TicketNotFound):
        if error.detail == error.title:
            return "number", "Ticket not found."
        return "number", f"Ticket not found. {error.detail}."
    if isinstance(error, InvalidCode):
        return "code", "Invalid code: it does not match this ticket. Check it against your ticket."
    retry_after = int(error.extra.get("retry_after", 60))
    return "_check", f"Too many wrong codes for this ticket; try again in {wait_text(retry_after)}."


def sentence(message: str) -> str:
    """``message`` with a capital first letter (domain messages are written to follow a
    field name)."""
    return message[:1].upper() + message[1:]
