"""A day's demand: synthetic (seeded, from a scenario) or replayed from the consent-gated trip export.

Both produce the same thing: riders to register and ``TripRequest``s, each with when it is booked
(days ahead, the same day, or on call), whether the rider later cancels, and whether they fail to
show. Randomness is one ``numpy`` generator seeded by the caller; sets are sorted before sampling so
a seed gives the same day in every process (Python's string hashing differs between processes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h3
import numpy as np

from dispatch.booking import TimeMode
from dispatch.domain import Consent, MobilityNeeds, Place, Rider, Zone
from dispatch.service import Endpoint, EndpointKind
from geo import LatLon, haversine_m
from sim.scenario import Demand, Purpose, ScenarioError

DAY_S = 86_400
LATEST_REQUEST_S = 23 * 3600  # nothing is asked for after 23:00
KIND_TO_PURPOSE = {
    "hospital": "hospital",
    "school": "school",
    "shopping": "shopping",
    "station": "station",
    "onsen": "tourism",
    "sight": "tourism",
    "airport": "airport",
    "office": "other",
}


@dataclass(frozen=True, slots=True)
class TripRequest:
    """One trip a rider asks for, and what the rider will do after booking it."""

    request_id: str
    rider_id: str
    district: str  # the zone the rider lives in ("outside" when none)
    purpose: str
    origin: LatLon
    destination: LatLon
    origin_place_id: str | None  # a place of the city, else the point itself (home or drawn point)
    destination_place_id: str | None
    mode: TimeMode
    time_s: int  # requested time, seconds after midnight of the service day
    companions: int
    booked_at_s: int  # when the rider phones, relative to the service day's midnight (< 0: days before)
    lead: str  # days_ahead | same_day | on_call | replay
    cancel_at_s: int | None = None
    no_show: bool = False
    outbound_of: str | None = None  # a return trip: the outbound request it was booked with

    def endpoint(self, which: str) -> Endpoint:
        place = self.origin_place_id if which == "origin" else self.destination_place_id
        point = self.origin if which == "origin" else self.destination
        if place is not None:
            return Endpoint(EndpointKind.PLACE, place_id=place)
        return Endpoint(EndpointKind.POINT, point=point, label="")


@dataclass(frozen=True, slots=True)
class DayDemand:
    riders: tuple[Rider, ...]
    requests: tuple[TripRequest, ...]


def point_in_cell(cell: str, rng: np.random.Generator) -> LatLon:
    """A uniformly drawn point inside an H3 cell (rejection sampling in the cell's bounding box)."""
    boundary = h3.cell_to_boundary(cell)
    lats = [p[0] for p in boundary]
    lons = [p[1] for p in boundary]
    res = h3.get_resolution(cell)
    for _ in range(200):
        lat = float(rng.uniform(min(lats), max(lats)))
        lon = float(rng.uniform(min(lons), max(lons)))
        if h3.latlng_to_cell(lat, lon, res) == cell:
            return LatLon(round(lat, 6), round(lon, 6))
    lat, lon = h3.cell_to_latlng(cell)
    return LatLon(round(lat, 6), round(lon, 6))


def _pick(rng: np.random.Generator, weights: Sequence[float]) -> int:
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(len(w), p=w / w.sum()))


def _rider(
    rng: np.random.Generator,
    rider_id: str,
    home: LatLon,
    district: str,
    demand: Demand,
    wheelchair: bool | None,
) -> tuple[Rider, int]:
    mix = demand.riders
    old = rng.random() < mix.aged_65_plus
    age = int(rng.integers(65, 96)) if old else int(rng.integers(12, 65))
    chair = bool(rng.random() < mix.wheelchair) if wheelchair is None else wheelchair
    needs = MobilityNeeds(
        wheelchair=chair,
        walker=(not chair) and bool(rng.random() < mix.walker),
        companion=bool(rng.random() < mix.carer),
    )
    companions = _pick(rng, mix.companions)
    rider = Rider(
        rider_id=rider_id,
        name=f"模擬利用者{rider_id[-5:]}",
        kana="もぎりようしゃ",
        phone=f"000-{int(rider_id[-5:]) // 10000:04d}-{int(rider_id[-5:]) % 10000:04d}",
        home=home,
        district=district,
        birth_year=2026 - age,
        needs=needs,
        disability_certificate=bool(rng.random() < mix.disability_certificate) or chair,
        welfare_bus_pass=old,
        consent=Consent(data_reuse=bool(rng.random() < mix.consent_data_reuse)),
    )
    return rider, companions


