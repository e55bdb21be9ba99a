"""One trip search over bus and rail, walking, bike share and the shared taxi, with fares on every option.

The multimodal layer over the RAPTOR core: transit journeys over a departure window (or leaving as late
as possible for an arrive-by), a walking option for short trips, a bike-share option from the live GBFS
snapshot, the shared taxi door to door as quoted by dispatch, and the taxi as first or last mile where
no stop is within walking distance. Dispatch is reached only through the ``TaxiQuoter`` protocol
(``planner.taxi`` adapts the dispatch service), so this module imports nothing from the web or database.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from bikeshare import BikeShareSystem
from fares.bus import BusFareTable, bus_leg_fare
from fares.quote import FareError, FareLine
from fares.tariff import Tariff
from geo.points import LatLon, haversine_m, haversine_matrix_m
from gtfs.loader import Feed
from gtfs.tables import FeedError, read_table
from planner.bike import bike_journey
from planner.journey import WALK_CIRCUITY, Journey, JourneyLeg, Place, PlanError, Planner, walk_seconds
from planner.timetable import Delays

log = logging.getLogger("noriai.planner")

MODES = frozenset({"transit", "walk", "bike", "taxi"})
MAX_WALK_ONLY_M = 2_000.0  # a walking option is offered up to this walking distance
TAXI_FEEDER_RADIUS_M = 10_000.0  # stops considered for a taxi ride to or from transit ...
TAXI_FEEDER_STOPS = 4  # ... the nearest few of them
TAXI_EST_SPEED_MS = 8.3  # 30 km/h, for choosing a feeder stop before the real quote
TAXI_EST_WAIT_S = 15 * 60
TRANSFER_BUFFER_S = 3 * 60  # between a taxi drop-off and the bus it feeds


class TripError(ValueError):
    """A trip request that cannot be searched (the message is bilingual)."""


@dataclass(frozen=True, slots=True)
class TaxiOffer:
    """One shared-taxi option as dispatch quoted it. Times are seconds of the service day."""

    pickup_s: int
    dropoff_s: int
    pickup_from_s: int
    pickup_to_s: int
    fare_yen: int
    fare_lines: tuple[FareLine, ...]
    company_name: str
    vehicle_id: str
    shared: bool


class TaxiQuoter(Protocol):
    def offers(
        self,
        origin: LatLon,
        destination: LatLon,
        service_date: date,
        time_s: int,
        *,
        arrive_by: bool,
        seats: int,
    ) -> tuple[list[TaxiOffer], str | None]:
        """Options for the trip (best first) or ([], the reason nobody can take it)."""
        ...


@dataclass(frozen=True, slots=True)
class TripRequest:
    origin: LatLon
    destination: LatLon
    when: datetime  # timezone-aware
    arrive_by: bool = False
    origin_name: str = "出発地"
    destination_name: str = "目的地"
    welfare_pass: bool = False  # 福祉優待バス乗車券: ¥100 a bus ride
    seats: int = 1
    modes: frozenset[str] = MODES
    window_s: int = 3600  # depart-at: transit journeys leaving within this window
    lang: str = "ja"


@dataclass(frozen=True)
class TripOption:
    kind: str  # transit | walk | bike | taxi | taxi+transit | transit+taxi
    journey: Journey
    fare_yen: int | None  # None: part of the fare is unknown (see notes)
    fare_lines: tuple[FareLine, ...] = ()
    notes: tuple[str, ...] = ()
    booking: dict[str, Any] | None = None  # for a taxi: what to send to book it

    @property
    def modes(self) -> list[str]:
        return [leg.mode for leg in self.journey.legs]

    def to_dict(self) -> dict[str, Any]:
        j = self.journey
        return {
            "kind": self.kind,
            "departure": j.departure.isoformat(),
            "arrival": j.arrival.isoformat(),
            "duration_s": int((j.arrival - j.departure).total_seconds()),
            "transfers": j.transfers,
            "fare_yen": self.fare_yen,
            "fare_breakdown": [
                {"code": x.code, "label_ja": x.label_ja, "label_en": x.label_en, "amount_yen": x.amount_yen}
                for x in self.fare_lines
            ],
            "legs": [leg.to_dict() for leg in j.legs],
            "notes": list(self.notes),
            "booking": self.booking,
        }


@dataclass(frozen=True)
class TripPlan:
    options: tuple[TripOption, ...]
    notices: tuple[str, ...] = ()
    live: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": [o.to_dict() for o in self.options],
            "notices": list(self.notices),
            "live": self.live,
        }


def feed_fare_table(feed: Feed) -> BusFareTable | None:
    """The feed's GTFS fare_attributes/fare_rules as a fare table; None when it has none."""
    try:
        attrs = [r for _, r in read_table(feed.path, "fare_attributes.txt")]
        rules = [r for _, r in read_table(feed.path, "fare_rules.txt")]
    except FeedError:
        return None
    return BusFareTable.from_rows(attrs, rules)


