"""Webhook endpoints for taxi companies: ``/api/v1/webhooks`` (register, list, remove, rotate the secret,
delivery log).

(No ``from __future__ import annotations``: FastAPI must see the dependency aliases as objects.)

A company key manages its own company's endpoints only (another company's is a 404); an operator key
may manage any company's. The secret is returned once, when the endpoint is registered or its secret
rotated.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dispatch.domain import Principal
from dispatch.webhooks.model import (
    ID_HEADER,
    REPLAY_WINDOW_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDelivery,
    WebhookEndpoint,
)
from dispatch.webhooks.registry import DEFAULT_OVERLAP_S, MAX_OVERLAP_S, Webhooks
from noriai.web.guard import error_responses


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=500, description="https:// URL that receives POSTs")
    event_types: list[str] | None = Field(
        default=None, max_length=5, description="run_changed (default) and/or position"
    )
    company_id: str | None = Field(default=None, max_length=50, description="operators only")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_s: int = Field(
        default=DEFAULT_OVERLAP_S,
        ge=0,
        le=MAX_OVERLAP_S,
        description="how long the old secret still signs deliveries beside the new one (0: at once)",
    )


def endpoint_view(ep: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "endpoint_id": ep.endpoint_id,
        "company_id": ep.company_id,
        "url": ep.url,
        "event_types": list(ep.event_types),
        "active": ep.active,
        "created_at": ep.created_at.isoformat(),
        # after a rotation, the old secret's signature is sent beside the new one until then
        "previous_secret_expires_at": (
            ep.previous_secret_expires_at.isoformat() if ep.previous_secret_expires_at else None
        ),
    }
    if with_secret:
        out["secret"] = ep.secret
        out["signing"] = {
            "headers": [ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER],
            "signature": "v1=hex(HMAC-SHA256(secret, timestamp + '.' + body)); during a secret "
            "rotation's overlap two, space-separated: 'v1=<new> v1=<old>' (accept either)",
            "replay_window_s": REPLAY_WINDOW_S,
        }
    return out


def delivery_view(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "vehicle_id": d.ordering_key or None,
        "status": d.status.value,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat() if d.status.value == "pending" else None,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at.isoformat(),
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
    }


def webhooks_router(webhooks: Webhooks, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
    Caller = Annotated[Principal, Depends(principal)]

    @router.post("", status_code=201)
    def register(p: Caller, body: WebhookIn) -> dict[str, Any]:
        ep = webhooks.register(p, body.url, body.event_types, body.company_id)
        return endpoint_view(ep, with_secret=True)

    @router.get("", responses=error_responses(404))  # an unknown company_id
    def list_endpoints(
        p: Caller, company_id: Annotated[str | None, Query(max_length=50)] = None
    ) -> list[dict[str, Any]]:
        return [endpoint_view(ep) for ep in webhooks.endpoints(p, company_id)]

    @router.get("/{endpoint_id}")
    def get_endpoint(p: Caller, endpoint_id: str) -> dict[str, Any]:
        return endpoint_view(webhooks.endpoint(p, endpoint_id))

    @router.delete("/{endpoint_id}")
    def remove(p: Caller, endpoint_id: str) -> dict[str, Any]:
        return endpoint_view(webhooks.remove(p, endpoint_id))

    @router.post("/{endpoint_id}/rotate-secret", responses=error_responses(404, 422))
    def rotate_secret(p: Caller, endpoint_id: str, body: RotateIn | None = None) -> dict[str, Any]:
        """A new signing secret (returned once). For ``overlap_s`` (default a day) every delivery is
        signed with both the new and the old secret, so the receiver can switch without refusing any."""
        overlap = body.overlap_s if body is not None else DEFAULT_OVERLAP_S
        return endpoint_view(webhooks.rotate_secret(p, endpoint_id, overlap), with_secret=True)

    @router.get("/{endpoint_id}/deliveries")
    def deliveries(
        p: Caller, endpoint_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> list[dict[str, Any]]:
        return [delivery_view(d) for d in webhooks.deliveries(p, endpoint_id, limit)]

    return router
