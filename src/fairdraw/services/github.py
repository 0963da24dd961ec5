"""Looking up GitHub users with GitHub's REST users API, behind the profile cache.

Every failure to get an answer from GitHub — rate limits, server errors, timeouts,
unreachable host, nonsense in the body — is one error for the entrant,
:class:`~fairdraw.domain.errors.GitHubUnavailable`, and a warning in the log for the
operator. Failures are never cached, so the next attempt asks GitHub again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

from fairdraw import __version__
from fairdraw.config import Settings
from fairdraw.domain.errors import GitHubUnavailable, GitHubUserNotFound, InvalidInput
from fairdraw.domain.identity import GitHubProfile, normalize_github_login
from fairdraw.i18n import N_, Message
from fairdraw.services.outbound import AnswerTooLarge, request_bounded
from fairdraw.store.profiles import ProfileCache

logger = logging.getLogger(__name__)

GITHUB_API_VERSION = "2022-11-28"
UNAVAILABLE_MESSAGE = "Could not check GitHub, try again"
# A user's JSON is about 1.5 KB; an answer past this is not GitHub's, and is not read.
MAX_ANSWER_BYTES = 64 * 1024

# Lookups happen while entrants wait; a few warm connections serve a busy draw, and the
# cap keeps a GitHub outage from piling up sockets.
_POOL_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30)


class GitHubClient:
    """GitHub users by login or id, cached; one pooled HTTP client per instance.

    ``transport`` replaces the network (an ``httpx.AsyncBaseTransport``); production code
    leaves it unset. Close the client with :meth:`aclose` or ``async with``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float,
        cache: ProfileCache,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "User-Agent": f"fairdraw/{__version__}",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._cache = cache
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=_POOL_LIMITS,
            transport=transport,
            # A redirect from the users API is not an answer we expect; never follow one
            # with the token attached.
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings, cache: ProfileCache) -> GitHubClient:
        """A client for the API URL, token and timeout in ``settings``."""
        token = settings.github_token.get_secret_value() if settings.github_token else None
        return cls(settings.github_api_url, token, settings.github_timeout, cache)

    async def lookup(
        self, raw_login: str, before_asking: Callable[[], Awaitable[None]] | None = None
    ) -> GitHubProfile:
        """The GitHub user with the handle ``raw_login`` (as an entrant typed it).

        Raises InvalidInput for a malformed handle (without asking GitHub) or an
        organisation, GitHubUserNotFound for an unknown login, and GitHubUnavailable when
        GitHub cannot be asked or gives no usable answer. ``before_asking`` runs when the
        profile is not cached, before GitHub is asked (a rate limit, which may raise).
        """
        login = normalize_github_login(raw_login)
        cached = await self._cache.get(login)
        if cached is not None:
            return cached
        if before_asking is not None:
            await before_asking()
        profile = await self._fetch(f"/users/{login}", subject=login)
        await self._cache.put(profile, login)
        return profile

    async def lookup_by_id(self, user_id: int) -> GitHubProfile:
        """The GitHub user with the numeric id ``user_id``, fresh from GitHub.

        Used to refresh a profile (the login may have changed); the answer replaces the
        cached profile of its current login. Errors as for :meth:`lookup`.
        """
        if isinstance(user_id, bool) or user_id <= 0:
            raise InvalidInput({"github": f"Not a GitHub user id: {user_id!r}"})
        profile = await self._fetch(f"/user/{user_id}", subject=f"id {user_id}")
        if profile.id != user_id:
            logger.warning("GitHub answered user id %s for id %s", profile.id, user_id)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE)
        await self._cache.put(profile)
        return profile

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _fetch(self, path: str, subject: str) -> GitHubProfile:
        """GET one user resource and read it, mapping every failure to a domain error."""
        try:
            response = await request_bounded(self._http, "GET", path, MAX_ANSWER_BYTES)
        except AnswerTooLarge as exc:
            logger.warning("GitHub lookup of %s: %s", subject, exc)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc
        except httpx.TimeoutException as exc:
            logger.warning("GitHub lookup of %s timed out after %ss", subject, self._timeout)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc
        except httpx.RequestError as exc:
            logger.warning("GitHub lookup of %s failed: %s: %s", subject, type(exc).__name__, exc)
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc

        if response.status_code == httpx.codes.NOT_FOUND:
            raise GitHubUserNotFound(f"No such GitHub user: {subject}")
        if response.status_code != httpx.codes.OK:
            _log_refusal(response, subject)
            cause = httpx.HTTPStatusError(
                f"HTTP {response.status_code}", request=response.request, response=response
            )
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from cause

        try:
            payload: Any = response.json()
            if not isinstance(payload, dict):
                raise ValueError("the answer is not a JSON object")
            profile = GitHubProfile.from_json(payload)
        except ValueError as exc:
            logger.warning(
                "GitHub lookup of %s: unusable answer (HTTP %s): %s",
                subject,
                response.status_code,
                exc,
            )
            raise GitHubUnavailable(UNAVAILABLE_MESSAGE) from exc

        if payload.get("type") == "Organization":
            raise InvalidInput(
                {
                    "github": Message(
                        N_("%(login)s is an organisation, not a user"), login=profile.login
                    )
                }
            )
        return profile


def _log_refusal(response: httpx.Response, subject: str) -> None:
    """Tell the operator why GitHub refused, without the request's headers."""
    status = response.status_code
    headers = response.headers
    rate_limited = status in (httpx.codes.FORBIDDEN, httpx.codes.TOO_MANY_REQUESTS) and (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    )
    if rate_limited:
        logger.warning(
            "GitHub rate limit reached looking up %s (HTTP %s, limit %s, resets at %s, "
            "retry after %s); setting FAIRDRAW_GITHUB_TOKEN raises the limit",
            subject,
            status,
            headers.get("x-ratelimit-limit", "?"),
            headers.get("x-ratelimit-reset", "?"),
            headers.get("retry-after", "-"),
        )
    elif status == httpx.codes.UNAUTHORIZED:
        logger.warning(
            "GitHub refused the lookup of %s (HTTP 401); check FAIRDRAW_GITHUB_TOKEN", subject
        )
    else:
        logger.warning("GitHub lookup of %s failed with HTTP %s", subject, status)