def _booking_time(rng: np.random.Generator, lead: str, first_pickup_s: int) -> tuple[int, str]:
    """When the rider phones for a trip whose pickup is around ``first_pickup_s``."""
    if lead == "days_ahead":
        days = int(rng.integers(1, 8))
        return -days * DAY_S + int(rng.integers(9 * 3600, 17 * 3600)), lead
    if lead == "same_day":  # phone lines open at 06:00
        at = max(6 * 3600, first_pickup_s - int(rng.integers(30 * 60, 4 * 3600)))
        return min(at, first_pickup_s - 30 * 60), lead
    return first_pickup_s - int(rng.integers(12 * 60, 20 * 60)), lead


def _cancel_time(rng: np.random.Generator, booked_at_s: int, pickup_s: int) -> int:
    lo, hi = booked_at_s + 60, pickup_s - 15 * 60
    return int(rng.integers(lo, hi)) if hi > lo else lo


def synthetic_demand(
    demand: Demand,
    zones: Sequence[Zone],
    places: Sequence[Place],
    seed: int,
) -> DayDemand:
    """``demand.requests`` trip requests: outbound trips by district, purpose and hour, each with its
    return trip for the purpose's ``return_share`` (until the count is reached)."""
    rng = np.random.default_rng(seed)
    by_zone = {z.zone.zone_id: z for z in zones}
    for d in demand.district:
        if d.zone_id not in by_zone:
            raise ScenarioError(
                f"demand.district: no zone {d.zone_id!r} in the city ({', '.join(sorted(by_zone))})"
            )
    cells = {d.zone_id: sorted(by_zone[d.zone_id].zone.cells) for d in demand.district}
    candidates: dict[str, list[Place]] = {}
    for p in demand.purpose:
        found = sorted((pl for pl in places if pl.kind.value in p.place_kinds), key=lambda pl: pl.place_id)
        if not found:
            raise ScenarioError(f"demand.purpose {p.name!r}: the city has no place of kind {p.place_kinds}")
        candidates[p.name] = found
    lead_names = ("days_ahead", "same_day", "on_call")
    lead_w = [demand.lead.days_ahead, demand.lead.same_day, demand.lead.on_call]
    riders: list[Rider] = []
    out: list[TripRequest] = []
    n = demand.requests
    while len(out) < n:
        district = demand.district[_pick(rng, [d.weight for d in demand.district])].zone_id
        purpose: Purpose = demand.purpose[_pick(rng, [p.share for p in demand.purpose])]
        hours = sorted(purpose.hours)
        hour = hours[_pick(rng, [purpose.hours[h] for h in hours])]
        time_s = hour * 3600 + int(rng.integers(0, 12)) * 300
        home = point_in_cell(cells[district][int(rng.integers(len(cells[district])))], rng)
        # destinations nearer home are likelier (gravity, 8 km scale)
        dests = candidates[purpose.name]
        w = [math.exp(-haversine_m(home, pl.point) / 8000.0) for pl in dests]
        place = dests[_pick(rng, w)]
        rid = f"SIM{len(riders) + 1:05d}"
        rider, companions = _rider(rng, rid, home, district, demand, None)
        riders.append(rider)
        lead = lead_names[_pick(rng, lead_w)]
        mode = TimeMode(purpose.mode)
        if lead == "on_call" and mode is TimeMode.ARRIVE_BY:
            mode, time_s = TimeMode.PICKUP_AFTER, max(6 * 3600, time_s - 40 * 60)
        first_pickup = time_s - (40 * 60 if mode is TimeMode.ARRIVE_BY else 0)
        booked_at, lead = _booking_time(rng, lead, first_pickup)
        cancelled = rng.random() < demand.rates.cancellation
        no_show = (not cancelled) and rng.random() < demand.rates.no_show
        qid = f"Q{len(out) + 1:05d}"
        out.append(
            TripRequest(
                request_id=qid,
                rider_id=rid,
                district=district,
                purpose=purpose.name,
                origin=home,
                destination=place.point,
                origin_place_id=None,
                destination_place_id=place.place_id,
                mode=mode,
                time_s=time_s,
                companions=companions,
                booked_at_s=booked_at,
                lead=lead,
                cancel_at_s=_cancel_time(rng, booked_at, first_pickup) if cancelled else None,
                no_show=no_show,
            )
        )
        if len(out) < n and rng.random() < purpose.return_share:
            back_s = min(
                LATEST_REQUEST_S, time_s + purpose.dwell_s + (0 if mode is TimeMode.ARRIVE_BY else 1800)
            )
            if lead == "on_call":
                back_booked, back_lead = _booking_time(rng, "on_call", back_s)
            else:
                back_booked, back_lead = booked_at + 1, lead
            back_cancel = rng.random() < demand.rates.cancellation
            out.append(
                TripRequest(
                    request_id=f"Q{len(out) + 1:05d}",
                    rider_id=rid,
                    district=district,
                    purpose=purpose.name,
                    origin=place.point,
                    destination=home,
                    origin_place_id=place.place_id,
                    destination_place_id=None,
                    mode=TimeMode.PICKUP_AFTER,
                    time_s=back_s,
                    companions=companions,
                    booked_at_s=back_booked,
                    lead=back_lead,
                    cancel_at_s=_cancel_time(rng, back_booked, back_s) if back_cancel else None,
                    no_show=(not back_cancel) and rng.random() < demand.rates.no_show,
                    outbound_of=qid,
                )
            )
    return DayDemand(tuple(riders), tuple(out))


