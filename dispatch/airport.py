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
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dispatch.booking import parse_hhmm


class FlightDirection(enum.StrEnum):
    DEPARTURE = "departure"
    ARRIVAL = "arrival"


class FlightFileError(ValueError):
    """A timetable line that cannot be read: ``str()`` is "file:line: field: why"; the parts are
    attributes too (``field`` is None for a line the CSV reader itself refused)."""

    def __init__(self, source: str, line: int, field: str | None, why: str) -> None:
        super().__init__(f"{source}:{line}: {field or 'csv'}: {why}")
        self.source, self.line, self.field, self.why = source, line, field, why


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
    note: str = ""  # the first ``note`` of the file (e.g. that a demo timetable is fictional)

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


def _csv_rows(rows: Iterable[Mapping[str, str]], source: str) -> Iterator[Mapping[str, str]]:
    """The rows, with the CSV reader's own error (a field over 128 KiB, an unterminated quote) as a
    ``FlightFileError`` naming the line."""
    it = iter(rows)
    line = 1
    while True:
        try:
            row = next(it)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FlightFileError(source, line + 1, None, str(exc)) from None
        line += 1
        yield row


def parse_flights(rows: Iterable[Mapping[str, str]], source: str = "<flights>") -> FlightTimetable:
    out: list[Flight] = []
    note = ""
    for line, row in enumerate(_csv_rows(rows, source), start=2):
        note = note or (row.get("note") or "").strip()

        def bad(field: str, why: str, line: int = line) -> FlightFileError:
            return FlightFileError(source, line, field, why)

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
    return FlightTimetable(tuple(out), note)


def flights_from_csv(text: str, source: str = "<flights>") -> FlightTimetable:
    """The timetable from CSV text (as a city bundle stores it); ``FlightFileError`` names the line."""
    return parse_flights(csv.DictReader(text.splitlines()), source)


class FlightStatusError(ValueError):
    """A flight-status document that cannot be read, in one line (never the document itself)."""


@dataclass(frozen=True, slots=True)
class FlightStatus:
    """What a flight-status feed says of one flight on one day: its estimated (or actual) time."""

    flight: str
    service_date: date
    estimated_s: int  # seconds after local midnight of ``service_date``


MAX_STATUS_BYTES = 1_000_000
MAX_STATUS_FLIGHTS = 2_000


def parse_flight_status(data: bytes, source: str = "<flight status>") -> tuple[FlightStatus, ...]:
    """Read a flight-status document (docs/city-bundle.md, ``[airport] status_url``)::

        {"flights": [{"flight": "NH695", "date": "2026-12-03", "estimated": "14:45"}, ...]}

    ``estimated`` is local HH:MM (past 24:00 for a flight landing after midnight). A record that
    cannot be read is skipped (the others still count); a document that is not such JSON at all is a
    ``FlightStatusError``. Never raises anything else, whatever the bytes."""
    if len(data) > MAX_STATUS_BYTES:
        raise FlightStatusError(f"{source}: larger than {MAX_STATUS_BYTES} bytes")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FlightStatusError(f"{source}: not JSON ({type(exc).__name__})") from None
    flights = doc.get("flights") if isinstance(doc, dict) else None
    if not isinstance(flights, list):
        raise FlightStatusError(f"{source}: needs an object with a list 'flights'")
    out: list[FlightStatus] = []
    for rec in flights[:MAX_STATUS_FLIGHTS]:
        if not isinstance(rec, dict):
            continue
        code, day, est = rec.get("flight"), rec.get("date"), rec.get("estimated")
        if not (isinstance(code, str) and isinstance(day, str) and isinstance(est, str)):
            continue
        code = code.replace(" ", "").upper()
        try:
            d = date.fromisoformat(day)
            estimated_s = parse_hhmm(est)
        except ValueError:
            continue
        if _FLIGHT.match(code):
            out.append(FlightStatus(code, d, estimated_s))
    return tuple(out)


def load_flights(path: Path) -> FlightTimetable:
    with path.open(encoding="utf-8", newline="") as f:
        return parse_flights(csv.DictReader(f), str(path))
