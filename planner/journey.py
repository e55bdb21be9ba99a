"""Journeys for people: stop or coordinate in, legs with modes, stops and ISO times out.

Wraps the RAPTOR core with access and egress walking from coordinates, realtime delays from a
``bus_location`` snapshot, and the mapping of internal indices back to GTFS ids and names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from geo.points import LatLon, haversine_matrix_m
from gtfs.loader import Feed
from planner.raptor import Itinerary, Raptor, RideLeg, WalkLeg
from planner.timetable import Delays, Timetable, build_timetable

WALK_SPEED_MS = 1.2
WALK_CIRCUITY = 1.25
RAIL_TYPES = {0, 1, 2, 5, 7, 12}


class PlanError(ValueError):
    """A query that cannot be answered (unknown stop, no stop within walking distance, ...)."""


@dataclass(frozen=True, slots=True)
class Place:
    stop_id: str | None = None
    point: LatLon | None = None


@dataclass(frozen=True, slots=True)
class JourneyLeg:
    mode: str  # walk | bus | rail
    from_name: str
    to_name: str
    from_stop: str | None
    to_stop: str | None
    departure: datetime
    arrival: datetime
    trip_id: str | None = None
    route: str | None = None
    route_id: str | None = None
    # mode-specific facts: realtime delay of a bus, bikes at a station and how old that is, a taxi's
    # pickup window and fixed fare, names in other languages
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> int:
        return int((self.arrival - self.departure).total_seconds())

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "mode": self.mode,
            "from": {"stop_id": self.from_stop, "name": self.from_name},
            "to": {"stop_id": self.to_stop, "name": self.to_name},
            "departure": self.departure.isoformat(),
            "arrival": self.arrival.isoformat(),
            "trip_id": self.trip_id,
            "route": self.route,
        }
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True, slots=True)
class Journey:
    departure: datetime
    arrival: datetime
    transfers: int
    legs: tuple[JourneyLeg, ...]

    @property
    def has_ride(self) -> bool:
        """Whether a vehicle of the timetable is used (not only walking)."""
        return any(leg.trip_id for leg in self.legs)

    def to_dict(self) -> dict[str, object]:
        return {
            "departure": self.departure.isoformat(),
            "arrival": self.arrival.isoformat(),
            "transfers": self.transfers,
            "legs": [x.to_dict() for x in self.legs],
        }


def walk_seconds(metres: float) -> int:
    return math.ceil(metres * WALK_CIRCUITY / WALK_SPEED_MS)


def resolve_stop(tt: Timetable, feeds: Sequence[Feed], stop_id: str) -> int:
    idx = tt.stop_index
    if stop_id in idx:
        return idx[stop_id]
    hits = [idx[f.scoped(stop_id)] for f in feeds if f.scoped(stop_id) in idx]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise PlanError(
            f"stop_id {stop_id!r} is in several feeds; prefix it with the feed id (FEED:{stop_id})"
        )
    raise PlanError(f"unknown stop_id {stop_id!r}")


def _near(tt: Timetable, point: LatLon, max_walk_m: float) -> dict[int, int]:
    d = haversine_matrix_m(np.array([point.lat]), np.array([point.lon]), tt.stop_lat, tt.stop_lon)[0]
    if max_walk_m <= 0:
        i = int(np.argmin(d))
        return {i: walk_seconds(float(d[i]))} if d[i] <= 50 else {}
    return {int(i): walk_seconds(float(d[i])) for i in np.flatnonzero(d * WALK_CIRCUITY <= max_walk_m)}


class Planner:
    def __init__(
        self,
        feeds: Sequence[Feed],
        service_date: datetime,
        *,
        max_walk_m: float = 400.0,
        delays: Delays | None = None,
        tz: str = "Asia/Tokyo",
    ) -> None:
        self.feeds = list(feeds)
        self.tz = ZoneInfo(tz)
        self.day = service_date.date()
        self.max_walk_m = max_walk_m
        self.delays = delays or {}
        self.tt = build_timetable(self.feeds, self.day, max_walk_m=max_walk_m, delays=delays)
        self.raptor = Raptor(self.tt)
        self.names = {sid: f.stops[sid].name for f in self.feeds for sid in f.stops}
        self.midnight = datetime(self.day.year, self.day.month, self.day.day, tzinfo=self.tz)

    def near(self, point: LatLon) -> dict[int, int]:
        """Stops within walking distance of ``point``: stop index -> walking seconds."""
        return _near(self.tt, point, self.max_walk_m)

    def _endpoints(self, place: Place, t: int | None) -> dict[int, int]:
        if place.stop_id is not None:
            s = resolve_stop(self.tt, self.feeds, place.stop_id)
            return {s: t if t is not None else 0}
        assert place.point is not None
        near = self.near(place.point)
        if not near:
            raise PlanError(f"no stop within {self.max_walk_m:.0f} m walking of {place.point}")
        return {s: (t + w if t is not None else w) for s, w in near.items()}

    def plan(
        self,
        origin: Place,
        destination: Place,
        depart: datetime,
        *,
        min_transfer_s: int = 0,
        max_rounds: int = 6,
        access: Mapping[str, int] | None = None,
        egress: Mapping[str, int] | None = None,
        access_mode: str = "walk",
        egress_mode: str = "walk",
    ) -> list[Journey]:
        """Pareto-optimal journeys leaving at ``depart``. ``access``/``egress`` (stop_id -> seconds)
        replace walking at the coordinate ends, e.g. an estimated taxi ride to a station."""
        t0 = self.seconds(depart)
        if access is not None:
            sources = {resolve_stop(self.tt, self.feeds, k): t0 + v for k, v in access.items()}
        else:
            sources = self._endpoints(origin, t0)
        if egress is not None:
            targets = {resolve_stop(self.tt, self.feeds, k): v for k, v in egress.items()}
        else:
            targets = self._endpoints(destination, None)
        walking = self.max_walk_m > 0
        its = self.raptor.query(
            sources, targets, max_rounds=max_rounds, min_transfer_s=min_transfer_s, walking=walking
        )
        out = [
            self._journey(it, origin, destination, sources, targets, t0, access_mode, egress_mode)
            for it in its
        ]
        out.sort(key=lambda j: (j.arrival, j.transfers))
        return out

    def seconds(self, at: datetime) -> int:
        """``at`` as seconds after the planner's service-day midnight."""
        return int((at.astimezone(self.tz) - self.midnight).total_seconds())

    def departures(
        self, origin: Place, destination: Place, start: datetime, window_s: int, *, limit: int = 3, **kw: Any
    ) -> list[Journey]:
        """Range query: the journeys leaving within ``window_s`` after ``start``, one search per next
        departure (each search starts just after the previous best journey left). Journeys that
        another leaves later and arrives no later with no more transfers are dropped."""
        end = start + timedelta(seconds=window_s)
        found: dict[tuple[str | None, ...], Journey] = {}
        t = start
        for _ in range(limit * 3):
            js = [j for j in self.plan(origin, destination, t, **kw) if j.departure <= end]
            rides = [j for j in js if j.has_ride]
            if not rides:
                break
            for j in rides:
                found.setdefault(tuple(leg.trip_id for leg in j.legs), j)
            first = min(rides, key=lambda j: (j.arrival, j.transfers))
            if len({j.arrival for j in found.values()}) >= limit:
                break
            t = max(t, first.departure) + timedelta(seconds=60)
        keep = [
            j
            for j in found.values()
            if not any(
                o is not j
                and o.departure >= j.departure
                and o.arrival <= j.arrival
                and o.transfers <= j.transfers
                and (o.departure, o.arrival, o.transfers) != (j.departure, j.arrival, j.transfers)
                for o in found.values()
            )
        ]
        keep.sort(key=lambda j: (j.arrival, j.transfers))
        return keep[: limit * 2]

    def arrive_by(
        self, origin: Place, destination: Place, deadline: datetime, *, window_s: int = 3 * 3600, **kw: Any
    ) -> list[Journey]:
        """The journeys that leave as late as possible and still arrive by ``deadline``.

        Earliest arrival never decreases with a later departure, so a binary search over departure
        times (to the minute) finds the latest start that makes it; the Pareto set at that start,
        less journeys arriving too late, is the answer."""
        lo = max(self.midnight, deadline - timedelta(seconds=window_s))
        hi = deadline

        def ok(t: datetime) -> list[Journey]:
            return [j for j in self.plan(origin, destination, t, **kw) if j.arrival <= deadline]

        best = ok(lo)
        if not best:
            return []
        lo_m, hi_m = 0, int((hi - lo).total_seconds()) // 60
        while lo_m < hi_m:
            mid = (lo_m + hi_m + 1) // 2
            got = ok(lo + timedelta(minutes=mid))
            if got:
                lo_m, best = mid, got
            else:
                hi_m = mid - 1
        return best

    def _at(self, secs: int) -> datetime:
        return self.midnight + timedelta(seconds=secs)

    def _journey(
        self,
        it: Itinerary,
        origin: Place,
        destination: Place,
        sources: Mapping[int, int],
        targets: Mapping[int, int],
        t0: int,
        access_mode: str = "walk",
        egress_mode: str = "walk",
    ) -> Journey:
        tt = self.tt
        legs: list[JourneyLeg] = []
        rides = [x for x in it.legs if isinstance(x, RideLeg)]
        clock = t0
        # walking from a coordinate to the first stop: leave just in time for the first vehicle
        access = sources[it.source_stop] - t0
        first_dep = None
        if rides:
            r0 = rides[0]
            first_dep = self.raptor.dep_rows[r0.pattern][r0.trip_row][r0.board_pos]
        pre_walk = (
            sum(x.seconds for x in it.legs[: it.legs.index(rides[0])] if isinstance(x, WalkLeg))
            if rides
            else 0
        )
        if first_dep is not None:
            clock = first_dep - pre_walk - access
        if origin.point is not None and access > 0:
            legs.append(
                JourneyLeg(
                    access_mode,
                    "出発地 / origin",
                    self.names[tt.stop_ids[it.source_stop]],
                    None,
                    tt.stop_ids[it.source_stop],
                    self._at(clock),
                    self._at(clock + access),
                )
            )
            clock += access
        for leg in it.legs:
            if isinstance(leg, WalkLeg):
                a, b = tt.stop_ids[leg.from_stop], tt.stop_ids[leg.to_stop]
                legs.append(
                    JourneyLeg(
                        "walk",
                        self.names[a],
                        self.names[b],
                        a,
                        b,
                        self._at(clock),
                        self._at(clock + leg.seconds),
                    )
                )
                clock += leg.seconds
            else:
                p = tt.patterns[leg.pattern]
                a, b = tt.stop_ids[int(p.stops[leg.board_pos])], tt.stop_ids[int(p.stops[leg.alight_pos])]
                dep = self.raptor.dep_rows[leg.pattern][leg.trip_row][leg.board_pos]
                arr = self.raptor.arr_rows[leg.pattern][leg.trip_row][leg.alight_pos]
                mode = "rail" if tt.route_types.get(p.route_id, 3) in RAIL_TYPES else "bus"
                trip_id = p.trip_ids[leg.trip_row]
                live = self.delays.get(trip_id)
                details: dict[str, Any] = {"realtime": trip_id in self.delays}
                if live is not None:
                    details["delay_s"] = int(live[1][leg.board_pos])
                legs.append(
                    JourneyLeg(
                        mode,
                        self.names[a],
                        self.names[b],
                        a,
                        b,
                        self._at(dep),
                        self._at(arr),
                        trip_id,
                        tt.route_names.get(p.route_id, p.route_id),
                        p.route_id,
                        details,
                    )
                )
                clock = arr
        egress = targets[it.target_stop]
        if destination.point is not None and egress > 0:
            s = tt.stop_ids[it.target_stop]
            legs.append(
                JourneyLeg(
                    egress_mode,
                    self.names[s],
                    "目的地 / destination",
                    s,
                    None,
                    self._at(clock),
                    self._at(clock + egress),
                )
            )
            clock += egress
        departure = legs[0].departure if legs else self._at(t0)
        return Journey(departure, self._at(clock), max(0, len(rides) - 1), tuple(legs))
