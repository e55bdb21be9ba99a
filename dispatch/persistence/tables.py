"""SQLModel table models (reference data). Bookings arrive with the dispatch service (issue 5)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class PlaceRow(SQLModel, table=True):
    __tablename__ = "place"
    place_id: str = Field(primary_key=True)
    name: str
    name_en: str
    kana: str = Field(index=True)
    kind: str = Field(index=True)
    lat: float
    lon: float


class CompanyRow(SQLModel, table=True):
    __tablename__ = "company"
    company_id: str = Field(primary_key=True)
    name: str
    name_en: str
    phone: str
    depot_name: str
    depot_lat: float
    depot_lon: float


class VehicleRow(SQLModel, table=True):
    __tablename__ = "vehicle"
    vehicle_id: str = Field(primary_key=True)
    company_id: str = Field(foreign_key="company.company_id", index=True)
    kind: str
    plate: str
    seats: int
    wheelchair_places: int
    shift_start_s: int
    shift_end_s: int
    features: str = ""  # comma-separated


class RiderRow(SQLModel, table=True):
    __tablename__ = "rider"
    rider_id: str = Field(primary_key=True)
    name: str = Field(index=True)
    kana: str = Field(index=True)
    phone: str = Field(index=True)
    home_lat: float
    home_lon: float
    district: str
    birth_year: int
    wheelchair: bool = False
    walker: bool = False
    companion: bool = False
    disability_certificate: bool = False
    welfare_bus_pass: bool = False
    consent_data_reuse: bool = False


class ZoneRow(SQLModel, table=True):
    __tablename__ = "zone"
    zone_id: str = Field(primary_key=True)
    name: str
    name_en: str
    kind: str
    h3_resolution: int
    cells: str  # comma-separated H3 cell ids
