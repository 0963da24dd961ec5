"""Post/Redirect/Get for the pages: a form that changes something answers 303 to a page
that shows what it did, and that page can be reloaded without doing it again.

- Every such form carries a hidden ``idempotency_key``, new each time the form is drawn
  (``forms.idempotency()`` in ``macros.html``). Entries, claims and ballots pass it to
  their service, whose script keeps the result with the action; other forms keep their
  redirect under it (:func:`once`). A double click or a resubmitted POST therefore gets
  the first result, never a second action.
- Results are shown at addresses that only the person who acted is given: a receipt link
  signed with the server secret (an entry, a ballot), or a ticket page that opens the
  code kept for the claim with what only the claimant's browser holds (the
  ``fairdraw_tickets`` cookie: the claim's record name and the form's key, for as long
  as records are kept). The store never holds a code that could be read without it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain import idempotency
from fairdraw.domain.idempotency import RetryKey
from fairdraw.services.idempotency import KeptResponse
from fairdraw.web import security
from fairdraw.web.deps import Services, Visitor

TICKETS_COOKIE = "fairdraw_tickets"
# Tickets a browser remembers at once (each about 85 bytes of cookie), newest kept.
TICKETS_HELD = 20
# Keys of page forms: what idempotency.new_key makes (base64url), nothing that a cookie
# would have to quote. A form without one (or with another) acts under a fresh key.
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SIGNATURE_HEX = 32
_HELD = re.compile(
    r"(?P<draw>[a-z2-7]{12,16})\.(?P<number>[0-9]{1,10})\.(?P<name>[0-9a-f]{32})\."
    r"(?P<key>[A-Za-z0-9_-]{16,64})"
)
# Headers of a form's answer worth giving a repeated submit: where to go, and the session.
_KEPT_HEADERS = ("location", "set-cookie")


def form_retry(
    request: Request, services: Services, visitor: Visitor, form: FormData
) -> tuple[str, RetryKey]:
    """The form's key (a fresh one if it brought none) and the RetryKey of this submit:
    the key scoped to the visitor, and a fingerprint of the form's path and fields."""
    raw = form.get(idempotency.FORM_FIELD)
    key = raw if isinstance(raw, str) and _FORM_KEY.fullmatch(raw) else idempotency.new_key()
    fields = sorted(
        (name, value)
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in (security.CSRF_FIELD, idempotency.FORM_FIELD)
    )
    body = urlencode(fields).encode()
    retry = services.idempotency.retry_key(visitor.caller, key, "POST", request.url.path, body)
    return key, retry


async def once(
    request: Request,
    services: Services,
    visitor: Visitor,
    form: FormData,
    act: Callable[[], Awaitable[Response]],
) -> Response:
    """Run ``act`` once per form key: its redirect (with any cookie it sets) is kept, and a
    second submit of the same form waits for the first and gets that redirect. Answers
    that are no redirect (the form again, with errors) are not kept."""
    if not isinstance(form.get(idempotency.FORM_FIELD), str):
        return await act()
    _, retry = form_retry(request, services, visitor, form)
    started = await services.idempotency.begin_or_wait(retry)
    if isinstance(started, KeptResponse):
        return _replayed(started)
    try:
        response = await act()
    except BaseException:
        await services.idempotency.finish(retry, started, None)
        raise
    kept = None
    if response.status_code == 303:
        headers = tuple(
            (name, value) for name, value in response.headers.items() if name in _KEPT_HEADERS
        )
        kept = KeptResponse(303, headers, b"")
    await services.idempotency.finish(retry, started, kept)
    return response


def _replayed(kept: KeptResponse) -> Response:
    response = Response(status_code=kept.status)
    for name, value in kept.headers:
        response.headers.append(name, value)
    return response


def kept_for(services: Services) -> str:
    """How long results (a ticket's code in its browser) are kept, in words: whole days
    from two days up, else hours, minutes or seconds (``86400`` → ``"24 hours"``)."""
    seconds = services.settings.idempotency_seconds
    count, unit = seconds, "second"
    if seconds >= 2 * 86_400:
        count, unit = seconds // 86_400, "day"
    elif seconds >= 3600:
        count, unit = seconds // 3600, "hour"
    elif seconds >= 60:
        count, unit = seconds // 60, "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"


# -- signed receipt links ---------------------------------------------------------------
def _signature(secret: bytes, *parts: str) -> str:
    message = b"\x00".join([b"fairdraw/receipt", *(p.encode() for p in parts)])
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def _signed(secret: bytes, signature: str, *parts: str) -> bool:
    return hmac.compare_digest(_signature(secret, *parts), signature)


def receipt_url(secret: bytes, draw_id: str, index: int, *, already: bool = False) -> str:
    """The receipt page of entry ``index``, for whoever made it."""
    query = {"i": str(index), "s": _signature(secret, "entry", draw_id, str(index))}
    if already:
        query["already"] = "1"
    return f"/draws/{draw_id}/receipt?{urlencode(query)}"


def receipt_signed(secret: bytes, draw_id: str, index: str, signature: str) -> bool:
    return _signed(secret, signature, "entry", draw_id, index)


def ballot_url(secret: bytes, lottery_id: str, day: date, number: int, mine: int) -> str:
    """The receipt page of ballot ``number`` of ``day``'s round, ``mine`` being the
    caster's ballots in that round then."""
    parts = ("ballot", lottery_id, day.isoformat(), str(number), str(mine))
    query = {"n": str(number), "mine": str(mine), "s": _signature(secret, *parts)}
    return f"/lotteries/{lottery_id}/ballots/{day.isoformat()}?{urlencode(query)}"


def ballot_signed(
    secret: bytes, lottery_id: str, day: str, number: str, mine: str, signature: str
) -> bool:
    return _signed(secret, signature, "ballot", lottery_id, day, number, mine)


# -- tickets a browser can show again ---------------------------------------------------
@dataclass(frozen=True)
class HeldTicket:
    """What a browser keeps of a ticket it claimed: where the claim's record is and the
    key that opens it."""

    draw_id: str
    number: int
    name: str
    key: str

    def text(self) -> str:
        return f"{self.draw_id}.{self.number}.{self.name}.{self.key}"


def held_tickets(request: Request) -> list[HeldTicket]:
    """The tickets this browser holds, newest first."""
    held = []
    for item in request.cookies.get(TICKETS_COOKIE, "").split("|"):
        match = _HELD.fullmatch(item)
        if match:
            held.append(
                HeldTicket(match["draw"], int(match["number"]), match["name"], match["key"])
            )
    return held


def held_by_ticket(request: Request) -> Mapping[tuple[str, int], HeldTicket]:
    """The held tickets by (draw id, number)."""
    return {(h.draw_id, h.number): h for h in reversed(held_tickets(request))}


def hold_ticket(
    response: Response, request: Request, services: Services, ticket: HeldTicket
) -> None:
    """Let this browser show ``ticket``'s code again for as long as its record lasts."""
    others = [
        h for h in held_tickets(request) if (h.draw_id, h.number) != (ticket.draw_id, ticket.number)
    ]
    value = "|".join(h.text() for h in [ticket, *others][:TICKETS_HELD])
    response.set_cookie(
        TICKETS_COOKIE,
        value,
        max_age=services.settings.idempotency_seconds,
        httponly=True,
        samesite="lax",
        secure=security.cookie_secure(request, services.settings.cookie_secure),
        path="/",
    )
