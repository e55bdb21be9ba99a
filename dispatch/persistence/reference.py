"""Store and count reference data (places, companies, vehicles, riders, zones)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from dispatch.domain import ReferenceData
from dispatch.persistence.tables import CompanyRow, PlaceRow, RiderRow, VehicleRow, ZoneRow


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
            s.add(
                RiderRow(
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
            )
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
