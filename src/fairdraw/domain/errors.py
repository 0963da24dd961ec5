"""The error tree of fairdraw.

Every error a user can cause is a :class:`FairdrawError` subclass that carries its HTTP
status and a stable machine-readable ``code``. The web layer renders them once, as RFC 9457
problem+json for the API and as a page for the browser; routes never build HTTP errors.

::

    FairdrawError (500, internal)
     ├── InvalidInput (422, invalid_input)         a field failed validation
 ├── IdempotencyKeyInvalid (400, idempotency_key_invalid)
 ├── IdempotencyKeyReused (422, idempotency_key_reused)
     ├── GitHubSignInFailed (400, github_sign_in_failed)
     ├── NotAuthenticated (401, not_authenticated)
     │    ├── InvalidCredentials (401, invalid_credentials)
     │    │    └── AccountDisabled (403, account_disabled)
     │    └── InvalidToken (401, invalid_token)
     ├── Forbidden (403, forbidden)
     │    ├── RegistrationClosed (403, registration_closed)
     │    ├── NetworkNotAllowed (403, network_not_allowed)
     │    ├── CsrfFailed (403, csrf_failed)
     │    ├── CrossOriginRefused (403, cross_origin_refused)
     │    ├── InvalidCode (403, invalid_code)
     │    └── GitHubSignInRequired (403, github_sign_in_required)
     ├── NotFound (404, not_found)
     │    ├── DrawNotFound (404, draw_not_found)
     │    ├── GitHubUserNotFound (404, github_user_not_found)
     │    ├── TicketNotFound (404, ticket_not_found)
     │    └── LotteryNotFound (404, lottery_not_found)
     ├── Conflict (409, conflict)
     │    ├── InvalidTransition (409, invalid_transition)
     │    ├── DrawNotOpen (409, draw_not_open)
     │    ├── DeadlinePassed (409, deadline_passed)
     │    ├── AlreadyEntered (409, already_entered)
     │    ├── UserExists (409, user_exists)
     │    ├── WrongDrawKind (409, wrong_draw_kind)
     │    ├── ListAlreadyImported (409, list_already_imported)
     │    ├── SoldOut (409, sold_out)
     │    ├── TicketLimitReached (409, ticket_limit_reached)
     │    ├── LotteryNotRunning (409, lottery_not_running)
     │    ├── RoundNotOver (409, round_not_over)
     │    └── IdempotencyKeyInFlight (409, idempotency_key_in_flight)
     ├── RateLimited (429, rate_limited)
     │    └── TooManyConnections (429, too_many_connections)
     └── Unavailable (503, unavailable)
          ├── GitHubUnavailable (503, github_unavailable)
          ├── BeaconPending (503, beacon_pending)
          └── NotReady (503, not_ready)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fairdraw.i18n import N_, Message


class FairdrawError(Exception):
    """Base of every error fairdraw reports to a user."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = N_("Something went wrong")

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra: dict[str, Any] = extra
        super().__init__(self.detail)


class InvalidInput(FairdrawError):
    """One or more fields are invalid; ``errors`` maps a field path to its message."""

    status = 422
    code = "invalid_input"
    title = N_("Some fields are invalid")

    def __init__(self, errors: Mapping[str, str], detail: str | None = None) -> None:
        self.errors = dict(errors)
        super().__init__(detail or _field_list(self.errors))


def _field_list(errors: Mapping[str, str]) -> Message:
    """``field: message; …``, each message in the reader's language when shown."""
    parts = [f"{field.replace('%', '%%')}: %(m{i})s" for i, field in enumerate(errors)]
    values = {
        f"m{i}": m if isinstance(m, Message) else Message(m) for i, m in enumerate(errors.values())
    }
    return Message("; ".join(parts), **values)


class NotAuthenticated(FairdrawError):
    status = 401
    code = "not_authenticated"
    title = N_("Please log in")


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    title = N_("Wrong username or password")


class AccountDisabled(InvalidCredentials):
    """The password was right but an administrator has disabled the account. Said only
    to someone who gave the right password, so it reveals nothing to anyone else."""

    status = 403
    code = "account_disabled"
    title = N_("This account is disabled; ask an administrator to enable it again")


class InvalidToken(NotAuthenticated):
    code = "invalid_token"
    title = N_("The token is invalid or expired")


class Forbidden(FairdrawError):
    status = 403
    code = "forbidden"
    title = N_("You are not allowed to do that")


class RegistrationClosed(Forbidden):
    code = "registration_closed"
    title = N_("Registration is closed; ask an administrator for an account")


class NetworkNotAllowed(Forbidden):
    code = "network_not_allowed"
    title = N_("Managing draws is not allowed from this network")


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = N_("The form expired or came from another site; reload the page and try again")


