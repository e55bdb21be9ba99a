"""Replay a day through the real dispatch code on a simulated clock.

Every request goes through ``DispatchService`` as it would in production: ``quote`` -> the rider
chooses an option -> ``confirm``; riders cancel with ``cancel``; the scheduled re-optimisation calls
``reoptimise_day``; drivers report ``arrive``, ``pick_up``, ``no_show`` and ``drop_off`` through
``stop_event`` with their company's rights. The database is SQLite in a temporary folder. Nothing
sleeps: the service's injectable clock is set to each event's time.

Vehicles follow their plan as drivers of a demand-responsive service do: after each stop the
driver sets off at once for the next one and waits at the door until the pickup window opens (the
plans' own assumption: ``solver.schedule`` times every stop as early as it can be), and turns
towards a new first stop when the plan changes under way. Legs take the travel-time model's
duration times the road's noise (``sim.road``); distances are the model's. Every driven leg is
recorded, partial ones included.
"""

from __future__ import annotations

import heapq
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dispatch.booking import Booking, BookingEvent, BookingStatus, PromisePolicy, QuoteOption, TimeRequest
from dispatch.domain import Company, Place, Principal, ReferenceData, Rider, Shift, Vehicle, VehicleKind, Zone
from dispatch.errors import Conflict, DispatchError
from dispatch.persistence import create_db_engine, migrate, store_reference_data
from dispatch.persistence.repository import Repository
from dispatch.service import TOKYO, DispatchService, QuoteRequest
from fares import Tariff
from geo import LatLon, StraightLineModel, TravelTimeModel
from sim.demand import DayDemand, TripRequest, load_export, replayed_demand, synthetic_demand
from sim.road import RoadNoise
from sim.scenario import Scenario, ScenarioError, hhmm_to_s

OPERATOR = Principal("operator", "simulator")
ProgressFn = Callable[[str, int, int], None]


class SimError(RuntimeError):
    """The simulation could not go on (a vehicle that never gets anywhere, an unknown company...)."""


@dataclass(frozen=True, slots=True)
class City:
    """What the composition root hands the simulator: the city's reference data and tariff."""

    reference: ReferenceData
    tariff: Tariff


@dataclass(frozen=True, slots=True)
class LegRecord:
    vehicle_id: str
    start_s: int
    end_s: int
    origin: LatLon
    destination: LatLon
    distance_m: int
    riders_aboard: int
    seats_aboard: int
    partial: bool = False  # cut short when the plan changed under way


@dataclass
class StopRecord:
    booking_id: str
    vehicle_id: str
    kind: str  # pickup | dropoff | no_show
    arrival_s: int
    start_s: int  # service start: the pickup time (after waiting for the window) or the drop-off time
    end_s: int


@dataclass
class Timings:
    quote_s: float = 0.0
    confirm_s: float = 0.0
    reoptimise_s: float = 0.0
    driver_events_s: float = 0.0
    cancel_s: float = 0.0
    other_s: float = 0.0
    quotes: int = 0
    reoptimisations: int = 0
    driver_events: int = 0


@dataclass
class DayRun:
    """Everything a day left behind: the requests and their final bookings, legs, stops, timings."""

    scenario: Scenario
    seed: int
    service_date: date
    demand: DayDemand
    bookings: dict[str, Booking]  # request id -> its final booking
    refusals: dict[str, str]  # request id -> reason, for requests that never got a booking
    legs: list[LegRecord]
    stops: list[StopRecord]
    vehicles: tuple[Vehicle, ...]
    companies: tuple[Company, ...]
    audit: list[str]
    reoptimisations: list[dict[str, Any]]
    incidents: list[str]
    timings: Timings
    wall_s: float
    policy: PromisePolicy
    export: list[dict[str, Any]] = field(default_factory=list)  # the day's consent-gated trip export
    direct: dict[str, tuple[int, int]] = field(default_factory=dict)  # request -> (direct s, direct m)


class SimClock:
    """The service's clock. A tick counter in the microseconds keeps bookings made in the same
    simulated second in the order they were made (the service sorts by creation time)."""

    def __init__(self, midnight: datetime) -> None:
        self.midnight = midnight
        self.t = 0
        self._tick = 0

    def set(self, t_s: int) -> None:
        self.t = t_s
        self._tick += 1

    def __call__(self) -> datetime:
        return self.midnight + timedelta(seconds=self.t, microseconds=self._tick % 999_999)


