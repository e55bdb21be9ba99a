"""Live state (vehicle positions, the same ``bus_location.VehiclePosition`` as buses have): Redis
when configured, else an in-process store. Redis is never the only copy of anything that matters:
the database is.

Redis calls use short timeouts and no retries (``fast_redis``). When Redis fails, readers get the last value
this process saw, marked stale, and writers carry on; the next successful call clears the fault.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis

from bus_location import VehiclePosition
from bus_location.live_redis import fast_redis


@dataclass(frozen=True, slots=True)
class LiveReading:
    position: VehiclePosition | None
    stale: bool  # True when the live store could not be asked and this is a local fallback


class LiveStore(Protocol):
    backend: str

    def healthy(self) -> bool: ...

    def put_position(self, pos: VehiclePosition) -> None: ...

    def get_position(self, vehicle_id: str) -> LiveReading: ...


class InMemoryLiveStore:
    """Single-process store for the embedded default (no Redis)."""

    backend = "memory"

    def __init__(self) -> None:
        self._positions: dict[str, VehiclePosition] = {}
        self._lock = threading.Lock()

    def healthy(self) -> bool:
        return True

    def put_position(self, pos: VehiclePosition) -> None:
        with self._lock:
            self._positions[pos.vehicle_id] = pos

    def get_position(self, vehicle_id: str) -> LiveReading:
        with self._lock:
            return LiveReading(self._positions.get(vehicle_id), stale=False)


class RedisLiveStore:
    """Redis-backed store with a local last-known copy for when Redis is unreachable."""

    backend = "redis"
    KEY = "noriai:pos:"

    def __init__(self, url: str, timeout_s: float = 0.2) -> None:
        self._r = fast_redis(url, timeout_s)
        self._local = InMemoryLiveStore()

    def healthy(self) -> bool:
        try:
            return bool(self._r.ping())
        except redis.RedisError:
            return False

    def put_position(self, pos: VehiclePosition) -> None:
        self._local.put_position(pos)
        payload = json.dumps({"lat": pos.lat, "lon": pos.lon, "at": pos.timestamp_unix})
        # Positions are ephemeral: when Redis is down, the next report is written once it is back.
        with contextlib.suppress(redis.RedisError):
            self._r.set(self.KEY + pos.vehicle_id, payload, ex=3600)

    def get_position(self, vehicle_id: str) -> LiveReading:
        try:
            raw = self._r.get(self.KEY + vehicle_id)
        except redis.RedisError:
            return LiveReading(self._local.get_position(vehicle_id).position, stale=True)
        if raw is None:
            return LiveReading(None, stale=False)
        d = json.loads(raw)
        return LiveReading(VehiclePosition(vehicle_id, d["lat"], d["lon"], d["at"]), stale=False)


def make_live_store(redis_url: str | None, timeout_s: float = 0.2) -> LiveStore:
    return RedisLiveStore(redis_url, timeout_s) if redis_url else InMemoryLiveStore()


def now_unix() -> float:
    return time.time()
