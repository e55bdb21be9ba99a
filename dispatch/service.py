"""The dispatch service: quotes, bookings, runs, driver events, re-optimisation. Routes call this.

Every write happens in one repository transaction that first locks the plan rows it changes; the
promise made to a rider (pickup window, latest arrival, maximum ride time) is stored with the booking
and becomes a hard time window in every later solve, so no insertion, re-optimisation or breakdown
can break it. Company notifications are sent after the commit and never hold a transaction open.

Personal data (names, phones, addresses, destinations) is never logged here: log lines carry
booking, rider and vehicle ids only.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy.exc import IntegrityError

from dispatch.booking import (
    ACTIVE_STATES,
    AuditEntry,
    Booking,
    BookingEvent,
    BookingStatus,
    PromisePolicy,
    RecurrenceRule,
    TimeMode,
    TimeRequest,
    TransitionError,
    VehiclePlan,
    hhmm,
    next_status,
)
from dispatch.domain import (
    Company,
    Consent,
    MobilityNeeds,
    Place,
    ReferenceData,
    Rider,
    Vehicle,
    VehicleKind,
)
from dispatch.live import LiveStore, VehiclePosition
from dispatch.persistence.repository import Claim, Principal, RecurringRule, Repository, Tx
from fares import Concession, FareError, FareInputs, Tariff, VehicleClass
from fares import quote as fare_quote
from geo import LatLon, TravelTimeModel, cell_of, zone_for
from solver import (
    OPEN,
    Problem,
    Request,
    StopKind,
    TimeWindow,
    check,
    insertion_options,
    precheck,
    reoptimise,
    ride_time_limit,
)
from solver import Vehicle as SolverVehicle
from solver.api import build_result
from solver.schedule import PlannedStop, earliest_schedule

log = logging.getLogger("noriai.dispatch")
TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS_JA = "月火水木金土日"
SYSTEM = Principal("system", "scheduler")
GUEST = Principal("public", "trip-planner")
GUEST_RIDER_PREFIX = "G"  # riders registered by the trip planner's guest booking, never by an operator


# --- errors the web layer maps to HTTP --------------------------------------------------------------


class DispatchError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message_en: str, message_ja: str = "", *, code: str | None = None) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_ja = message_ja or message_en
        if code:
            self.code = code


class NotFound(DispatchError):
    status_code = 404
    code = "not_found"


class Conflict(DispatchError):
    status_code = 409
    code = "conflict"


class Invalid(DispatchError):
    status_code = 422
    code = "invalid"


class Forbidden(DispatchError):
    status_code = 403
    code = "forbidden"


# --- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a trip starts or ends, as the operator chose it: the rider's home, a place, or a point."""

    kind: str  # home | place | point
    place_id: str | None = None
    point: LatLon | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    rider_id: str
    origin: Endpoint
    destination: Endpoint
    service_date: date
    time: TimeRequest
    companions: int = 0  # people travelling with the rider, beyond a registered carer
    return_of: str | None = None
    recurring_rule_id: str | None = None


@dataclass(frozen=True, slots=True)
class GuestBookingRequest:
    """A trip booked by the rider from the trip planner (no operator, no prior registration)."""

    name: str
    phone: str
    origin: LatLon
    destination: LatLon
    service_date: date
    time: TimeRequest
    seats: int = 1
    wheelchair: bool = False
    consent_data_reuse: bool = False
    origin_label: str = ""
    destination_label: str = ""
    vehicle_id: str | None = None


@dataclass(frozen=True, slots=True)
class RuleRequest:
    rider_id: str
    origin: Endpoint
    destination: Endpoint
    time: TimeRequest
    rule: RecurrenceRule
    return_mode: str = "none"  # none | at | call
    return_time_s: int | None = None


class Notifier(Protocol):
    def publish(self, company_id: str, event: Mapping[str, Any]) -> None: ...


class _NullNotifier:
    def publish(self, company_id: str, event: Mapping[str, Any]) -> None:
        return None


# --- travel matrix over every point the day has seen ------------------------------------------------


