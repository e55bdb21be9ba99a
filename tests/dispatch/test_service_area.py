"""The service area and community-zone vehicles: trips with an end outside the area are refused
(operator quote, trip planner, guest booking), and a community taxi never carries a trip outside its
zone and hubs (property test over live quotes, confirmations and re-optimisation, audited by the
solver's independent checker)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.booking import TimeMode, TimeRequest
from dispatch.domain import ReferenceData
from dispatch.errors import Invalid
from dispatch.live import InMemoryLiveStore
from dispatch.persistence import create_db_engine, import_city, migrate
from dispatch.persistence.reference import load_reference_data
from dispatch.persistence.repository import Repository
from dispatch.service import DispatchService, Endpoint, EndpointKind, QuoteRequest
from fares.tariff import parse_tariff
from geo import LatLon, StraightLineModel, haversine_m
from noriai.city import load_bundle
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.city_bundle import HAGI_CASTLE, HOSPITAL, KAWAKAMI_HOME, KAWAKAMI_SHOP, write_city
from tests.dispatch.helpers import DAY, NOW, OPERATOR, Clock

OP = {"X-API-Key": "demo-operator"}
SHIMONOSEKI = LatLon(33.9500, 130.9400)  # 60 km west: accepted before the service area existed
HIROSHIMA = LatLon(34.3963, 132.4596)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'area.db'}", reoptimise_interval_s=0)
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


@pytest.mark.parametrize("far", [SHIMONOSEKI, HIROSHIMA], ids=["shimonoseki", "hiroshima"])
def test_an_operator_quote_outside_the_service_area_is_refused(client: TestClient, far: LatLon) -> None:
    body = {
        "rider_id": "R0001",
        "destination": {"kind": "point", "lat": far.lat, "lon": far.lon},
        "service_date": DAY.isoformat(),
        "mode": "arrive_by",
        "time": "10:00",
    }
    r = client.post("/api/v1/quotes", json=body, headers=OP)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["error"] == "outside_service_area"
    assert "運行区域の外" in err["message_ja"] and "outside the service area" in err["message"]
    inside = {**body, "destination": {"kind": "place", "place_id": "red-cross-hospital"}}
    assert client.post("/api/v1/quotes", json=inside, headers=OP).status_code == 201


def test_the_planner_offers_no_taxi_to_a_point_outside_the_area(client: TestClient) -> None:
    r = client.get(
        "/api/v1/plan",
        params={
            "from": "yamaguchi-sta",
            "to": f"{SHIMONOSEKI.lat},{SHIMONOSEKI.lon}",
            "date": DAY.isoformat(),
            "time": "10:00",
            "modes": "taxi",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert not [o for o in body["options"] if o["kind"] == "taxi"]
    assert any("outside_service_area" in n and "運行区域の外" in n for n in body["notices"]), body["notices"]


def test_a_guest_booking_outside_the_area_is_refused(client: TestClient) -> None:
    r = client.post(
        "/api/v1/plan/taxi-bookings",
        json={
            "name": "旅行 太郎",
            "phone": "090-0000-1234",
            "from": "34.1726,131.4805",
            "to": f"{SHIMONOSEKI.lat},{SHIMONOSEKI.lon}",
            "date": DAY.isoformat(),
            "time_s": 10 * 3600,
        },
        headers={"Idempotency-Key": "guest-outside-1"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "outside_service_area"


# --- community-zone vehicles ----------------------------------------------------------------------

ZONE_POINTS = [KAWAKAMI_HOME, KAWAKAMI_SHOP, LatLon(34.3600, 131.4500), LatLon(34.3560, 131.4400)]
HUB_POINTS = [HOSPITAL, LatLon(34.4143, 131.4132)]
TOWN_POINTS = [HAGI_CASTLE, LatLon(34.3985, 131.3950), LatLon(34.4080, 131.4200)]
point = st.one_of(
    st.sampled_from(ZONE_POINTS + HUB_POINTS + TOWN_POINTS),
    st.builds(LatLon, st.floats(34.35, 34.42), st.floats(131.39, 131.46)),
)
trip = st.tuples(point, point, st.integers(8 * 60, 17 * 60), st.booleans())


def _hagi() -> tuple[DispatchService, ReferenceData]:
    root = write_city(Path(tempfile.mkdtemp(prefix="hagi-")) / "hagi")
    bundle, issues = load_bundle(root, check_feeds=False)
    assert bundle is not None, issues
    url = f"sqlite:///{root.parent / 'hagi.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    import_city(engine, bundle.reference, bundle_path=str(root), now=NOW)
    ref = load_reference_data(engine)
    svc = DispatchService(
        Repository(engine, create_db_engine(url, read_only=True)),
        ref,
        parse_tariff(bundle.city.tariff_toml),
        StraightLineModel(),
        live=InMemoryLiveStore(),
        clock=Clock(),
    )
    return svc, ref


def _allowed(ref: ReferenceData, zone_id: str, o: LatLon, d: LatLon) -> bool:
    """The rule, written out independently of the feature encoding the service uses."""
    zone = next(z for z in ref.zones if z.zone.zone_id == zone_id)
    hubs = [p.point for p in ref.places if p.place_id in zone.hubs]

    def ok(p: LatLon) -> bool:
        return zone.zone.contains(p) or any(haversine_m(p, h) <= 150 for h in hubs)

    return ok(o) and ok(d) and (zone.zone.contains(o) or zone.zone.contains(d))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(trip, min_size=1, max_size=6))
def test_a_community_vehicle_never_serves_a_trip_outside_its_zone(
    trips: list[tuple[LatLon, LatLon, int, bool]],
) -> None:
    svc, ref = _hagi()
    zone_vehicles = {v.vehicle_id: v.zone_id for c in ref.companies for v in c.vehicles if v.zone_id}
    assert zone_vehicles == {"kawakami-01": "kawakami"}
    day: date = DAY
    ends = {}
    for o, d, minute, arrive in trips:
        req = QuoteRequest(
            "H0002",
            Endpoint(EndpointKind.POINT, point=o),
            Endpoint(EndpointKind.POINT, point=d),
            day,
            TimeRequest(TimeMode.ARRIVE_BY if arrive else TimeMode.PICKUP_AFTER, minute * 60),
        )
        try:
            b = svc.quote(OPERATOR, req)
        except Invalid:
            continue  # same place twice
        for opt in b.options:
            zid = zone_vehicles.get(opt.vehicle_id)
            assert zid is None or _allowed(ref, zid, o, d), (opt.vehicle_id, o, d)
        if b.options:
            # one rider books every generated trip: overlapping ones are intended here (#14's rule)
            confirmed = svc.confirm(OPERATOR, b.booking_id, 0, intended=True)
            ends[confirmed.booking_id] = (o, d)
    svc.reoptimise_day(day, time_limit_s=0.5)
    with svc.repo.read() as tx:
        plans = tx.plans(day)
    for vid, plan in plans.items():
        zid = zone_vehicles.get(vid)
        for bid, _kind in plan.stops:
            if zid is not None:
                assert _allowed(ref, zid, *ends[bid]), (vid, ends[bid])
    assert svc.check_day(day) == []
