"""The realtime mirror in a real Redis: published by the writer, read by another process's view."""

from __future__ import annotations

from bus_location import RealtimeWriter
from bus_location.live_redis import RedisRealtimeMirror
from gtfs.loader import load_feed
from tests.conftest import RedisServer
from tests.shared_data import shared

SHARED = shared("feeds")


def test_positions_and_delays_reach_other_readers_and_survive_redis_restarts(
    redis_server: RedisServer,
) -> None:
    feed = load_feed(SHARED / "gtfs" / "caltrain_static_for_rt.zip", "ct")
    writer = RealtimeWriter({"ct": feed})
    writer.apply_bytes("ct", (SHARED / "gtfs-rt" / "ct-trip-updates.pb").read_bytes())
    writer.apply_bytes("ct", (SHARED / "gtfs-rt" / "ct-vehicle-positions.pb").read_bytes())
    publisher, reader = RedisRealtimeMirror(redis_server.url), RedisRealtimeMirror(redis_server.url)
    assert publisher.publish(feed, writer.snapshot)
    state = reader.read("ct")
    assert not state.stale and len(state.positions) == 14 and len(state.delays) == 19
    redis_server.stop()
    try:
        assert not publisher.publish(feed, writer.snapshot)  # skipped, not raised
        stale = reader.read("ct")
        assert stale.stale and len(stale.positions) == 14  # last known copy, marked stale
    finally:
        redis_server.start()
    assert publisher.publish(feed, writer.snapshot)
    assert not reader.read("ct").stale
