"""``GET /api/v1/events``: a company's change notifications as server-sent events."""

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from dispatch.errors import Forbidden
from dispatch.notify import NotificationStream
from noriai.web.auth import Auth
from noriai.web.metrics import Metrics

__all__ = ["events_router"]


def events_router(notifier: NotificationStream, auth: Auth, metrics: Metrics) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    principal = auth.keys.principal

    @router.get("/events")
    async def events(
        request: Request,
        key: Annotated[str | None, Query(description="API key (EventSource cannot send headers)")] = None,
        x_api_key: Annotated[str | None, Header()] = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """Server-sent events for a company: ``run_changed`` (refetch that run), ``position``, and
        ``status`` (``{"stale": true}`` while Redis is away)."""
        p = await asyncio.to_thread(principal, x_api_key or key)
        if p.role != "company" or p.company_id is None:
            raise Forbidden(
                "the event stream is per company: use a company key", "事業者キーで接続してください"
            )
        company_id: str = p.company_id

        async def stream() -> Any:
            last = await asyncio.to_thread(notifier.tail_id, company_id)
            if last_event_id:
                last = last_event_id  # the browser reconnected: resume after what it saw
            yield "retry: 2000\n\n"
            stale: bool | None = None
            while not await request.is_disconnected():
                res = await asyncio.to_thread(notifier.read, company_id, last, 1.0)
                if res.stale != stale:
                    stale = res.stale
                    if stale:
                        metrics.notifications_stale.inc()
                    yield f"event: status\ndata: {json.dumps({'stale': stale})}\n\n"
                for event_id, ev in res.events:
                    yield f"id: {event_id}\nevent: {ev.get('type', 'message')}\ndata: {json.dumps(ev)}\n\n"
                last = res.last_id
                if not res.events:
                    yield ": keep-alive\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return router
