"""Bus-location pages and API: next departures with live predictions and the combined stop timetable
(総合時刻表), over the demo city-bus feed and any realtime updates applied to it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bus_location import Departure, RealtimeWriter, next_departures, stop_timetable
from bus_location.departures import route_timetable
from gtfs.loader import Feed
from noriai.web.inputs import Day, When

JST = ZoneInfo("Asia/Tokyo")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _dep(d: Departure) -> dict[str, Any]:
    return {
        "trip_id": d.trip_id,
        "route": d.route,
        "headsign": d.headsign,
        "service_date": d.service_date.isoformat(),
        "scheduled": d.scheduled.isoformat(),
        "predicted": d.predicted.isoformat() if d.predicted else None,
        "delay_s": d.delay_s,
        "live": d.predicted is not None,
    }


def transit_router(feed: Feed, writer: RealtimeWriter) -> APIRouter:
    r = APIRouter()

    def stop_or_404(stop_id: str) -> str:
        scoped = stop_id if stop_id.startswith(f"{feed.feed_id}:") else feed.scoped(stop_id)
        if scoped not in feed.stops:
            raise HTTPException(404, detail=f"unknown stop {stop_id!r} / 停留所が見つかりません")
        return scoped

    @r.get("/api/v1/stops", tags=["bus"])
    def stops() -> list[dict[str, Any]]:
        return [
            {
                "stop_id": s.stop_id,
                "name": s.name,
                "name_en": s.names.get("en", ""),
                "lat": s.lat,
                "lon": s.lon,
            }
            for s in feed.stops.values()
        ]

    @r.get("/api/v1/stops/{stop_id}/departures", tags=["bus"])
    def departures(
        stop_id: str,
        at: Annotated[When | None, Query(description="local time; default now")] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> dict[str, Any]:
        scoped = stop_or_404(stop_id)
        now = (at or datetime.now(JST)).replace(tzinfo=(at.tzinfo if at and at.tzinfo else JST))
        snap = writer.snapshot
        deps = next_departures(feed, scoped, now, limit=limit, snapshot=snap)
        return {
            "stop_id": scoped,
            "at": now.isoformat(),
            "realtime_updated_unix": snap.message_unix.get(feed.feed_id),
            "departures": [_dep(d) for d in deps],
        }

    @r.get("/api/v1/stops/{stop_id}/timetable", tags=["bus"])
    def timetable(stop_id: str, day: Annotated[Day | None, Query(alias="date")] = None) -> dict[str, Any]:
        scoped = stop_or_404(stop_id)
        d = day or datetime.now(JST).date()
        return {
            "stop_id": scoped,
            "date": d.isoformat(),
            "departures": [_dep(x) for x in stop_timetable(feed, scoped, d, writer.snapshot)],
        }

    @r.get("/api/v1/routes/{route_id}/timetable", tags=["bus"])
    def route_table(route_id: str, day: Annotated[Day | None, Query(alias="date")] = None) -> dict[str, Any]:
        scoped = route_id if route_id.startswith(f"{feed.feed_id}:") else feed.scoped(route_id)
        if scoped not in feed.routes:
            raise HTTPException(404, detail=f"unknown route {route_id!r} / 路線が見つかりません")
        d = day or datetime.now(JST).date()
        trips = route_timetable(feed, scoped, d)
        return {
            "route_id": scoped,
            "name": feed.routes[scoped].long_name,
            "date": d.isoformat(),
            "trips": [
                {
                    "trip_id": t.trip_id,
                    "headsign": t.headsign,
                    "direction_id": t.direction_id,
                    "stops": [{"stop_id": s, "departure": when.isoformat()} for s, when in t.times],
                }
                for t in trips
            ],
        }

    @r.get("/bus", response_class=HTMLResponse, include_in_schema=False)
    def bus_index(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "bus_index.html", {"stops": list(feed.stops.values())})

    @r.get("/bus/stops/{stop_id}", response_class=HTMLResponse, include_in_schema=False)
    def bus_stop(
        request: Request, stop_id: str, day: Annotated[Day | None, Query(alias="date")] = None
    ) -> HTMLResponse:
        scoped = stop_or_404(stop_id)
        now = datetime.now(JST)
        d = day or now.date()
        table = stop_timetable(feed, scoped, d, writer.snapshot)
        by_hour: dict[int, list[Departure]] = {}
        for dep in table:
            hour = int((dep.scheduled - datetime(d.year, d.month, d.day, tzinfo=JST)).total_seconds() // 3600)
            by_hour.setdefault(hour, []).append(dep)
        upcoming = next_departures(feed, scoped, now, limit=5, snapshot=writer.snapshot)
        return TEMPLATES.TemplateResponse(
            request,
            "bus_stop.html",
            {"stop": feed.stops[scoped], "day": d, "by_hour": sorted(by_hour.items()), "upcoming": upcoming},
        )

    return r
