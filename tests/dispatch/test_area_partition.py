"""Bookings in different areas never wait on each other (#19), on real PostgreSQL.

A confirmation locks only its own vehicle's plan row (``SELECT ... FOR UPDATE``). While one area's
plan rows are held (as a re-optimisation of that area holds them while it writes), a booking for a
vehicle of another area goes through at once, and a booking for the held area waits until the rows
are released, then goes through."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError

from dispatch.booking import Booking, BookingStatus
from tests.conftest import PostgresServer
from tests.dispatch.helpers import DAY, OPERATOR, make_service, trip

HOLD_S = 4.0


def test_a_booking_in_one_area_does_not_wait_for_another_areas_locked_plans(
    postgres_server: PostgresServer,
) -> None:
    svc, _ = make_service(postgres_server.new_database("area_partition"))
    svc.repo.ensure_plans(sorted(svc.ctx.vehicles), DAY)
    central = svc.quote(OPERATOR, trip("R0002", "yamaguchi-sta", at="10:00"))  # Yamaguchi centre
    ogori = svc.quote(OPERATOR, trip("R0005", "shin-yamaguchi-sta", at="09:30"))  # Ogori
    assert central.state is BookingStatus.QUOTED and ogori.state is BookingStatus.QUOTED
    held_company = central.options[0].company_id
    assert ogori.options[0].company_id != held_company, "the two trips are served from two areas"
    held = sorted(v for v, veh in svc.ctx.vehicles.items() if veh.company_id == held_company)

    done: dict[str, float] = {}
    booked: dict[str, Booking] = {}
    locked, release = threading.Event(), threading.Event()

    def hold_area() -> None:
        with svc.repo.write() as tx:
            rows = tx.plans(DAY, lock=True, vehicle_ids=held)
            assert set(rows) == set(held)
            locked.set()
            release.wait(30)

    def confirm(name: str, booking_id: str) -> None:
        booked[name] = svc.confirm(OPERATOR, booking_id, 0)
        done[name] = time.monotonic()

    holder = threading.Thread(target=hold_area)
    holder.start()
    assert locked.wait(30)
    started = time.monotonic()
    other = threading.Thread(target=confirm, args=("ogori", ogori.booking_id))
    same = threading.Thread(target=confirm, args=("central", central.booking_id))
    other.start()
    same.start()
    other.join(HOLD_S)
    time.sleep(max(0.0, started + HOLD_S - time.monotonic()))
    assert "ogori" in done, "a booking in another area waited for the locked area"
    assert "central" not in done, "a booking in the locked area did not wait for its plan row"
    released = time.monotonic()
    release.set()
    holder.join(30)
    same.join(30)
    assert done["central"] >= released
    assert booked["ogori"].state is BookingStatus.SCHEDULED
    assert booked["central"].state is BookingStatus.SCHEDULED
    assert booked["central"].company_id == held_company
    assert svc.check_day(DAY) == []


def test_creating_a_missing_plan_row_never_overwrites_one_booked_meanwhile(
    postgres_server: PostgresServer,
) -> None:
    """``ensure_plans`` inserts empty rows only: a row that another process created and booked into
    after the missing rows were listed is refused (and kept), never saved over with no stops."""
    svc, _ = make_service(postgres_server.new_database("plan_rows"))
    q = svc.quote(OPERATOR, trip("R0002", "yamaguchi-sta", at="10:00"))
    b = svc.confirm(OPERATOR, q.booking_id, 0)
    assert b.vehicle_id is not None
    with svc.repo.read() as tx:
        before = tx.plan(b.vehicle_id, DAY)
    assert before.stops
    with pytest.raises(IntegrityError), svc.repo.write() as tx:
        tx.add_empty_plan(b.vehicle_id, DAY)
    with svc.repo.read() as tx:
        assert tx.plan(b.vehicle_id, DAY) == before
    svc.repo.ensure_plans(sorted(svc.ctx.vehicles), DAY)
    with svc.repo.read() as tx:
        assert tx.plan(b.vehicle_id, DAY) == before
        assert set(tx.plans(DAY)) == set(svc.ctx.vehicles)
