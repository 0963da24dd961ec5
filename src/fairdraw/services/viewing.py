"""Who may watch a draw from the organiser's side (dashboard, private feed, presenter)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.errors import Forbidden, NotAuthenticated
from fairdraw.domain.networks import IPNetwork, check_manager_network


class Owned(Protocol):
    """Anything a manager created: a draw, a lottery round or a lottery."""

    @property
    def created_by(self) -> str: ...


def require_draw_viewer(caller: Caller, draw: Owned, networks: Sequence[IPNetwork] = ()) -> User:
    """The caller's user if it may see who entered ``draw`` (its dashboard, its private
    feed, its presenter controls): an admin, or the manager who created it (for a lottery
    and its rounds, the lottery's creator), from a manager network when those are
    configured. Raises NotAuthenticated or Forbidden otherwise."""
    user = caller.user
    if user is None:
        raise NotAuthenticated()
    if user.role is not Role.admin and not (
        user.role.can_manage_draws and draw.created_by == user.username
    ):
        raise Forbidden("Only this draw's managers and administrators can see this")
    check_manager_network(caller.address, networks)
    return user
