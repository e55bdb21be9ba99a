"""Reading riders, vehicles and bookings with the caller's rights: a company sees only its own vehicles,
the bookings they carry and those bookings' riders (anything else is ``NotFound``)."""

from __future__ import annotations

import logging
from datetime import date

from dispatch.booking import (
    AuditEntry,
    Booking,
)
from dispatch.context import DispatchContext
from dispatch.domain import Principal, Rider, Vehicle
from dispatch.errors import Invalid, NotFound
from dispatch.inputs import Endpoint, EndpointKind
from geo import LatLon

log = logging.getLogger("noriai.dispatch")


def search_riders(ctx: DispatchContext, q: str) -> list[Rider]:
    if len(q.strip()) < 1:
        raise Invalid(
            "type at least one character of a name, kana or phone number", "検索語を入力してください"
        )
    with ctx.repo.read() as tx:
        return tx.search_riders(q)


def rider_by_id(ctx: DispatchContext, rider_id: str) -> Rider:
    with ctx.repo.read() as tx:
        r = tx.rider(rider_id)
    if r is None:
        raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")
    return r


def resolve(ctx: DispatchContext, e: Endpoint, rider: Rider) -> tuple[str, LatLon, str | None]:
    if e.kind == EndpointKind.HOME:
        return (e.label or "自宅", rider.home, None)
    if e.kind == EndpointKind.PLACE:
        p = ctx.places.get(e.place_id or "")
        if p is None:
            raise Invalid(f"unknown place {e.place_id!r}", f"行き先 {e.place_id} が見つかりません")
        return (e.label or p.name, p.point, p.place_id)  # a label the caller gave (the planner's language)
    if e.kind == EndpointKind.POINT and e.point is not None:
        return (e.label or f"{e.point.lat:.5f},{e.point.lon:.5f}", e.point, None)
    raise Invalid(f"endpoint kind '{e.kind}' needs a place_id or a point", "場所の指定が不正です")


def rider_for(ctx: DispatchContext, principal: Principal, rider_id: str) -> Rider:
    """A company may see a rider only while it carries one of the rider's bookings."""
    rider = rider_by_id(ctx, rider_id)
    if principal.role == "company":
        with ctx.repo.read() as tx:
            mine = tx.bookings(rider_id=rider_id, company_id=principal.company_id)
        if not mine:
            raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")
    return rider


def vehicle_for(ctx: DispatchContext, principal: Principal, vehicle_id: str) -> Vehicle:
    veh = ctx.vehicles.get(vehicle_id)
    if veh is None or (principal.role == "company" and veh.company_id != principal.company_id):
        raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
    return veh


def booking_for(ctx: DispatchContext, principal: Principal, booking_id: str) -> Booking:
    with ctx.repo.read() as tx:
        b = tx.booking(booking_id)
    if b is None or (principal.role == "company" and b.company_id != principal.company_id):
        raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
    return b


def audit_trail(ctx: DispatchContext, booking_id: str) -> list[AuditEntry]:
    with ctx.repo.read() as tx:
        if tx.booking(booking_id) is None:
            raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
        return tx.audit_trail(booking_id)


def list_bookings(
    ctx: DispatchContext, *, service_date: date | None = None, rider_id: str | None = None
) -> list[Booking]:
    with ctx.repo.read() as tx:
        return tx.bookings(service_date=service_date, rider_id=rider_id)
