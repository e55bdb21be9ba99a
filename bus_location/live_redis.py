"""Mirror of the realtime snapshot in Redis, so every web worker serves the same live bus data.

The writer process publishes after each update; readers in other processes fetch the mirror. Short
timeouts and no retries: when Redis is down, publishing is skipped and readers report stale data, and
the in-process snapshot keeps working. Redis never holds the only copy: the feed is re-fetched anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bus_location.snapshot import RealtimeSnapshot
from gtfs.loader import Feed

KEY = "noriai:rt:"


def fast_redis(url: str, timeout_s: float = 0.2) -> redis.Redis[bytes]:
    """A client that fails fast: short socket and connect timeouts and no retries. redis-py's defaults
    block for 4-11 s when the server is down or frozen (../shared/OPERATIONS.md); a booking or a
    departure board must never wait on live data."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


@dataclass(frozen=True, slots=True)
class MirroredState:
    feed_id: str
    message_unix: int | None
    positions: list[dict[str, Any]]
    delays: dict[str, int]  # "trip_id|YYYY-MM-DD" -> current delay (s) at the last predicted stop
    stale: bool


class RedisRealtimeMirror:
    def __init__(self, url: str, timeout_s: float = 0.2) -> None:
        self._r = fast_redis(url, timeout_s)
        self._last: dict[str, MirroredState] = {}

    def publish(self, feed: Feed, snapshot: RealtimeSnapshot) -> bool:
        fid = feed.feed_id
        positions = [
            {
                "vehicle_id": p.vehicle_id,
                "lat": p.lat,
                "lon": p.lon,
                "timestamp": p.timestamp_unix,
                "trip_id": p.trip.trip_id if p.trip else None,
            }
            for p in snapshot.positions.get(fid, ())
        ]
        delays = {
            f"{feed.trip_ids[t]}|{d.isoformat()}": int(pred.departure_delay_s[-1])
            for (t, d), pred in snapshot.predictions.get(fid, {}).items()
        }
        payload = json.dumps(
            {"message_unix": snapshot.message_unix.get(fid), "positions": positions, "delays": delays}
        )
        try:
            self._r.set(KEY + fid, payload, ex=3600)
            return True
        except redis.RedisError:
            return False

    def read(self, feed_id: str) -> MirroredState:
        try:
            raw = self._r.get(KEY + feed_id)
        except redis.RedisError:
            last = self._last.get(feed_id)
            if last is None:
                return MirroredState(feed_id, None, [], {}, stale=True)
            return MirroredState(feed_id, last.message_unix, last.positions, last.delays, stale=True)
        if raw is None:
            return MirroredState(feed_id, None, [], {}, stale=False)
        d = json.loads(raw)
        state = MirroredState(feed_id, d["message_unix"], d["positions"], d["delays"], stale=False)
        self._last[feed_id] = state
        return state
