"""Store and count reference data (places, companies, vehicles, riders, zones)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from dispatch.domain import (
    City,
    CityAirport,
    Company,
    Consent,
    FeedSource,
    MobilityNeeds,
    Place,
    PlaceKind,
    ReferenceData,
    Rider,
    Shift,
    Vehicle,
    VehicleKind,
    Zone,
    ZoneKind,
)
from dispatch.persistence.tables import (
    ApiKeyRow,
    BookingRow,
    CityRow,
    CompanyRow,
    PlaceRow,
    RecurringRuleRow,
    RiderRow,
    VehiclePlanRow,
    VehicleRow,
    ZoneRow,
)
from geo import LatLon, ServiceArea, ServiceZone


def count_reference_rows(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            name: int(s.exec(select(func.count()).select_from(model)).one())
            for name, model in (
                ("places", PlaceRow),
                ("companies", CompanyRow),
                ("vehicles", VehicleRow),
                ("riders", RiderRow),
                ("zones", ZoneRow),
            )
        }


ACTIVE_STATUSES = ("on_call", "confirmed", "scheduled", "picked_up")  # a promise the city must keep
CITY_ROW_ID = "city"


class ImportRefused(ValueError):
    """The import would drop something bookings still need; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    """What an import changed, per kind: added, updated, removed (deleted), retired (kept, inactive)."""

    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    retired: dict[str, list[str]] = field(default_factory=dict)  # kind -> "id (why)"
    kept: list[str] = field(default_factory=list)  # riders removed from riders.csv but still needed

    def count(self, table: dict[str, int], kind: str) -> None:
        table[kind] = table.get(kind, 0) + 1


def store_reference_data(engine: Engine, data: ReferenceData) -> bool:
    """Import the reference data once; returns False (and writes nothing) if riders already exist."""
    with Session(engine) as s:
        if s.exec(select(func.count()).select_from(RiderRow)).one():
            return False
    import_city(engine, data, bundle_path="", now=datetime.now(UTC))
    return True


def _shifts_json(v: Vehicle) -> str:
    if not v.shifts:
        return ""
    return json.dumps({d: None if sh is None else [sh.start_s, sh.end_s] for d, sh in v.shifts})


def _shifts_from_json(text: str) -> tuple[tuple[str, Shift | None], ...]:
    if not text:
        return ()
    return tuple((d, None if se is None else _shift(se[0], se[1])) for d, se in json.loads(text).items())


