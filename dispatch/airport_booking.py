"""Use cases of the airport shared taxi, through the dispatch service's public methods (see ``airport``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from dispatch.airport import Flight, FlightDirection, FlightStatus, FlightTimetable
from dispatch.booking import Booking, BookingStatus, TimeMode, TimeRequest
from dispatch.domain import Principal
from dispatch.errors import Conflict, Forbidden, Invalid, NotFound
from dispatch.inputs import GuestBookingRequest
from dispatch.persistence.airport import AirportBooking, AirportStore
from dispatch.service import DispatchService, Endpoint, EndpointKind, QuoteRequest
from fares import FareLine
from geo import LatLon

log = logging.getLogger("noriai.airport")


MIN_DELAY_S, MAX_DELAY_S = -3600, 12 * 3600
# The flight-status feed acts with an operator's rights on delays only; the audit names it.
FEED = Principal("operator", "flight-status-feed")


@dataclass(frozen=True, slots=True)
class AirportPolicy:
    airport_place_id: str
    fare_per_person_yen: int
    checkin_margin_s: int = 40 * 60  # at the airport this long before departure
    baggage_margin_s: int = 20 * 60  # picked up from this long after (actual) arrival


@dataclass(frozen=True, slots=True)
class GuestAirportRequest:
    """A ride to or from a flight booked by the rider from the trip planner."""

    name: str
    phone: str
    flight: str
    service_date: date
    other_place_id: str | None = None  # the city end: a place, or
    other_point: LatLon | None = None  # a point (with its label)
    other_label: str = ""
    airport_label: str = ""  # the airport's name as the rider reads it (default: the place's name)
    seats: int = 1
    wheelchair: bool = False
    consent_data_reuse: bool = False


@dataclass(frozen=True, slots=True)
class Moved:
    old_booking_id: str
    booking: Booking
    read_back: dict[str, str]


class AirportBookings:
    def __init__(
        self,
        dispatch: DispatchService,
        store: AirportStore,
        timetable: FlightTimetable,
        policy: AirportPolicy,
    ) -> None:
        if policy.airport_place_id not in dispatch.places:
            raise ValueError(f"airport place {policy.airport_place_id!r} is not a place of the city")
        self.dispatch, self.store, self.timetable, self.policy = dispatch, store, timetable, policy

    def _now(self) -> datetime:
        return self.dispatch.now().astimezone(UTC)

    def flight(self, code: str, d: date) -> Flight:
        f = self.timetable.find(code, d)
        if f is None:
            raise NotFound(
                f"no flight {code} on {d.isoformat()}", f"{d.isoformat()} に {code} 便はありません"
            )
        return f

    def flights(self, d: date) -> list[tuple[Flight, int]]:
        """The day's flights with the delay entered for each (seconds)."""
        return [(f, self.store.delay_s(f.flight, d)) for f in self.timetable.on(d)]

    def ride_time_s(self, f: Flight, d: date) -> int:
        """When the ride is timed for a flight: at the airport by (departure - check-in margin), or
        picked up from (arrival + entered delay + baggage margin); seconds after local midnight."""
        if f.direction is FlightDirection.DEPARTURE:
            return f.scheduled_s - self.policy.checkin_margin_s
        return f.scheduled_s + self.store.delay_s(f.flight, d) + self.policy.baggage_margin_s

    def _request(self, rider_id: str, f: Flight, d: date, other: Endpoint, companions: int) -> QuoteRequest:
        airport = Endpoint(EndpointKind.PLACE, self.policy.airport_place_id)
        if f.direction is FlightDirection.DEPARTURE:
            t = TimeRequest(TimeMode.ARRIVE_BY, f.scheduled_s - self.policy.checkin_margin_s)
            return QuoteRequest(rider_id, other, airport, d, t, companions)
        delay = self.store.delay_s(f.flight, d)
        t = TimeRequest(TimeMode.PICKUP_AFTER, f.scheduled_s + delay + self.policy.baggage_margin_s)
        return QuoteRequest(rider_id, airport, other, d, t, companions)

    def book(
        self,
        p: Principal,
        rider_id: str,
        flight: str,
        d: date,
        other_end: Endpoint,
        *,
        companions: int = 0,
        idempotency_key: str | None = None,
    ) -> Booking:
        """Quote and confirm a ride to or from ``flight`` at the fixed airport fare per person."""
        if p.role != "operator":
            raise Forbidden("operators only", "オペレーター専用の機能です")
        f = self.flight(flight, d)
        b = self._book(p, self._request(rider_id, f, d, other_end, companions), idempotency_key)
        self.store.add(
            AirportBooking(b.booking_id, f.flight, d, f.direction.value, rider_id, companions, self._now())
        )
        return b

    def book_guest(self, g: GuestAirportRequest, idempotency_key: str | None = None) -> Booking:
        """A rider books a ride to or from a flight themself (the trip planner): the guest rider is
        found or registered as for any planner booking (never an operator's rider), the ride is timed
        to the flight and confirmed at the fixed fare per person, and the operator side sees it as
        any airport booking (``of_flight``, delays). A refused trip comes back ``rejected``."""
        f = self.flight(g.flight, g.service_date)
        airport = self.dispatch.places[self.policy.airport_place_id]
        departure = f.direction is FlightDirection.DEPARTURE
        mode = TimeMode.ARRIVE_BY if departure else TimeMode.PICKUP_AFTER
        t = self.ride_time_s(f, g.service_date)
        if self.dispatch.wall_clock(g.service_date, t) < self.dispatch.now():
            raise Invalid(
                f"flight {f.flight} on {g.service_date} can no longer be booked: its ride time has passed",
                f"{f.flight} 便の乗合タクシーは受付を終了しました",
                code="flight_closed",
            )
        other_place = g.other_place_id
        if other_place is not None and other_place not in self.dispatch.places:
            raise Invalid(f"unknown place {other_place!r}", f"場所 {other_place} が見つかりません")
        other_point = self.dispatch.places[other_place].point if other_place else g.other_point
        if other_point is None:
            raise Invalid("give the other end as a place or a point", "乗降場所を指定してください")
        ends = [
            (other_point, other_place, g.other_label),
            (airport.point, airport.place_id, g.airport_label),
        ]
        (o, o_place, o_label), (dst, d_place, d_label) = ends if departure else ends[::-1]
        req = GuestBookingRequest(
            name=g.name,
            phone=g.phone,
            origin=o,
            destination=dst,
            service_date=g.service_date,
            time=TimeRequest(mode, t),
            seats=g.seats,
            wheelchair=g.wheelchair,
            consent_data_reuse=g.consent_data_reuse,
            origin_label=o_label,
            destination_label=d_label,
            origin_place_id=o_place,
            destination_place_id=d_place,
        )
        b = self.dispatch.book_guest(
            req, idempotency_key, op=f"airport_guest_booking:{f.flight}", before_confirm=self._flat_fare
        )
        if b.state in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED):
            self.store.add(
                AirportBooking(
                    b.booking_id,
                    f.flight,
                    g.service_date,
                    f.direction.value,
                    b.rider_id,
                    max(0, g.seats - 1),
                    self._now(),
                )
            )
        return b

    def _book(self, p: Principal, req: QuoteRequest, key: str | None, *, replaces: bool = False) -> Booking:
        q = self.dispatch.quote(p, req)
        if q.state is not BookingStatus.QUOTED:
            raise Conflict(
                f"no vehicle can make it: {q.reason}", f"配車できません: {q.reason}", code="no_vehicle"
            )
        self._flat_fare(q)
        # a re-booking overlaps the booking it replaces until that one is cancelled: intended (#14)
        return self.dispatch.confirm(p, q.booking_id, 0, key, intended=replaces)

    def _flat_fare(self, q: Booking) -> None:
        """Replace the metered fare of every option by the tariff's fixed fare per person."""
        persons = q.seats + q.wheelchairs
        each = self.policy.fare_per_person_yen
        total = each * persons
        line = FareLine(
            "airport_flat",
            f"空港乗合タクシー定額 {each:,}円×{persons}名",
            f"airport shared taxi, fixed ¥{each:,} x {persons}",
            total,
        )
        note = "airport_flat: fixed fare per person from the tariff's [airport] section, not the meter"
        options = tuple(
            replace(
                o,
                fare=replace(
                    o.fare,
                    total_yen=total,
                    fare_before_discounts_yen=total,
                    coefficient=Decimal(1),
                    lines=(line,),
                    notes=(note,),
                    inputs=replace(o.fare.inputs, concession=None, vouchers=0),  # the flat fare takes none
                ),
            )
            for o in q.options
            if o.fare_type == "shared"  # an airport ride is always shared
        )
        with self.dispatch.repo.write() as tx:
            cur = tx.booking(q.booking_id, lock=True)
            if cur is None or cur.state is not BookingStatus.QUOTED:
                raise Conflict("the quote changed meanwhile", "見積が変更されました")
            tx.save_booking(replace(cur, options=options))

    def apply_status(self, statuses: Iterable[FlightStatus]) -> list[Moved]:
        """What a flight-status feed says (``dispatch.airport.parse_flight_status``): every arrival of
        the timetable whose estimated time differs from the delay already applied moves its pickups,
        as an operator's delay would (the audit names the feed). Departures and unknown flights are
        left alone: a late departure changes nobody's pickup, and the feed may list other airports'."""
        moved: list[Moved] = []
        for st in statuses:
            f = self.timetable.find(st.flight, st.service_date)
            if f is None or f.direction is not FlightDirection.ARRIVAL:
                continue
            delay_s = st.estimated_s - f.scheduled_s
            if delay_s == self.store.delay_s(f.flight, st.service_date):
                continue
            if not MIN_DELAY_S <= delay_s <= MAX_DELAY_S:
                log.warning(
                    "flight status: %s on %s is %d s off schedule: ignored",
                    f.flight,
                    st.service_date,
                    delay_s,
                )
                continue
            moved += self.delay(FEED, f.flight, st.service_date, delay_s)
        return moved

    def delay(self, p: Principal, flight: str, d: date, delay_s: int) -> list[Moved]:
        """An arrival is late (or early again): record it and re-book the pickups of that flight that
        have not happened yet. New promises are made before the old bookings are cancelled."""
        if p.role != "operator":
            raise Forbidden("operators only", "オペレーター専用の機能です")
        if not MIN_DELAY_S <= delay_s <= MAX_DELAY_S:
            raise Invalid("delay must be between -60 and 720 minutes", "遅延は-60〜720分で指定してください")
        f = self.flight(flight, d)
        if f.direction is not FlightDirection.ARRIVAL:
            raise Invalid("only arrivals move pickups", "出発便の遅延では迎車時刻は変わりません")
        self.store.set_delay(f.flight, d, delay_s, self.dispatch.now().astimezone(UTC))
        moved: list[Moved] = []
        for ab in self.store.of_flight(f.flight, d):
            old = self.dispatch.booking(p, ab.booking_id)
            if old.state not in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED):
                continue  # cancelled, on board, or already re-booked
            other = Endpoint(
                EndpointKind.PLACE if old.dest_place_id else EndpointKind.POINT,
                place_id=old.dest_place_id,
                point=old.destination if not old.dest_place_id else None,
                label=old.dest_label,
            )
            req = self._request(old.rider_id, f, d, other, ab.companions)
            if old.time_s == req.time.time_s:
                continue  # already timed for this delay
            new = self._book(p, req, None, replaces=True)
            self.dispatch.cancel(
                p,
                old.booking_id,
                f"flight {f.flight} delayed {delay_s // 60} min: re-booked as {new.booking_id}",
            )
            self.store.add(
                AirportBooking(
                    new.booking_id, f.flight, d, f.direction.value, old.rider_id, ab.companions, self._now()
                )
            )
            moved.append(Moved(old.booking_id, new, self.dispatch.read_back(new)))
            log.info("flight %s delay: booking %s -> %s", f.flight, old.booking_id, new.booking_id)
        return moved
