"""How the dispatch API shows bookings, quote options and riders: the JSON of the answers (their
schemas are ``noriai.web.schemas``). Labels come from ``dispatch.presentation``; nothing is decided here."""

from dataclasses import asdict
from typing import Any

from dispatch.booking import Booking, BookingStatus, QuoteOption, hhmm
from dispatch.offers import fare_reason
from dispatch.presentation import booking_number
from dispatch.service import DispatchService

__all__ = ["booking_view", "option_view", "rider_view"]


def option_view(o: QuoteOption) -> dict[str, Any]:
    return {
        "vehicle_id": o.vehicle_id,
        "company_id": o.company_id,
        "company_name": o.company_name,
        "vehicle_kind": o.vehicle_kind,
        "pickup_s": o.pickup_s,
        "dropoff_s": o.dropoff_s,
        "pickup_from_s": o.pickup_from_s,
        "pickup_to_s": o.pickup_to_s,
        "arrive_by_s": o.arrive_by_s,
        "max_ride_time_s": o.max_ride_time_s,
        "direct_distance_m": o.direct_distance_m,
        "shared": o.shared,
        "fare_yen": o.fare_yen,
        "fare_type": o.fare_type,  # shared (相乗り) | private (貸切)
        "fare_reason": dict(zip(("ja", "en"), fare_reason(o), strict=True)),
        "plan_version": o.plan_version,
        "pickup_window": f"{hhmm(o.pickup_from_s)}–{hhmm(o.pickup_to_s)}",
        "arrival": hhmm(o.arrive_by_s) if o.arrive_by_s is not None else hhmm(o.dropoff_s),
        "arrival_kind": "by" if o.arrive_by_s is not None else "around",
        "fare_breakdown": [asdict(x) for x in o.fare.lines],  # concession, vouchers
    }


def booking_view(svc: DispatchService, b: Booking, *, with_read_back: bool = True) -> dict[str, Any]:
    options = [option_view(o) for o in b.options] if b.state is BookingStatus.QUOTED else []
    out: dict[str, Any] = {
        "booking_id": b.booking_id,
        "booking_no": booking_number(b.booking_id),  # as read out on the phone: 4829-1735
        "rider_id": b.rider_id,
        "service_date": b.service_date.isoformat(),
        "status": b.status,
        "status_ja": b.state.label_ja,
        "origin": {
            "label": b.origin_label,
            "place_id": b.origin_place_id,
            "lat": b.origin_lat,
            "lon": b.origin_lon,
        },
        "destination": {
            "label": b.dest_label,
            "place_id": b.dest_place_id,
            "lat": b.dest_lat,
            "lon": b.dest_lon,
        },
        "time_mode": b.time_mode,
        "time": hhmm(b.time_s) if b.time_s is not None else None,
        "seats": b.party[0],  # the rider's party; a private ride holds its whole car (seats_held)
        "wheelchairs": b.party[1],
        "seats_held": b.seats,
        "wheelchairs_held": b.wheelchairs,
        "needs": [n for n in b.needs.split(",") if n],
        "options": options,
        "quote_expires_at": b.quote_expires_at.isoformat() if b.quote_expires_at else None,
        "vehicle_id": b.vehicle_id,
        "company_id": b.company_id,
        "pickup_window": (
            [hhmm(b.promised_pickup_from_s), hhmm(b.promised_pickup_to_s)]
            if b.promised_pickup_from_s is not None and b.promised_pickup_to_s is not None
            else None
        ),
        "arrive_by": hhmm(b.promised_arrival_by_s) if b.promised_arrival_by_s is not None else None,
        "planned_pickup": hhmm(b.planned_pickup_s) if b.planned_pickup_s is not None else None,
        "planned_dropoff": hhmm(b.planned_dropoff_s) if b.planned_dropoff_s is not None else None,
        "fare_yen": b.fare_yen,
        "fare": b.fare.to_dict() if b.fare is not None else None,
        "reason": b.reason,
        "return_of": b.return_of,
        "recurring_rule_id": b.recurring_rule_id,
    }
    if with_read_back and b.state in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED):
        out["read_back"] = svc.read_back(b)
    return out


def rider_view(r: Any, *, full: bool) -> dict[str, Any]:
    out = {
        "rider_id": r.rider_id,
        "name": r.name,
        "kana": r.kana,
        "phone": r.phone,
        "district": r.district,
        "needs": {"wheelchair": r.needs.wheelchair, "walker": r.needs.walker, "companion": r.needs.companion},
    }
    if full:
        out.update(
            {
                "home": {"lat": r.home.lat, "lon": r.home.lon},
                "birth_year": r.birth_year,
                "address": r.address,
                "disability_certificate": r.disability_certificate,
                "welfare_bus_pass": r.welfare_bus_pass,
                "consent": {
                    "data_reuse": r.consent.data_reuse,
                    "given_on": r.consent.given_on.isoformat() if r.consent.given_on else None,
                },
            }
        )
    return out
