"""Next departures at a stop with live predictions (the city's bus-location service), and the combined
timetable of a stop (総合時刻表): every departure of the service day across routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from bus_location.matcher import feed_timezone, service_midnight_unix
from bus_location.snapshot import RealtimeSnapshot
from gtfs.loader import Feed


@dataclass(frozen=True, slots=True)
class Departure:
    trip_id: str
    route: str
    headsign: str
    service_date: date
    scheduled: datetime
    predicted: datetime | None  # None: no live data for this trip
    canceled: bool = False

    @property
    def delay_s(self) -> int | None:
        return int((self.predicted - self.scheduled).total_seconds()) if self.predicted else None


def _rows_at(feed: Feed, stop_id: str) -> np.ndarray:
    try:
        s = feed.stop_ids.index(stop_id)
    except ValueError:
        raise KeyError(f"unknown stop {stop_id!r} in feed {feed.feed_id}") from None
    rows = np.flatnonzero(feed.st_stop == s)
    # the last stop of a trip is an arrival, not a departure
    last = np.r_[feed.st_trip[1:] != feed.st_trip[:-1], True]
    departing: np.ndarray = rows[~last[rows]]
    return departing


def stop_timetable(
    feed: Feed, stop_id: str, service_date: date, snapshot: RealtimeSnapshot | None = None
) -> list[Departure]:
    """Every departure from ``stop_id`` on one service day, in time order (times past 24:00 included)."""
    tz = feed_timezone(feed)
    active = feed.calendar.active(service_date)
    midnight = service_midnight_unix(service_date, tz)
    out = []
    for row in _rows_at(feed, stop_id):
        t = int(feed.st_trip[row])
        trip = feed.trips[feed.trip_ids[t]]
        if trip.service_id not in active:
            continue
        sched = datetime.fromtimestamp(midnight + int(feed.st_departure[row]), tz)
        pred = None
        canceled = False
        if snapshot is not None:
            p = snapshot.prediction(feed.feed_id, t, service_date)
            if p is not None:
                lo, _ = feed.trip_range(t)
                k = int(row) - lo
                canceled = p.canceled
                if k >= p.known_from:
                    pred = sched + timedelta(seconds=int(p.departure_delay_s[k]))
        route = feed.routes[trip.route_id].display_name
        out.append(Departure(trip.trip_id, route, trip.headsign, service_date, sched, pred, canceled))
    out.sort(key=lambda d: d.scheduled)
    return out


def next_departures(
    feed: Feed, stop_id: str, now: datetime, *, limit: int = 10, snapshot: RealtimeSnapshot | None = None
) -> list[Departure]:
    """The next departures after ``now`` (aware datetime), by predicted time where known; vehicles
    already gone are not offered. Looks at yesterday's service day too, for trips past midnight."""
    today = now.astimezone(feed_timezone(feed)).date()
    deps = []
    for day in (today - timedelta(days=1), today):
        deps += [
            d
            for d in stop_timetable(feed, stop_id, day, snapshot)
            if (d.predicted or d.scheduled) >= now and not d.canceled
        ]
    deps.sort(key=lambda d: d.predicted or d.scheduled)
    return deps[:limit]


@dataclass(frozen=True, slots=True)
class RouteTrip:
    trip_id: str
    headsign: str
    direction_id: int | None
    times: tuple[tuple[str, datetime], ...]  # (stop_id, scheduled departure) in stop order


def route_timetable(feed: Feed, route_id: str, service_date: date) -> list[RouteTrip]:
    """The combined timetable of one route for a service day: every trip with its stop times, by
    direction and first departure (the paper 総合時刻表's per-route pages)."""
    if route_id not in feed.routes:
        raise KeyError(f"unknown route {route_id!r} in feed {feed.feed_id}")
    tz = feed_timezone(feed)
    midnight = service_midnight_unix(service_date, tz)
    active = feed.calendar.active(service_date)
    index = {t: i for i, t in enumerate(feed.trip_ids)}
    out = []
    for trip in feed.trips.values():
        if trip.route_id != route_id or trip.service_id not in active:
            continue
        lo, hi = feed.trip_range(index[trip.trip_id])
        times = tuple(
            (
                feed.stop_ids[int(feed.st_stop[k])],
                datetime.fromtimestamp(midnight + int(feed.st_departure[k]), tz),
            )
            for k in range(lo, hi)
        )
        out.append(RouteTrip(trip.trip_id, trip.headsign, trip.direction_id, times))
    out.sort(
        key=lambda t: (t.direction_id if t.direction_id is not None else -1, t.times[0][1] if t.times else 0)
    )
    return out
