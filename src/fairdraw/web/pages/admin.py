"""``/admin/users``: the administrators' list of users, with forms that set a user's role
and disable or enable them. Who may do that is the account service's decision."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fairdraw.domain.accounts import DEFAULT_PAGE_SIZE, Role, User
from fairdraw.domain.errors import Conflict, InvalidInput, NotFound
from fairdraw.i18n import gettext
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.rendering import checked_form, render, see_other, text
from fairdraw.web.pages.views import moment

router = APIRouter()

ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in Role]


async def _users_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    *,
    q: str,
    offset: int,
    updated: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    page = await services.accounts.list_users(visitor.user, q, offset, DEFAULT_PAGE_SIZE)
    notice = None
    for user in page.users:
        if user.username == updated:
            notice = f"Saved: {user.username} is {_state(user)}."
    previous = max(offset - page.limit, 0) if offset > 0 else None
    context = {
        "page": page,
        "q": q,
        # An account belongs to no zone: UTC, and the reader's own zone with JavaScript.
        "rows": [{"user": user, "created": moment(user.created_ms)} for user in page.users],
        "roles": ROLE_CHOICES,
        "previous_url": _list_url(q, previous) if previous is not None else None,
        "next_url": _list_url(q, page.next_offset) if page.next_offset is not None else None,
        "notice": notice,
        "error": error,
    }
    return render(request, services, visitor, "admin_users.html", context, status_code=status_code)


def _state(user: User) -> str:
    return f"{'an' if user.role is Role.admin else 'a'} {user.role.value}, " + (
        "disabled" if user.disabled else "enabled"
    )


def _list_url(q: str, offset: int | None = None, updated: str = "") -> str:
    query = {"q": q, "offset": str(offset or ""), "updated": updated}
    encoded = urlencode({name: value for name, value in query.items() if value})
    return "/admin/users" + (f"?{encoded}" if encoded else "")


def _offset(raw: str) -> int:
    return int(raw) if raw.isdigit() else 0


@router.get("/admin/users")
async def users_page(
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    q: str = "",
    offset: str = "",
    updated: str = "",
) -> Response:
    """Users in the order they were created, those whose name starts with ``q`` if given."""
    return await _users_page(
        request, services, visitor, q=q, offset=_offset(offset), updated=updated
    )


async def _update(
    request: Request,
    services: Services,
    visitor: Visitor,
    username: str,
    form: FormData,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
) -> Response:
    q, offset = text(form, "q"), _offset(text(form, "offset"))
    try:
        if text(form, "confirm") != "yes":
            # Disabling and demoting take effect at once: they are asked about first,
            # on a page of their own, so that they hold without JavaScript.
            # Their own account is refused outright by the service, below.
            before = await services.accounts.get_user(visitor.user, username)
            lowers = disabled or (role is not None and _lowers(before.role, role))
            if lowers and (visitor.user is None or before.username != visitor.user.username):
                return _confirm_page(request, services, visitor, before, q, offset, role=role)
        user = await services.accounts.update_user(
            visitor.user, username, role=role, disabled=disabled
        )
    except (Conflict, NotFound, InvalidInput) as error:
        return await _users_page(
            request,
            services,
            visitor,
            q=q,
            offset=offset,
            error=error.detail,
            status_code=error.status,
        )
    return see_other(_list_url(q, offset, user.username))


def _lowers(before: Role, after: Role) -> bool:
    """Whether ``after`` has fewer rights than ``before`` (later roles include earlier)."""
    order = list(Role)
    return order.index(after) < order.index(before)


def _confirm_page(
    request: Request,
    services: Services,
    visitor: Visitor,
    user: User,
    q: str,
    offset: int,
    *,
    role: Role | None,
) -> Response:
    context = {
        "target": user,
        "role": role,
        "action": f"/admin/users/{user.username}/{'role' if role is not None else 'disable'}",
        "q": q,
        "offset": offset,
        "cancel_url": _list_url(q, offset),
    }
    return render(request, services, visitor, "admin_confirm.html", context)


@router.post("/admin/users/{username}/role")
async def set_role(
    username: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Give a user the role in the form's ``role`` field."""
    form = await checked_form(request, services, visitor)
    try:
        role = Role(text(form, "role"))
    except ValueError:
        error = InvalidInput({"role": gettext("Choose participant, manager or admin.")})
        return await _users_page(
            request,
            services,
            visitor,
            q=text(form, "q"),
            offset=_offset(text(form, "offset")),
            error=error.errors["role"],
            status_code=error.status,
        )
    return await _update(request, services, visitor, username, form, role=role)


@router.post("/admin/users/{username}/disable")
async def disable(
    username: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Disable a user: their sessions end at their next request, their logins fail."""
    form = await checked_form(request, services, visitor)
    return await _update(request, services, visitor, username, form, disabled=True)


@router.post("/admin/users/{username}/enable")
async def enable(
    username: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """Enable a disabled user again (their old sessions stay ended)."""
    form = await checked_form(request, services, visitor)
    return await _update(request, services, visitor, username, form, disabled=False)
