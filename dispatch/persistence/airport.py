"""Airport shared-taxi bookings by flight and flight delays (tables airport_booking, flight_delay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.persistence.tables import AirportBookingRow, FlightDelayRow


@dataclass(frozen=True, slots=True)
class AirportBooking:
    booking_id: str
    flight: str
    service_date: date
    direction: str
    rider_id: str
    companions: int
    created_at: datetime


class AirportStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, a: AirportBooking) -> None:
        """Record (or, for a retried request, record again: a no-op) the booking of a flight."""
        with Session(self.engine) as s:
            if s.get(AirportBookingRow, a.booking_id) is None:
                s.add(AirportBookingRow(**{k: getattr(a, k) for k in AirportBooking.__dataclass_fields__}))
                s.commit()

    def of_flight(self, flight: str, service_date: date) -> list[AirportBooking]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(AirportBookingRow)
                .where(AirportBookingRow.flight == flight, AirportBookingRow.service_date == service_date)
                .order_by(col(AirportBookingRow.created_at), col(AirportBookingRow.booking_id))
            ).all()
            return [
                AirportBooking(**{k: getattr(r, k) for k in AirportBooking.__dataclass_fields__})
                for r in rows
            ]

    def delay_s(self, flight: str, service_date: date) -> int:
        with Session(self.engine) as s:
            row = s.get(FlightDelayRow, (flight, service_date))
            return row.delay_s if row else 0

    def set_delay(self, flight: str, service_date: date, delay_s: int, now: datetime) -> None:
        with Session(self.engine) as s:
            row = s.get(FlightDelayRow, (flight, service_date)) or FlightDelayRow(
                flight=flight, service_date=service_date, delay_s=delay_s, updated_at=now
            )
            row.delay_s, row.updated_at = delay_s, now
            s.add(row)
            s.commit()
