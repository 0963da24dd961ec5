"""``/api/v1/auth``: OAuth2 tokens for API clients (RFC 6749 password and refresh-token
grants, RFC 7009 revocation). Send the access token as ``Authorization: Bearer …``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Response
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.services.tokens import Grant
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

PASSWORD_GRANT = "password"  # noqa: S105 (an OAuth2 grant type, not a password)


class TokenOut(BaseModel):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Works once: trade it for new tokens with grant_type=refresh_token. "
        "Presenting a used refresh token again revokes every token of its family."
    )


def _required(field: str, value: str | None) -> str:
    if not value:
        raise errors.InvalidInput({field: "Field required"})
    return value


@router.post(
    "/token",
    response_model=TokenOut,
    responses=problem_responses(
        errors.InvalidCredentials, errors.AccountDisabled, errors.InvalidToken, errors.RateLimited
    ),
)
async def issue_token(
    response: Response,
    services: ServicesDep,
    visitor: VisitorDep,
    grant_type: Annotated[
        Literal["password", "refresh_token"], Form(description="`password` or `refresh_token`.")
    ],
    username: Annotated[
        str | None, Form(min_length=1, description="With grant_type=password.")
    ] = None,
    password: Annotated[
        str | None, Form(min_length=1, description="With grant_type=password.")
    ] = None,
    refresh_token: Annotated[
        str | None, Form(min_length=1, description="With grant_type=refresh_token.")
    ] = None,
) -> TokenOut:
    """Log in with a password, or refresh, and get an access and a refresh token.

    ``scope`` and client credentials are ignored: a token carries its user's rights."""
    grant: Grant
    if grant_type == PASSWORD_GRANT:
        grant = await services.tokens.password_grant(
            _required("username", username), _required("password", password), visitor.address
        )
    else:  # the form's validation refuses every other grant type
        grant = await services.tokens.refresh_grant(_required("refresh_token", refresh_token))
    # Token responses must not be kept by caches (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenOut(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        refresh_token=grant.refresh_token,
    )


@router.post("/revoke", status_code=204, responses=problem_responses())
async def revoke_token(
    services: ServicesDep,
    token: Annotated[str, Form(min_length=1, description="An access token or a refresh token.")],
) -> Response:
    """Revoke every token of the token's family. Unknown tokens are accepted too
    (RFC 7009 §2.2), so the answer is always 204; ``token_type_hint`` is ignored, since
    either kind of token revokes the whole family."""
    await services.tokens.revoke(token)
    return Response(status_code=204)