class TripPlanner:
    """Answers ``TripRequest``s. Timetables are built per service date and realtime version, once."""

    def __init__(
        self,
        feeds: Sequence[Feed],
        *,
        fare_tables: Mapping[str, BusFareTable] | None = None,
        tariff: Tariff | None = None,
        bikes: Callable[[], BikeShareSystem | None] | None = None,
        taxi: TaxiQuoter | None = None,
        realtime: Callable[[date], tuple[object, Delays | None]] | None = None,
        max_walk_m: float = 800.0,
        clock: Callable[[], datetime] | None = None,
        tz: str = "Asia/Tokyo",
    ) -> None:
        self.feeds = list(feeds)
        self.fare_tables = dict(fare_tables or {})
        self.tariff = tariff
        self.bikes = bikes
        self.taxi = taxi
        self.realtime = realtime
        self.max_walk_m = max_walk_m
        self.tz = ZoneInfo(tz)
        self.clock = clock or (lambda: datetime.now(self.tz))
        self._planners: dict[tuple[date, object], Planner] = {}
        self.stops = {sid: s for f in self.feeds for sid, s in f.stops.items()}
        self.feed_of_route = {rid: f.feed_id for f in self.feeds for rid in f.routes}

    # --- the timetable for a day, with realtime applied ------------------------------------------------
    def planner_for(self, day: date) -> Planner:
        version: object = None
        delays: Delays | None = None
        if self.realtime is not None:
            try:
                version, delays = self.realtime(day)
            except Exception:  # a broken realtime feed: plan on the timetable, never fail the plan
                log.exception("realtime delays failed; planning on the timetable")
        key = (day, version)
        p = self._planners.get(key)
        if p is None:
            midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
            p = Planner(self.feeds, midnight, max_walk_m=self.max_walk_m, delays=delays, tz=str(self.tz))
            # keep today's and a few other days; an old realtime version is never asked for again
            for k in [k for k in self._planners if k[0] == day or len(self._planners) > 6]:
                del self._planners[k]
            self._planners[key] = p
        return p

    # --- the search ----------------------------------------------------------------------------------
    def plan(self, req: TripRequest) -> TripPlan:
        if req.when.tzinfo is None:
            raise TripError("the time needs a timezone / 時刻にタイムゾーンがありません")
        if not req.modes <= MODES:
            raise TripError(f"unknown modes {sorted(req.modes - MODES)} / 不明な交通手段です")
        if haversine_m(req.origin, req.destination) < 20:
            raise TripError("origin and destination are the same place / 出発地と目的地が同じです")
        when = req.when.astimezone(self.tz)
        options: list[TripOption] = []
        notices: list[str] = []
        live: dict[str, Any] = {}
        origin = Place(point=req.origin)
        dest = Place(point=req.destination)
        planner = self.planner_for(when.date())
        live["realtime_trips"] = len(planner.delays)
        if "transit" in req.modes:
            options += self._transit(planner, req, origin, dest, when, notices)
        if "walk" in req.modes:
            walk = self._walk(req, when)
            if walk is not None:
                options.append(walk)
        if "bike" in req.modes:
            try:
                options += self._bike(req, when, notices, live)
            except Exception:  # a broken bike-share feed degrades the bike option only, never the plan
                log.exception("bike-share option failed; planning without it")
                notices.append("シェアサイクルの情報を使えません / bike share is unavailable now")
        if "taxi" in req.modes:
            options += self._taxi(planner, req, when, notices)
        if req.arrive_by:
            options.sort(key=lambda o: (-o.journey.departure.timestamp(), o.fare_yen or 0))
        else:
            options.sort(key=lambda o: (o.journey.arrival, o.journey.transfers, o.fare_yen or 0))
        if not options:
            notices.append("経路が見つかりませんでした / no way found for that trip and time")
        return TripPlan(tuple(options), tuple(dict.fromkeys(notices)), live)

    # --- transit ------------------------------------------------------------------------------------
    def _named(self, j: Journey, req: TripRequest) -> Journey:
        legs = []
        for leg in j.legs:
            if leg.from_stop is None and leg.from_name.startswith("出発地"):
                leg = replace(leg, from_name=req.origin_name)
            if leg.to_stop is None and leg.to_name.startswith("目的地"):
                leg = replace(leg, to_name=req.destination_name)
            if req.lang != "ja":
                leg = replace(
                    leg,
                    from_name=self._stop_name(leg.from_stop, req.lang) or leg.from_name,
                    to_name=self._stop_name(leg.to_stop, req.lang) or leg.to_name,
                )
            legs.append(leg)
        return replace(j, legs=tuple(legs))

    def _stop_name(self, stop_id: str | None, lang: str) -> str | None:
        if stop_id is None or stop_id not in self.stops:
            return None
        s = self.stops[stop_id]
        return s.names.get(lang)

    def _transit(
        self,
        planner: Planner,
        req: TripRequest,
        origin: Place,
        dest: Place,
        when: datetime,
        notices: list[str],
    ) -> list[TripOption]:
        near_o = bool(planner.near(req.origin))
        near_d = bool(planner.near(req.destination))
        out: list[TripOption] = []
        if near_o and near_d:
            try:
                if req.arrive_by:
                    js = planner.arrive_by(origin, dest, when)
                else:
                    js = planner.departures(origin, dest, when, req.window_s)
            except PlanError as exc:
                notices.append(str(exc))
                js = []
            for j in js:
                if not j.has_ride:
                    continue  # walking only: the walk option covers it
                fare, lines, notes = self.transit_fare(j, req.welfare_pass)
                out.append(TripOption("transit", self._named(j, req), fare, lines, notes))
            if not out:
                notices.append(
                    "この時間に使えるバス・鉄道がありません / no bus or train serves this trip at that time"
                )
        else:
            where = "出発地" if not near_o else "目的地"
            where_en = "origin" if not near_o else "destination"
            notices.append(
                f"{where}から{self.max_walk_m:.0f}m以内にバス停がありません / "
                f"no stop within {self.max_walk_m:.0f} m of the {where_en}"
            )
            if "taxi" in req.modes and self.taxi is not None and not req.arrive_by:
                feeder = self._taxi_feeder(planner, req, when, first_mile=not near_o, notices=notices)
                if feeder is not None:
                    out.append(feeder)
        return out

    def transit_fare(
        self, j: Journey, welfare_pass: bool = False
    ) -> tuple[int | None, tuple[FareLine, ...], tuple[str, ...]]:
        """The fare for every ride of the journey from its feed's GTFS fares (one fare per ride: the demo
        and JR Bus Chugoku feeds sell no transfers), with the elderly pass where the rider has it."""
        total = 0
        lines: list[FareLine] = []
        notes: list[str] = []
        unknown = False
        for leg in j.legs:
            if leg.trip_id is None or leg.route_id is None:
                continue
            fid = self.feed_of_route.get(leg.route_id)
            table = self.fare_tables.get(fid or "")
            adult = None
            if table is not None and leg.from_stop in self.stops and leg.to_stop in self.stops:
                local = leg.route_id.split(":", 1)[1] if ":" in leg.route_id else leg.route_id
                adult = table.fare_yen(
                    local, self.stops[leg.from_stop].zone_id, self.stops[leg.to_stop].zone_id
                )
            if adult is None:
                unknown = True
                notes.append(f"{leg.route}: 運賃不明 / fare unknown")
                continue
            leg_lines: tuple[FareLine, ...]
            pay, leg_lines = adult, (FareLine("bus_fare", f"{leg.route} 運賃", f"{leg.route} fare", adult),)
            if self.tariff is not None and leg.mode == "bus":
                with contextlib.suppress(FareError):  # a bad concession setting: the adult fare stands
                    pay, leg_lines = bus_leg_fare(adult, self.tariff, welfare_pass=welfare_pass)
            total += pay
            lines += leg_lines
            leg.details["fare_yen"] = pay
        return (None if unknown else total), tuple(lines), tuple(notes)

    # --- walking -----------------------------------------------------------------------------------------
    def _walk(self, req: TripRequest, when: datetime) -> TripOption | None:
        metres = haversine_m(req.origin, req.destination) * WALK_CIRCUITY
        if metres > MAX_WALK_ONLY_M:
            return None
        secs = walk_seconds(metres / WALK_CIRCUITY)
        start = when - timedelta(seconds=secs) if req.arrive_by else when
        leg = JourneyLeg(
            "walk",
            req.origin_name,
            req.destination_name,
            None,
            None,
            start,
            start + timedelta(seconds=secs),
            details={"distance_m": round(metres)},
        )
        return TripOption("walk", Journey(start, leg.arrival, 0, (leg,)), 0)

    # --- bike share ----------------------------------------------------------------------------------------
    def _bike(
        self, req: TripRequest, when: datetime, notices: list[str], live: dict[str, Any]
    ) -> list[TripOption]:
        system = self.bikes() if self.bikes else None
        if system is None:
            notices.append("シェアサイクルの情報がありません / no bike-share data")
            return []
        now = self.clock()
        ages = [a for a in (system.age_s(s, now.timestamp()) for s in system.status) if a is not None]
        live["bikeshare"] = {
            "system": system.name,
            "status_age_s": int(min(ages)) if ages else None,
            "ttl_s": system.ttl_s,
        }
        if when - now > timedelta(hours=1) or now - when > timedelta(minutes=5):
            # availability is only known now: a bike for later may be gone by then
            notices.append(
                "シェアサイクルは現在の空き状況で案内しています / "
                "bike availability is as of now, not at that time"
            )
        r = bike_journey(
            system,
            req.origin,
            req.destination,
            when,
            arrive_by=req.arrive_by,
            max_walk_m=self.max_walk_m,
            now=now,
            origin_name=req.origin_name,
            destination_name=req.destination_name,
            lang=req.lang,
        )
        if r.journey is None:
            if r.reason:
                notices.append(r.reason)
            return []
        return [TripOption("bike", r.journey, r.fare_yen, r.fare_lines)]

    # --- shared taxi ---------------------------------------------------------------------------------------
    def _at(self, day: date, seconds: int) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(seconds=seconds)

    def _taxi_leg(
        self,
        day: date,
        o: TaxiOffer,
        from_name: str,
        to_name: str,
        a: LatLon,
        b: LatLon,
        to_stop: str | None,
    ) -> JourneyLeg:
        return JourneyLeg(
            "taxi",
            from_name,
            to_name,
            None,
            to_stop,
            self._at(day, o.pickup_s),
            self._at(day, o.dropoff_s),
            route="乗合タクシー / shared taxi",
            details={
                "company": o.company_name,
                "pickup_from": self._at(day, o.pickup_from_s).isoformat(),
                "pickup_to": self._at(day, o.pickup_to_s).isoformat(),
                "fare_yen": o.fare_yen,
                "fixed_fare": True,
                "shared": o.shared,
                "from_point": [a.lat, a.lon],
                "to_point": [b.lat, b.lon],
            },
        )

    def _booking(
        self, a: LatLon, b: LatLon, day: date, time_s: int, arrive_by: bool, o: TaxiOffer, req: TripRequest
    ) -> dict[str, Any]:
        return {
            "from": f"{a.lat:.6f},{a.lon:.6f}",
            "to": f"{b.lat:.6f},{b.lon:.6f}",
            "date": day.isoformat(),
            "time_s": time_s,
            "arrive_by": arrive_by,
            "seats": req.seats,
            "vehicle_id": o.vehicle_id,
        }

    def _taxi(
        self, planner: Planner, req: TripRequest, when: datetime, notices: list[str]
    ) -> list[TripOption]:
        if self.taxi is None:
            return []
        day = when.date()
        t = planner.seconds(when)
        offers, reason = self.taxi.offers(
            req.origin, req.destination, day, t, arrive_by=req.arrive_by, seats=req.seats
        )
        if not offers:
            if reason:
                notices.append(f"乗合タクシー / shared taxi: {reason}")
            return []
        out = []
        seen: set[int] = set()
        for o in offers[:3]:
            if o.pickup_s in seen:
                continue
            seen.add(o.pickup_s)
            leg = self._taxi_leg(
                day, o, req.origin_name, req.destination_name, req.origin, req.destination, None
            )
            out.append(
                TripOption(
                    "taxi",
                    Journey(leg.departure, leg.arrival, 0, (leg,)),
                    o.fare_yen,
                    o.fare_lines,
                    ("事前確定運賃（乗車前に確定）/ fixed fare, set before pickup",),
                    self._booking(req.origin, req.destination, day, t, req.arrive_by, o, req),
                )
            )
            if len(out) == 2:
                break
        return out

    def _taxi_feeder(
        self, planner: Planner, req: TripRequest, when: datetime, *, first_mile: bool, notices: list[str]
    ) -> TripOption | None:
        """The taxi to the best stop, then transit (first mile), or transit, then the taxi (last mile).

        The stop is chosen with an estimated taxi time; the real quote then fixes the taxi's times and
        the transit part is searched again from the real drop-off (or the taxi quoted from the real
        bus arrival), so every time shown is one dispatch or the timetable stands behind."""
        assert self.taxi is not None
        day = when.date()
        end = req.origin if first_mile else req.destination
        other_ok = bool(planner.near(req.destination if first_mile else req.origin))
        if not other_ok:
            return None
        tt = planner.tt
        d = haversine_matrix_m(np.array([end.lat]), np.array([end.lon]), tt.stop_lat, tt.stop_lon)[0]
        # a feeder serves the nearest stops only: a taxi to a stop beside the far end is a door-to-door
        # taxi with extra steps, and that is offered already
        nearest = [int(i) for i in np.argsort(d)[:TAXI_FEEDER_STOPS] if d[i] <= TAXI_FEEDER_RADIUS_M]
        feeders = {
            tt.stop_ids[i]: TAXI_EST_WAIT_S + math.ceil(float(d[i]) * 1.3 / TAXI_EST_SPEED_MS)
            for i in nearest
        }
        if not feeders:
            return None
        o, dest = Place(point=req.origin), Place(point=req.destination)
        try:
            if first_mile:
                est = planner.plan(o, dest, when, access=feeders, access_mode="taxi")
            else:
                est = planner.plan(o, dest, when, egress=feeders, egress_mode="taxi")
        except PlanError:
            return None
        est = [j for j in est if j.has_ride]
        if not est:
            return None
        j0 = est[0]
        if first_mile:
            stop_id = next(leg.from_stop for leg in j0.legs if leg.trip_id)
            assert stop_id is not None
            s = self.stops[stop_id]
            stop = LatLon(s.lat, s.lon)
            t = planner.seconds(when)
            offers, reason = self.taxi.offers(req.origin, stop, day, t, arrive_by=False, seats=req.seats)
            if not offers:
                notices.append(f"乗合タクシー / shared taxi: {reason}")
                return None
            off = offers[0]
            after = self._at(day, off.dropoff_s + TRANSFER_BUFFER_S)
            rest = planner.plan(Place(stop_id=stop_id), dest, after)
            rest = [j for j in rest if j.has_ride]
            if not rest:
                return None
            tail = rest[0]
            leg = self._taxi_leg(day, off, req.origin_name, s.name, req.origin, stop, stop_id)
            legs = (leg, *self._named(tail, req).legs)
            journey = Journey(leg.departure, tail.arrival, tail.transfers + 1, legs)
            fare, lines, notes = self.transit_fare(tail, req.welfare_pass)
            booking = self._booking(req.origin, stop, day, t, False, off, req)
            kind = "taxi+transit"
        else:
            last_ride = [leg for leg in j0.legs if leg.trip_id][-1]
            stop_id = last_ride.to_stop
            assert stop_id is not None
            s = self.stops[stop_id]
            stop = LatLon(s.lat, s.lon)
            head_legs = j0.legs[: j0.legs.index(last_ride) + 1]
            t = planner.seconds(last_ride.arrival) + TRANSFER_BUFFER_S
            offers, reason = self.taxi.offers(stop, req.destination, day, t, arrive_by=False, seats=req.seats)
            if not offers:
                notices.append(f"乗合タクシー / shared taxi: {reason}")
                return None
            off = offers[0]
            leg = self._taxi_leg(day, off, s.name, req.destination_name, stop, req.destination, None)
            head = replace(j0, legs=head_legs, arrival=last_ride.arrival)
            legs = (*self._named(head, req).legs, leg)
            journey = Journey(j0.departure, leg.arrival, j0.transfers + 1, legs)
            fare, lines, notes = self.transit_fare(head, req.welfare_pass)
            booking = self._booking(stop, req.destination, day, t, False, off, req)
            kind = "transit+taxi"
        total = None if fare is None else fare + off.fare_yen
        return TripOption(
            kind,
            journey,
            total,
            (*off.fare_lines, *lines),
            (*notes, "タクシー部分は事前確定運賃 / the taxi part has a fixed fare"),
            booking,
        )