class InvalidCode(Forbidden):
    code = "invalid_code"
    title = N_("That verification code does not match this ticket")


class GitHubSignInRequired(Forbidden):
    """A typed username for a draw whose entrants prove their GitHub account; the
    problem's ``sign_in`` names the page where they do."""

    code = "github_sign_in_required"
    title = N_("Entrants of this draw sign in with GitHub on its page")


class GitHubSignInFailed(FairdrawError):
    """A GitHub sign-in that cannot complete: refused on GitHub, expired, begun in
    another browser, or answered with a code GitHub does not accept."""

    status = 400
    code = "github_sign_in_failed"
    title = N_("GitHub sign-in did not complete; start again from the draw page")


class NotFound(FairdrawError):
    status = 404
    code = "not_found"
    title = N_("Not found")


class DrawNotFound(NotFound):
    code = "draw_not_found"
    title = N_("No such draw")


class GitHubUserNotFound(NotFound):
    code = "github_user_not_found"
    title = N_("No such GitHub user")


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    title = N_("Ticket not found")


class LotteryNotFound(NotFound):
    code = "lottery_not_found"
    title = N_("No such lottery")


class Conflict(FairdrawError):
    status = 409
    code = "conflict"
    title = N_("Conflict")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = N_("The draw is not in a state that allows this")


class DrawNotOpen(Conflict):
    code = "draw_not_open"
    title = N_("This draw is not open for entries")


class DeadlinePassed(DrawNotOpen):
    code = "deadline_passed"
    title = N_("The entry deadline has passed")


class AlreadyEntered(Conflict):
    code = "already_entered"
    title = N_("Already entered")


class UserExists(Conflict):
    code = "user_exists"
    title = N_("That username is taken")


class WrongDrawKind(Conflict):
    code = "wrong_draw_kind"
    title = N_("This draw is of another kind")


class ListAlreadyImported(Conflict):
    code = "list_already_imported"
    title = N_("This giveaway's entrants were imported from another file")


class SoldOut(Conflict):
    code = "sold_out"
    title = N_("No tickets remaining")


class TicketLimitReached(Conflict):
    code = "ticket_limit_reached"
    title = N_("You already hold as many tickets of this raffle as one person may")


class LotteryNotRunning(Conflict):
    code = "lottery_not_running"
    title = N_("This lottery is not running today")


class RoundNotOver(Conflict):
    code = "round_not_over"
    title = N_("That day's round has not ended yet")


class RateLimited(FairdrawError):
    status = 429
    code = "rate_limited"
    title = N_("Too many requests; try again shortly")


class TooManyConnections(RateLimited):
    code = "too_many_connections"
    title = N_("Too many live connections from this address; close some pages and retry")


class CrossOriginRefused(Forbidden):
    code = "cross_origin_refused"
    title = N_("This feed is only served to pages of this site")


class Unavailable(FairdrawError):
    status = 503
    code = "unavailable"
    title = N_("Temporarily unavailable; try again")


class GitHubUnavailable(Unavailable):
    code = "github_unavailable"
    title = N_("Could not check GitHub, try again")


class BeaconPending(Unavailable):
    """The draw waits for its bound beacon round (``round``, due ``due_at``); it is drawn
    when a relay serves it. Asking again is harmless."""

    code = "beacon_pending"
    title = N_("The draw is waiting for its beacon round")


# What a client told "store unavailable" waits before it tries again.
STORE_RETRY_AFTER_SECONDS = 5


class StoreError(Unavailable):
    """The store did not answer. Answered with ``Retry-After``: a store restarting, or a
    cluster whose replica is taking over from a failed master, is usually back within
    seconds."""

    code = "store_unavailable"
    title = N_("The store is unavailable; try again")

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        extra.setdefault("retry_after", STORE_RETRY_AFTER_SECONDS)
        super().__init__(detail, **extra)


class NotReady(Unavailable):
    """This server process cannot serve now; ``checks`` says which check failed."""

    code = "not_ready"
    title = N_("This server is not ready to serve")


class IdempotencyKeyInvalid(FairdrawError):
    """An ``Idempotency-Key`` that breaks the key syntax (length or characters)."""

    status = 400
    code = "idempotency_key_invalid"
    title = N_("The Idempotency-Key header is not a valid key")


class IdempotencyKeyReused(FairdrawError):
    """The key already names another request (another body, path or method)."""

    status = 422
    code = "idempotency_key_reused"
    title = N_("This Idempotency-Key was already used for a different request")


class IdempotencyKeyInFlight(Conflict):
    """The first request with this key has not finished yet; retry shortly."""

    code = "idempotency_key_in_flight"
    title = N_("A request with this Idempotency-Key is still being processed; retry shortly")