def _active_bookings(s: Session, column: Any, ids: set[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    rows = s.exec(
        select(column, BookingRow.booking_id).where(
            col(column).in_(sorted(ids)), col(BookingRow.status).in_(ACTIVE_STATUSES)
        )
    )
    out: dict[str, list[str]] = {}
    for key, bid in rows:
        out.setdefault(str(key), []).append(str(bid))
    return out


def import_city(engine: Engine, data: ReferenceData, *, bundle_path: str, now: datetime) -> ImportReport:
    """Load or update a city in one transaction. Bookings, their audit trail and riders entered by
    operators are never touched. A place or vehicle the new data leaves out is deleted only when
    nothing refers to it; a place still used by active bookings is retired (kept, marked inactive,
    listed in the report), and a vehicle that active bookings still ride in refuses the whole import
    (``ImportRefused``: cancel or move those bookings, or keep the vehicle in the bundle)."""
    report = ImportReport()
    with Session(engine) as s:
        try:
            _import(s, data, bundle_path, now, report)
            s.commit()
        except BaseException:
            s.rollback()
            raise
    return report


def _upsert(
    s: Session, model: Any, key: Any, values: dict[str, Any], kind: str, report: ImportReport
) -> None:
    row = s.get(model, key)
    if row is None:
        s.add(model(**values))
        report.count(report.added, kind)
        return
    changed = False
    for k, v in values.items():
        if getattr(row, k) != v:
            setattr(row, k, v)
            changed = True
    if changed:
        s.add(row)
        report.count(report.updated, kind)


def _import(s: Session, data: ReferenceData, bundle_path: str, now: datetime, report: ImportReport) -> None:
    city = data.city
    if city is not None:
        values: dict[str, Any] = {
            "city_id": CITY_ROW_ID,
            "name": city.name,
            "name_en": city.name_en,
            "timezone": city.timezone,
            "booking_phone": city.booking_phone,
            "service_area": json.dumps(city.service_area.to_geojson()) if city.service_area else "",
            "feeds_json": json.dumps(
                [{"feed_id": f.feed_id, "path": f.path, "realtime": list(f.realtime)} for f in city.feeds]
            ),
            "gbfs_url": city.gbfs_url,
            "max_walk_m": city.max_walk_m,
            "tariff_toml": city.tariff_toml,
            "airport_json": json.dumps(dataclasses.asdict(city.airport), ensure_ascii=False)
            if city.airport
            else "",
            "bundle_path": bundle_path,
            "imported_at": now,
        }
        crow0 = s.get(CityRow, CITY_ROW_ID)
        if crow0 is None:
            s.add(CityRow(**values))
        else:
            for k, val in values.items():
                setattr(crow0, k, val)
            s.add(crow0)
    # places
    new_places = {p.place_id for p in data.places}
    for p in data.places:
        _upsert(
            s,
            PlaceRow,
            p.place_id,
            {
                "place_id": p.place_id,
                "name": p.name,
                "name_en": p.name_en,
                "kana": p.kana,
                "kind": p.kind.value,
                "lat": p.point.lat,
                "lon": p.point.lon,
                "note": p.note,
                "active": True,
            },
            "places",
            report,
        )
    gone = {r.place_id for r in s.exec(select(PlaceRow)) if r.place_id not in new_places}
    used = _active_bookings(s, BookingRow.origin_place_id, gone)
    for k, v in _active_bookings(s, BookingRow.dest_place_id, gone).items():
        used.setdefault(k, []).extend(v)
    rules = [json.loads(r.origin_json).get("place_id") for r in s.exec(select(RecurringRuleRow))]
    rules += [json.loads(r.dest_json).get("place_id") for r in s.exec(select(RecurringRuleRow))]
    for pid in sorted(gone):
        prow = s.get(PlaceRow, pid)
        assert prow is not None
        if pid in used or pid in rules:
            why = f"bookings {', '.join(sorted(set(used[pid])))}" if pid in used else "a recurring booking"
            if prow.active:
                prow.active = False
                s.add(prow)
                report.retired.setdefault("places", []).append(f"{pid} (still used by {why})")
        else:
            s.delete(prow)
            report.count(report.removed, "places")
    # companies and vehicles
    new_companies = {c.company_id for c in data.companies}
    new_vehicles = {v.vehicle_id: v for c in data.companies for v in c.vehicles}
    for c in data.companies:
        _upsert(
            s,
            CompanyRow,
            c.company_id,
            {
                "company_id": c.company_id,
                "name": c.name,
                "name_en": c.name_en,
                "phone": c.phone,
                "depot_name": c.depot_name,
                "depot_lat": c.depot.lat,
                "depot_lon": c.depot.lon,
                "active": True,
            },
            "companies",
            report,
        )
    s.flush()
    for veh in new_vehicles.values():
        _upsert(
            s,
            VehicleRow,
            veh.vehicle_id,
            {
                "vehicle_id": veh.vehicle_id,
                "company_id": veh.company_id,
                "kind": veh.kind.value,
                "plate": veh.plate,
                "seats": veh.seats,
                "wheelchair_places": veh.wheelchair_places,
                "shift_start_s": veh.shift.start_s,
                "shift_end_s": veh.shift.end_s,
                "features": ",".join(sorted(veh.features)),
                "zone_id": veh.zone_id,
                "shifts_json": _shifts_json(veh),
                "active": True,
            },
            "vehicles",
            report,
        )
    gone_v = {r.vehicle_id for r in s.exec(select(VehicleRow)) if r.vehicle_id not in new_vehicles}
    riding = _active_bookings(s, BookingRow.vehicle_id, gone_v)
    if riding:
        raise ImportRefused(
            [
                f"vehicle {vid} is removed from the bundle but active bookings still ride in it: "
                f"{', '.join(sorted(bids))} (cancel or move them first, or keep the vehicle)"
                for vid, bids in sorted(riding.items())
            ]
        )
    for vid in sorted(gone_v):
        vrow = s.get(VehicleRow, vid)
        assert vrow is not None
        referenced = s.exec(
            select(BookingRow.booking_id).where(BookingRow.vehicle_id == vid).limit(1)
        ).first()
        plans = list(s.exec(select(VehiclePlanRow).where(VehiclePlanRow.vehicle_id == vid)))
        if referenced is None and all(json.loads(plan.stops_json) == [] for plan in plans):
            for plan in plans:
                s.delete(plan)
            s.flush()
            s.delete(vrow)
            report.count(report.removed, "vehicles")
        elif vrow.active:
            vrow.active = False
            s.add(vrow)
            report.retired.setdefault("vehicles", []).append(f"{vid} (past bookings refer to it)")
    s.flush()
    for crow in list(s.exec(select(CompanyRow))):
        if crow.company_id in new_companies:
            continue
        has_vehicles = s.exec(
            select(VehicleRow).where(VehicleRow.company_id == crow.company_id).limit(1)
        ).first()
        has_keys = s.exec(select(ApiKeyRow).where(ApiKeyRow.company_id == crow.company_id).limit(1)).first()
        if has_vehicles is None and has_keys is None:
            s.delete(crow)
            report.count(report.removed, "companies")
        elif crow.active:
            crow.active = False
            s.add(crow)
            report.retired.setdefault("companies", []).append(
                f"{crow.company_id} (vehicles or API keys refer to it)"
            )
    # zones: nothing refers to them by key, so they are replaced
    new_zones = {z.zone.zone_id for z in data.zones}
    for zrow in list(s.exec(select(ZoneRow))):
        if zrow.zone_id not in new_zones:
            s.delete(zrow)
            report.count(report.removed, "zones")
    for z in data.zones:
        _upsert(
            s,
            ZoneRow,
            z.zone.zone_id,
            {
                "zone_id": z.zone.zone_id,
                "name": z.zone.name,
                "name_en": z.name_en,
                "kind": z.kind.value,
                "h3_resolution": z.zone.resolution,
                "cells": ",".join(sorted(z.zone.cells)),
                "hubs": ",".join(z.hubs),
                "geometry": z.geometry_json,
            },
            "zones",
            report,
        )
    # riders from riders.csv; riders entered by operators or guests are never touched
    new_riders = {r.rider_id for r in data.riders}
    for r in data.riders:  # added once; afterwards operators own the record (edits, erasure)
        if s.get(RiderRow, r.rider_id) is None:
            rider_row = rider_to_row(r)
            rider_row.source = "bundle"
            s.add(rider_row)
            report.count(report.added, "riders")
    for rrow in list(s.exec(select(RiderRow).where(RiderRow.source == "bundle"))):
        if rrow.rider_id in new_riders:
            continue
        needed = s.exec(
            select(BookingRow.booking_id).where(BookingRow.rider_id == rrow.rider_id).limit(1)
        ).first()
        needed = (
            needed
            or s.exec(
                select(RecurringRuleRow.rule_id).where(RecurringRuleRow.rider_id == rrow.rider_id).limit(1)
            ).first()
        )
        if needed is None:
            s.delete(rrow)
            report.count(report.removed, "riders")
        else:
            report.kept.append(f"rider {rrow.rider_id} (has bookings; kept, now managed by operators)")
            rrow.source = "operator"
            s.add(rrow)


def rider_to_row(r: Rider) -> RiderRow:
    return RiderRow(
        rider_id=r.rider_id,
        name=r.name,
        kana=r.kana,
        phone=r.phone,
        home_lat=r.home.lat,
        home_lon=r.home.lon,
        district=r.district,
        birth_year=r.birth_year,
        wheelchair=r.needs.wheelchair,
        walker=r.needs.walker,
        companion=r.needs.companion,
        disability_certificate=r.disability_certificate,
        welfare_bus_pass=r.welfare_bus_pass,
        consent_data_reuse=r.consent.data_reuse,
        consent_given_on=r.consent.given_on,
        address=r.address,
    )


def rider_from_row(r: RiderRow) -> Rider:
    return Rider(
        rider_id=r.rider_id,
        name=r.name,
        kana=r.kana,
        phone=r.phone,
        home=LatLon(r.home_lat, r.home_lon),
        district=r.district,
        birth_year=r.birth_year,
        needs=MobilityNeeds(r.wheelchair, r.walker, r.companion),
        disability_certificate=r.disability_certificate,
        welfare_bus_pass=r.welfare_bus_pass,
        consent=Consent(r.consent_data_reuse, r.consent_given_on),
        address=r.address,
    )


def _shift(start_s: int, end_s: int) -> Shift:
    def t(s: int) -> time:
        s %= 86_400
        return time(s // 3600, s % 3600 // 60)

    return Shift(t(start_s), t(end_s), ends_next_day=end_s >= 86_400)


def load_city(engine: Engine) -> City | None:
    """The imported city, or None when no city bundle was ever imported."""
    with Session(engine) as s:
        row = s.get(CityRow, CITY_ROW_ID)
    if row is None:
        return None
    return City(
        name=row.name,
        name_en=row.name_en,
        timezone=row.timezone,
        booking_phone=row.booking_phone,
        service_area=ServiceArea.from_geojson(json.loads(row.service_area)) if row.service_area else None,
        feeds=tuple(
            FeedSource(f["feed_id"], f["path"], tuple(f.get("realtime", ())))
            for f in json.loads(row.feeds_json)
        ),
        gbfs_url=row.gbfs_url,
        max_walk_m=row.max_walk_m,
        tariff_toml=row.tariff_toml,
        airport=CityAirport(**json.loads(row.airport_json)) if row.airport_json else None,
    )


def load_reference_data(engine: Engine, *, riders: bool = False) -> ReferenceData:
    """Places (retired ones too, so old bookings and rules still resolve; ``Place.active`` says which),
    active companies with their active vehicles, zones and the city from the database (riders only if
    asked: the service looks riders up one at a time)."""
    with Session(engine) as s:
        places = tuple(
            Place(
                p.place_id,
                p.name,
                p.name_en,
                p.kana,
                PlaceKind(p.kind),
                LatLon(p.lat, p.lon),
                p.note,
                p.active,
            )
            for p in s.exec(select(PlaceRow).order_by(PlaceRow.place_id))
        )
        vehicles: dict[str, list[Vehicle]] = {}
        for v in s.exec(select(VehicleRow).where(VehicleRow.active).order_by(VehicleRow.vehicle_id)):
            vehicles.setdefault(v.company_id, []).append(
                Vehicle(
                    v.vehicle_id,
                    v.company_id,
                    VehicleKind(v.kind),
                    v.plate,
                    v.seats,
                    v.wheelchair_places,
                    _shift(v.shift_start_s, v.shift_end_s),
                    frozenset(x for x in v.features.split(",") if x),
                    v.zone_id,
                    _shifts_from_json(v.shifts_json),
                )
            )
        companies = tuple(
            Company(
                c.company_id,
                c.name,
                c.name_en,
                c.phone,
                c.depot_name,
                LatLon(c.depot_lat, c.depot_lon),
                tuple(vehicles.get(c.company_id, ())),
            )
            for c in s.exec(select(CompanyRow).where(CompanyRow.active).order_by(CompanyRow.company_id))
        )
        zones = tuple(
            Zone(
                ServiceZone(
                    z.zone_id, z.name, frozenset(x for x in z.cells.split(",") if x), z.h3_resolution
                ),
                ZoneKind(z.kind),
                z.name_en,
                tuple(x for x in z.hubs.split(",") if x),
                z.geometry,
            )
            for z in s.exec(select(ZoneRow).order_by(ZoneRow.zone_id))
        )
        rider_rows = tuple(rider_from_row(r) for r in s.exec(select(RiderRow))) if riders else ()
    return ReferenceData(places, companies, rider_rows, zones, load_city(engine))
