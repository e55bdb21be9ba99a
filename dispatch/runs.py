"""Each vehicle's run for companies and drivers (completed stops, then planned ones with live ETAs) and
position reports."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from bus_location import VehiclePosition
from dispatch.booking import (
    ACTIVE_STATES,
    BookingStatus,
    VehiclePlan,
    hhmm,
)
from dispatch.context import DispatchContext
from dispatch.domain import Principal
from dispatch.errors import NotFound
from dispatch.presentation import stop_view
from geo import LatLon

log = logging.getLogger("noriai.dispatch")


def runs(
    ctx: DispatchContext, principal: Principal, d: date, vehicle_id: str | None = None
) -> list[dict[str, Any]]:
    """Each vehicle's run for the day: completed stops, then the planned ones in order, with what
    the driver needs (rider's name and phone, window, passengers, needs, fare to collect)."""
    if principal.role == "company":
        vids = [v.vehicle_id for v in ctx.companies[principal.company_id or ""].vehicles]
    else:
        vids = sorted(ctx.vehicles)
    if vehicle_id is not None:
        if vehicle_id not in vids:
            raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
        vids = [vehicle_id]
    with ctx.repo.read() as tx:
        plans = tx.plans(d)
        day = [b for b in tx.bookings(service_date=d) if b.vehicle_id in vids]
        riders = {rid: tx.rider(rid) for rid in {b.rider_id for b in day}}
    by_id = {b.booking_id: b for b in day}
    out = []
    for vid in vids:
        veh = ctx.vehicles[vid]
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
            stops.append(stop_view(b, kind, riders.get(b.rider_id), state))
        for bid, kind in plan.stops:
            pb = by_id.get(bid)
            if pb is not None:
                stops.append(stop_view(pb, kind, riders.get(pb.rider_id), "planned"))
        reading = ctx.live.get_position(vid) if ctx.live else None
        position = None
        if reading is not None and reading.position is not None:
            position = {
                "lat": reading.position.point.lat,
                "lon": reading.position.point.lon,
                "reported_at_unix": reading.position.timestamp_unix,
            }
        live_etas(ctx, d, stops, reading.position if reading else None)
        company = ctx.companies[veh.company_id]
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


def live_etas(
    ctx: DispatchContext, d: date, stops: list[dict[str, Any]], pos: VehiclePosition | None
) -> None:
    """ETAs from the vehicle's last position: travel to the next stop, then along the plan."""
    planned = [s for s in stops if s["state"] == "planned"]
    if pos is None or not planned:
        return
    now_s = ctx.service_seconds(d)
    here = pos.point
    t = now_s
    for s in planned:
        leg = ctx.travel.leg(here, LatLon(s["lat"], s["lon"]))
        t += leg.duration_s
        t = max(t, s["planned_s"] or t) if s["kind"] == "pickup" else t
        s["eta_s"] = t
        s["eta"] = hhmm(t)
        t += ctx.policy.boarding_s if s["kind"] == "pickup" else ctx.policy.alighting_s
        here = LatLon(s["lat"], s["lon"])


def report_position(ctx: DispatchContext, principal: Principal, vehicle_id: str, point: LatLon) -> None:
    veh = ctx.vehicles.get(vehicle_id)
    if veh is None or (principal.role == "company" and veh.company_id != principal.company_id):
        raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
    if ctx.live is not None:
        ctx.live.put_position(VehiclePosition(vehicle_id, point.lat, point.lon, ctx.now().timestamp()))
    ctx.notifier.publish(
        veh.company_id, {"type": "position", "vehicle_id": vehicle_id, "lat": point.lat, "lon": point.lon}
    )
