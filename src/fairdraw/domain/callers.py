"""Who is asking: the service layer's view of a request."""

from __future__ import annotations

from dataclasses import dataclass

from fairdraw.domain.accounts import User
from fairdraw.domain.networks import IPAddress


@dataclass(frozen=True)
class Caller:
    """The logged-in user, if any, and the client address the request came from (after
    the trusted-proxy rules; None when unknown)."""

    user: User | None
    address: IPAddress | None = None


ANONYMOUS = Caller(user=None)
