"""Hostile GTFS-Realtime input: implausible values are counted, not passed on; the poller backs off per
target, survives a bug of ours and reports each target's state."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from google.transit import gtfs_realtime_pb2 as pb

from bus_location import Fetcher, RealtimeWriter, parse_feed
from bus_location.poller import PollTarget, RealtimePoller
from gtfs.loader import load_feed
from noriai.demo import GTFS_DIR

JST = ZoneInfo("Asia/Tokyo")
DEMO = load_feed(GTFS_DIR, "demo")
NOW = datetime(2026, 11, 24, 6, 31, tzinfo=JST)


def _header() -> pb.FeedMessage:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(NOW.timestamp())
    return m


def _hostile() -> bytes:
    m = _header()
    e = m.entity.add()
    e.id = "tu"
    e.trip_update.trip.trip_id = "L1-WD-0-01"
    e.trip_update.trip.start_date = "20270301"  # a Monday 97 days after the predicted time
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 2
    u.arrival.time = int(NOW.timestamp())
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 3
    u.departure.delay = 2**31 - 1
    v = m.entity.add()
    v.id = "vp"
    v.vehicle.position.latitude = float("nan")
    v.vehicle.position.longitude = 131.4
    w = m.entity.add()
    w.id = "vp2"
    w.vehicle.position.latitude = 34.17
    w.vehicle.position.longitude = 131.47
    w.vehicle.position.speed = float("inf")
    w.vehicle.timestamp = 2**62
    data: bytes = m.SerializeToString()
    return data


def test_implausible_times_delays_and_positions_are_counted_not_passed_on() -> None:
    parsed = parse_feed(_hostile())
    assert parsed.problems == {
        "delay_out_of_range": 1,
        "position_bad_coordinates": 1,
        "timestamp_out_of_range": 1,
    }
    (p,) = parsed.positions
    assert p.speed_ms is None and p.timestamp_unix is None
    writer = RealtimeWriter({"demo": DEMO})
    report = writer.apply_bytes("demo", _hostile())
    assert (
        report.ok and report.problems["delay_out_of_range"] == 2
    )  # and the arrival 97 days early, in the matcher
    for pred in writer.snapshot.predictions["demo"].values():
        assert abs(int(pred.arrival_delay_s.max())) <= 86_400


def _empty_message() -> bytes:
    data: bytes = _header().SerializeToString()
    return data


def _fetcher(url: str, handler: object, clock: list[float]) -> Fetcher:
    return Fetcher(url, ttl_s=0, transport=httpx.MockTransport(handler), clock=lambda: clock[0])  # type: ignore[arg-type]


def test_a_failing_target_backs_off_and_health_reports_each_target() -> None:
    clock = [1000.0]
    payload = _empty_message()
    calls = {"ok": 0, "down": 0}

    def ok(request: httpx.Request) -> httpx.Response:
        calls["ok"] += 1
        return httpx.Response(200, content=payload)

    def down(request: httpx.Request) -> httpx.Response:
        calls["down"] += 1
        raise httpx.ConnectError("refused", request=request)

    poller = RealtimePoller(
        RealtimeWriter({"demo": DEMO}),
        [
            PollTarget("demo", _fetcher("http://rt.test/ok", ok, clock)),
            PollTarget("demo", _fetcher("http://rt.test/down", down, clock)),
        ],
        clock=lambda: clock[0],
    )
    assert [h["state"] for h in poller.health()] == ["never", "never"]
    poller.run_once()
    h_ok, h_down = poller.health()
    assert h_ok["state"] == "ok" and h_down["state"] == "failing" and h_down["next_poll_in_s"] == 15
    assert h_down["url"] == "http://rt.test/down" and "ConnectError" in h_down["last_error"]
    clock[0] += 5
    poller.run_once()  # inside the backoff: the failing target is left alone, the good one is polled
    assert calls == {"ok": 2, "down": 1}
    for _ in range(3):
        clock[0] = 1000 + 10_000 * (_ + 1)
        poller.run_once()
    h_ok, h_down = poller.health()
    assert h_down["consecutive_failures"] == 4 and h_down["next_poll_in_s"] == 120
    assert h_down["state"] == "failing"  # never had a good message: failing, not stale


def test_a_bug_in_applying_a_message_does_not_stop_the_other_targets() -> None:
    clock = [0.0]
    payload = _empty_message()

    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload)

    # "nowhere" has no static feed: the writer raises KeyError, a stand-in for any bug of ours
    poller = RealtimePoller(
        RealtimeWriter({"demo": DEMO}),
        [
            PollTarget("nowhere", _fetcher("http://rt.test/a", ok, clock)),
            PollTarget("demo", _fetcher("http://rt.test/b", ok, clock)),
        ],
        clock=lambda: clock[0],
    )
    reports = poller.run_once()
    assert [r.feed_id for r in reports] == ["demo"]
    broken, fine = poller.health()
    assert broken["state"] == "failing" and broken["last_error"] == "internal error: KeyError"
    assert fine["state"] == "ok"


def test_invalid_utf8_in_string_fields_stays_text_through_matching() -> None:
    """Found by benchmarks/fuzz.py: protobuf returns bytes for a string field holding invalid UTF-8, and
    the matcher's parse_time raised TypeError on them."""
    m = _header()
    e = m.entity.add()
    e.id = "1"
    e.trip_update.trip.route_id = "R1"
    e.trip_update.trip.start_time = "AAAAAAAA"
    e.trip_update.stop_time_update.add().stop_sequence = 1
    data = m.SerializeToString().replace(b"AAAAAAAA", b"\xff0:00:00")
    (tu,) = parse_feed(data).trip_updates
    assert tu.trip.start_time == "\ufffd0:00:00"
    report = RealtimeWriter({"demo": DEMO}).apply_bytes("demo", data)
    assert report.ok and report.problems["trip_not_found"] == 1
