"""Entrants proving their GitHub account: GitHub's OAuth web flow, and the sign-in that
enters a draw with the numeric id GitHub answers.

The flow: :meth:`GitHubSignIn.begin` records a state (32 random bytes) bound to the draw
and to the browser, and names GitHub's authorize page; GitHub sends the browser back to
the callback with a code and the state; :meth:`GitHubSignIn.complete` takes the state
once, trades the code for a token, reads who the token belongs to and enters that id.
The token lives only in :meth:`GitHubOAuth.identify`: it is never stored or logged, and
neither is the code.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from fairdraw import __version__
from fairdraw.config import Settings
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import DrawKind
from fairdraw.domain.errors import (
    AlreadyEntered,
    DrawNotOpen,
    FairdrawError,
    GitHubSignInFailed,
    GitHubUnavailable,
)
from fairdraw.domain.identity import GitHubProfile
from fairdraw.domain.moments import now_ms
from fairdraw.services.entering import EnteringService, Receipt
from fairdraw.services.github import GITHUB_API_VERSION, MAX_ANSWER_BYTES, UNAVAILABLE_MESSAGE
from fairdraw.services.outbound import AnswerTooLarge, request_bounded
from fairdraw.store.draws import DrawStore
from fairdraw.store.github_sign_in import Claim, SignInStore

logger = logging.getLogger(__name__)

# How long a sign-in may take between leaving for GitHub and coming back.
SIGN_IN_SECONDS = 600
# The browser's sign-in cookie: random, HttpOnly, sent only to SIGN_IN_PATHS (where
# sign-ins begin and end); a state works only with it.
BROWSER_COOKIE = "fairdraw_github"
SIGN_IN_PATHS = "/auth/github"
CALLBACK_PATH = f"{SIGN_IN_PATHS}/callback"
_STATE_BYTES = 32
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

EXPIRED = "This sign-in expired or is unknown; start again from the draw page"
OTHER_BROWSER = "This sign-in was begun in another browser; start again from the draw page"
IN_PROGRESS = "This sign-in is being completed; reload the page in a moment"
DENIED = "GitHub sign-in was cancelled, so you have not entered; try again to enter"
BAD_CODE = "GitHub did not accept this sign-in; start again from the draw page"
NOT_SIGN_IN = "This draw's entrants type their GitHub username; nothing to sign in to"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _well_formed(value: str) -> bool:
    """A value this server could have made (base64url, as ``secrets.token_urlsafe``)."""
    return 16 <= len(value) <= 128 and set(value) <= _TOKEN_CHARS


class GitHubOAuth:
    """The two requests of GitHub's OAuth web flow that the server makes: the code for a
    token (``POST /login/oauth/access_token`` on ``oauth_url``), then the token's user
    (``GET /user`` on ``api_url``). ``transport`` replaces the network; production code
    leaves it unset."""

    def __init__(
        self,
        *,
        oauth_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._oauth_url = oauth_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.AsyncClient(
            headers={"User-Agent": f"fairdraw/{__version__}"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            # Never follow a redirect with a code, a secret or a token in the request.
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHubOAuth | None:
        """The flow for the OAuth app in ``settings``; None without its credentials."""
        if not settings.github_client_id or settings.github_client_secret is None:
            return None
        return cls(
            oauth_url=settings.github_oauth_url,
            api_url=settings.github_api_url,
            client_id=settings.github_client_id,
            client_secret=settings.github_client_secret.get_secret_value(),
            timeout=settings.github_timeout,
        )

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """GitHub's page asking the entrant to let fairdraw see who they are (no
        scope: the public profile is all it needs)."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "allow_signup": "true",
            }
        )
        return f"{self._oauth_url}/login/oauth/authorize?{query}"

    async def identify(self, code: str, redirect_uri: str) -> GitHubProfile:
        """The GitHub user who approved the sign-in that GitHub answered with ``code``.

        GitHubSignInFailed when GitHub refuses the code (unknown, used, expired) or the
        token; GitHubUnavailable when GitHub cannot be asked or answers nonsense.
        """
        return await self._user(await self._exchange(code, redirect_uri))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GitHubOAuth:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _exchange(self, code: str, redirect_uri: str) -> str:
        """The access token for ``code``."""
        form = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        url = f"{self._oauth_url}/login/oauth/access_token"
        payload = await self._json("POST", url, "token exchange", data=form)
        token = payload.get("access_token")
        if isinstance(token, str) and token:
            return token
        error = payload.get("error")
        if error in ("bad_verification_code", "redirect_uri_mismatch"):
            raise GitHubSignInFailed(BAD_CODE)
        # incorrect_client_credentials and anything else: the operator must look.
        logger.warning("GitHub refused the OAuth token exchange: %s", str(error)[:100])
        raise GitHubUnavailable(UNAVAILABLE_MESSAGE)

    async def _user(self, token: str) -> GitHubProfile:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
        }
        payload = await self._json("GET", f"{self._api_url}/user", "user", headers=headers)
        try:
            return GitHubProfile.from_json(payload)
        except ValueError as exc:
            logger.warning("GitHub's signed-in user is unusable: %s", exc)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc

    async def _json(self, method: str, url: str, step: str, **kwargs: Any) -> dict[str, Any]:
        """One request's JSON object answer; failures become domain errors, logged
        without the request (it carries the secret, the code or the token)."""
        try:
            response = await request_bounded(
                self._http,
                method,
                url,
                MAX_ANSWER_BYTES,
                headers={"Accept": "application/json", **kwargs.pop("headers", {})},
                **kwargs,
            )
        except AnswerTooLarge as exc:
            logger.warning("GitHub OAuth %s answered too much: %s", step, type(exc).__name__)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc
        except httpx.RequestError as exc:
            logger.warning("GitHub OAuth %s failed: %s", step, type(exc).__name__)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise GitHubSignInFailed(BAD_CODE)
        if response.status_code != httpx.codes.OK:
            logger.warning("GitHub OAuth %s answered HTTP %s", step, response.status_code)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE)
        try:
            payload: Any = response.json()
        except ValueError as exc:
            logger.warning("GitHub OAuth %s answered no JSON", step)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc
        if not isinstance(payload, dict):
            logger.warning("GitHub OAuth %s answered no JSON object", step)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE)
        return payload


