"""``/api/v1/draws/{id}/webhooks`` and ``/api/v1/webhooks``: organisers' webhook endpoints
(a draw's, registered by its managers and admins; the instance's, by admins)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from fairdraw.domain import errors, webhooks
from fairdraw.domain.moments import iso
from fairdraw.services.webhooks import Endpoint
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["webhooks"], dependencies=[Depends(check_api_csrf)])

MANAGE = (errors.NotAuthenticated, errors.Forbidden, errors.NetworkNotAllowed, errors.CsrfFailed)
DRAW = (*MANAGE, errors.DrawNotFound, errors.WrongDrawKind)
Event = Literal["entry_milestone", "closed", "sealed", "drawn", "cancelled", "forfeit"]


class WebhookIn(BaseModel):
    url: str = Field(
        max_length=webhooks.MAX_URL_LENGTH,
        examples=["https://example.org/hooks/fairdraw"],
        description="Where to POST: https (http to a loopback host only when the server "
        "allows it).",
        # Stated, not enforced here: the service also takes http when the server allows it.
        json_schema_extra={"pattern": webhooks.URL_PATTERN},
    )
    events: list[Event] = Field(
        min_length=1,
        examples=[["closed", "drawn"]],
        description="What to hear: " + ", ".join(webhooks.EVENTS) + " (entry_milestone: at "
        "10, 100, 1,000 … entries).",
    )


class LastDelivery(BaseModel):
    message_id: str = Field(description="The message's webhook-id.")
    type: str = Field(description='Its type, e.g. "draw.closed".')
    status: Literal["delivered", "retrying", "failed"]
    attempts: int = Field(description="Attempts made at this message.")
    response_status: int | None = Field(description="The receiver's HTTP status, if any.")
    error: str | None = Field(description="Why the last attempt failed, if it did.")
    at: str = Field(description="When the last attempt was made, ISO 8601 UTC.")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[Event]
    draw_id: str | None = Field(description="The draw it hears; null: every draw.")
    created_at: str
    created_by: str
    pending: int = Field(description="Messages waiting to be delivered, in order.")
    next_attempt_at: str | None = Field(description="When the first waiting one is tried.")
    last_delivery: LastDelivery | None


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (whsec_…), shown this once: keep it to verify "
        "the webhook-signature header."
    )


def webhook_out(endpoint: Endpoint) -> WebhookOut:
    last = None
    if endpoint.last_message and endpoint.last_status and endpoint.last_ms is not None:
        last = LastDelivery.model_validate(
            {
                "message_id": endpoint.last_message,
                "type": endpoint.last_type or "",
                "status": endpoint.last_status,
                "attempts": endpoint.last_attempts,
                "response_status": endpoint.last_code,
                "error": endpoint.last_error,
                "at": iso(endpoint.last_ms),
            }
        )
    return WebhookOut.model_validate(
        {
            "id": endpoint.id,
            "url": endpoint.url,
            "events": endpoint.events,
            "draw_id": endpoint.draw_id,
            "created_at": iso(endpoint.created_ms),
            "created_by": endpoint.created_by,
            "pending": endpoint.pending,
            "next_attempt_at": iso(endpoint.next_attempt_ms)
            if endpoint.next_attempt_ms is not None
            else None,
            "last_delivery": last,
        }
    )


def created_out(endpoint: Endpoint, secret: str) -> WebhookCreatedOut:
    return WebhookCreatedOut(**webhook_out(endpoint).model_dump(), secret=secret)


@router.post(
    "/draws/{draw_id}/webhooks",
    status_code=201,
    response_model=WebhookCreatedOut,
    responses=problem_responses(*DRAW),
)
async def create_draw_webhook(
    draw_id: str, body: WebhookIn, visitor: VisitorDep, services: ServicesDep
) -> WebhookCreatedOut:
    """Register an endpoint for this draw's events (its managers and admins). The answer
    carries the signing secret, which is never shown again."""
    endpoint, secret = await services.webhooks.register(
        visitor.caller, draw_id, body.url, body.events
    )
    return created_out(endpoint, secret)


@router.get(
    "/draws/{draw_id}/webhooks", response_model=list[WebhookOut], responses=problem_responses(*DRAW)
)
async def list_draw_webhooks(
    draw_id: str, visitor: VisitorDep, services: ServicesDep
) -> list[WebhookOut]:
    """This draw's endpoints, with their last delivery."""
    return [webhook_out(e) for e in await services.webhooks.endpoints(visitor.caller, draw_id)]


@router.delete(
    "/draws/{draw_id}/webhooks/{webhook_id}",
    status_code=204,
    responses=problem_responses(*DRAW, errors.NotFound),
)
async def delete_draw_webhook(
    draw_id: str, webhook_id: str, visitor: VisitorDep, services: ServicesDep
) -> Response:
    """Remove an endpoint of this draw; its undelivered messages are dropped."""
    await services.webhooks.remove(visitor.caller, draw_id, webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreatedOut,
    responses=problem_responses(*MANAGE),
)
async def create_webhook(
    body: WebhookIn, visitor: VisitorDep, services: ServicesDep
) -> WebhookCreatedOut:
    """Register an endpoint for the events of every draw (admins). The answer carries
    the signing secret, which is never shown again."""
    endpoint, secret = await services.webhooks.register(visitor.caller, None, body.url, body.events)
    return created_out(endpoint, secret)


@router.get("/webhooks", response_model=list[WebhookOut], responses=problem_responses(*MANAGE))
async def list_webhooks(visitor: VisitorDep, services: ServicesDep) -> list[WebhookOut]:
    """The instance's endpoints, with their last delivery (admins)."""
    return [webhook_out(e) for e in await services.webhooks.endpoints(visitor.caller, None)]


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    responses=problem_responses(*MANAGE, errors.NotFound),
)
async def delete_webhook(webhook_id: str, visitor: VisitorDep, services: ServicesDep) -> Response:
    """Remove an endpoint of the instance; its undelivered messages are dropped."""
    await services.webhooks.remove(visitor.caller, None, webhook_id)
    return Response(status_code=204)
