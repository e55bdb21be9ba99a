"""How dispatch things are shown to people: the Japanese labels of a run's stops and the booking
read-back the operator says on the phone (Japanese, with its English version). No decisions here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.booking import Booking, hhmm
from dispatch.domain import Company, Rider
from dispatch.offers import fare_sentence, fare_type_of

WEEKDAYS_JA = "月火水木金土日"


def booking_number(booking_id: str) -> str:
    """How a booking id is said and written for people: B48291735 -> 4829-1735 (older ids unchanged)."""
    digits = booking_id[1:]
    return f"{digits[:4]}-{digits[4:]}" if len(digits) == 8 and digits.isdigit() else booking_id


def stop_view(b: Booking, kind: str, rider: Rider | None, state: str) -> dict[str, Any]:
    pickup = kind == "pickup"
    lat, lon = (b.origin_lat, b.origin_lon) if pickup else (b.dest_lat, b.dest_lon)
    at_home = rider is not None and abs(lat - rider.home.lat) < 1e-6 and abs(lon - rider.home.lon) < 1e-6
    return {
        "booking_id": b.booking_id,
        "booking_no": booking_number(b.booking_id),
        "kind": kind,
        "kind_ja": "乗車" if pickup else "降車",
        "state": state,
        "booking_status": b.status,
        "booking_status_ja": b.state.label_ja,
        "rider_name": rider.name if rider else "",
        "rider_phone": rider.phone if rider else "",
        "place": b.origin_label if pickup else b.dest_label,
        "address": rider.address if rider is not None and at_home else "",  # the driver finds a home by it
        "lat": b.origin_lat if pickup else b.dest_lat,
        "lon": b.origin_lon if pickup else b.dest_lon,
        "window": [b.promised_pickup_from_s, b.promised_pickup_to_s] if pickup else None,
        "arrive_by_s": None if pickup else b.promised_arrival_by_s,
        "planned_s": b.planned_pickup_s if pickup else b.planned_dropoff_s,
        "planned": hhmm(x) if (x := (b.planned_pickup_s if pickup else b.planned_dropoff_s)) else None,
        "seats": b.party[0],  # the rider's party; a private ride holds more (seats_held)
        "wheelchairs": b.party[1],
        "seats_held": b.seats,
        "wheelchairs_held": b.wheelchairs,
        "needs": [n for n in b.needs.split(",") if n],
        "fare_to_collect_yen": b.fare_yen if pickup else None,
        "fare_type": fare_type_of(b),  # shared (相乗り) | private (貸切)
    }


def read_back(b: Booking, rider: Rider, companies: Mapping[str, Company]) -> dict[str, str]:
    """The sentence the operator reads to the rider (Japanese) and its English version."""
    d = b.service_date
    day_ja = f"{d.month}月{d.day}日（{WEEKDAYS_JA[d.weekday()]}）"
    if b.promised_pickup_from_s is None or b.planned_dropoff_s is None:
        return {
            "ja": f"{rider.name}様のご予約は「{b.state.label_ja}」です。",
            "en": f"Booking is {b.status}.",
        }
    f, t = b.promised_pickup_from_s, b.promised_pickup_to_s or b.promised_pickup_from_s
    arrive = (
        f"{ja_time(b.promised_arrival_by_s)}までに"
        if b.promised_arrival_by_s is not None
        else f"{ja_time(b.planned_dropoff_s)}頃に"
    )
    company = c.name if (c := companies.get(b.company_id or "")) is not None else ""
    fare_ja, fare_en = fare_sentence(b)
    ja = (
        f"{rider.name}様、{day_ja}、{ja_time(f)}から{ja_time(t)}の間に{b.origin_label}へお迎えに参ります。"
        f"{b.dest_label}には{arrive}到着の予定です。{fare_ja}"
        f"{company}の車両が伺います。予約番号は{booking_number(b.booking_id)}です。"
    )
    en = (
        f"Pickup on {d.isoformat()} between {hhmm(f)} and {hhmm(t)} at {b.origin_label}; "
        f"arrival at {b.dest_label} "
        + (
            f"by {hhmm(b.promised_arrival_by_s)}"
            if b.promised_arrival_by_s is not None
            else f"around {hhmm(b.planned_dropoff_s)}"
        )
        + f". {fare_en} Booking number {booking_number(b.booking_id)}."
    )
    return {"ja": ja, "en": en}


def ja_time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    h, m = seconds // 3600, seconds % 3600 // 60
    return f"{h}時{m:02d}分" if m else f"{h}時"