@dataclass(frozen=True)
class SignInStart:
    """Where to send the browser, and the sign-in cookie it must hold (new or kept)."""

    authorize_url: str
    browser_token: str


@dataclass(frozen=True)
class SignInOutcome:
    """What a callback came to: the entry's receipt (``already`` when it existed
    before), or the ``error`` to show; ``draw_id`` when the sign-in named a draw."""

    draw_id: str | None
    receipt: Receipt | None = None
    already: bool = False
    error: FairdrawError | None = None


class GitHubSignIn:
    """Entering a draw by signing in with GitHub."""

    def __init__(
        self,
        oauth: GitHubOAuth | None,
        sign_ins: SignInStore,
        draws: DrawStore,
        entering: EnteringService,
    ) -> None:
        self._oauth = oauth
        self._sign_ins = sign_ins
        self._draws = draws
        self._entering = entering

    @property
    def available(self) -> bool:
        """Whether the instance has a GitHub OAuth app to sign in with."""
        return self._oauth is not None

    async def begin(
        self, draw_id: str, redirect_uri: str, browser_token: str | None
    ) -> SignInStart:
        """Start a sign-in into ``draw_id`` from the browser holding ``browser_token``
        (its sign-in cookie; None or malformed: a new one). DrawNotOpen when the draw
        takes no entries now, GitHubSignInFailed when it takes typed usernames."""
        draw = await self._draws.get(draw_id)
        if draw.kind is not DrawKind.giveaway or not draw.github_sign_in:
            raise GitHubSignInFailed(NOT_SIGN_IN)
        if not draw.accepting_entries(now_ms()):
            raise DrawNotOpen("This draw is not taking entries")
        if self._oauth is None:
            raise GitHubUnavailable("GitHub sign-in is not set up on this server")
        if browser_token is None or not _well_formed(browser_token):
            browser_token = secrets.token_urlsafe(_STATE_BYTES)
        state = secrets.token_urlsafe(_STATE_BYTES)
        await self._sign_ins.begin(_digest(state), draw_id, _digest(browser_token))
        return SignInStart(self._oauth.authorize_url(state, redirect_uri), browser_token)

    async def complete(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_token: str | None,
        redirect_uri: str,
        caller: Caller,
    ) -> SignInOutcome:
        """Finish the sign-in GitHub sent the browser back from. Its state is taken once
        and only by the browser that began it; a callback again (a reload) gets the
        receipt of the entry the first one made. A sign-in that fails leaves nothing."""
        if state is None or browser_token is None:
            return SignInOutcome(None, error=GitHubSignInFailed(EXPIRED))
        if not _well_formed(state) or not _well_formed(browser_token):
            return SignInOutcome(None, error=GitHubSignInFailed(EXPIRED))
        state_hash = _digest(state)
        taken = await self._sign_ins.claim(state_hash, _digest(browser_token))
        if taken.claim is Claim.missing:
            return SignInOutcome(None, error=GitHubSignInFailed(EXPIRED))
        if taken.claim is Claim.other_browser:
            return SignInOutcome(None, error=GitHubSignInFailed(OTHER_BROWSER))
        draw_id = taken.draw_id
        assert draw_id is not None
        if taken.claim is Claim.used:
            if taken.index is None:
                return SignInOutcome(draw_id, error=GitHubSignInFailed(IN_PROGRESS))
            receipt = await self._entering.receipt(draw_id, taken.index)
            if receipt is None:  # the ledger never loses an entry
                return SignInOutcome(draw_id, error=GitHubSignInFailed(EXPIRED))
            return SignInOutcome(draw_id, receipt=receipt, already=True)
        try:
            receipt, already = await self._enter(draw_id, code, error, redirect_uri, caller)
        except FairdrawError as failure:
            await self._sign_ins.forget(state_hash)
            return SignInOutcome(draw_id, error=failure)
        await self._sign_ins.finish(state_hash, receipt.index)
        return SignInOutcome(draw_id, receipt=receipt, already=already)

    async def _enter(
        self,
        draw_id: str,
        code: str | None,
        error: str | None,
        redirect_uri: str,
        caller: Caller,
    ) -> tuple[Receipt, bool]:
        """Enter as whoever GitHub says approved the sign-in: the receipt, and whether
        the entry existed before."""
        if error is not None or not code:
            raise GitHubSignInFailed(DENIED)
        if self._oauth is None:
            raise GitHubUnavailable("GitHub sign-in is not set up on this server")
        profile = await self._oauth.identify(code, redirect_uri)
        try:
            return await self._entering.enter_signed_in(draw_id, profile, caller), False
        except AlreadyEntered as entered:
            index = int(entered.extra["receipt"]["index"])
            receipt = await self._entering.receipt(draw_id, index)
            if receipt is None:  # the ledger never loses an entry
                raise
            return receipt, True
