"""GTFS-Realtime: parsing the real samples, matching to static feeds, the single writer, fetchers."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from google.transit import gtfs_realtime_pb2 as pb
from hypothesis import given, settings
from hypothesis import strategies as st

from bus_location import (
    Fetcher,
    ParsedFeed,
    RealtimeParseError,
    RealtimeWriter,
    StopTimeUpdate,
    TripDescriptor,
    TripUpdate,
    next_departures,
    parse_feed,
    stop_timetable,
)
from gtfs.loader import load_feed
from noriai.demo import GTFS_DIR
from tests.shared_data import shared

SHARED = shared("feeds")
RT = SHARED / "gtfs-rt"
JST = ZoneInfo("Asia/Tokyo")
DEMO = load_feed(GTFS_DIR, "demo")


@pytest.mark.parametrize("name", sorted(p.name for p in RT.glob("*.pb")))
def test_every_realtime_sample_parses(name: str) -> None:
    parsed = parse_feed((RT / name).read_bytes())
    assert parsed.timestamp_unix > 1_500_000_000
    assert parsed.trip_updates or parsed.positions or parsed.alerts


def test_samples_match_their_static_feeds_where_ids_allow() -> None:
    """Match rates quoted in the issue note: BART 65/91 trip updates, Caltrain all, King County by route."""
    cases = [
        ("bart", "bart_static_for_rt.zip", "bart-trip-updates.pb", "matched_trip_updates", 65),
        ("ct", "caltrain_static_for_rt.zip", "ct-trip-updates.pb", "matched_trip_updates", 19),
        ("ct", "caltrain_static_for_rt.zip", "ct-vehicle-positions.pb", "position_matched_trip", 14),
        (
            "kcm",
            "kingcounty_static_for_rt.zip",
            "king-county-metro-vehicle-positions-1.pb",
            "position_matched_route_only",
            582,
        ),
    ]
    for fid, static, rt, key, expected in cases:
        writer = RealtimeWriter({fid: load_feed(SHARED / "gtfs" / static, fid)})
        report = writer.apply_bytes(fid, (RT / rt).read_bytes())
        assert report.ok and report.problems[key] == expected, (rt, report.problems)


def _message(trip_id: str, updates: list[tuple[int, int]], ts: datetime) -> bytes:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(ts.timestamp())
    e = m.entity.add()
    e.id = "1"
    e.trip_update.trip.trip_id = trip_id
    e.trip_update.trip.start_date = ts.strftime("%Y%m%d")
    for seq, delay in updates:
        u = e.trip_update.stop_time_update.add()
        u.stop_sequence = seq
        u.departure.delay = delay
        u.arrival.delay = delay
    data: bytes = m.SerializeToString()
    return data


def test_delay_propagates_downstream_and_departures_show_it() -> None:
    day = date(2026, 11, 24)
    now = datetime(2026, 11, 24, 6, 31, tzinfo=JST)
    writer = RealtimeWriter({"demo": DEMO})
    report = writer.apply_bytes("demo", _message("L1-WD-0-01", [(2, 180)], now))  # 3 min late from stop 2
    assert report.ok and report.problems["matched_trip_updates"] == 1
    deps = [
        d for d in stop_timetable(DEMO, "demo:S004", day, writer.snapshot) if d.trip_id == "demo:L1-WD-0-01"
    ]
    assert deps[0].delay_s == 180  # stop 4 inherits stop 2's delay
    first = [
        d for d in stop_timetable(DEMO, "demo:S001", day, writer.snapshot) if d.trip_id == "demo:L1-WD-0-01"
    ]
    assert first[0].delay_s is None  # upstream of the first prediction: schedule only
    nxt = next_departures(DEMO, "demo:S004", now, limit=5, snapshot=writer.snapshot)
    ours = [d for d in nxt if d.trip_id == "demo:L1-WD-0-01"]
    assert ours and ours[0].predicted == ours[0].scheduled + timedelta(minutes=3)
    assert [d.predicted or d.scheduled for d in nxt] == sorted(d.predicted or d.scheduled for d in nxt)


def test_vehicle_already_gone_is_not_offered() -> None:
    later = datetime(2026, 11, 24, 7, 0, tzinfo=JST)
    deps = next_departures(DEMO, "demo:S001", later, limit=50)
    assert all(d.scheduled >= later for d in deps)
    assert deps == sorted(deps, key=lambda d: d.scheduled)


def test_negative_hop_is_counted_and_clamped() -> None:
    now = datetime(2026, 11, 24, 6, 31, tzinfo=JST)
    writer = RealtimeWriter({"demo": DEMO})
    report = writer.apply_bytes("demo", _message("L1-WD-0-01", [(2, 600), (3, -900)], now))
    assert report.problems["negative_hop_time"] >= 1
    pred = next(iter(writer.snapshot.predictions["demo"].values()))
    lo, hi = DEMO.trip_range(pred.trip_index)
    arr = DEMO.st_arrival[lo:hi] + pred.arrival_delay_s
    dep = DEMO.st_departure[lo:hi] + pred.departure_delay_s
    assert all(arr[k] >= dep[k - 1] for k in range(1, hi - lo))


def test_unknown_trip_and_no_service_day_are_counted_not_raised() -> None:
    writer = RealtimeWriter({"demo": DEMO})
    sunday = datetime(2026, 11, 22, 8, 0, tzinfo=JST)
    parsed = ParsedFeed(
        int(sunday.timestamp()),
        "2.0",
        (
            TripUpdate(TripDescriptor("NOPE", None, None, None, None), (StopTimeUpdate(1, None, 60),)),
            TripUpdate(
                TripDescriptor("L1-WD-0-01", None, None, "20261122", None), (StopTimeUpdate(1, None, 60),)
            ),
        ),
        (),
    )
    report = writer.apply("demo", parsed)
    assert report.problems["trip_not_found"] == 1
    assert report.problems["no_service_that_day"] == 1


def test_bad_message_is_reported_and_keeps_the_last_snapshot() -> None:
    now = datetime(2026, 11, 24, 6, 31, tzinfo=JST)
    writer = RealtimeWriter({"demo": DEMO})
    writer.apply_bytes("demo", _message("L1-WD-0-01", [(2, 120)], now))
    good = writer.snapshot.predictions
    data = (RT / "ct-trip-updates.pb").read_bytes()
    for bad in (data[: len(data) // 3], b"\xff" * 40, b"not protobuf at all"):
        report = writer.apply_bytes("demo", bad)
        assert not report.ok and "not a GTFS-Realtime message" in (report.error or "")
    assert writer.snapshot.predictions == good
    assert writer.snapshot.problems["demo"]["undecodable_message"] == 3


def test_wrong_type_in_a_protobuf_field_is_an_error() -> None:
    # field 1 of FeedMessage is the header (a message); send it as a varint instead
    with pytest.raises(RealtimeParseError):
        parse_feed(b"\x08\x96\x01")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_random_bytes_parse_or_fail_with_our_error(blob: bytes) -> None:
    with contextlib.suppress(RealtimeParseError):
        parse_feed(blob)


def test_fetcher_honours_ttl_and_etag_and_never_raises() -> None:
    calls: list[dict[str, str]] = []
    body = (RT / "ct-vehicle-positions.pb").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={"ETag": '"v1"'})

    clock = [0.0]
    f = Fetcher(
        "http://feeds.test/vp.pb", ttl_s=30, transport=httpx.MockTransport(handler), clock=lambda: clock[0]
    )
    assert f.poll().status == "ok"
    assert f.poll().status == "too_soon"
    clock[0] = 31
    assert f.poll().status == "not_modified"
    assert calls[-1]["if-none-match"] == '"v1"'

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    g = Fetcher("http://feeds.test/x", transport=httpx.MockTransport(broken))
    r = g.poll()
    assert r.status == "error" and "ConnectTimeout" in (r.error or "")
    h = Fetcher("http://feeds.test/y", transport=httpx.MockTransport(lambda req: httpx.Response(500)))
    failed = h.poll()
    assert failed.status == "error" and failed.error == "HTTP 500" and failed.data is None


def test_a_poller_loop_survives_bad_payloads() -> None:
    payloads = iter(
        [
            b"garbage",
            (RT / "ct-trip-updates.pb").read_bytes()[:10],
            _message("L1-WD-0-01", [(2, 60)], datetime(2026, 11, 24, 6, 31, tzinfo=JST)),
        ]
    )
    f = Fetcher(
        "http://feeds.test/tu",
        ttl_s=0,
        transport=httpx.MockTransport(lambda req: httpx.Response(200, content=next(payloads))),
        clock=iter(range(100)).__next__,
    )
    writer = RealtimeWriter({"demo": DEMO})
    oks = []
    for _ in range(3):
        res = f.poll()
        assert res.status == "ok" and res.data is not None
        oks.append(writer.apply_bytes("demo", res.data).ok)
    assert oks == [False, False, True]


def test_poller_feeds_the_writer_and_survives_a_failing_feed() -> None:
    from bus_location.poller import PollTarget, RealtimePoller

    good = _message("L1-WD-0-01", [(2, 60)], datetime(2026, 11, 24, 6, 31, tzinfo=JST))
    ok_fetch = Fetcher(
        "http://rt.test/tu",
        ttl_s=0,
        transport=httpx.MockTransport(lambda req: httpx.Response(200, content=good)),
    )
    bad_fetch = Fetcher(
        "http://rt.test/broken",
        ttl_s=0,
        transport=httpx.MockTransport(lambda req: httpx.Response(200, content=b"\x00garbage")),
    )
    writer = RealtimeWriter({"demo": DEMO})
    published: list[str] = []
    poller = RealtimePoller(
        writer, [PollTarget("demo", bad_fetch), PollTarget("demo", ok_fetch)], on_update=published.append
    )
    reports = poller.run_once()
    assert len(reports) == 1 and published == ["demo"]
    assert poller.targets[0].last_status == "bad_message"
    assert writer.snapshot.predictions["demo"]
