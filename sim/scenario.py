"""Scenario files (TOML): the fleet, the booking policy, the road's noise and the day's demand.

A scenario is validated with pydantic (``extra="forbid"``), so a typo in a key is an error that names
the key's path, not a silently ignored setting. Times are ``"HH:MM"`` (service-day clock, 24:00 and
later allowed) in the file and seconds after midnight in code; money in yen, distances in metres.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEMO_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "yamaguchi-weekday.toml"
VEHICLE_KINDS = ("sedan", "jumbo", "welfare")
PURPOSES = ("hospital", "school", "shopping", "station", "tourism", "airport")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


def hhmm_to_s(text: str) -> int:
    try:
        h, m = text.strip().split(":")
        hours, minutes = int(h), int(m)
    except ValueError:
        raise ValueError(f"expected a time like 9:05, got {text!r}") from None
    if not (0 <= hours < 48 and 0 <= minutes < 60):
        raise ValueError(f"expected a time like 9:05, got {text!r}")
    return hours * 3600 + minutes * 60


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleGroup(_Model):
    kind: Literal["sedan", "jumbo", "welfare"]
    count: int = Field(ge=0, le=200)
    seats: int = Field(ge=1, le=30)
    wheelchair_places: int = Field(default=0, ge=0, le=4)
    features: tuple[str, ...] = ()
    shift: tuple[str, str]

    @field_validator("shift")
    @classmethod
    def _shift(cls, v: tuple[str, str]) -> tuple[str, str]:
        if hhmm_to_s(v[1]) <= hhmm_to_s(v[0]):
            raise ValueError(f"shift must end after it starts: {v[0]} - {v[1]}")
        return v


class FleetCompany(_Model):
    company_id: str
    vehicles: tuple[VehicleGroup, ...]


class Fleet(_Model):
    company: tuple[FleetCompany, ...] = Field(min_length=1)


class Policy(_Model):
    """The booking policy a city officer sets (dispatch's ``PromisePolicy`` plus the sharing switch)."""

    pickup_window_s: int = Field(default=900, ge=300, le=3600)  # 1/3 before, 2/3 after the plan
    max_ride_factor: float = Field(default=1.5, ge=1.0, le=4.0)
    max_ride_extra_s: int = Field(default=600, ge=0, le=3600)
    shared: bool = True
    reoptimise_interval_s: int = Field(default=1800, ge=300, le=86_400)
    reoptimise_iterations: int = Field(default=400, ge=0, le=200_000)
    no_show_wait_s: int = Field(default=180, ge=0, le=1800)


class Congestion(_Model):
    start: str
    end: str
    factor: float = Field(ge=0.5, le=3.0)


class Road(_Model):
    speed_sigma: float = Field(default=0.15, ge=0.0, le=1.5)
    congestion: tuple[Congestion, ...] = ()


class Lead(_Model):
    days_ahead: float = Field(ge=0)
    same_day: float = Field(ge=0)
    on_call: float = Field(ge=0)


class Rates(_Model):
    cancellation: float = Field(ge=0, le=1)
    no_show: float = Field(ge=0, le=1)


class RiderMix(_Model):
    aged_65_plus: float = Field(ge=0, le=1)
    wheelchair: float = Field(ge=0, le=1)
    walker: float = Field(ge=0, le=1)
    carer: float = Field(ge=0, le=1)
    disability_certificate: float = Field(ge=0, le=1)
    consent_data_reuse: float = Field(ge=0, le=1)
    companions: tuple[float, ...] = (1.0,)  # P(0 companions), P(1), ...


class District(_Model):
    zone_id: str
    weight: float = Field(gt=0)


class Purpose(_Model):
    name: Literal["hospital", "school", "shopping", "station", "tourism", "airport"]
    share: float = Field(gt=0)
    place_kinds: tuple[str, ...] = Field(min_length=1)
    mode: Literal["arrive_by", "pickup_after"]
    dwell_s: int = Field(ge=0, le=43_200)  # time at the destination before the return trip
    return_share: float = Field(default=0.0, ge=0, le=1)  # share of trips with a return booked with them
    hours: dict[int, float]  # hour of the (outbound) requested time -> weight

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: dict[int, float]) -> dict[int, float]:
        if not v or any(not 0 <= h <= 23 or w < 0 for h, w in v.items()) or sum(v.values()) <= 0:
            raise ValueError("hours must map 0..23 to non-negative weights, not all zero")
        return v


