"""Bus-location pages and API: next departures with live predictions and the combined stop timetable
(総合時刻表), over the demo city-bus feed and any realtime updates applied to it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jpholiday
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


DAY_KINDS = (
    ("weekday", "平日", "Weekdays"),
    ("saturday", "土曜", "Saturdays"),
    ("holiday", "日曜・祝日", "Sundays and holidays"),
)


def day_kind(d: date) -> str:
    if d.weekday() == 6 or jpholiday.is_holiday(d):
        return "holiday"
    return "saturday" if d.weekday() == 5 else "weekday"


def route_names(feed: Feed) -> dict[str, dict[str, str]]:
    return {
        rid: {"short": r.short_name, "long": r.long_name, "display": r.display_name}
        for rid, r in feed.routes.items()
    }


def timetable_tabs(feed: Feed, stop_id: str, d: date) -> list[dict[str, Any]]:
    """The stop's combined timetable (総合時刻表) as weekday / Saturday / Sunday-and-holiday tabs, each
    with one table per route and direction (hour rows, minutes). Each tab shows the first day of its
    kind from ``d`` on; the Saturday and holiday tabs merge when they run the same trips."""
    english = {s.name: s.names.get("en", "") for s in feed.stops.values()}
    firsts: dict[str, date] = {}
    for k in range(21):
        day = d + timedelta(days=k)
        firsts.setdefault(day_kind(day), day)
    tabs: list[dict[str, Any]] = []
    seen: dict[frozenset[str], dict[str, Any]] = {}
    for key, ja, en in DAY_KINDS:
        if key not in firsts:
            continue
        day = firsts[key]
        deps = stop_timetable(feed, stop_id, day)
        trips = frozenset(x.trip_id for x in deps)
        if trips in seen:  # same service as an earlier tab: one tab for both (土休日)
            tab = seen[trips]
            tab["ja"], tab["en"] = "土曜・日曜・祝日", "Saturdays, Sundays and holidays"
            tab["covers_day"] = tab["covers_day"] or day_kind(d) == key
            continue
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        midnight = datetime(day.year, day.month, day.day, tzinfo=JST)
        for dep in deps:
            trip = feed.trips[dep.trip_id]
            route = feed.routes[trip.route_id]
            g = groups.setdefault(
                (trip.route_id, trip.direction_id if trip.direction_id is not None else -1),
                {
                    "route_short": route.short_name,
                    "route_long": route.long_name,
                    "headsigns": [],
                    "hours": {},
                },
            )
            if trip.headsign not in g["headsigns"]:
                g["headsigns"].append(trip.headsign)
            hour = int((dep.scheduled - midnight).total_seconds() // 3600)
            g["hours"].setdefault(hour, []).append(
                {"minute": dep.scheduled.strftime("%M"), "mark": g["headsigns"].index(trip.headsign)}
            )
        tables = []
        for (_rid, _dir), g in sorted(groups.items()):
            g["headsigns"] = [
                {"ja": h, "en": english.get(h, ""), "mark": "abcdefgh"[i]}
                for i, h in enumerate(g["headsigns"])
            ]
            g["hours"] = sorted(g["hours"].items())
            tables.append(g)
        tab = {
            "key": key,
            "ja": ja,
            "en": en,
            "date": day,
            "covers_day": day_kind(d) == key,
            "tables": tables,
        }
        seen[trips] = tab
        tabs.append(tab)
    return tabs


def transit_router(feed: Feed, writer: RealtimeWriter) -> APIRouter:
    r = APIRouter()

    def stop_or_404(stop_id: str) -> str:
        scoped = stop_id if stop_id.startswith(f"{feed.feed_id}:") else feed.scoped(stop_id)
        if scoped not in feed.stops:
            raise HTTPException(
                404,
                detail={
                    "error": "unknown_stop",
                    "message": f"unknown stop {stop_id!r}",
                    "message_ja": f"停留所「{stop_id}」が見つかりません",
                },
            )
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
            raise HTTPException(
                404,
                detail={
                    "error": "unknown_route",
                    "message": f"unknown route {route_id!r}",
                    "message_ja": f"路線「{route_id}」が見つかりません",
                },
            )
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
        upcoming = next_departures(feed, scoped, now, limit=5, snapshot=writer.snapshot)
        tabs = timetable_tabs(feed, scoped, d)
        return TEMPLATES.TemplateResponse(
            request,
            "bus_stop.html",
            {
                "stop": feed.stops[scoped],
                "day": d,
                "tabs": tabs,
                "active": next((t["key"] for t in tabs if t["covers_day"]), tabs[0]["key"] if tabs else ""),
                "upcoming": upcoming,
                "routes": route_names(feed),
            },
        )

    return r
