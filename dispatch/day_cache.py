"""The day-model cache: the last solver problem per service date, valid while no plan version moves.

A quote needs the whole day as a solver problem; reading and mapping every booking of a busy day takes
longer than the insertion itself, and the day changes only when a plan row does."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date

from dispatch.booking import Booking
from solver import Problem
from solver.schedule import PlannedStop


@dataclass(frozen=True, slots=True)
class VehicleStart:
    """Where and from when a vehicle's day goes on, before the clock is read: a ``standing`` vehicle
    (idle, or at a door: ``door_pickup_s``) cannot leave sooner than now, so its solver vehicle is
    timed afresh for every model, cached or not."""

    vehicle_id: str
    start: int
    end: int
    earliest_s: int
    latest_s: int
    seats: int
    wheelchairs: int
    features: frozenset[str]
    standing: bool
    door_pickup_s: int | None


@dataclass(frozen=True)
class DayParts:
    """A day model before the trips being quoted: what the cache keeps per plan versions."""

    problem: Problem
    plan: dict[str, tuple[PlannedStop, ...]]
    bookings: dict[str, Booking]
    versions: dict[str, int]
    starts: tuple[VehicleStart, ...]


class DayModelCache:
    """The last day model per service date, valid while the day's plan rows keep their versions.

        Every change to a plan's stops, anchor or service state bumps its version in the same transaction
        (confirm, driver events, cancellations, re-optimisation, breakdowns), and the request built from a
        booking depends only on what those changes write, so equal versions mean an equal problem. The key
        is read from the plan rows in the reader's own transaction: several processes each keep their own
        cache and none can serve a day that another has changed. Planned times are not part of the key:
        they are outputs, never inputs, of a solve. Nor is the clock: a standing vehicle's start moves with
    it, so the vehicles are timed again whenever a model is handed out (``VehicleStart``)."""

    def __init__(self, max_days: int = 8) -> None:
        self.max_days = max_days
        self._lock = threading.Lock()
        self._days: dict[date, tuple[Hashable, DayParts]] = {}

    def get(self, d: date, key: Hashable) -> DayParts | None:
        with self._lock:
            hit = self._days.get(d)
        return hit[1] if hit is not None and hit[0] == key else None

    def last(self, d: date) -> DayParts | None:
        """The last model kept for ``d``, whatever its key: what a refresh starts from (the parts of
        vehicles whose plan versions did not move are still right)."""
        with self._lock:
            hit = self._days.get(d)
        return hit[1] if hit is not None else None

    def put(self, d: date, key: Hashable, day: DayParts) -> None:
        with self._lock:
            self._days.pop(d, None)
            self._days[d] = (key, day)
            while len(self._days) > self.max_days:
                self._days.pop(next(iter(self._days)))