class Demand(_Model):
    kind: Literal["synthetic", "replay"] = "synthetic"
    requests: int = Field(default=300, ge=1, le=20_000)
    export: str | None = None  # replay: a JSON file as served by GET /api/v1/analytics/trips
    lead: Lead
    rates: Rates
    riders: RiderMix
    district: tuple[District, ...] = Field(min_length=1)
    purpose: tuple[Purpose, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _replay_has_export(self) -> Demand:
        if self.kind == "replay" and not self.export:
            raise ValueError("demand.kind = 'replay' needs demand.export (a trips export JSON file)")
        return self


class Emissions(_Model):
    source: str = Field(min_length=1)
    g_co2_per_km: dict[str, float]
    solo_taxi_kind: Literal["sedan", "jumbo", "welfare"] = "sedan"

    @field_validator("g_co2_per_km")
    @classmethod
    def _kinds(cls, v: dict[str, float]) -> dict[str, float]:
        missing = [k for k in VEHICLE_KINDS if k not in v]
        if missing:
            raise ValueError(f"an emission factor is needed for every vehicle kind; missing {missing}")
        return v


class Costs(_Model):
    source: str = ""
    vehicle_hour_yen: dict[str, int]


class Meta(_Model):
    name: str
    title: str = ""
    city: Literal["demo"] = "demo"
    service_date: date | None = None
    seed: int = 0


class Scenario(_Model):
    scenario: Meta
    fleet: Fleet
    policy: Policy = Policy()
    road: Road = Road()
    demand: Demand
    emissions: Emissions
    costs: Costs
    sources: dict[str, str] = {}

    def with_overrides(
        self,
        *,
        requests: int | None = None,
        speed_noise: float | None = None,
        vehicles: int | None = None,
        pickup_window_s: int | None = None,
        max_ride_factor: float | None = None,
        shared: bool | None = None,
        reoptimise_iterations: int | None = None,
    ) -> Scenario:
        """A copy with the values a planner changes (CLI options, sweep axes, the planning page)."""
        demand = self.demand if requests is None else self.demand.model_copy(update={"requests": requests})
        road = self.road if speed_noise is None else self.road.model_copy(update={"speed_sigma": speed_noise})
        pol: dict[str, object] = {}
        if pickup_window_s is not None:
            pol["pickup_window_s"] = pickup_window_s
        if max_ride_factor is not None:
            pol["max_ride_factor"] = max_ride_factor
        if shared is not None:
            pol["shared"] = shared
        if reoptimise_iterations is not None:
            pol["reoptimise_iterations"] = reoptimise_iterations
        fleet = self.fleet if vehicles is None else resize_fleet(self.fleet, vehicles)
        out = self.model_copy(
            update={
                "demand": demand,
                "road": road,
                "policy": self.policy.model_copy(update=pol),
                "fleet": fleet,
            }
        )
        return Scenario.model_validate(out.model_dump())  # re-validate the changed values


def resize_fleet(fleet: Fleet, vehicles: int) -> Fleet:
    """The same fleet with ``vehicles`` in all: welfare and jumbo vehicles stay, sedans are added or
    removed (round-robin over the groups of sedans, first company first)."""
    if vehicles < 1:
        raise ScenarioError("a fleet needs at least one vehicle")
    groups = [(ci, gi) for ci, c in enumerate(fleet.company) for gi, g in enumerate(c.vehicles)]
    sedans = [(ci, gi) for ci, gi in groups if fleet.company[ci].vehicles[gi].kind == "sedan"]
    counts = {(ci, gi): fleet.company[ci].vehicles[gi].count for ci, gi in groups}
    other = sum(n for k, n in counts.items() if k not in sedans)
    target = max(0, vehicles - other)
    if not sedans:
        raise ScenarioError("the fleet has no sedans to add or remove")
    for k in sedans:
        counts[k] = 0
    for i in range(target):
        counts[sedans[i % len(sedans)]] += 1
    companies = tuple(
        c.model_copy(
            update={
                "vehicles": tuple(
                    g.model_copy(update={"count": counts[(ci, gi)]}) for gi, g in enumerate(c.vehicles)
                )
            }
        )
        for ci, c in enumerate(fleet.company)
    )
    return Fleet(company=companies)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; ``ScenarioError`` names the file and the key path."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML: {exc}") from None
    try:
        sc = Scenario.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ScenarioError(f"{p}: {where}: {first['msg']} ({exc.error_count()} problem(s) in all)") from None
    if sc.demand.kind == "replay" and sc.demand.export and not Path(sc.demand.export).is_absolute():
        sc = sc.model_copy(
            update={"demand": sc.demand.model_copy(update={"export": str(p.parent / sc.demand.export)})}
        )
    return sc


def demo_scenario() -> Scenario:
    return load_scenario(DEMO_SCENARIO)