def load_export(path: str | Path) -> list[dict[str, Any]]:
    """A trips export as served by ``GET /api/v1/analytics/trips`` (a JSON list), checked for shape."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read the trips export: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{p}: the trips export is not JSON: {exc}") from None
    if not isinstance(doc, list):
        raise ScenarioError(f"{p}: the trips export must be a JSON list of trips")
    need = ("origin_cell", "destination_cell", "time_mode", "requested_s", "seats", "wheelchairs", "status")
    for i, t in enumerate(doc):
        if not isinstance(t, dict) or any(k not in t for k in need):
            raise ScenarioError(f"{p}: trip {i} lacks one of {', '.join(need)}")
        if not h3.is_valid_cell(t["origin_cell"]) or not h3.is_valid_cell(t["destination_cell"]):
            raise ScenarioError(f"{p}: trip {i} has an invalid H3 cell")
    return doc


def replayed_demand(
    trips: Sequence[dict[str, Any]], demand: Demand, zones: Sequence[Zone], seed: int
) -> DayDemand:
    """Requests from exported trips (riders who opted in only: the export holds nobody else). Origins
    and destinations are drawn inside the exported H3 cells; cancellations and no-shows replay as they
    happened; when riders phoned is not exported, so it is drawn from the scenario's lead-time mix."""
    rng = np.random.default_rng(seed)
    lead_names = ("days_ahead", "same_day", "on_call")
    lead_w = [demand.lead.days_ahead, demand.lead.same_day, demand.lead.on_call]
    riders: list[Rider] = []
    out: list[TripRequest] = []
    ordered = sorted(
        trips, key=lambda t: (t["requested_s"] or 0, t["origin_cell"], t["destination_cell"], t["status"])
    )
    for t in ordered:
        if t["status"] in ("quoted", "on_call") or t["requested_s"] is None:
            continue
        origin = point_in_cell(t["origin_cell"], rng)
        destination = point_in_cell(t["destination_cell"], rng)
        zone = next((z.zone.zone_id for z in zones if z.zone.contains(origin)), "outside")
        rid = f"SIM{len(riders) + 1:05d}"
        rider, _ = _rider(rng, rid, origin, zone, demand, bool(t["wheelchairs"]))
        riders.append(rider)
        mode = TimeMode(t["time_mode"])
        time_s = int(t["requested_s"])
        first_pickup = time_s - (40 * 60 if mode is TimeMode.ARRIVE_BY else 0)
        lead = lead_names[_pick(rng, lead_w)]
        booked_at, lead = _booking_time(rng, lead, first_pickup)
        cancelled = t["status"] == "cancelled"
        out.append(
            TripRequest(
                request_id=f"Q{len(out) + 1:05d}",
                rider_id=rid,
                district=zone,
                purpose=KIND_TO_PURPOSE.get(str(t.get("destination_kind")), "other"),
                origin=origin,
                destination=destination,
                origin_place_id=None,
                destination_place_id=None,
                mode=mode,
                time_s=time_s,
                companions=max(0, int(t["seats"]) - (0 if t["wheelchairs"] else 1)),
                booked_at_s=booked_at,
                lead=lead,
                cancel_at_s=_cancel_time(rng, booked_at, first_pickup) if cancelled else None,
                no_show=t["status"] == "no_show",
            )
        )
    return DayDemand(tuple(riders), tuple(out))
