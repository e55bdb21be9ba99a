"""Prometheus metrics (prometheus_client), one registry per app so test apps do not collide.

``/metrics`` answers operator keys only (X-API-Key or Authorization: Bearer): request counts by route
and status tell an outsider when and how the service is used."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.routing import Match

from noriai.web.auth import api_key


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_seconds = Histogram(
            "noriai_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
        )
        self.quotes = Counter("noriai_quotes_total", "Quotes by outcome", ["outcome"], registry=self.registry)
        self.quote_seconds = Histogram(
            "noriai_quote_duration_seconds",
            "Time to compute the options of one quote",
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2),
        )
        self.bookings = Counter(
            "noriai_booking_transitions_total", "Booking state changes", ["to"], registry=self.registry
        )
        self.notifications_stale = Counter(
            "noriai_event_stream_stale_total",
            "Event-stream reads answered stale (Redis away)",
            registry=self.registry,
        )


def install_metrics(app: FastAPI, role_of: Callable[[str], str | None]) -> Metrics:
    """``role_of(key)`` is the role of an API key (None when unknown, revoked or expired)."""
    metrics = Metrics()

    @app.middleware("http")
    async def _timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = "unmatched"
        for r in app.router.routes:
            match, _ = r.matches(request.scope)
            if match is Match.FULL:
                route = getattr(r, "path", "unmatched")
                break
        if route != "/api/v1/events":  # a stream lasts minutes; it would only blur the histogram
            metrics.http_seconds.labels(request.method, route, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics", include_in_schema=False)
    def _metrics(
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        key = api_key(x_api_key, authorization)
        role = role_of(key) if key else None
        if role != "operator":
            status = 401 if role is None else 403
            return JSONResponse(
                {
                    "error": "unauthorized" if status == 401 else "forbidden",
                    "message": "metrics need an operator API key",
                    "message_ja": "メトリクスの閲覧にはオペレーターのAPIキーが必要です",
                },
                status_code=status,
            )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