@dataclass
class _Vehicle:
    v: Vehicle
    depot: LatLon
    rng: np.random.Generator
    pos: LatLon
    state: str = "idle"  # idle | driving | waiting | busy
    stop: tuple[str, str] | None = None  # the stop it drives to, waits at or serves
    token: int = 0
    version: int = -1
    leg: tuple[LatLon, LatLon, int, int, int] | None = None  # from, to, start_s, end_s, distance_m
    aboard: dict[str, int] = field(default_factory=dict)  # booking id -> seats


def _shift(start: str, end: str) -> Shift:
    a, b = hhmm_to_s(start), hhmm_to_s(end)
    next_day = b >= 86_400
    b0 = b - 86_400 if next_day else b
    return Shift(dtime(a // 3600, a % 3600 // 60), dtime(b0 // 3600, b0 % 3600 // 60), next_day)


def build_fleet(scenario: Scenario, companies: tuple[Company, ...]) -> tuple[Company, ...]:
    """The scenario's vehicles on the city's companies (depots, names); companies not in the
    scenario run no vehicles."""
    by_id = {c.company_id: c for c in companies}
    out = []
    for fc in scenario.fleet.company:
        base = by_id.get(fc.company_id)
        if base is None:
            raise ScenarioError(
                f"fleet.company {fc.company_id!r} is not a company of the city ({', '.join(by_id)})"
            )
        vehicles: list[Vehicle] = []
        for g in fc.vehicles:
            for _ in range(g.count):
                vehicles.append(
                    Vehicle(
                        vehicle_id=f"{fc.company_id}-{len(vehicles) + 1:02d}",
                        company_id=fc.company_id,
                        kind=VehicleKind(g.kind),
                        plate=f"模擬{len(vehicles) + 1:02d}",
                        seats=g.seats,
                        wheelchair_places=g.wheelchair_places,
                        shift=_shift(*g.shift),
                        features=frozenset(g.features),
                    )
                )
        out.append(
            Company(
                base.company_id,
                base.name,
                base.name_en,
                base.phone,
                base.depot_name,
                base.depot,
                tuple(vehicles),
            )
        )
    if not any(c.vehicles for c in out):
        raise ScenarioError("the fleet has no vehicles")
    return tuple(out)


def make_demand(
    scenario: Scenario, zones: tuple[Zone, ...], places: tuple[Place, ...], seed: int
) -> DayDemand:
    if scenario.demand.kind == "replay":
        assert scenario.demand.export is not None
        return replayed_demand(load_export(scenario.demand.export), scenario.demand, zones, seed)
    return synthetic_demand(scenario.demand, zones, places, seed)


def promise_policy(scenario: Scenario) -> PromisePolicy:
    p = scenario.policy
    before = p.pickup_window_s // 3
    return PromisePolicy(
        pickup_window_before_s=before,
        pickup_window_after_s=p.pickup_window_s - before,
        ride_factor=p.max_ride_factor,
        ride_extra_s=p.max_ride_extra_s,
    )


class DaySimulator:
    """One simulated day. ``run()`` returns a ``DayRun``; the object is not reusable."""

    def __init__(
        self,
        scenario: Scenario,
        city: City,
        *,
        seed: int | None = None,
        workdir: Path | None = None,
        progress: ProgressFn | None = None,
        travel: TravelTimeModel | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.scenario.seed if seed is None else seed
        self.day = scenario.scenario.service_date or date(2026, 12, 8)
        self.progress = progress
        self.road = RoadNoise.from_scenario(scenario.road)
        self.companies = build_fleet(scenario, city.reference.companies)
        self.demand = make_demand(scenario, city.reference.zones, city.reference.places, self.seed)
        self.reference = ReferenceData(
            places=city.reference.places,
            companies=self.companies,
            riders=tuple(self.demand.riders),
            zones=city.reference.zones,
        )
        self.policy = promise_policy(scenario)
        self.clock = SimClock(datetime(self.day.year, self.day.month, self.day.day, tzinfo=TOKYO))
        self._tmp = None
        if workdir is None:
            shm = Path("/dev/shm")  # memory-backed where there is one: commits need no disk flush
            self._tmp = tempfile.TemporaryDirectory(prefix="noriai-sim-", dir=shm if shm.is_dir() else None)
            workdir = Path(self._tmp.name)
        url = f"sqlite:///{workdir / 'sim.db'}"
        engine = create_db_engine(url)
        migrate(engine)
        store_reference_data(engine, self.reference)
        self._engines = (engine, create_db_engine(url, read_only=True))
        self.travel = travel or StraightLineModel()
        self.service = DispatchService(
            Repository(*self._engines),
            self.reference,
            city.tariff,
            self.travel,
            policy=self.policy,
            clock=self.clock,
        )
        self.vehicles: dict[str, _Vehicle] = {}
        for i, c in enumerate(self.companies):
            for k, v in enumerate(c.vehicles):
                rng = np.random.default_rng([self.seed, i, k])
                self.vehicles[v.vehicle_id] = _Vehicle(v, c.depot, rng, c.depot)
        self.principals = {
            c.company_id: Principal("company", c.company_id, c.company_id) for c in self.companies
        }
        self.no_show = {r.request_id for r in self.demand.requests if r.no_show}
        self.by_request = {r.request_id: r for r in self.demand.requests}
        self.booking_of: dict[str, str] = {}  # request id -> booking id
        self.request_of: dict[str, str] = {}  # booking id -> request id
        self.refusals: dict[str, str] = {}
        self.legs: list[LegRecord] = []
        self.stops: list[StopRecord] = []
        self.stop_open: dict[tuple[str, str], StopRecord] = {}
        self.reopts: list[dict[str, Any]] = []
        self.incidents: list[str] = []
        self.timings = Timings()
        self._heap: list[tuple[int, int, int, str, str, int]] = []
        self._seq = 0
        self._bookings_cache: dict[str, Booking] = {}

    # --- the event queue ----------------------------------------------------------------------------
    _PRIORITY: ClassVar[dict[str, int]] = {
        "alighted": 0, "boarded": 0, "no_show": 0, "arrive": 1, "service": 1, "depart": 2,
        "cancel": 3, "book": 4, "reoptimise": 5,
    }  # fmt: skip

    def _push(self, t: int, kind: str, key: str, token: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._PRIORITY[kind], self._seq, kind, key, token))

    # --- running ------------------------------------------------------------------------------------
    def run(self) -> DayRun:
        started = time.perf_counter()
        for r in self.demand.requests:
            self._push(r.booked_at_s, "book", r.request_id)
            if r.cancel_at_s is not None:
                self._push(r.cancel_at_s, "cancel", r.request_id)
        first = min(v.v.shift.start_s for v in self.vehicles.values())
        last = max(v.v.shift.end_s for v in self.vehicles.values())
        t = first - 3600
        while t <= last:
            self._push(t, "reoptimise", "")
            t += self.scenario.policy.reoptimise_interval_s
        total = len(self._heap)
        done = 0
        while self._heap:
            t, _p, _s, kind, key, token = heapq.heappop(self._heap)
            self.clock.set(t)
            if kind == "book":
                self._book(self.by_request[key], t)
            elif kind == "cancel":
                self._cancel(key, t)
            elif kind == "reoptimise":
                self._reoptimise(t)
            else:
                self._vehicle_event(kind, self.vehicles[key], token, t)
            if kind in ("book", "cancel", "reoptimise"):
                done += 1
                if self.progress is not None and (done % 10 == 0 or done == total):
                    self.progress("day", done, total)
        self._end_of_day(last)
        audit = self.service.check_day(self.day)
        bookings = self._final_bookings()
        export = self.service.reusable_trips(self.day)
        direct = {}
        for r in self.demand.requests:
            leg = self.travel.leg(r.origin, r.destination)
            direct[r.request_id] = (leg.duration_s, leg.distance_m)
        for e in self._engines:
            e.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()
        return DayRun(
            scenario=self.scenario,
            seed=self.seed,
            service_date=self.day,
            demand=self.demand,
            bookings=bookings,
            refusals=self.refusals,
            legs=self.legs,
            stops=self.stops,
            vehicles=tuple(v.v for v in self.vehicles.values()),
            companies=self.companies,
            audit=audit,
            reoptimisations=self.reopts,
            incidents=self.incidents,
            timings=self.timings,
            wall_s=time.perf_counter() - started,
            policy=self.policy,
            export=export,
            direct=direct,
        )

    def _final_bookings(self) -> dict[str, Booking]:
        by_id = {b.booking_id: b for b in self.service.bookings(service_date=self.day)}
        return {rid: by_id[bid] for rid, bid in self.booking_of.items() if bid in by_id}

    # --- riders -------------------------------------------------------------------------------------
    def _book(self, r: TripRequest, t: int) -> None:
        outbound_refused = r.outbound_of is not None and self._refused(r.outbound_of)
        req = QuoteRequest(
            r.rider_id,
            r.endpoint("origin"),
            r.endpoint("destination"),
            self.day,
            TimeRequest(r.mode, r.time_s),
            companions=r.companions,
        )
        for _attempt in range(2):
            t0 = time.perf_counter()
            try:
                b = self.service.quote(OPERATOR, req)
            except DispatchError as exc:
                self.refusals[r.request_id] = exc.code
                return
            finally:
                self.timings.quote_s += time.perf_counter() - t0
                self.timings.quotes += 1
            self.booking_of[r.request_id] = b.booking_id
            self.request_of[b.booking_id] = r.request_id
            if b.state is BookingStatus.REJECTED:
                return
            pick = self._choose(b.options)
            if pick is None or outbound_refused:
                # the rider says no: only shared rides were offered, or the trip there was refused
                self.service.cancel(
                    OPERATOR, b.booking_id, "no_unshared_option" if pick is None else "outbound_refused"
                )
                return
            t0 = time.perf_counter()
            try:
                self.service.confirm(OPERATOR, b.booking_id, pick)
            except Conflict:
                self.service.cancel(OPERATOR, b.booking_id, "option_gone")
                continue  # quote again, once
            finally:
                self.timings.confirm_s += time.perf_counter() - t0
            self._after_change(t)
            return

    def _choose(self, options: Sequence[QuoteOption]) -> int | None:
        """The rider takes the first option offered (the service lists its best first); with sharing
        switched off, the first private option (nobody else aboard, solo fare), if any."""
        if self.scenario.policy.shared:
            return 0 if options else None
        return next((i for i, o in enumerate(options) if o.fare_type == "private"), None)

    def _refused(self, request_id: str) -> bool:
        bid = self.booking_of.get(request_id)
        if bid is None:
            return True
        b = self.service.booking(OPERATOR, bid)
        return b.state in (BookingStatus.REJECTED, BookingStatus.CANCELLED)

    def _cancel(self, request_id: str, t: int) -> None:
        bid = self.booking_of.get(request_id)
        if bid is None:
            return
        b = self.service.booking(OPERATOR, bid)
        if b.state not in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED):
            return  # refused, already cancelled, or the rider is already aboard
        t0 = time.perf_counter()
        self.service.cancel(OPERATOR, bid, "rider_cancelled")
        self.timings.cancel_s += time.perf_counter() - t0
        self._after_change(t)

    # --- re-optimisation ----------------------------------------------------------------------------
    def _reoptimise(self, t: int) -> None:
        t0 = time.perf_counter()
        try:
            res = self.service.reoptimise_day(
                self.day,
                time_limit_s=5.0,
                seed=self.seed,
                iterations=self.scenario.policy.reoptimise_iterations,
            )
        except ValueError as exc:  # the plan no longer times out (the road was slower than the plan)
            res = {"status": "skipped", "why": str(exc)[:120]}
        dt = time.perf_counter() - t0
        self.timings.reoptimise_s += dt
        self.timings.reoptimisations += 1
        self.reopts.append(
            {"at_s": t, "status": res["status"], "moved": res.get("moved", 0), "wall_s": round(dt, 3)}
        )
        self._after_change(t)

    # --- vehicles -----------------------------------------------------------------------------------
    def _after_change(self, t: int) -> None:
        """Plans may have changed: every vehicle whose plan version moved looks at its first stop."""
        with self.service.repo.read() as tx:
            versions = tx.plan_versions(self.day)  # (cheap: most plans have not moved)
            moved = [vid for vid, sv in self.vehicles.items() if versions.get(vid, 0) != sv.version]
            plans = tx.plans(self.day, vehicle_ids=moved) if moved else {}
        for vid in moved:
            sv, p = self.vehicles[vid], plans.get(vid)
            sv.version = p.version if p is not None else 0
            self._replan(sv, t, p.stops[0] if p is not None and p.stops else None)

    def _first_stop(self, sv: _Vehicle) -> tuple[str, str] | None:
        with self.service.repo.read() as tx:
            p = tx.plan(sv.v.vehicle_id, self.day)
        sv.version = p.version
        return p.stops[0] if p.stops else None

    def _booking(self, booking_id: str) -> Booking:
        with self.service.repo.read() as tx:
            b = tx.booking(booking_id)
        if b is None:
            raise SimError(f"booking {booking_id} vanished")
        return b

    def _replan(self, sv: _Vehicle, t: int, first: tuple[str, str] | None, *, force: bool = False) -> None:
        if sv.state == "busy":
            return  # boarding, alighting or waiting for a no-show: it looks again when done
        if sv.state in ("driving", "waiting") and sv.stop == first and not force:
            return
        if sv.state == "driving":
            self._cut_leg(sv, t)
        sv.state, sv.stop = "idle", None
        sv.token += 1
        if first is None:
            return
        b = self._booking(first[0])
        target = b.origin if first[1] == "pickup" else b.destination
        sv.stop = first
        if _same(sv.pos, target):
            self._arrive(sv, t)
            return
        if t < sv.v.shift.start_s:  # the shift has not started: it leaves the depot when it does
            self._push(sv.v.shift.start_s, "depart", sv.v.vehicle_id, sv.token)
            return
        leg = self.travel.leg(sv.pos, target)
        self._drive(sv, t, target, leg.duration_s, leg.distance_m)

    def _drive(self, sv: _Vehicle, t: int, target: LatLon, duration_s: int, distance_m: int) -> None:
        real = max(1, round(duration_s * self.road.factor(t, sv.rng)))
        sv.state = "driving"
        sv.leg = (sv.pos, target, t, t + real, distance_m)
        self._push(t + real, "arrive", sv.v.vehicle_id, sv.token)

    def _record_leg(self, sv: _Vehicle, end_s: int, to: LatLon, distance_m: int, partial: bool) -> None:
        assert sv.leg is not None
        self.legs.append(
            LegRecord(
                sv.v.vehicle_id,
                sv.leg[2],
                end_s,
                sv.leg[0],
                to,
                distance_m,
                len(sv.aboard),
                sum(sv.aboard.values()),
                partial,
            )
        )
        sv.pos = to
        sv.leg = None

    def _cut_leg(self, sv: _Vehicle, t: int) -> None:
        """The plan changed under way: the vehicle turns where it is now (straight-line progress)."""
        assert sv.leg is not None
        a, b, t0, t1, dist = sv.leg
        f = min(1.0, max(0.0, (t - t0) / (t1 - t0))) if t1 > t0 else 1.0
        here = LatLon(round(a.lat + (b.lat - a.lat) * f, 6), round(a.lon + (b.lon - a.lon) * f, 6))
        self._record_leg(sv, t, here, round(dist * f), partial=True)

    def _vehicle_event(self, kind: str, sv: _Vehicle, token: int, t: int) -> None:
        if token != sv.token:
            return  # superseded by a plan change
        if kind == "depart":
            self._replan(sv, t, self._first_stop(sv), force=True)
        elif kind == "arrive":
            assert sv.leg is not None
            self._record_leg(sv, t, sv.leg[1], sv.leg[4], partial=False)
            self._arrive(sv, t)
        elif kind == "service":
            assert sv.stop is not None
            self._start_pickup(sv, t, self._booking(sv.stop[0]))
        elif kind in ("boarded", "alighted", "no_show"):
            assert sv.stop is not None
            event = {
                "boarded": BookingEvent.PICK_UP,
                "alighted": BookingEvent.DROP_OFF,
                "no_show": BookingEvent.NO_SHOW,
            }[kind]
            bid = sv.stop[0]
            rec = self.stop_open.pop((sv.v.vehicle_id, bid), None)
            reported = self._report(sv, bid, event, t)
            if reported is not None:
                if event is BookingEvent.PICK_UP:
                    sv.aboard[bid] = reported.seats
                else:
                    sv.aboard.pop(bid, None)
                if rec is not None:
                    rec.end_s = t
                    self.stops.append(rec)
            sv.state, sv.stop = "idle", None
            sv.token += 1
            self._after_change(t)
            if sv.state == "idle" and sv.stop is None:  # our own report moved the version: look again
                self._replan(sv, t, self._first_stop(sv))

    def _report(
        self, sv: _Vehicle, booking_id: str, event: BookingEvent, t: int, b: Booking | None = None
    ) -> Booking | None:
        """A driver's report: the booking as it now is; None (and an incident noted) when the booking
        is no longer this vehicle's, e.g. a re-optimisation gave it to another vehicle while this one
        was at the door. ``b``: the booking as just read, if the caller has it."""
        b = b or self._booking(booking_id)
        if b.vehicle_id != sv.v.vehicle_id:
            self.incidents.append(f"{t}: {sv.v.vehicle_id} at {booking_id}, now on {b.vehicle_id}")
            return None
        t0 = time.perf_counter()
        try:
            return self.service.stop_event(self.principals[sv.v.company_id], booking_id, event)
        except DispatchError as exc:
            self.incidents.append(f"{t}: {sv.v.vehicle_id} {event.value} {booking_id}: {exc.code}")
            return None
        finally:
            self.timings.driver_events_s += time.perf_counter() - t0
            self.timings.driver_events += 1

    def _arrive(self, sv: _Vehicle, t: int) -> None:
        assert sv.stop is not None
        bid, kind = sv.stop
        b = self._booking(bid)
        if (
            b.state not in (BookingStatus.SCHEDULED, BookingStatus.PICKED_UP)
            or b.vehicle_id != sv.v.vehicle_id
        ):
            sv.state, sv.stop = "idle", None
            sv.token += 1
            self._replan(sv, t, self._first_stop(sv))
            return
        vid = sv.v.vehicle_id
        if kind == "pickup":
            self._report(sv, bid, BookingEvent.ARRIVE, t, b)
            rid = self.request_of.get(bid, "")
            # the driver starts at the planned time, not before the window opens: the plan may
            # pick a rider up later than the window allows so that others' ride times hold
            opens = max(b.promised_pickup_from_s or t, b.planned_pickup_s or t)
            self.stop_open[(vid, bid)] = StopRecord(bid, vid, "pickup", t, max(t, opens), max(t, opens))
            if rid in self.no_show:
                self.stop_open[(vid, bid)].kind = "no_show"
                sv.state = "busy"
                self._push(max(t, opens) + self.scenario.policy.no_show_wait_s, "no_show", vid, sv.token)
            elif opens > t:
                sv.state = "waiting"
                self._push(opens, "service", vid, sv.token)
            else:
                self._start_pickup(sv, t, b)
            with self.service.repo.read() as tx:
                sv.version = tx.plan(vid, self.day).version
        else:
            # dropped off on arrival: once aboard, arriving early breaks no promise (dispatch plans
            # an appointment's earliest arrival only before the pickup)
            start = t
            sv.state = "busy"
            self.stop_open[(vid, bid)] = StopRecord(bid, vid, "dropoff", t, start, start)
            self._push(start + self.policy.alighting_s, "alighted", vid, sv.token)

    def _start_pickup(self, sv: _Vehicle, t: int, b: Booking) -> None:
        sv.state = "busy"
        rec = self.stop_open.get((sv.v.vehicle_id, b.booking_id))
        if rec is not None:
            rec.start_s = t
        boarding = self.policy.boarding_wheelchair_s if b.wheelchairs else self.policy.boarding_s
        self._push(t + boarding, "boarded", sv.v.vehicle_id, sv.token)

    def _end_of_day(self, last_s: int) -> None:
        """Vehicles drive back to their depots after their last stop (empty legs, in vehicle-km)."""
        for sv in self.vehicles.values():
            if sv.state == "driving":
                self._cut_leg(sv, sv.leg[3] if sv.leg else last_s)
            if not _same(sv.pos, sv.depot):
                leg = self.travel.leg(sv.pos, sv.depot)
                busy = [lg.end_s for lg in self.legs if lg.vehicle_id == sv.v.vehicle_id]
                busy += [st.end_s for st in self.stops if st.vehicle_id == sv.v.vehicle_id]
                t0 = max(busy, default=sv.v.shift.start_s)
                sv.leg = (sv.pos, sv.depot, t0, t0 + leg.duration_s, leg.distance_m)
                self._record_leg(sv, t0 + leg.duration_s, sv.depot, leg.distance_m, partial=False)


def _same(a: LatLon, b: LatLon) -> bool:
    return round(a.lat, 6) == round(b.lat, 6) and round(a.lon, 6) == round(b.lon, 6)


def simulate(
    scenario: Scenario,
    city: City,
    *,
    seed: int | None = None,
    progress: ProgressFn | None = None,
    workdir: Path | None = None,
) -> DayRun:
    """Simulate one day of ``scenario`` on ``city``; see the module doc."""
    return DaySimulator(scenario, city, seed=seed, progress=progress, workdir=workdir).run()


def rider_consents(riders: tuple[Rider, ...]) -> dict[str, bool]:
    return {r.rider_id: r.consent.data_reuse for r in riders}
