"""Live store against a real Redis server, including Redis going away and coming back."""

from __future__ import annotations

import time

from bus_location import VehiclePosition
from dispatch.live import InMemoryLiveStore, RedisLiveStore
from tests.conftest import RedisServer

POS = VehiclePosition("chuo-01", 34.17, 131.47, 1_790_000_000.0)


def test_in_memory_store_round_trips_a_position() -> None:
    store = InMemoryLiveStore()
    store.put_position(POS)
    reading = store.get_position("chuo-01")
    assert reading.position == POS and not reading.stale
    assert store.get_position("nobody").position is None


def test_redis_store_round_trips_through_the_server(redis_server: RedisServer) -> None:
    writer = RedisLiveStore(redis_server.url)
    reader = RedisLiveStore(redis_server.url)  # a second process's view: no shared local copy
    writer.put_position(POS)
    reading = reader.get_position("chuo-01")
    assert reading.position == POS
    assert not reading.stale
    assert writer.healthy()


def test_redis_down_is_reported_fast_and_stale_then_recovers(redis_server: RedisServer) -> None:
    store = RedisLiveStore(redis_server.url)
    store.put_position(POS)
    redis_server.stop()
    try:
        t0 = time.monotonic()
        reading = store.get_position("chuo-01")
        elapsed = time.monotonic() - t0
        assert reading.stale and reading.position == POS
        assert not store.healthy()
        assert elapsed < 1.0, f"a dead Redis must not block callers (took {elapsed:.2f} s)"
        moved = VehiclePosition("chuo-01", 34.18, 131.48, 1_790_000_060.0)
        store.put_position(moved)  # must not raise while Redis is down
    finally:
        redis_server.start()
    assert store.healthy()
    store.put_position(moved)
    fresh = store.get_position("chuo-01")
    assert fresh.position == moved and not fresh.stale
