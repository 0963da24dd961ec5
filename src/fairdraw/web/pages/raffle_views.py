"""What the raffle templates show: the ticket card, its file, and the outcome of a check.

Presentation only, like :mod:`fairdraw.web.pages.views`: every decision is the services'.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import InvalidCode, RateLimited, TicketNotFound
from fairdraw.domain.moments import iso
from fairdraw.i18n import gettext, ngettext
from fairdraw.services.raffles import KeptTicket, TicketCheck, TicketStatus
from fairdraw.web.pages.receipt_views import KeptReceipt, kept_receipt, kept_receipt_text
from fairdraw.web.pages.views import Moment, moment


@dataclass(frozen=True)
class TicketCard:
    """A claimed ticket as its card shows it in the browser that claimed it: with its
    code while that browser can open it (``code`` None otherwise, and nothing but the
    number is shown), ``last`` if this ticket was the raffle's last; with its signed
    receipt there too (``receipt``, fairdraw/2)."""

    number: int
    code: str | None
    claimed: Moment | None
    last: bool
    check_url: str
    file_name: str
    file_href: str
    # fairdraw/2: the claim's public ref and its signed receipt, for that browser too.
    ref: str | None = None
    receipt: KeptReceipt | None = None


def ticket_file(
    draw: Draw,
    ticket: KeptTicket,
    code: str,
    draw_url: str,
    check_url: str,
    check_entry_url: str = "",
) -> str:
    """The plain-text copy of a ticket that its holder downloads and keeps; in a
    fairdraw/2 raffle with its public reference and signed receipt."""
    lines = [
        "fairdraw raffle ticket",
        "",
        f"Raffle:            {draw.title}",
        f"Raffle page:       {draw_url}",
        f"Ticket number:     {ticket.number}",
        f"Verification code: {code}",
        f"Claimed:           {iso(ticket.claimed_ms)}",
        "",
        f"Check whether this ticket won at {check_url}",
        "with the ticket number and the verification code.",
        "Keep this file safe: fairdraw cannot show the code again once the browser that",
        "claimed the ticket has forgotten it. Share the code with nobody: whoever has it",
        "can check this ticket.",
    ]
    if ticket.ref is not None and ticket.signed is not None:
        lines += [
            "",
            f"Public reference:  {ticket.ref}",
            "Signed receipt (the server's promise that this ticket is in the raffle's list):",
            kept_receipt_text(ticket.signed),
            "",
            f"Once the raffle is sealed, check at {check_entry_url} that its sealed list",
            "holds this ticket: paste the signed receipt there (it holds no code).",
        ]
    # CRLF: the file opens the same in every text editor, Windows Notepad included.
    return "\r\n".join(lines) + "\r\n"


def ticket_card(
    draw: Draw,
    number: int,
    ticket: KeptTicket | None,
    draw_url: str,
    check_url: str,
    check_entry_url: str = "",
) -> TicketCard:
    """The card of ticket ``number``, with what the claiming browser can still show of
    it (``ticket``: its code, and its signed receipt); its downloads are ``data:`` URLs,
    so the code goes nowhere else."""
    code = ticket.code if ticket is not None else None
    href = ""
    if ticket is not None and code is not None:
        body = ticket_file(draw, ticket, code, draw_url, check_url, check_entry_url)
        href = "data:text/plain;charset=utf-8," + quote(body, safe="")
    return TicketCard(
        number=number,
        code=code,
        claimed=moment(ticket.claimed_ms, draw.time_zone) if ticket is not None else None,
        last=ticket.last if ticket is not None else False,
        check_url=check_url,
        file_name=f"fairdraw-{draw.id}-ticket-{number}.txt",
        file_href=href,
        ref=ticket.ref if ticket is not None else None,
        receipt=kept_receipt(ticket.signed) if ticket is not None else None,
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
    if check.status is TicketStatus.won and check.alternate is not None:
        return CheckOutcome(
            "is-success",
            gettext("Winner (promoted): %(prize)s") % {"prize": check.prize},
            gettext(
                "Ticket %(number)s was alternate #%(alternate)s; a winner forfeited, so it "
                "now holds %(prize)s. Keep your code: the organiser may ask for it."
            )
            % {"number": number, "alternate": check.alternate, "prize": check.prize},
        )
    if check.status is TicketStatus.not_won and check.alternate is not None:
        return CheckOutcome(
            "is-info",
            gettext("Alternate #%(alternate)s") % {"alternate": check.alternate},
            gettext(
                "Ticket %(number)s did not win yet: it is alternate #%(alternate)s. If a "
                "winner forfeits, the prize goes to the first alternate who has not won."
            )
            % {"number": number, "alternate": check.alternate},
        )
    if check.status is TicketStatus.forfeited:
        return CheckOutcome(
            "is-warning",
            gettext("Forfeited"),
            gettext("Ticket %(number)s won, but its prize was forfeited (see the results page).")
            % {"number": number},
        )
    if check.status is TicketStatus.won:
        return CheckOutcome(
            "is-success",
            gettext("Won: %(prize)s") % {"prize": check.prize},
            gettext(
                "Congratulations! Ticket %(number)s won %(prize)s. Keep your code: the "
                "organiser may ask for it when you collect the prize."
            )
            % {"number": number, "prize": check.prize},
        )
    if check.status is TicketStatus.not_won:
        return CheckOutcome(
            "",
            gettext("Not a winner"),
            gettext("Ticket %(number)s did not win a prize in “%(title)s”. Thanks for taking part!")
            % {"number": number, "title": draw.title},
        )
    if check.status is TicketStatus.cancelled:
        return CheckOutcome(
            "is-danger",
            gettext("This raffle was cancelled"),
            gettext("Ticket %(number)s is genuine, but no winners will be drawn.")
            % {"number": number},
        )
    return CheckOutcome(
        "is-info",
        gettext("Not drawn yet — your ticket is valid"),
        gettext(
            "Ticket %(number)s is in the raffle. Come back after the draw to see whether it won."
        )
        % {"number": number},
    )


def wait_text(seconds: int) -> str:
    """``1`` → ``"1 second"``, ``45`` → ``"45 seconds"``, ``600`` → ``"10 minutes"``."""
    seconds = max(1, seconds)
    if seconds < 120:
        return ngettext("%(num)s second", "%(num)s seconds", seconds) % {"num": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": minutes}


def check_refusal(error: TicketNotFound | InvalidCode | RateLimited) -> tuple[str, str]:
    """The form field a refused check concerns (``_check`` for the whole form) and the
    message shown next to it."""
    if isinstance(error, TicketNotFound):
        if error.detail == error.title:
            return "number", gettext("Ticket not found.")
        return "number", gettext("Ticket not found. %(detail)s.") % {
            "detail": gettext(error.detail)
        }
    if isinstance(error, InvalidCode):
        return "code", gettext(
            "Invalid code: it does not match this ticket. Check it against your ticket."
        )
    retry_after = int(error.extra.get("retry_after", 60))
    return "_check", gettext("Too many wrong codes for this ticket; try again in %(wait)s.") % {
        "wait": wait_text(retry_after)
    }


def sentence(message: str) -> str:
    """``message`` with a capital first letter (domain messages are written to follow a
    field name)."""
    return message[:1].upper() + message[1:]
