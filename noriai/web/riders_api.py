"""Operator API for riders and recurring bookings: register a first-time caller, edit a rider, list a
rider's recurring rules (``noriai.jobs.materialiser_job`` turns the rules into bookings).

(No ``from __future__ import annotations``: FastAPI must see the dependency aliases as real objects.)
"""

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dispatch.booking import RecurringRule, hhmm
from dispatch.domain import MobilityNeeds, Principal, Rider
from dispatch.riders import RiderFieldError, RiderForm, RiderRegistry
from dispatch.service import DispatchService
from geo import LatLon
from noriai.web.api.views import rider_view


class NeedsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wheelchair: bool = False
    walker: bool = False
    companion: bool = False


class RiderIn(BaseModel):
    """A rider as the operator types it. ``home_place_id`` (a place from the list) or ``lat``/``lon``
    (a point picked on the map) gives the home."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    kana: str = Field(min_length=1, max_length=60)
    phone: str = Field(min_length=6, max_length=24)
    birth_year: int = Field(ge=1900, le=2100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    home_place_id: str | None = Field(default=None, max_length=60)
    district: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=120)
    needs: NeedsIn = NeedsIn()
    disability_certificate: bool = False
    welfare_bus_pass: bool = False
    consent_data_reuse: bool = False
    consent_given_on: date | None = None


def rider_json(r: Rider) -> dict[str, Any]:
    return rider_view(r, full=True)


WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def rule_json(rule: RecurringRule, label: Callable[[str], str]) -> dict[str, Any]:
    days = [int(x) for x in rule.weekdays.split(",") if x]
    return {
        "rule_id": rule.rule_id,
        "rider_id": rule.rider_id,
        "weekdays": days,
        "weekdays_ja": "・".join(WEEKDAYS_JA[d] for d in days),
        "weekdays_en": ", ".join(WEEKDAYS_EN[d] for d in days),
        "time_mode": rule.time_mode,
        "time": hhmm(rule.time_s),
        "origin": label(rule.origin_json),
        "destination": label(rule.dest_json),
        "start_date": rule.start_date.isoformat(),
        "end_date": rule.end_date.isoformat() if rule.end_date else None,
        "skip_holidays": rule.skip_holidays,
        "exceptions": [x for x in rule.exceptions.split(",") if x],
        "return_mode": rule.return_mode,
        "return_time": hhmm(rule.return_time_s) if rule.return_time_s is not None else None,
        "active": rule.active,
    }


def _field_error(exc: RiderFieldError) -> JSONResponse:
    return JSONResponse(
        {
            "error": exc.code,
            "message": exc.message_en,
            "message_ja": exc.message_ja,
            "fields": [
                {
                    "field": exc.field,
                    "code": exc.code,
                    "message": exc.message_en,
                    "message_ja": exc.message_ja,
                }
            ],
        },
        status_code=exc.status_code,
    )


def riders_router(svc: DispatchService, operator: Callable[..., Principal]) -> APIRouter:
    """``operator``: the app's operator-key dependency (noriai.web.auth.Auth.operator)."""
    registry = RiderRegistry(svc.repo, svc.zones, svc.now)
    router = APIRouter(prefix="/api/v1", tags=["riders"])

    Op = Annotated[Principal, Depends(operator)]

    def form(body: RiderIn) -> RiderForm:
        if body.home_place_id:
            place = svc.places.get(body.home_place_id)
            if place is None:
                raise RiderFieldError(
                    "home", "unknown_place", "Unknown place for the home.", "自宅の場所が見つかりません。"
                )
            home = place.point
        elif body.lat is not None and body.lon is not None:
            home = LatLon(body.lat, body.lon)
        else:
            raise RiderFieldError(
                "home",
                "missing",
                "Please pick the home on the map or from the list.",
                "自宅の場所を地図か一覧から選んでください。",
            )
        return RiderForm(
            name=body.name,
            kana=body.kana,
            phone=body.phone,
            home=home,
            birth_year=body.birth_year,
            district=body.district,
            needs=MobilityNeeds(body.needs.wheelchair, body.needs.walker, body.needs.companion),
            disability_certificate=body.disability_certificate,
            welfare_bus_pass=body.welfare_bus_pass,
            consent_data_reuse=body.consent_data_reuse,
            consent_given_on=body.consent_given_on,
            address=body.address,
        )

    @router.post("/riders", status_code=201, response_model=None)
    def register_rider(p: Op, body: RiderIn) -> dict[str, Any] | JSONResponse:
        """Register a first-time caller (consent to data reuse is dated: today unless given)."""
        try:
            return rider_json(registry.register(form(body)))
        except RiderFieldError as exc:
            return _field_error(exc)

    @router.put("/riders/{rider_id}", response_model=None)
    def edit_rider(p: Op, rider_id: str, body: RiderIn) -> dict[str, Any] | JSONResponse:
        """Replace a rider's details (address, needs, passes, consent)."""
        try:
            return rider_json(registry.update(rider_id, form(body)))
        except RiderFieldError as exc:
            return _field_error(exc)

    def label(endpoint_json: str) -> str:
        e = json.loads(endpoint_json)
        if e.get("kind") == "home":
            return "自宅"
        if e.get("kind") == "place":
            place = svc.places.get(e.get("place_id") or "")
            return place.name if place else str(e.get("place_id"))
        return str(e.get("label") or "地図の地点")

    @router.get("/recurring")
    def list_rules(p: Op, rider_id: str | None = None) -> list[dict[str, Any]]:
        """Active recurring rules (all, or one rider's)."""
        with svc.repo.read() as tx:
            return [rule_json(r, label) for r in tx.rules(rider_id=rider_id)]

    return router
