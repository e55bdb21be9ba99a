"""Match realtime trip updates to the static timetable and propagate delays downstream.

A trip is found by its trip_id, else by route_id + start_time + direction_id among the trips running
on the service date. Each problem is counted per kind instead of raised: ``trip_not_found``,
``no_service_that_day``, ``stop_not_in_trip``, ``negative_hop_time`` (a prediction that would arrive
before the previous stop's departure; clamped), ``canceled``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bus_location.model import MAX_DELAY_S, ParsedFeed, Relationship, TripDescriptor, TripUpdate
from gtfs.loader import Feed
from gtfs.times import parse_time


@dataclass(frozen=True, slots=True)
class TripPrediction:
    trip_index: int
    service_date: date
    arrival_delay_s: npt.NDArray[np.int32]  # per stop of the trip, in stop order
    departure_delay_s: npt.NDArray[np.int32]
    known_from: int  # first stop position with a prediction; earlier stops keep the schedule
    canceled: bool = False
    vehicle_id: str | None = None


def feed_timezone(feed: Feed) -> ZoneInfo:
    tz = next((a.timezone for a in feed.agencies.values() if a.timezone), "Asia/Tokyo")
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Tokyo")


def service_midnight_unix(day: date, tz: ZoneInfo) -> int:
    """GTFS times count from 'noon minus 12 h' of the service day, which is midnight except on DST days."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
    return int((noon - timedelta(hours=12)).timestamp())


class TripIndex:
    """Lookups from realtime descriptors to static trips, built once per static feed."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.tz = feed_timezone(feed)
        self.by_id = {t: i for i, t in enumerate(feed.trip_ids)}
        self.stop_index = {s: k for k, s in enumerate(feed.stop_ids)}
        self.by_route_start: dict[tuple[str, int | None, int], list[int]] = {}
        starts = np.full(len(feed.trip_ids), -1, dtype=np.int64)
        if len(feed.st_trip):
            first = np.flatnonzero(np.r_[True, feed.st_trip[1:] != feed.st_trip[:-1]])
            starts[feed.st_trip[first]] = feed.st_departure[first]
        for i, tid in enumerate(feed.trip_ids):
            trip = feed.trips[tid]
            for direction in (trip.direction_id, None):
                self.by_route_start.setdefault((trip.route_id, direction, int(starts[i])), []).append(i)

    def find(self, d: TripDescriptor, service_date: date) -> tuple[int | None, str | None]:
        """(trip index, None) or (None, problem)."""
        feed = self.feed
        active = feed.calendar.active(service_date)
        if d.trip_id:
            i = self.by_id.get(feed.scoped(d.trip_id))
            if i is not None:
                if feed.trips[feed.trip_ids[i]].service_id not in active:
                    return None, "no_service_that_day"
                return i, None
        if d.route_id and d.start_time:
            try:
                start = parse_time(d.start_time)
            except ValueError:
                return None, "trip_not_found"
            for i in self.by_route_start.get((feed.scoped(d.route_id), d.direction_id, start), []):
                if feed.trips[feed.trip_ids[i]].service_id in active:
                    return i, None
        return None, "trip_not_found"


def service_date_of(d: TripDescriptor, feed_timestamp: float, tz: ZoneInfo) -> date:
    if d.start_date and len(d.start_date) == 8 and d.start_date.isdigit():
        try:
            return date(int(d.start_date[:4]), int(d.start_date[4:6]), int(d.start_date[6:]))
        except ValueError:
            pass
    return datetime.fromtimestamp(feed_timestamp, tz).date()


def predict(
    index: TripIndex, tu: TripUpdate, trip_index: int, service_date: date, problems: Counter[str]
) -> TripPrediction:
    feed = index.feed
    lo, hi = feed.trip_range(trip_index)
    n = hi - lo
    sched_arr = feed.st_arrival[lo:hi].astype(np.int64)
    sched_dep = feed.st_departure[lo:hi].astype(np.int64)
    seqs = feed.st_sequence[lo:hi]
    stops = feed.st_stop[lo:hi]
    midnight = service_midnight_unix(service_date, index.tz)
    arr_delay = np.zeros(n, dtype=np.int64)
    dep_delay = np.zeros(n, dtype=np.int64)
    given_a: dict[int, int] = {}
    given_d: dict[int, int] = {}
    pos_hint = 0
    for u in tu.updates:
        pos: int | None = None
        if u.stop_sequence is not None:
            hits = np.flatnonzero(seqs == u.stop_sequence)
            pos = int(hits[0]) if len(hits) else None
        if pos is None and u.stop_id is not None:
            sidx = index.stop_index.get(feed.scoped(u.stop_id))
            hits = (
                np.flatnonzero(stops[pos_hint:] == sidx) if sidx is not None else np.array([], dtype=np.int64)
            )
            pos = int(hits[0]) + pos_hint if len(hits) else None
        if pos is None:
            problems["stop_not_in_trip"] += 1
            continue
        pos_hint = pos
        if u.relationship is Relationship.SKIPPED:
            continue
        a = (
            u.arrival_delay_s
            if u.arrival_delay_s is not None
            else (u.arrival_time_unix - midnight - int(sched_arr[pos]) if u.arrival_time_unix else None)
        )
        d = (
            u.departure_delay_s
            if u.departure_delay_s is not None
            else (u.departure_time_unix - midnight - int(sched_dep[pos]) if u.departure_time_unix else None)
        )
        if a is None and d is None:
            continue
        if any(x is not None and abs(x) > MAX_DELAY_S for x in (a, d)):
            problems["delay_out_of_range"] += 1  # e.g. a start_date years away from the predicted time
            continue
        given_a[pos] = a if a is not None else d  # type: ignore[assignment]
        given_d[pos] = d if d is not None else a  # type: ignore[assignment]
    known_from = min(given_a) if given_a else n
    if not given_a and tu.delay_s is not None:
        known_from = 0
        arr_delay[:] = dep_delay[:] = tu.delay_s
    current: int | None = None
    for k in range(n):
        if k in given_a:
            arr_delay[k] = given_a[k]
            dep_delay[k] = given_d[k]
            current = given_d[k]
        elif current is not None:
            arr_delay[k] = dep_delay[k] = current
    # A predicted arrival before the previous predicted departure is impossible: count and clamp.
    for k in range(max(known_from, 0) + 1, n):
        prev_dep = sched_dep[k - 1] + dep_delay[k - 1]
        if sched_arr[k] + arr_delay[k] < prev_dep:
            problems["negative_hop_time"] += 1
            arr_delay[k] = prev_dep - sched_arr[k]
            dep_delay[k] = max(dep_delay[k], arr_delay[k])
    return TripPrediction(
        trip_index,
        service_date,
        arr_delay.astype(np.int32),
        dep_delay.astype(np.int32),
        known_from,
        tu.trip.relationship is Relationship.CANCELED,
        tu.vehicle_id,
    )


def match_feed(
    index: TripIndex, parsed: ParsedFeed
) -> tuple[dict[tuple[int, date], TripPrediction], Counter[str]]:
    problems: Counter[str] = Counter(parsed.problems)
    out: dict[tuple[int, date], TripPrediction] = {}
    for tu in parsed.trip_updates:
        day = service_date_of(tu.trip, parsed.timestamp_unix, index.tz)
        i, problem = index.find(tu.trip, day)
        if i is None:
            problems[problem or "trip_not_found"] += 1
            continue
        pred = predict(index, tu, i, day, problems)
        if pred.canceled:
            problems["canceled"] += 1
        out[(i, day)] = pred
    problems["matched_trip_updates"] += len(out)
    return out, problems