class PointMatrix:
    """Travel times between every point seen so far, grown a row and column at a time.

    Bookings reuse a few hundred points (homes, hospitals, depots), so a quote computes travel only for
    points it has not seen. Arrays are replaced, never changed in place: a running solve keeps its copy.
    """

    def __init__(self, model: TravelTimeModel, max_points: int = 6000) -> None:
        self.model = model
        self.max_points = max_points
        self._lock = threading.Lock()
        self._points: list[LatLon] = []
        self._index: dict[tuple[float, float], int] = {}
        self._dur: npt.NDArray[np.int64] = np.zeros((0, 0), dtype=np.int64)
        self._dist: npt.NDArray[np.int64] = np.zeros((0, 0), dtype=np.int64)

    @staticmethod
    def _key(p: LatLon) -> tuple[float, float]:
        return (round(p.lat, 6), round(p.lon, 6))

    def indices(
        self, points: Sequence[LatLon]
    ) -> tuple[list[int], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        with self._lock:
            fresh: dict[tuple[float, float], LatLon] = {}
            for p in points:
                k = self._key(p)
                if k not in self._index:
                    fresh.setdefault(k, p)
            new = list(fresh.values())
            if len(self._points) + len(new) > self.max_points:
                self._points, self._index = [], {}
                self._dur = self._dist = np.zeros((0, 0), dtype=np.int64)
                new = list({self._key(p): p for p in points}.values())
            if new:
                old = self._points
                allp = old + new
                n0, n = len(old), len(allp)
                dur = np.zeros((n, n), dtype=np.int64)
                dist = np.zeros((n, n), dtype=np.int64)
                dur[:n0, :n0], dist[:n0, :n0] = self._dur, self._dist
                rows = self.model.matrix(new, allp)  # new -> everything
                dur[n0:, :], dist[n0:, :] = rows.duration_s, rows.distance_m
                if n0:
                    cols = self.model.matrix(old, new)  # old -> new
                    dur[:n0, n0:], dist[:n0, n0:] = cols.duration_s, cols.distance_m
                self._points = allp
                for i, p in enumerate(new, start=n0):
                    self._index[self._key(p)] = i
                self._dur, self._dist = dur, dist
            return [self._index[self._key(p)] for p in points], self._dur, self._dist


# --- the day as a solver problem --------------------------------------------------------------------


@dataclass
class DayModel:
    problem: Problem
    plan: dict[str, list[PlannedStop]]
    bookings: dict[str, Booking]
    versions: dict[str, int]
    extra: dict[str, int] = field(default_factory=dict)  # point indices of a request being quoted


def _vehicle_class(kind: VehicleKind) -> VehicleClass:
    return {
        VehicleKind.SEDAN: VehicleClass.SMALL,
        VehicleKind.JUMBO: VehicleClass.JUMBO,
        VehicleKind.WELFARE: VehicleClass.WELFARE,
    }[kind]


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


class DispatchService:
    def __init__(
        self,
        repo: Repository,
        reference: ReferenceData,
        tariff: Tariff,
        travel: TravelTimeModel,
        *,
        live: LiveStore | None = None,
        notifier: Notifier | None = None,
        policy: PromisePolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.repo = repo
        self.reference = reference
        self.tariff = tariff
        self.travel = travel
        self.matrix = PointMatrix(travel)
        self.live = live
        self.notifier: Notifier = notifier or _NullNotifier()
        self.policy = policy or PromisePolicy()
        self.clock = clock or (lambda: datetime.now(TOKYO))
        # Idempotency claims are about requests in flight, so they run on the real clock, not ``clock``.
        self.idempotency_wait_s = 15.0
        self.idempotency_stale_s = 60.0
        self.places: dict[str, Place] = {p.place_id: p for p in reference.places}
        self.companies: dict[str, Company] = {c.company_id: c for c in reference.companies}
        self.vehicles: dict[str, Vehicle] = {v.vehicle_id: v for c in reference.companies for v in c.vehicles}
        self.zones = [z.zone for z in reference.zones]

    # --- time ---------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock().astimezone(TOKYO)

    def service_seconds(self, d: date, at: datetime | None = None) -> int:
        """Seconds after midnight of service day ``d`` (GTFS style: past 86,400 after midnight)."""
        at = (at or self.now()).astimezone(TOKYO)
        midnight = datetime(d.year, d.month, d.day, tzinfo=TOKYO)
        return int((at - midnight).total_seconds())

    def wall_clock(self, d: date, seconds: int) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=TOKYO) + timedelta(seconds=seconds)

    # --- riders -------------------------------------------------------------------------------------
    def search_riders(self, q: str) -> list[Rider]:
        if len(q.strip()) < 1:
            raise Invalid(
                "type at least one character of a name, kana or phone number", "検索語を入力してください"
            )
        with self.repo.read() as tx:
            return tx.search_riders(q)

    def rider(self, rider_id: str) -> Rider:
        with self.repo.read() as tx:
            r = tx.rider(rider_id)
        if r is None:
            raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")
        return r

    # --- endpoints ----------------------------------------------------------------------------------
    def resolve(self, e: Endpoint, rider: Rider) -> tuple[str, LatLon, str | None]:
        if e.kind == "home":
            return (e.label or "自宅", rider.home, None)
        if e.kind == "place":
            p = self.places.get(e.place_id or "")
            if p is None:
                raise Invalid(f"unknown place {e.place_id!r}", f"行き先 {e.place_id} が見つかりません")
            return (p.name, p.point, p.place_id)
        if e.kind == "point" and e.point is not None:
            return (e.label or f"{e.point.lat:.5f},{e.point.lon:.5f}", e.point, None)
        raise Invalid(f"endpoint kind {e.kind!r} needs a place_id or a point", "場所の指定が不正です")

    # --- building the day's problem -----------------------------------------------------------------
    def _request(self, b: Booking, index: Mapping[tuple[float, float], int]) -> Request:
        key = PointMatrix._key
        wheelchair = b.wheelchairs > 0
        arrive_from = 0
        # once aboard, arriving early is no longer a broken promise (the rider chose to get in)
        if b.time_mode == TimeMode.ARRIVE_BY.value and b.time_s is not None and b.picked_up_at_s is None:
            # an appointment: neither late nor needlessly early
            arrive_from = max(0, b.time_s - self.policy.arrive_early_s)
        return Request(
            request_id=b.booking_id,
            pickup=index[key(b.origin)],
            dropoff=index[key(b.destination)],
            seats=b.seats,
            wheelchairs=b.wheelchairs,
            pickup_window=TimeWindow(b.promised_pickup_from_s or 0, b.promised_pickup_to_s or OPEN.latest),
            dropoff_window=TimeWindow(arrive_from, b.promised_arrival_by_s or OPEN.latest),
            boarding_s=self.policy.boarding_wheelchair_s if wheelchair else self.policy.boarding_s,
            alighting_s=self.policy.alighting_s,
            max_ride_time_s=b.max_ride_time_s or OPEN.latest,
            vehicle_id=b.vehicle_id if b.state is BookingStatus.PICKED_UP else None,
            picked_up_at=b.picked_up_at_s if b.state is BookingStatus.PICKED_UP else None,
        )

    def _day_model(
        self,
        tx: Tx,
        d: date,
        *,
        vehicle_ids: Sequence[str] | None = None,
        extra_points: Mapping[str, LatLon] | None = None,
        include_unassigned: bool = False,
    ) -> DayModel:
        plans = tx.plans(d)
        vids = [
            v
            for v in (vehicle_ids if vehicle_ids is not None else sorted(self.vehicles))
            if not plans.get(v, VehiclePlan(v, d)).out_of_service
        ]
        wanted = {bid for v in vids for bid, _ in plans.get(v, VehiclePlan(v, d)).stops}
        statuses = [BookingStatus.SCHEDULED, BookingStatus.PICKED_UP]
        if include_unassigned:
            statuses.append(BookingStatus.CONFIRMED)
        if vehicle_ids is None or include_unassigned:
            day = tx.bookings(service_date=d, statuses=statuses)
        else:
            day = tx.bookings(ids=sorted(wanted)) if wanted else []
        bookings = {
            b.booking_id: b
            for b in day
            if b.booking_id in wanted or (include_unassigned and b.state is BookingStatus.CONFIRMED)
        }
        points: list[LatLon] = [self.companies[self.vehicles[v].company_id].depot for v in vids]
        anchors = {v: plans[v] for v in vids if v in plans and plans[v].anchor is not None}
        points += [p.anchor for p in anchors.values() if p.anchor is not None]
        for b in bookings.values():
            points += [b.origin, b.destination]
        extra = dict(extra_points or {})
        points += list(extra.values())
        idx, dur, dist = self.matrix.indices(points)
        index = {PointMatrix._key(p): i for p, i in zip(points, idx, strict=True)}
        vehicles = []
        for v in vids:
            veh = self.vehicles[v]
            depot = index[PointMatrix._key(self.companies[veh.company_id].depot)]
            start, earliest = depot, veh.shift.start_s
            anchored = anchors.get(v)
            if anchored is not None and anchored.anchor is not None and anchored.anchor_s is not None:
                # the vehicle is out on its run: the rest of its day starts where it last reported
                start = index[PointMatrix._key(anchored.anchor)]
                earliest = min(max(earliest, anchored.anchor_s), veh.shift.end_s)
            vehicles.append(
                SolverVehicle(
                    v,
                    start,
                    depot,
                    TimeWindow(earliest, veh.shift.end_s),
                    veh.seats,
                    veh.wheelchair_places,
                    veh.features,
                )
            )
        requests = {bid: self._request(b, index) for bid, b in bookings.items()}
        problem = Problem(tuple(requests.values()), tuple(vehicles), dur, dist, name=f"day {d}")
        plan: dict[str, list[PlannedStop]] = {}
        for v in vids:
            stops = []
            for bid, kind in plans.get(v, VehiclePlan(v, d)).stops:
                if bid in requests:
                    stops.append((requests[bid], StopKind(kind)))
            plan[v] = stops
        versions = {v: plans[v].version if v in plans else 0 for v in vids}
        extra_idx = {k: index[PointMatrix._key(p)] for k, p in extra.items()}
        return DayModel(problem, plan, bookings, versions, extra_idx)

    # --- quotes -------------------------------------------------------------------------------------
    def quote(self, principal: Principal, req: QuoteRequest) -> Booking:
        """Options for a trip, stored as a ``quoted`` booking (or ``rejected`` with the reason)."""
        with self.repo.read() as tx:
            rider = tx.rider(req.rider_id)
        if rider is None:
            raise NotFound(f"no rider {req.rider_id}", f"利用者 {req.rider_id} は登録されていません")
        olabel, opoint, oplace = self.resolve(req.origin, rider)
        dlabel, dpoint, dplace = self.resolve(req.destination, rider)
        if not 0 <= req.companions <= 8:
            raise Invalid("companions must be 0..8", "同乗者は0〜8人で指定してください")
        bad = self._bad_trip(opoint, dpoint, req.service_date)
        if bad is not None:
            raise Invalid(bad[1], bad[2])
        needs = rider.needs
        wheelchairs = 1 if needs.wheelchair else 0
        seats = req.companions + (1 if needs.companion else 0) + (0 if needs.wheelchair else 1)
        now = self.now()
        b = Booking(
            booking_id=_new_id("B"),
            rider_id=rider.rider_id,
            service_date=req.service_date,
            status=BookingStatus.QUOTED.value,
            created_at=now.astimezone(UTC),
            updated_at=now.astimezone(UTC),
            origin_label=olabel,
            origin_lat=opoint.lat,
            origin_lon=opoint.lon,
            origin_place_id=oplace,
            dest_label=dlabel,
            dest_lat=dpoint.lat,
            dest_lon=dpoint.lon,
            dest_place_id=dplace,
            time_mode=req.time.mode.value,
            time_s=req.time.time_s,
            seats=seats,
            wheelchairs=wheelchairs,
            needs=",".join(k for k in ("wheelchair", "walker", "companion") if getattr(needs, k)),
            return_of=req.return_of,
            recurring_rule_id=req.recurring_rule_id,
        )
        b = self._fill_options(b, rider)
        with self.repo.write() as tx:
            tx.save_booking(b)
            tx.audit(
                self._entry(
                    b,
                    principal,
                    BookingEvent.REJECT if b.state is BookingStatus.REJECTED else "quote",
                    None,
                    {"options": len(json.loads(b.options_json)), "reason": b.reason},
                )
            )
        log.info(
            "quote %s rider=%s status=%s options=%d",
            b.booking_id,
            b.rider_id,
            b.status,
            len(json.loads(b.options_json)),
        )
        return b

    def _bad_trip(self, origin: LatLon, destination: LatLon, d: date) -> tuple[str, str, str] | None:
        """Why no vehicle can be asked for this trip at all: (code, English, Japanese), or None."""
        if PointMatrix._key(origin) == PointMatrix._key(destination):
            return ("same_place", "origin and destination are the same place", "出発地と目的地が同じです")
        today = self.now().date()
        if d < today or d > today + timedelta(days=60):
            return (
                "bad_date",
                f"service date {d} is outside today .. 60 days ahead",
                f"{d} は予約できる日（本日〜60日後）ではありません",
            )
        return None

    def preview(
        self, origin: LatLon, destination: LatLon, d: date, time: TimeRequest, *, seats: int = 1
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Options for a trip by nobody in particular (the trip planner's taxi leg): the same insertion
        and fixed fare as ``quote``, nothing stored. Returns (options, None) or ([], reason)."""
        bad = self._bad_trip(origin, destination, d)
        if bad is not None:
            return [], f"{bad[0]}: {bad[1]} / {bad[2]}"
        now = self.now().astimezone(UTC)
        b = Booking(
            booking_id="PREVIEW",
            rider_id="",
            service_date=d,
            status=BookingStatus.QUOTED.value,
            created_at=now,
            updated_at=now,
            origin_label="",
            origin_lat=origin.lat,
            origin_lon=origin.lon,
            dest_label="",
            dest_lat=destination.lat,
            dest_lon=destination.lon,
            time_mode=time.mode.value,
            time_s=time.time_s,
            seats=max(1, seats),
        )
        b = self._fill_options(b, None)
        if b.state is BookingStatus.REJECTED:
            return [], b.reason
        return json.loads(b.options_json), None

    def book_guest(self, g: GuestBookingRequest, idempotency_key: str | None = None) -> Booking:
        """A booking made by the rider themself from the trip planner, quoted and confirmed in one step.

        A guest is never matched to a rider an operator registered, even with the same phone number:
        the booking is made for a guest rider with the name typed here, so the answer never reveals a
        registered rider's name and never applies their discounts. A guest rider with the same phone and
        name is reused. A retry with the same idempotency key and body returns the same booking."""
        name = g.name.strip()
        digits = "".join(ch for ch in g.phone if ch in "0123456789")
        if not 1 <= len(name) <= 60:
            raise Invalid("name must be 1..60 characters", "お名前を入力してください（60文字以内）")
        if not 10 <= len(digits) <= 11 or not digits.startswith("0"):
            raise Invalid(
                "phone must be a Japanese number of 10 or 11 digits", "電話番号（10〜11桁）を入力してください"
            )
        if not idempotency_key:
            return self._book_guest(g, name, digits, None)
        request = {"op": "guest_booking", **asdict(g)}
        return self._idempotent(
            GUEST, idempotency_key, request, lambda scope: self._book_guest(g, name, digits, scope)
        )

    def _book_guest(self, g: GuestBookingRequest, name: str, digits: str, scope: str | None) -> Booking:
        with self.repo.write() as tx:
            rider = next(
                (
                    r
                    for r in tx.riders_by_phone(digits)
                    if r.rider_id.startswith(GUEST_RIDER_PREFIX) and r.name == name
                ),
                None,
            )
            if rider is None:
                phone = f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
                rider = Rider(
                    rider_id=_new_id(GUEST_RIDER_PREFIX),
                    name=name,
                    kana="",
                    phone=phone,
                    home=g.origin,
                    district="",
                    birth_year=0,
                    needs=MobilityNeeds(wheelchair=g.wheelchair),
                    disability_certificate=False,
                    welfare_bus_pass=False,
                    consent=Consent(data_reuse=g.consent_data_reuse),
                )
                tx.add_rider(rider)
                log.info("guest rider %s registered from the trip planner", rider.rider_id)
        b = self.quote(
            GUEST,
            QuoteRequest(
                rider.rider_id,
                Endpoint("point", point=g.origin, label=g.origin_label),
                Endpoint("point", point=g.destination, label=g.destination_label),
                g.service_date,
                g.time,
                companions=max(0, g.seats - 1),
            ),
        )
        if b.state is BookingStatus.REJECTED:
            if scope is not None:  # a retry gets the same refusal, not a second quote
                with self.repo.write() as tx:
                    tx.finish_idempotency(scope, b.booking_id)
            return b
        options = json.loads(b.options_json)
        pick = 0
        if g.vehicle_id is not None:  # keep the option the rider saw, when it is still there
            pick = next((i for i, o in enumerate(options) if o["vehicle_id"] == g.vehicle_id), 0)
        return self._confirm(GUEST, b.booking_id, pick, scope)

    def _fill_options(self, b: Booking, rider: Rider | None) -> Booking:
        p = self.policy
        d = b.service_date
        direct = self.travel.leg(b.origin, b.destination)
        max_ride = ride_time_limit(direct.duration_s, p.ride_factor, p.ride_extra_s)
        boarding = p.boarding_wheelchair_s if b.wheelchairs else p.boarding_s
        lead = self.service_seconds(d) + 10 * 60  # nothing can be offered sooner than 10 min from now
        assert b.time_s is not None
        t = b.time_s
        if b.time_mode == TimeMode.PICKUP_AFTER.value:
            pw = (max(t, lead), t + p.search_after_s)
            dw = (0, OPEN.latest)
        else:
            dw = (t - p.arrive_early_s, t)
            pw = (max(t - p.arrive_early_s - max_ride, lead), t - boarding - direct.duration_s)
        if pw[0] > pw[1]:
            return replace(
                b,
                status=BookingStatus.REJECTED.value,
                reason="too_late: that time has passed or is too close / 時間が過ぎているか、直前すぎます",
            )
        with self.repo.read() as tx:  # plan rows may not exist yet: confirm creates them before locking
            model = self._day_model(tx, d, extra_points={"o": b.origin, "d": b.destination})
        req = Request(
            request_id=b.booking_id,
            pickup=model.extra["o"],
            dropoff=model.extra["d"],
            seats=b.seats,
            wheelchairs=b.wheelchairs,
            pickup_window=TimeWindow(*pw),
            dropoff_window=TimeWindow(*dw),
            boarding_s=boarding,
            alighting_s=p.alighting_s,
            max_ride_time_s=max_ride,
        )
        opts = insertion_options(model.problem, model.plan, req, max_options=3)
        if not opts:
            reason = precheck(model.problem, req)
            text = (
                f"{reason.name.lower()}: {reason.value}"
                if reason
                else "full: every vehicle is busy at that time"
            )
            ja = "その時間帯は空き車両がありません" if reason is None else "条件に合う車両がありません"
            return replace(b, status=BookingStatus.REJECTED.value, reason=f"{text} / {ja}")
        options = []
        concession = Concession.DISABILITY if rider is not None and rider.disability_certificate else None
        zone = zone_for(b.origin, self.zones)
        for o in opts:
            veh = self.vehicles[o.vehicle_id]
            company = self.companies[veh.company_id]
            promised_from = max(pw[0], o.pickup_s - p.pickup_window_before_s)
            promised_to = o.pickup_s + p.pickup_window_after_s
            arrive_by = t if b.time_mode == TimeMode.ARRIVE_BY.value else None
            try:
                fq = fare_quote(
                    FareInputs(
                        self.tariff.tariff_id,
                        self.tariff.version,
                        direct.distance_m,
                        direct.duration_s,
                        self.wall_clock(d, o.pickup_s).replace(tzinfo=None),
                        vehicle_class=_vehicle_class(veh.kind),
                        area_id=zone.zone_id if zone else None,
                        concession=concession,
                    ),
                    self.tariff,
                )
            except FareError as exc:
                raise Invalid(f"cannot price this trip: {exc}", "運賃を計算できません") from None
            options.append(
                {
                    "vehicle_id": o.vehicle_id,
                    "company_id": company.company_id,
                    "company_name": company.name,
                    "vehicle_kind": veh.kind.value,
                    "pickup_s": o.pickup_s,
                    "dropoff_s": o.dropoff_s,
                    "pickup_from_s": promised_from,
                    "pickup_to_s": promised_to,
                    "arrive_by_s": arrive_by,
                    "max_ride_time_s": max_ride,
                    "direct_distance_m": direct.distance_m,
                    "shared": len(o.stops) > 2 and self._overlaps(o.stops, b.booking_id, o.schedule),
                    "fare_yen": fq.total_yen,
                    "fare": fq.to_dict(),
                    "plan_version": model.versions.get(o.vehicle_id, 0),
                }
            )
        expires = self.now() + timedelta(seconds=p.quote_valid_s)
        return replace(b, options_json=json.dumps(options), quote_expires_at=expires.astimezone(UTC))

    @staticmethod
    def _overlaps(stops: Sequence[PlannedStop], booking_id: str, schedule: Sequence[int]) -> bool:
        """Whether another rider is aboard at some point of this rider's trip."""
        aboard: set[str] = set()
        mine = False
        for (r, kind), _t in zip(stops, schedule[1:-1], strict=True):
            if r.request_id == booking_id:
                if kind is StopKind.PICKUP:
                    mine = True
                    if aboard:
                        return True
                else:
                    return bool(aboard)
            elif kind is StopKind.PICKUP:
                aboard.add(r.request_id)
                if mine:
                    return True
            else:
                aboard.discard(r.request_id)
        return False

    # --- confirm ------------------------------------------------------------------------------------
    def confirm(
        self, principal: Principal, booking_id: str, option: int, idempotency_key: str | None = None
    ) -> Booking:
        """Book one of the quoted options. Retries with the same idempotency key (or a second click on
        the same option) return the same booking. The key belongs to the caller and to this request:
        another caller's key is a different key, and the same key with another booking or option is
        refused (``idempotency_key_mismatch``)."""
        if not idempotency_key:
            return self._confirm(principal, booking_id, option, None)
        request = {"op": "confirm", "booking_id": booking_id, "option": option}
        return self._idempotent(
            principal,
            idempotency_key,
            request,
            lambda scope: self._confirm(principal, booking_id, option, scope),
        )

    def _idempotent(
        self,
        principal: Principal,
        key: str,
        request: Mapping[str, Any],
        work: Callable[[str], Booking],
    ) -> Booking:
        """Run ``work`` once per (caller, key). The key is claimed in the database before the work
        starts, so concurrent retries wait for the first answer (instead of racing it) and then get the
        same booking; a claim whose work failed is released so that a retry can do it again."""
        scope = hashlib.sha256(f"{principal.actor}\x00{key}".encode()).hexdigest()
        digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
        deadline = time.monotonic() + self.idempotency_wait_s
        pause = 0.02
        while True:
            try:
                with self.repo.write() as tx:
                    claim = tx.claim_idempotency(scope, digest, datetime.now(UTC), self.idempotency_stale_s)
            except IntegrityError:  # a concurrent request claimed the same key first: wait for it
                claim = Claim("in_progress")
            if claim.state == "mismatch":
                raise Invalid(
                    "this Idempotency-Key was already used for a different request",
                    "この操作キーは別の内容の申込みで使われています。新しいキーでやり直してください",
                    code="idempotency_key_mismatch",
                )
            if claim.state == "done":
                assert claim.booking_id is not None
                with self.repo.read() as tx:
                    done = tx.booking(claim.booking_id)
                assert done is not None
                return done
            if claim.state == "new":
                break
            if time.monotonic() > deadline:
                raise Conflict(
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                    "同じ操作キーの申込みを処理中です。少し待ってからもう一度お試しください",
                    code="idempotency_in_progress",
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
        try:
            return work(scope)
        except BaseException:
            with self.repo.write() as tx:
                tx.release_idempotency(scope)
            raise

    def _confirm(self, principal: Principal, booking_id: str, option: int, scope: str | None) -> Booking:
        """Confirm without key handling; ``scope`` (a claimed idempotency key) is finished in the
        booking's own transaction, so the key points at the booking exactly when the booking exists."""
        with self.repo.read() as tx:
            b0 = tx.booking(booking_id)
        if b0 is None:
            raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
        if b0.state is BookingStatus.QUOTED:
            self.repo.ensure_plans(sorted(self.vehicles), b0.service_date)
        with self.repo.write() as tx:
            b = tx.booking(booking_id, lock=True)
            assert b is not None
            if b.state in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED) and b.chosen_option == option:
                if scope is not None:
                    tx.finish_idempotency(scope, b.booking_id)
                return b  # a double click: already booked with this option
            if b.state is not BookingStatus.QUOTED:
                raise Conflict(
                    f"booking {booking_id} is {b.status}, it cannot be confirmed",
                    f"この予約は「{b.state.label_ja}」のため確定できません",
                    code="bad_state",
                )
            if b.quote_expires_at is not None and _aware(b.quote_expires_at) < self.now():
                raise Conflict(
                    "the quote has expired; quote again",
                    "見積の有効期限が切れました。もう一度検索してください",
                    code="quote_expired",
                )
            options = json.loads(b.options_json)
            if not 0 <= option < len(options):
                raise Invalid(f"option must be 0..{len(options) - 1}", "選択肢の番号が不正です")
            opt = options[option]
            vid = opt["vehicle_id"]
            plan = tx.plan(vid, b.service_date, lock=True)
            if plan.out_of_service:
                raise Conflict(
                    "that vehicle is out of service; quote again",
                    "その車両は運休中です。再検索してください",
                    code="option_gone",
                )
            promised = replace(
                b,
                promised_pickup_from_s=opt["pickup_from_s"],
                promised_pickup_to_s=opt["pickup_to_s"],
                promised_arrival_by_s=opt["arrive_by_s"],
                max_ride_time_s=opt["max_ride_time_s"],
            )
            model = self._day_model(
                tx, b.service_date, vehicle_ids=[vid], extra_points={"o": b.origin, "d": b.destination}
            )
            req = self._request(
                promised,
                {
                    PointMatrix._key(b.origin): model.extra["o"],
                    PointMatrix._key(b.destination): model.extra["d"],
                },
            )
            got = insertion_options(model.problem, model.plan, req, max_options=1, max_checks_per_vehicle=400)
            if not got:
                raise Conflict(
                    "that option was just taken by another booking; quote again",
                    "この便は直前に他の予約で埋まりました。もう一度検索してください",
                    code="option_gone",
                )
            ins = got[0]
            now = self.now().astimezone(UTC)
            confirmed = replace(
                promised,
                status=BookingStatus.SCHEDULED.value,
                updated_at=now,
                chosen_option=option,
                vehicle_id=vid,
                company_id=opt["company_id"],
                fare_yen=opt["fare_yen"],
                fare_json=json.dumps(opt["fare"]),
                idempotency_key=scope,
                planned_pickup_s=ins.pickup_s,
                planned_dropoff_s=ins.dropoff_s,
                quote_expires_at=None,
            )
            tx.save_booking(confirmed)
            if scope is not None:
                tx.finish_idempotency(scope, booking_id)
            tx.audit(
                self._entry(
                    b,
                    principal,
                    BookingEvent.CONFIRM,
                    BookingStatus.CONFIRMED,
                    {"option": option, "fare_yen": opt["fare_yen"]},
                )
            )
            tx.audit(
                self._entry(
                    replace(b, status=BookingStatus.CONFIRMED.value),
                    principal,
                    BookingEvent.ASSIGN,
                    BookingStatus.SCHEDULED,
                    {"vehicle_id": vid},
                )
            )
            new_stops = tuple((r.request_id, k.value) for r, k in ins.stops)
            self._write_plan(
                tx,
                replace(plan, stops=new_stops, version=plan.version + 1),
                dict(ins_times(ins.stops, ins.schedule)),
                model.bookings,
            )
        log.info("booked %s vehicle=%s fare_yen=%s", booking_id, vid, opt["fare_yen"])
        self._notify_run(opt["company_id"], vid, b.service_date, plan.version + 1, "booking_added")
        return confirmed

    def _write_plan(
        self,
        tx: Tx,
        plan: VehiclePlan,
        times: Mapping[tuple[str, str], int],
        bookings: Mapping[str, Booking],
    ) -> None:
        """Store a vehicle's new stop order and refresh the planned times of the riders on it."""
        tx.save_plan(plan)
        updates: dict[str, dict[str, Any]] = {}
        for bid, kind in plan.stops:
            b = bookings.get(bid)
            t = times.get((bid, kind))
            field_name = "planned_pickup_s" if kind == "pickup" else "planned_dropoff_s"
            if b is not None and t is not None and getattr(b, field_name) != t:
                updates.setdefault(bid, {})[field_name] = t
        for bid, upd in updates.items():
            tx.save_booking(replace(bookings[bid], **upd))

    # --- cancellations and driver events ------------------------------------------------------------
    def cancel(self, principal: Principal, booking_id: str, reason: str = "") -> Booking:
        return self._transition(principal, booking_id, BookingEvent.CANCEL, detail={"reason": reason[:200]})

    def stop_event(self, principal: Principal, booking_id: str, event: BookingEvent) -> Booking:
        if event not in (
            BookingEvent.ARRIVE,
            BookingEvent.PICK_UP,
            BookingEvent.NO_SHOW,
            BookingEvent.DROP_OFF,
        ):
            raise Invalid(f"{event.value} is not a stop event", "運行報告の種類が不正です")
        return self._transition(principal, booking_id, event)

    def _transition(
        self, principal: Principal, booking_id: str, event: BookingEvent, detail: dict[str, Any] | None = None
    ) -> Booking:
        with self.repo.read() as tx:
            b0 = tx.booking(booking_id)
        if b0 is None or (principal.role == "company" and b0.company_id != principal.company_id):
            raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
        with self.repo.write() as tx:
            plan = tx.plan(b0.vehicle_id, b0.service_date, lock=True) if b0.vehicle_id else None
            b = tx.booking(booking_id, lock=True)
            assert b is not None
            if b.vehicle_id != b0.vehicle_id:  # moved by a re-optimisation between our read and lock
                raise Conflict(
                    "the booking moved to another vehicle just now; try again",
                    "予約の車両が変更されました。もう一度操作してください",
                    code="retry",
                )
            try:
                new = next_status(b.state, event)
            except TransitionError as exc:
                raise Conflict(
                    str(exc), f"「{b.state.label_ja}」の予約にこの操作はできません", code="bad_state"
                ) from None
            t = self.service_seconds(b.service_date)
            if event is not BookingEvent.CANCEL and not 0 <= t < 2 * 86_400:
                raise Conflict(
                    f"booking {booking_id} is for {b.service_date}; drivers report on the service day",
                    f"この予約は{b.service_date.month}月{b.service_date.day}日の運行です",
                    code="not_today",
                )
            upd: dict[str, Any] = {"status": new.value, "updated_at": self.now().astimezone(UTC)}
            if event is BookingEvent.ARRIVE:
                upd["arrived_at_s"] = t
            elif event is BookingEvent.PICK_UP:
                upd["picked_up_at_s"] = t
            elif event is BookingEvent.DROP_OFF:
                upd["dropped_off_at_s"] = t
            elif event is BookingEvent.CANCEL:
                upd["reason"] = (detail or {}).get("reason") or None
            changed = replace(b, **upd)
            tx.save_booking(changed)
            tx.audit(self._entry(b, principal, event, new, detail or {}))
            new_version = None
            if plan is not None:
                remove = {
                    BookingEvent.PICK_UP: "pickup",
                    BookingEvent.DROP_OFF: "dropoff",
                }.get(event)
                if event in (BookingEvent.CANCEL, BookingEvent.NO_SHOW):
                    stops = plan.without(booking_id)
                elif remove is not None:
                    stops = plan.without(booking_id, remove)
                else:
                    stops = plan.stops
                if stops != plan.stops or event is BookingEvent.ARRIVE:
                    new_version = plan.version + 1
                    new_plan = replace(plan, stops=stops, version=new_version)
                    if event is not BookingEvent.CANCEL:  # a driver report: the vehicle is at that stop now
                        at = b.destination if event is BookingEvent.DROP_OFF else b.origin
                        new_plan = replace(new_plan, anchor_lat=at.lat, anchor_lon=at.lon, anchor_s=t)
                    self._retime(tx, new_plan, {booking_id: changed})
        log.info("booking %s %s -> %s by %s", booking_id, b.status, new.value, principal.role)
        if new_version is not None and b.company_id and b.vehicle_id:
            self._notify_run(
                b.company_id, b.vehicle_id, b.service_date, new_version, f"booking_{event.value}"
            )
        return changed

    def _retime(self, tx: Tx, plan: VehiclePlan, changed: Mapping[str, Booking]) -> None:
        """Store a plan after stops were removed, with fresh planned times when the route still times."""
        tx.save_plan(plan)
        model = self._day_model(tx, plan.service_date, vehicle_ids=[plan.vehicle_id])
        bookings = {**model.bookings, **changed}
        by_id = {r.request_id: r for r in model.problem.requests}
        stops = [(by_id[bid], StopKind(k)) for bid, k in plan.stops if bid in by_id]
        veh = model.problem.vehicles[0] if model.problem.vehicles else None
        sched = earliest_schedule(model.problem, veh, stops) if veh is not None else None
        times = dict(ins_times(stops, sched)) if sched is not None else {}
        self._write_plan(tx, plan, times, bookings)

    # --- re-optimisation and breakdowns -------------------------------------------------------------
    def reoptimise_day(self, d: date, *, time_limit_s: float = 5.0, seed: int = 0) -> dict[str, Any]:
        """Improve the whole day from its current plan. Solves outside any transaction; commits only if
        no plan changed meanwhile (else reports ``stale`` and changes nothing)."""
        with self.repo.read() as tx:
            model = self._day_model(tx, d, include_unassigned=True)
        before = sum(_route_distance(model.problem, v, s) for v, s in model.plan.items())
        if not model.problem.requests:
            return {"status": "empty", "moved": 0, "distance_before_m": 0, "distance_after_m": 0}
        result = reoptimise(model.problem, model.plan, time_limit_s=time_limit_s, seed=seed)
        after = result.distance_m
        changed_runs: list[tuple[str, str, int]] = []  # (company, vehicle, new plan version)
        moved = 0
        with self.repo.write() as tx:
            plans = tx.plans(d, lock=True)
            if any(plans[v].version != ver for v, ver in model.versions.items() if v in plans):
                return {
                    "status": "stale",
                    "moved": 0,
                    "distance_before_m": before,
                    "distance_after_m": before,
                }
            routes = {r.vehicle_id: r for r in result.routes}
            fresh = {b.booking_id: b for b in tx.bookings(ids=sorted(model.bookings))}
            for vid in model.versions:
                route = routes.get(vid)
                new_stops = tuple((s.request_id, s.kind.value) for s in route.stops) if route else ()
                old = plans.get(vid, VehiclePlan(vid, d))
                if new_stops == old.stops:
                    continue
                times = {(s.request_id, s.kind.value): s.time_s for s in route.stops} if route else {}
                for bid, _k in new_stops:
                    b = fresh[bid]
                    if b.vehicle_id != vid:
                        moved += 1
                        company = self.vehicles[vid].company_id
                        tx.audit(
                            self._entry(
                                b,
                                SYSTEM,
                                BookingEvent.ASSIGN,
                                BookingStatus.SCHEDULED,
                                {"vehicle_id": vid, "from": b.vehicle_id, "by": "reoptimise"},
                            )
                        )
                        fresh[bid] = replace(
                            b, vehicle_id=vid, company_id=company, status=BookingStatus.SCHEDULED.value
                        )
                        tx.save_booking(fresh[bid])
                new_plan = replace(old, stops=new_stops, version=old.version + 1)
                self._write_plan(tx, new_plan, times, fresh)
                changed_runs.append((self.vehicles[vid].company_id, vid, new_plan.version))
        # A booking that changed vehicle left its old plan too, so both companies are in this list.
        for company_id, vid, version in changed_runs:
            self._notify_run(company_id, vid, d, version, "reoptimised")
        log.info("reoptimised %s: %d -> %d m, %d moved", d, before, after, moved)
        return {
            "status": "ok",
            "moved": moved,
            "distance_before_m": before,
            "distance_after_m": after,
            "unassigned": sorted(result.unassigned),
            "runtime_s": round(result.runtime_s, 3),
        }

    def vehicle_breakdown(self, principal: Principal, vehicle_id: str, d: date) -> dict[str, Any]:
        """Take a vehicle out of service for the day and move its waiting riders to other vehicles,
        keeping their promised windows. Riders nobody can take go back to ``confirmed`` for an operator."""
        veh = self.vehicles.get(vehicle_id)
        if veh is None or (principal.role == "company" and veh.company_id != principal.company_id):
            raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
        self.repo.ensure_plans(sorted(self.vehicles), d)
        moved: dict[str, str] = {}
        stranded: list[str] = []
        notify: dict[tuple[str, str], int] = {}
        with self.repo.write() as tx:
            plans = tx.plans(d, lock=True)
            broken = plans[vehicle_id]
            waiting = [bid for bid, k in broken.stops if k == "pickup"]
            kept = tuple(s for s in broken.stops if s[0] not in set(waiting))  # riders already aboard stay
            tx.save_plan(replace(broken, stops=kept, out_of_service=True, version=broken.version + 1))
            notify[(veh.company_id, vehicle_id)] = broken.version + 1
            bookings = {b.booking_id: b for b in tx.bookings(ids=waiting)}
            extra = {
                f"{bid}:{end}": p
                for bid, b in bookings.items()
                for end, p in (("o", b.origin), ("d", b.destination))
            }
            model = self._day_model(tx, d, extra_points=extra)
            key = PointMatrix._key
            for bid in sorted(waiting, key=lambda x: bookings[x].promised_pickup_from_s or 0):
                b = bookings[bid]
                req = self._request(
                    replace(b, status=BookingStatus.CONFIRMED.value),
                    {key(b.origin): model.extra[f"{bid}:o"], key(b.destination): model.extra[f"{bid}:d"]},
                )
                opts = insertion_options(
                    model.problem, model.plan, req, max_options=1, max_checks_per_vehicle=400
                )
                if not opts:
                    stranded.append(bid)
                    tx.save_booking(
                        replace(
                            b,
                            status=BookingStatus.CONFIRMED.value,
                            vehicle_id=None,
                            company_id=None,
                            reason="needs_operator: vehicle breakdown / 車両故障・要対応",
                        )
                    )
                    tx.audit(
                        self._entry(
                            b,
                            principal,
                            BookingEvent.UNASSIGN,
                            BookingStatus.CONFIRMED,
                            {"from": vehicle_id, "why": "breakdown"},
                        )
                    )
                    continue
                o = opts[0]
                new_v = self.vehicles[o.vehicle_id]
                model.plan[o.vehicle_id] = list(o.stops)
                moved[bid] = o.vehicle_id
                b2 = replace(b, vehicle_id=o.vehicle_id, company_id=new_v.company_id)
                tx.save_booking(b2)
                tx.audit(
                    self._entry(
                        b,
                        principal,
                        BookingEvent.ASSIGN,
                        BookingStatus.SCHEDULED,
                        {"vehicle_id": o.vehicle_id, "from": vehicle_id, "why": "breakdown"},
                    )
                )
                old = plans[o.vehicle_id]
                new_plan = replace(
                    old, stops=tuple((r.request_id, k.value) for r, k in o.stops), version=old.version + 1
                )
                plans[o.vehicle_id] = new_plan
                others = {x.booking_id: x for x in tx.bookings(ids=[s[0] for s in new_plan.stops])}
                self._write_plan(tx, new_plan, dict(ins_times(o.stops, o.schedule)), {**others, bid: b2})
                notify[(new_v.company_id, o.vehicle_id)] = new_plan.version
        for (company_id, vid), version in notify.items():
            self._notify_run(company_id, vid, d, version, "breakdown")
        log.warning(
            "vehicle %s out of service on %s: %d moved, %d need an operator",
            vehicle_id,
            d,
            len(moved),
            len(stranded),
        )
        return {"vehicle_id": vehicle_id, "moved": moved, "needs_operator": stranded}

    def check_day(self, d: date) -> list[str]:
        """Independent audit of a day: every plan times out within every promise and capacity (checked
        by ``solver.check``, which shares no code with the insertion), every scheduled or on-board
        booking sits in exactly one plan, and nothing else does. Empty list = all good."""
        out: list[str] = []
        with self.repo.read() as tx:
            plans = tx.plans(d)
            active = {b.booking_id: b for b in tx.bookings(service_date=d, statuses=list(ACTIVE_STATES))}
            model = self._day_model(tx, d)
        seen: dict[str, str] = {}
        for vid, plan in plans.items():
            for bid, kind in plan.stops:
                if bid not in active:
                    out.append(f"{vid}: {bid} is in the plan but not scheduled or on board")
                if kind == "dropoff":
                    if seen.get(bid, vid) != vid:
                        out.append(f"{bid} is in the plans of {seen[bid]} and {vid}")
                    seen[bid] = vid
        for bid, b in active.items():
            if bid not in seen:
                out.append(f"{bid} ({b.status}) is in no vehicle's plan")
            elif b.vehicle_id != seen[bid]:
                out.append(f"{bid} says vehicle {b.vehicle_id} but rides in {seen[bid]}")
        try:
            result = build_result(model.problem, model.plan, {}, status="audit", started=0.0)
        except AssertionError as exc:
            return [*out, str(exc)]
        out += [str(v) for v in check(model.problem, result)]
        return out

    def reusable_trips(self, d: date, resolution: int = 8) -> list[dict[str, Any]]:
        """The day's trips for analysis and simulation, from riders who opted in to data reuse only.

        No names, phones, rider ids or coordinates: origins and destinations become H3 cells
        (resolution 8, about 0.7 km^2), so a trip cannot be traced to a home."""
        with self.repo.read() as tx:
            day = tx.bookings(service_date=d)
            consent = {
                rid: bool(r and r.consent.data_reuse)
                for rid in {b.rider_id for b in day}
                for r in [tx.rider(rid)]
            }
        out = []
        for b in day:
            if not consent.get(b.rider_id) or b.state in (BookingStatus.QUOTED, BookingStatus.ON_CALL):
                continue
            out.append(
                {
                    "service_date": d.isoformat(),
                    "status": b.status,
                    "origin_cell": cell_of(b.origin, resolution),
                    "destination_cell": cell_of(b.destination, resolution),
                    "destination_kind": self.places[b.dest_place_id].kind.value
                    if b.dest_place_id in self.places
                    else None,
                    "time_mode": b.time_mode,
                    "requested_s": b.time_s,
                    "planned_pickup_s": b.planned_pickup_s,
                    "planned_dropoff_s": b.planned_dropoff_s,
                    "seats": b.seats,
                    "wheelchairs": b.wheelchairs,
                    "fare_yen": b.fare_yen,
                    "reason": (b.reason or "").split(":")[0] or None
                    if b.state is BookingStatus.REJECTED
                    else None,
                }
            )
        return out

    # --- runs for companies -------------------------------------------------------------------------
    def runs(self, principal: Principal, d: date, vehicle_id: str | None = None) -> list[dict[str, Any]]:
        """Each vehicle's run for the day: completed stops, then the planned ones in order, with what
        the driver needs (rider's name and phone, window, passengers, needs, fare to collect)."""
        if principal.role == "company":
            vids = [v.vehicle_id for v in self.companies[principal.company_id or ""].vehicles]
        else:
            vids = sorted(self.vehicles)
        if vehicle_id is not None:
            if vehicle_id not in vids:
                raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
            vids = [vehicle_id]
        with self.repo.read() as tx:
            plans = tx.plans(d)
            day = [b for b in tx.bookings(service_date=d) if b.vehicle_id in vids]
            riders = {rid: tx.rider(rid) for rid in {b.rider_id for b in day}}
        by_id = {b.booking_id: b for b in day}
        out = []
        for vid in vids:
            veh = self.vehicles[vid]
            plan = plans.get(vid, VehiclePlan(vid, d))
            stops: list[dict[str, Any]] = []
            done = [b for b in day if b.vehicle_id == vid and b.state not in ACTIVE_STATES]
            for b in by_id.values():
                if b.vehicle_id == vid and b.state is BookingStatus.PICKED_UP:
                    done.append(b)
            done_events = []
            for b in done:
                if b.picked_up_at_s is not None:
                    done_events.append((b.picked_up_at_s, b, "pickup", "done"))
                if b.dropped_off_at_s is not None:
                    done_events.append((b.dropped_off_at_s, b, "dropoff", "done"))
                if b.state is BookingStatus.NO_SHOW:
                    done_events.append((b.planned_pickup_s or 0, b, "pickup", "no_show"))
            for _t, b, kind, state in sorted(done_events, key=lambda x: x[0]):
                stops.append(self._stop_view(b, kind, riders.get(b.rider_id), state))
            for bid, kind in plan.stops:
                pb = by_id.get(bid)
                if pb is not None:
                    stops.append(self._stop_view(pb, kind, riders.get(pb.rider_id), "planned"))
            reading = self.live.get_position(vid) if self.live else None
            position = None
            if reading is not None and reading.position is not None:
                position = {
                    "lat": reading.position.point.lat,
                    "lon": reading.position.point.lon,
                    "reported_at_unix": reading.position.reported_at_unix,
                }
            self._live_etas(d, stops, reading.position if reading else None)
            company = self.companies[veh.company_id]
            out.append(
                {
                    "vehicle_id": vid,
                    "company_id": veh.company_id,
                    "plate": veh.plate,
                    "kind": veh.kind.value,
                    "seats": veh.seats,
                    "wheelchair_places": veh.wheelchair_places,
                    "shift": [hhmm(veh.shift.start_s), hhmm(veh.shift.end_s)],
                    "depot": {"name": company.depot_name, "lat": company.depot.lat, "lon": company.depot.lon},
                    "service_date": d.isoformat(),
                    "version": plan.version,
                    "out_of_service": plan.out_of_service,
                    "position": position,
                    "live_stale": bool(reading.stale) if reading else False,
                    "stops": stops,
                }
            )
        return out

    def _stop_view(self, b: Booking, kind: str, rider: Rider | None, state: str) -> dict[str, Any]:
        pickup = kind == "pickup"
        return {
            "booking_id": b.booking_id,
            "kind": kind,
            "kind_ja": "乗車" if pickup else "降車",
            "state": state,
            "booking_status": b.status,
            "booking_status_ja": b.state.label_ja,
            "rider_name": rider.name if rider else "",
            "rider_phone": rider.phone if rider else "",
            "place": b.origin_label if pickup else b.dest_label,
            "lat": b.origin_lat if pickup else b.dest_lat,
            "lon": b.origin_lon if pickup else b.dest_lon,
            "window": [b.promised_pickup_from_s, b.promised_pickup_to_s] if pickup else None,
            "arrive_by_s": None if pickup else b.promised_arrival_by_s,
            "planned_s": b.planned_pickup_s if pickup else b.planned_dropoff_s,
            "planned": hhmm(x) if (x := (b.planned_pickup_s if pickup else b.planned_dropoff_s)) else None,
            "seats": b.seats,
            "wheelchairs": b.wheelchairs,
            "needs": [n for n in b.needs.split(",") if n],
            "fare_to_collect_yen": b.fare_yen if pickup else None,
        }

    def _live_etas(self, d: date, stops: list[dict[str, Any]], pos: VehiclePosition | None) -> None:
        """ETAs from the vehicle's last position: travel to the next stop, then along the plan."""
        planned = [s for s in stops if s["state"] == "planned"]
        if pos is None or not planned:
            return
        now_s = self.service_seconds(d)
        here = pos.point
        t = now_s
        for s in planned:
            leg = self.travel.leg(here, LatLon(s["lat"], s["lon"]))
            t += leg.duration_s
            t = max(t, s["planned_s"] or t) if s["kind"] == "pickup" else t
            s["eta_s"] = t
            s["eta"] = hhmm(t)
            t += self.policy.boarding_s if s["kind"] == "pickup" else self.policy.alighting_s
            here = LatLon(s["lat"], s["lon"])

    def report_position(self, principal: Principal, vehicle_id: str, point: LatLon) -> None:
        veh = self.vehicles.get(vehicle_id)
        if veh is None or (principal.role == "company" and veh.company_id != principal.company_id):
            raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
        if self.live is not None:
            self.live.put_position(VehiclePosition(vehicle_id, point, self.now().timestamp()))
        self.notifier.publish(
            veh.company_id, {"type": "position", "vehicle_id": vehicle_id, "lat": point.lat, "lon": point.lon}
        )

    def vehicle(self, principal: Principal, vehicle_id: str) -> Vehicle:
        veh = self.vehicles.get(vehicle_id)
        if veh is None or (principal.role == "company" and veh.company_id != principal.company_id):
            raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
        return veh

    def rider_for(self, principal: Principal, rider_id: str) -> Rider:
        """A company may see a rider only while it carries one of the rider's bookings."""
        rider = self.rider(rider_id)
        if principal.role == "company":
            with self.repo.read() as tx:
                mine = tx.bookings(rider_id=rider_id, company_id=principal.company_id)
            if not mine:
                raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")
        return rider

    # --- bookings: reading --------------------------------------------------------------------------
    def booking(self, principal: Principal, booking_id: str) -> Booking:
        with self.repo.read() as tx:
            b = tx.booking(booking_id)
        if b is None or (principal.role == "company" and b.company_id != principal.company_id):
            raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
        return b

    def audit_trail(self, booking_id: str) -> list[AuditEntry]:
        with self.repo.read() as tx:
            if tx.booking(booking_id) is None:
                raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
            return tx.audit_trail(booking_id)

    def bookings(self, *, service_date: date | None = None, rider_id: str | None = None) -> list[Booking]:
        with self.repo.read() as tx:
            return tx.bookings(service_date=service_date, rider_id=rider_id)

    def read_back(self, b: Booking, rider: Rider | None = None) -> dict[str, str]:
        """The sentence the operator reads to the rider (Japanese) and its English version."""
        rider = rider or self.rider(b.rider_id)
        d = b.service_date
        day_ja = f"{d.month}月{d.day}日（{WEEKDAYS_JA[d.weekday()]}）"
        if b.promised_pickup_from_s is None or b.planned_dropoff_s is None:
            return {
                "ja": f"{rider.name}様のご予約は「{b.state.label_ja}」です。",
                "en": f"Booking is {b.status}.",
            }
        f, t = b.promised_pickup_from_s, b.promised_pickup_to_s or b.promised_pickup_from_s
        arrive = (
            f"{_ja_time(b.promised_arrival_by_s)}までに"
            if b.promised_arrival_by_s is not None
            else f"{_ja_time(b.planned_dropoff_s)}頃に"
        )
        company = self.companies[b.company_id].name if b.company_id in self.companies else ""
        ja = (
            f"{rider.name}様、{day_ja}、{_ja_time(f)}から{_ja_time(t)}の間に{b.origin_label}へお迎えに参ります。"
            f"{b.dest_label}には{arrive}到着の予定です。運賃は{b.fare_yen:,}円（事前確定運賃）です。"
            f"{company}の車両が伺います。予約番号は{b.booking_id}です。"
        )
        en = (
            f"Pickup on {d.isoformat()} between {hhmm(f)} and {hhmm(t)} at {b.origin_label}; "
            f"arrival at {b.dest_label} "
            + (
                f"by {hhmm(b.promised_arrival_by_s)}"
                if b.promised_arrival_by_s is not None
                else f"around {hhmm(b.planned_dropoff_s)}"
            )
            + f". Fixed fare ¥{b.fare_yen:,}. Booking {b.booking_id}."
        )
        return {"ja": ja, "en": en}

    # --- return trips and on-call bookings ----------------------------------------------------------
    def add_return(self, principal: Principal, booking_id: str, mode: str, time_s: int | None) -> Booking:
        """The trip back: at a time (a new quote) or 'call when ready' (an on_call booking)."""
        b = self.booking(principal, booking_id)
        rider = self.rider(b.rider_id)
        back_from = Endpoint("point", point=b.destination, label=b.dest_label)
        back_to = Endpoint("point", point=b.origin, label=b.origin_label)
        if b.dest_place_id:
            back_from = Endpoint("place", place_id=b.dest_place_id)
        if mode == "at":
            if time_s is None:
                raise Invalid("a return 'at' a time needs the time", "帰りの時刻を指定してください")
            return self.quote(
                principal,
                QuoteRequest(
                    rider.rider_id,
                    back_from,
                    back_to,
                    b.service_date,
                    TimeRequest(TimeMode.PICKUP_AFTER, time_s),
                    return_of=b.booking_id,
                ),
            )
        if mode != "call":
            raise Invalid("return mode must be 'at' or 'call'", "帰りの指定が不正です")
        olabel, opoint, oplace = self.resolve(back_from, rider)
        now = self.now().astimezone(UTC)
        on_call = Booking(
            booking_id=_new_id("B"),
            rider_id=rider.rider_id,
            service_date=b.service_date,
            status=BookingStatus.ON_CALL.value,
            created_at=now,
            updated_at=now,
            origin_label=olabel,
            origin_lat=opoint.lat,
            origin_lon=opoint.lon,
            origin_place_id=oplace,
            dest_label=b.origin_label,
            dest_lat=b.origin_lat,
            dest_lon=b.origin_lon,
            dest_place_id=b.origin_place_id,
            time_mode="on_call",
            seats=b.seats,
            wheelchairs=b.wheelchairs,
            needs=b.needs,
            return_of=b.booking_id,
        )
        with self.repo.write() as tx:
            tx.save_booking(on_call)
            tx.audit(self._entry(on_call, principal, "create_on_call", None, {"return_of": b.booking_id}))
        return on_call

    def call(self, principal: Principal, booking_id: str) -> Booking:
        """The rider phoned: quote the waiting return trip for pickup from now on."""
        b = self.booking(principal, booking_id)
        if b.state is not BookingStatus.ON_CALL:
            raise Conflict(
                f"booking {booking_id} is {b.status}, not on_call",
                f"この予約は「{b.state.label_ja}」です",
                code="bad_state",
            )
        rider = self.rider(b.rider_id)
        now_s = self.service_seconds(b.service_date)
        quoted = self._fill_options(
            replace(
                b,
                status=BookingStatus.QUOTED.value,
                time_mode=TimeMode.PICKUP_AFTER.value,
                time_s=max(0, now_s),
            ),
            rider,
        )
        with self.repo.write() as tx:
            cur = tx.booking(booking_id, lock=True)
            if cur is None or cur.state is not BookingStatus.ON_CALL:
                raise Conflict("booking changed meanwhile", "予約が変更されました", code="bad_state")
            tx.save_booking(quoted)
            tx.audit(self._entry(b, principal, BookingEvent.CALL, quoted.state, {}))
        return quoted

    # --- recurring bookings -------------------------------------------------------------------------
    def add_rule(self, principal: Principal, rr: RuleRequest) -> RecurringRule:
        rider = self.rider(rr.rider_id)
        self.resolve(rr.origin, rider)
        self.resolve(rr.destination, rider)
        if rr.return_mode not in ("none", "at", "call"):
            raise Invalid("return_mode must be none, at or call", "帰りの指定が不正です")
        if rr.return_mode == "at" and rr.return_time_s is None:
            raise Invalid("return_mode 'at' needs return_time", "帰りの時刻を指定してください")
        rule = RecurringRule(
            rule_id=_new_id("RR"),
            rider_id=rr.rider_id,
            origin_json=_endpoint_json(rr.origin),
            dest_json=_endpoint_json(rr.destination),
            time_mode=rr.time.mode.value,
            time_s=rr.time.time_s,
            weekdays=",".join(str(w) for w in sorted(rr.rule.weekdays)),
            start_date=rr.rule.start,
            end_date=rr.rule.end,
            skip_holidays=rr.rule.skip_holidays,
            exceptions=",".join(sorted(x.isoformat() for x in rr.rule.exceptions)),
            return_mode=rr.return_mode,
            return_time_s=rr.return_time_s,
            active=True,
            created_at=self.now().astimezone(UTC),
        )
        with self.repo.write() as tx:
            tx.add_rule(rule)
        log.info("recurring rule %s for rider %s", rule.rule_id, rule.rider_id)
        return rule

    def materialise(self, d: date) -> list[dict[str, Any]]:
        """Create the day's bookings from the recurring rules (once per rule and day; reruns skip)."""
        with self.repo.read() as tx:
            rules = tx.rules()
            existing = {b.recurring_rule_id for b in tx.bookings(service_date=d) if b.recurring_rule_id}
        out = []
        for rule in rules:
            rec = RecurrenceRule(
                weekdays=frozenset(int(x) for x in rule.weekdays.split(",")),
                start=rule.start_date,
                end=rule.end_date,
                skip_holidays=rule.skip_holidays,
                exceptions=frozenset(date.fromisoformat(x) for x in rule.exceptions.split(",") if x),
            )
            if not rec.occurs_on(d) or rule.rule_id in existing:
                continue
            q = self.quote(
                SYSTEM,
                QuoteRequest(
                    rule.rider_id,
                    _endpoint_from_json(rule.origin_json),
                    _endpoint_from_json(rule.dest_json),
                    d,
                    TimeRequest(TimeMode(rule.time_mode), rule.time_s),
                    recurring_rule_id=rule.rule_id,
                ),
            )
            status = q.status
            if q.state is BookingStatus.QUOTED:
                q = self.confirm(
                    SYSTEM, q.booking_id, 0, idempotency_key=f"rule:{rule.rule_id}:{d.isoformat()}"
                )
                status = q.status
                if rule.return_mode == "at" and rule.return_time_s is not None:
                    back = self.add_return(SYSTEM, q.booking_id, "at", rule.return_time_s)
                    if back.state is BookingStatus.QUOTED:
                        self.confirm(SYSTEM, back.booking_id, 0)
                elif rule.return_mode == "call":
                    self.add_return(SYSTEM, q.booking_id, "call", None)
            out.append(
                {"rule_id": rule.rule_id, "booking_id": q.booking_id, "status": status, "reason": q.reason}
            )
        return out

    # --- helpers ------------------------------------------------------------------------------------
    def _entry(
        self,
        b: Booking,
        principal: Principal,
        event: BookingEvent | str,
        to: BookingStatus | None,
        detail: Mapping[str, Any],
    ) -> AuditEntry:
        return AuditEntry(
            booking_id=b.booking_id,
            at=self.now().astimezone(UTC),
            actor=principal.actor,
            event=str(event.value if isinstance(event, BookingEvent) else event),
            from_status=b.status if to is not None else None,
            to_status=(to.value if to is not None else b.status),
            detail=json.dumps(dict(detail), ensure_ascii=False),
        )

    def _notify_run(self, company_id: str, vehicle_id: str, d: date, version: int, why: str) -> None:
        self.notifier.publish(
            company_id,
            {
                "type": "run_changed",
                "vehicle_id": vehicle_id,
                "service_date": d.isoformat(),
                "version": version,
                "why": why,
            },
        )


def ins_times(stops: Sequence[PlannedStop], schedule: Sequence[int]) -> list[tuple[tuple[str, str], int]]:
    return [((r.request_id, k.value), t) for (r, k), t in zip(stops, schedule[1:-1], strict=True)]


def _route_distance(problem: Problem, vid: str, stops: Sequence[PlannedStop]) -> int:
    if not stops:
        return 0
    v = problem.vehicles[problem.vehicle_index[vid]]
    locs = [v.start] + [r.pickup if k is StopKind.PICKUP else r.dropoff for r, k in stops] + [v.end]
    return int(sum(problem.distance_m[a, b] for a, b in itertools.pairwise(locs)))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _ja_time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    h, m = seconds // 3600, seconds % 3600 // 60
    return f"{h}時{m:02d}分" if m else f"{h}時"


def _endpoint_json(e: Endpoint) -> str:
    return json.dumps(
        {
            "kind": e.kind,
            "place_id": e.place_id,
            "label": e.label,
            "lat": e.point.lat if e.point else None,
            "lon": e.point.lon if e.point else None,
        }
    )


def _endpoint_from_json(text: str) -> Endpoint:
    d = json.loads(text)
    point = LatLon(d["lat"], d["lon"]) if d.get("lat") is not None else None
    return Endpoint(d["kind"], d.get("place_id"), point, d.get("label") or "")
