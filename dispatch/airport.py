"""The airport shared taxi (スマート空港タクシー): flights of one airport and rides timed to them.

A flight timetable is a CSV (``flight,direction,scheduled,days,other_airport,note``): ``direction`` is
``departure`` or ``arrival`` at our airport, ``scheduled`` local HH:MM, ``days`` ``daily``, ISO weekday
digits (``12345`` = Monday to Friday) or one ISO date. The demo's (``noriai/demo/data/flights_ube.csv``,
山口宇部空港) is fictional; it will move into the city bundle.

Riders book "to flight X" (arrive at the airport ``checkin_margin_s`` before departure) or "from flight
X" (picked up from ``baggage_margin_s`` after arrival) at a fixed fare per person from the tariff's
``[airport]`` section instead of the meter. The solver pools riders of one flight as it pools any
riders: their windows and destination coincide. An arrival delay (operator, or a feed) re-books the
pickups of that flight: new promises first, then the old bookings are cancelled, and each rider's new
read-back sentence is returned for the operator (there is no SMS channel yet).
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dispatch.booking import parse_hhmm


class FlightDirection(enum.StrEnum):
    DEPARTURE = "departure"
    ARRIVAL = "arrival"


class FlightFileError(ValueError):
    """A timetable line that cannot be read: names the file, line and field."""


@dataclass(frozen=True, slots=True)
class Flight:
    flight: str
    direction: FlightDirection
    scheduled_s: int  # seconds after local midnight
    weekdays: frozenset[int]  # ISO 1..7; empty when ``on_date`` is set
    on_date: date | None
    other_airport: str = ""

    def operates_on(self, d: date) -> bool:
        return d == self.on_date if self.on_date is not None else d.isoweekday() in self.weekdays


@dataclass(frozen=True, slots=True)
class FlightTimetable:
    flights: tuple[Flight, ...]

    def on(self, d: date, direction: FlightDirection | None = None) -> list[Flight]:
        """Flights operating on ``d`` (optionally one direction), by scheduled time."""
        got = [
            f for f in self.flights if f.operates_on(d) and (direction is None or f.direction == direction)
        ]
        return sorted(got, key=lambda f: (f.scheduled_s, f.flight))

    def find(self, flight: str, d: date) -> Flight | None:
        code = flight.replace(" ", "").upper()
        return next((f for f in self.on(d) if f.flight == code), None)


_FLIGHT = re.compile(r"^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")


def parse_flights(rows: Iterable[Mapping[str, str]], source: str = "<flights>") -> FlightTimetable:
    out: list[Flight] = []
    for line, row in enumerate(rows, start=2):

        def bad(field: str, why: str, line: int = line) -> FlightFileError:
            return FlightFileError(f"{source}:{line}: {field}: {why}")

        code = (row.get("flight") or "").replace(" ", "").upper()
        if not _FLIGHT.match(code):
            raise bad("flight", f"not a flight number: {code!r}")
        try:
            direction = FlightDirection((row.get("direction") or "").strip())
        except ValueError:
            raise bad("direction", "must be departure or arrival") from None
        try:
            scheduled_s = parse_hhmm(row.get("scheduled") or "")
        except ValueError:
            raise bad("scheduled", "must be HH:MM") from None
        days = (row.get("days") or "").strip()
        weekdays: frozenset[int] = frozenset()
        on_date = None
        if days == "daily":
            weekdays = frozenset(range(1, 8))
        elif days.isdigit() and set(days) <= set("1234567"):
            weekdays = frozenset(int(c) for c in days)
        else:
            try:
                on_date = date.fromisoformat(days)
            except ValueError:
                raise bad("days", "daily, ISO weekday digits (12345) or a date (2026-12-05)") from None
        out.append(
            Flight(code, direction, scheduled_s, weekdays, on_date, (row.get("other_airport") or "").strip())
        )
    return FlightTimetable(tuple(out))


def load_flights(path: Path) -> FlightTimetable:
    with path.open(encoding="utf-8", newline="") as f:
        return parse_flights(csv.DictReader(f), str(path))
