"""Store and count reference data (places, companies, vehicles, riders, zones)."""

from __future__ import annotations

from datetime import time

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from dispatch.domain import (
    Company,
    Consent,
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
from dispatch.persistence.tables import CompanyRow, PlaceRow, RiderRow, VehicleRow, ZoneRow
from geo import LatLon, ServiceZone


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


def store_reference_data(engine: Engine, data: ReferenceData) -> bool:
    """Insert the reference data once; returns False (and writes nothing) if riders already exist."""
    with Session(engine) as s:
        if s.exec(select(func.count()).select_from(RiderRow)).one():
            return False
        for p in data.places:
            s.add(
                PlaceRow(
                    place_id=p.place_id,
                    name=p.name,
                    name_en=p.name_en,
                    kana=p.kana,
                    kind=p.kind.value,
                    lat=p.point.lat,
                    lon=p.point.lon,
                )
            )
        for c in data.companies:
            s.add(
                CompanyRow(
                    company_id=c.company_id,
                    name=c.name,
                    name_en=c.name_en,
                    phone=c.phone,
                    depot_name=c.depot_name,
                    depot_lat=c.depot.lat,
                    depot_lon=c.depot.lon,
                )
            )
        s.flush()
        for c in data.companies:
            for v in c.vehicles:
                s.add(
                    VehicleRow(
                        vehicle_id=v.vehicle_id,
                        company_id=v.company_id,
                        kind=v.kind.value,
                        plate=v.plate,
                        seats=v.seats,
                        wheelchair_places=v.wheelchair_places,
                        shift_start_s=v.shift.start_s,
                        shift_end_s=v.shift.end_s,
                        features=",".join(sorted(v.features)),
                    )
                )
        for r in data.riders:
            s.add(rider_to_row(r))
        for z in data.zones:
            s.add(
                ZoneRow(
                    zone_id=z.zone.zone_id,
                    name=z.zone.name,
                    name_en=z.name_en,
                    kind=z.kind.value,
                    h3_resolution=z.zone.resolution,
                    cells=",".join(sorted(z.zone.cells)),
                )
            )
        s.commit()
    return True


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
        consent=Consent(r.consent_data_reuse),
    )


def _shift(start_s: int, end_s: int) -> Shift:
    def t(s: int) -> time:
        s %= 86_400
        return time(s // 3600, s % 3600 // 60)

    return Shift(t(start_s), t(end_s), ends_next_day=end_s >= 86_400)


def load_reference_data(engine: Engine, *, riders: bool = False) -> ReferenceData:
    """Places, companies with their vehicles and zones from the database (riders only if asked: the
    service looks riders up one at a time)."""
    with Session(engine) as s:
        places = tuple(
            Place(p.place_id, p.name, p.name_en, p.kana, PlaceKind(p.kind), LatLon(p.lat, p.lon))
            for p in s.exec(select(PlaceRow).order_by(PlaceRow.place_id))
        )
        vehicles: dict[str, list[Vehicle]] = {}
        for v in s.exec(select(VehicleRow).order_by(VehicleRow.vehicle_id)):
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
            for c in s.exec(select(CompanyRow).order_by(CompanyRow.company_id))
        )
        zones = tuple(
            Zone(
                ServiceZone(
                    z.zone_id, z.name, frozenset(x for x in z.cells.split(",") if x), z.h3_resolution
                ),
                ZoneKind(z.kind),
                z.name_en,
            )
            for z in s.exec(select(ZoneRow).order_by(ZoneRow.zone_id))
        )
        rider_rows = tuple(rider_from_row(r) for r in s.exec(select(RiderRow))) if riders else ()
    return ReferenceData(places, companies, rider_rows, zones)
