"""The dispatch API (``/api/v1``, tag ``dispatch``): one router per resource, each a thin layer over
``dispatch.service.DispatchService``.

Auth: ``X-API-Key`` (or ``Authorization: Bearer``). Operator keys may do everything; a company key sees
only its own vehicles, runs, bookings and the riders on them (anything else is a 404, as if it did not
exist), and gets 403 on operator-only routes. Request bodies (``bodies``) reject unknown fields (422,
nothing changes); answers are built by ``views`` and documented by ``noriai.web.schemas``.

(No ``from __future__ import annotations`` in these modules: FastAPI must see the dependency aliases
defined inside each router function as real objects, not strings.)

| module | routes |
|---|---|
| ``whoami`` | ``GET /whoami`` |
| ``riders`` | ``GET /riders?q=``, ``GET /riders/{id}`` |
| ``bookings`` | ``POST /quotes``, ``/bookings`` (list, read, audit, confirm, cancel, return, call), |
| | ``POST /bookings/{id}/events`` (drivers) |
| ``recurring`` | ``POST /recurring`` |
| ``days`` | ``/days/{date}/materialise``, ``/reoptimise``, ``/check``, ``GET /analytics/trips`` |
| ``runs`` | ``GET /runs``, ``GET /runs/{vehicle}`` |
| ``vehicles`` | ``GET /vehicles/{id}``, ``/position``, ``/breakdown``, ``/restore`` |
| ``events`` | ``GET /events`` (server-sent events) |
"""

from fastapi import APIRouter

from dispatch.notify import NotificationStream
from dispatch.service import DispatchService
from noriai.web.api.bookings import bookings_router, stop_events_router
from noriai.web.api.days import days_router
from noriai.web.api.events import events_router
from noriai.web.api.recurring import recurring_router
from noriai.web.api.riders import riders_lookup_router
from noriai.web.api.runs import runs_router
from noriai.web.api.vehicles import vehicles_router
from noriai.web.api.whoami import whoami_router
from noriai.web.auth import Auth
from noriai.web.metrics import Metrics

__all__ = ["dispatch_routers"]


def dispatch_routers(
    svc: DispatchService, notifier: NotificationStream, metrics: Metrics, auth: Auth
) -> list[APIRouter]:
    """The dispatch API's routers, in the order of the OpenAPI document."""
    return [
        whoami_router(auth),
        riders_lookup_router(svc, auth),
        bookings_router(svc, auth, metrics),
        recurring_router(svc, auth),
        days_router(svc, auth),
        stop_events_router(svc, auth, metrics),
        runs_router(svc, auth),
        vehicles_router(svc, auth),
        events_router(notifier, auth, metrics),
    ]
