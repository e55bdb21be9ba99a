"""Riders' data rights: export, erasure, consent changes, and the retention that anonymises old trips.

Operators only, and every action leaves a ``rider_event`` (who, when, what; never the data itself).
Erasure keeps the anonymous trip facts the city's statistics need (day, status, times, seats, fare,
the H3 cell of each end, public places): ``day_statistics`` reads the same before and after. It is
refused while the rider has a live booking from today on (cancel it first), so no vehicle is sent to
a point that was just blurred.

Anonymising: a private point (home, a map click) moves to the centre of its H3 cell (resolution 8,
about 0.7 km^2; a home to resolution 7, about 5 km^2), labels of private points and free text are
emptied, a reason keeps its leading machine code (``needs_operator: ...`` -> ``needs_operator``).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import h3

from dispatch.booking import BookingStatus, reason_code
from dispatch.domain import Principal
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.persistence.repository import Anonymiser, Repository

log = logging.getLogger("noriai.dispatch.rights")

POINT_RESOLUTION = 8  # the resolution of reusable_trips and of the statistics
HOME_RESOLUTION = 7
# A booking that may still send a vehicle: erasure waits until none is left from today on.
LIVE_STATES = (
    BookingStatus.ON_CALL,
    BookingStatus.CONFIRMED,
    BookingStatus.SCHEDULED,
    BookingStatus.PICKED_UP,
)
# A trip that is over: retention anonymises these once they are old enough.
FINISHED_STATES = (
    BookingStatus.DROPPED_OFF,
    BookingStatus.CANCELLED,
    BookingStatus.NO_SHOW,
    BookingStatus.REJECTED,
    BookingStatus.QUOTED,  # an old quote nobody confirmed
)
CONSENT_PURPOSES = ("data_reuse",)
_FREE_TEXT_KEYS = ("reason", "note", "label", "name", "phone", "address")


def _snap(resolution: int) -> Callable[[float, float], tuple[float, float]]:
    def snap(lat: float, lon: float) -> tuple[float, float]:
        c = h3.latlng_to_cell(lat, lon, resolution)
        clat, clon = h3.cell_to_latlng(c)
        return float(clat), float(clon)

    return snap


def _detail(text: str) -> str:
    try:
        d = json.loads(text or "{}")
    except ValueError:
        return "{}"
    if not isinstance(d, dict):
        return "{}"
    for k in _FREE_TEXT_KEYS:
        if k in d:
            d[k] = reason_code(d[k]) if isinstance(d[k], str) else None
    return json.dumps(d, ensure_ascii=False)


ANONYMISER = Anonymiser(
    point=_snap(POINT_RESOLUTION), home=_snap(HOME_RESOLUTION), reason=reason_code, detail=_detail
)


@dataclass(frozen=True, slots=True)
class ConsentChange:
    purpose: str
    granted: bool
    given_on: date  # the day the rider said so (on the phone, on paper), not the day it was typed in


class DataRights:
    def __init__(self, repo: Repository, clock: Callable[[], datetime]) -> None:
        self.repo, self.clock = repo, clock

    def _check(self, principal: Principal, rider_id: str) -> None:
        if principal.role not in ("operator", "system"):
            raise Forbidden("operators only", "オペレーター専用の機能です")
        with self.repo.read() as tx:
            if tx.rider_record(rider_id) is None:
                raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")

    def export(self, principal: Principal, rider_id: str) -> dict[str, Any]:
        """Everything stored about the rider: profile, bookings, their audit entries, standing rules,
        clinic consents and appointments, airport bookings, vouchers, consents and data-rights events.
        The export itself is recorded."""
        self._check(principal, rider_id)
        now = self.clock().astimezone(UTC)
        with self.repo.write() as tx:
            tx.add_rider_event(rider_id, now, principal.actor, "export", {})
            bookings = tx.booking_records(rider_id)
            events = tx.rider_events(rider_id)
            out = {
                "exported_at": now.isoformat(),
                "rider": tx.rider_record(rider_id),
                "bookings": bookings,
                "audit": tx.audit_records([b["booking_id"] for b in bookings]),
                "recurring_rules": tx.rule_records(rider_id),
                **tx.linked_records(rider_id),
                "consents": [e for e in events if e["event"] == "consent"],
                "rider_events": events,
            }
        log.info("rider %s exported by %s", rider_id, principal.role)
        return out

    def erase(self, principal: Principal, rider_id: str) -> dict[str, Any]:
        self._check(principal, rider_id)
        now = self.clock()
        today = now.date()
        with self.repo.write() as tx:
            live = [
                b
                for b in tx.bookings(rider_id=rider_id, statuses=[s.value for s in LIVE_STATES])
                if b.service_date >= today
            ]
            if live:
                raise Conflict(
                    f"rider {rider_id} has {len(live)} live booking(s) from today on; cancel them first",
                    f"本日以降の有効な予約が{len(live)}件あります。先に取り消してください",
                    code="live_bookings",
                )
            if tx.rider_erased(rider_id):
                return {"rider_id": rider_id, "erased": True, "bookings_anonymised": 0}
            n = tx.erase_rider(rider_id, now.astimezone(UTC), ANONYMISER)
            tx.add_rider_event(rider_id, now.astimezone(UTC), principal.actor, "erase", {"bookings": n})
        log.warning("rider %s erased by %s (%d bookings anonymised)", rider_id, principal.role, n)
        return {"rider_id": rider_id, "erased": True, "bookings_anonymised": n}

    def set_consent(self, principal: Principal, rider_id: str, change: ConsentChange) -> dict[str, Any]:
        self._check(principal, rider_id)
        if change.purpose not in CONSENT_PURPOSES:
            raise NotFound(f"no consent purpose {change.purpose}", "同意の種類が不正です")
        now = self.clock()
        with self.repo.write() as tx:
            if tx.rider_erased(rider_id):
                raise Conflict("the rider's data was erased", "この利用者の情報は削除済みです", code="erased")
            tx.set_consent(rider_id, change.granted)
            tx.add_rider_event(
                rider_id,
                now.astimezone(UTC),
                principal.actor,
                "consent",
                {
                    "purpose": change.purpose,
                    "granted": change.granted,
                    "given_on": change.given_on.isoformat(),
                },
            )
        return {"rider_id": rider_id, "purpose": change.purpose, "granted": change.granted}

    def apply_retention(self, days: int) -> int:
        """Anonymise finished trips older than ``days``; returns how many. Run by the background job."""
        cutoff = self.clock().date() - timedelta(days=days)
        with self.repo.read() as tx:
            ids = tx.finished_bookings_before(cutoff, [s.value for s in FINISHED_STATES])
        if not ids:
            return 0
        with self.repo.write() as tx:
            n = tx.anonymise_bookings(ids, self.clock().astimezone(UTC), ANONYMISER)
        log.info("retention: %d trips before %s anonymised", n, cutoff)
        return n

    def day_statistics(self, d: date) -> dict[str, Any]:
        """The anonymous facts of a day the city reports on: trips by status, riders, seats,
        wheelchairs, fares, requested and planned times, and trips per origin and destination cell."""
        with self.repo.read() as tx:
            day = tx.bookings(service_date=d)
        return {
            "bookings_by_status": dict(Counter(b.status for b in day)),
            "riders": len({b.rider_id for b in day}),
            "seats": sum(b.party[0] for b in day),  # people, not a private ride's empty seats
            "wheelchairs": sum(b.party[1] for b in day),
            "fare_yen": sum(b.fare_yen or 0 for b in day),
            "times": sorted(
                (b.time_s or -1, b.planned_pickup_s or -1, b.planned_dropoff_s or -1) for b in day
            ),
            "origin_cells": dict(
                Counter(h3.latlng_to_cell(b.origin_lat, b.origin_lon, POINT_RESOLUTION) for b in day)
            ),
            "destination_cells": dict(
                Counter(h3.latlng_to_cell(b.dest_lat, b.dest_lon, POINT_RESOLUTION) for b in day)
            ),
            "reasons": dict(Counter(reason_code(b.reason) for b in day)),
        }
