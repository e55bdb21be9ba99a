"""The built-in Yamaguchi City demo data set (our own format; see ``data/`` and scripts/make_demo_data.py).

Everything is read and validated here so a mistake in a data file is reported with the file and row.
"""

from __future__ import annotations

import csv
import tomllib
from datetime import time
from functools import cache
from pathlib import Path
from typing import Any

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
from geo import LatLon, ServiceZone

DATA_DIR = Path(__file__).resolve().parent / "data"
GTFS_DIR = DATA_DIR / "gtfs"
TARIFF_PATH = DATA_DIR / "tariff.toml"
GBFS_DIR = DATA_DIR / "gbfs"
FLIGHTS_PATH = (
    DATA_DIR / "flights_ube.csv"
)  # fictional demo timetable of 山口宇部空港 (moves into the city bundle)


class DemoDataError(ValueError):
    """A demo data file is malformed; the message names the file and row."""


def _bool(value: str, where: str) -> bool:
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise DemoDataError(f"{where}: expected true/false, got {value!r}")


def _time(text: str) -> tuple[time, bool]:
    hh, mm = (int(x) for x in text.split(":"))
    if hh == 24 and mm == 0:
        return time(0, 0), True
    return time(hh, mm), False


def load_places(path: Path = DATA_DIR / "places.csv") -> tuple[Place, ...]:
    out = []
    with path.open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                out.append(
                    Place(
                        place_id=row["place_id"],
                        name=row["name"],
                        name_en=row["name_en"],
                        kana=row["kana"],
                        kind=PlaceKind(row["kind"]),
                        point=LatLon(float(row["lat"]), float(row["lon"])),
                        note=row.get("note") or "",
                    )
                )
            except (KeyError, ValueError) as exc:
                raise DemoDataError(f"{path}:{line}: {exc}") from None
    return tuple(out)


def _vehicle(company_id: str, v: dict[str, Any], where: str) -> Vehicle:
    start, _ = _time(v["shift"]["start"])
    end, next_day = _time(v["shift"]["end"])
    try:
        return Vehicle(
            vehicle_id=v["vehicle_id"],
            company_id=company_id,
            kind=VehicleKind(v["kind"]),
            plate=v["plate"],
            seats=int(v["seats"]),
            wheelchair_places=int(v["wheelchair_places"]),
            shift=Shift(start, end, next_day),
            features=frozenset(v.get("features", [])),
        )
    except (KeyError, ValueError) as exc:
        raise DemoDataError(f"{where}: {exc}") from None


def load_companies(path: Path = DATA_DIR / "companies.toml") -> tuple[Company, ...]:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, c in enumerate(doc.get("company", [])):
        where = f"{path}: company[{i}]"
        try:
            vehicles = tuple(
                _vehicle(c["company_id"], v, f"{where}.vehicle[{k}]") for k, v in enumerate(c["vehicle"])
            )
            out.append(
                Company(
                    company_id=c["company_id"],
                    name=c["name"],
                    name_en=c["name_en"],
                    phone=c["phone"],
                    depot_name=c["depot"]["name"],
                    depot=LatLon(c["depot"]["lat"], c["depot"]["lon"]),
                    vehicles=vehicles,
                )
            )
        except KeyError as exc:
            raise DemoDataError(f"{where}: missing field {exc}") from None
    return tuple(out)


def load_riders(path: Path = DATA_DIR / "riders.csv") -> tuple[Rider, ...]:
    out = []
    with path.open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            where = f"{path}:{line}"
            try:
                out.append(
                    Rider(
                        rider_id=row["rider_id"],
                        name=row["name"],
                        kana=row["kana"],
                        phone=row["phone"],
                        home=LatLon(float(row["home_lat"]), float(row["home_lon"])),
                        district=row["district"],
                        birth_year=int(row["birth_year"]),
                        needs=MobilityNeeds(
                            wheelchair=_bool(row["wheelchair"], where),
                            walker=_bool(row["walker"], where),
                            companion=_bool(row["companion"], where),
                        ),
                        disability_certificate=_bool(row["disability_certificate"], where),
                        welfare_bus_pass=_bool(row["welfare_bus_pass"], where),
                        consent=Consent(data_reuse=_bool(row["consent_data_reuse"], where)),
                    )
                )
            except (KeyError, ValueError) as exc:
                raise DemoDataError(f"{where}: {exc}") from None
    return tuple(out)


def load_zones(path: Path = DATA_DIR / "zones.toml") -> tuple[Zone, ...]:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, z in enumerate(doc.get("zone", [])):
        try:
            sz = ServiceZone.from_disk(
                z["zone_id"], z["name"], LatLon(z["centre"]["lat"], z["centre"]["lon"]), float(z["radius_m"])
            )
            out.append(Zone(zone=sz, kind=ZoneKind(z["kind"]), name_en=z["name_en"]))
        except (KeyError, ValueError) as exc:
            raise DemoDataError(f"{path}: zone[{i}]: {exc}") from None
    return tuple(out)


@cache
def reference_data() -> ReferenceData:
    """The whole demo set, loaded once per process."""
    return ReferenceData(
        places=load_places(), companies=load_companies(), riders=load_riders(), zones=load_zones()
    )
