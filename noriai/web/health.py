"""``GET /health``: the database, the live store, the notifications, this process (role, lease, jobs)
and each polled feed. 503 only when the database does not answer; a failing feed says ``degraded``
(still 200), since it degrades its own mode only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dispatch.persistence import count_reference_rows, database_backend
from noriai.web.background import process_health
from noriai.web.core import Core

__all__ = ["feed_health", "health_router"]


def health_router(core: Core) -> APIRouter:
    router = APIRouter()
    engine, live, notifier = core.engine, core.live, core.notifier
    backend = database_backend(core.settings.database_url)

    @router.get("/health", tags=["ops"], responses={503: {"description": "the database does not answer"}})
    def health(request: Request) -> JSONResponse:
        db_ok = True
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
        except Exception:
            db_ok = False
        body: dict[str, Any] = {
            "status": "ok" if db_ok else "degraded",
            "database": {"backend": backend, "ok": db_ok},
            "live_store": {"backend": live.backend, "ok": live.healthy()},
            "reference_rows": count_reference_rows(engine) if db_ok else None,
            "notifications": {"backend": notifier.backend},
            "process": process_health(request.app),
        }
        feeds = feed_health(request.app)
        if feeds:  # a failing feed degrades its mode only: still 200, but said here
            body["feeds"] = feeds
            if db_ok and any(f["state"] in ("failing", "stale") for f in feeds.values()):
                body["status"] = "degraded"
        return JSONResponse(body, status_code=200 if db_ok else 503)

    return router


def feed_health(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The state of each polled feed (GBFS ``bikeshare``, GTFS-RT ``realtime:<feed>``) for /health."""
    out: dict[str, dict[str, Any]] = {}
    gbfs = getattr(app.state, "gbfs_poller", None)
    if gbfs is not None:
        out["bikeshare"] = gbfs.health()
    realtime = getattr(app.state, "realtime_poller", None)
    if realtime is not None:
        for i, h in enumerate(realtime.health(), start=1):
            out[f"realtime:{i}"] = h
    return out
