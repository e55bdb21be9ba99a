"""Shared and private options at quote (#14): a shared option at a lower fixed fare guaranteed whether
or not anyone joins, a private option at the solo fare with nobody beside the rider; a confirmed fare
never changes when others join or re-optimisation moves them. Real SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.booking import Booking, BookingStatus
from dispatch.rights import DataRights
from dispatch.service import DispatchService
from noriai.demo import reference_data
from tests.conftest import PostgresServer
from tests.dispatch.helpers import CHUO, DAY, OPERATOR, make_service, trip

_db_counter = itertools.count()
YUDA = [r.rider_id for r in reference_data().riders if r.district == "湯田" and not r.needs.wheelchair]


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchService]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'd.db'}"
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.new_database(f"offers_{next(_db_counter)}")
    svc, _ = make_service(url)
    yield svc
    svc.repo.engine.dispose()


def _aboard_with(svc: DispatchService, b: Booking) -> set[str]:
    """Other bookings aboard the vehicle at some moment of ``b``'s ride, by the stored plan."""
    assert b.vehicle_id is not None
    with svc.repo.read() as tx:
        stops = tx.plan(b.vehicle_id, b.service_date).stops
    aboard: set[str] = set()
    mine, seen = False, set()
    for bid, kind in stops:
        if bid == b.booking_id:
            mine = kind == "pickup"
            if mine:
                seen |= aboard
            continue
        if kind == "pickup":
            aboard.add(bid)
            if mine:
                seen.add(bid)
        else:
            aboard.discard(bid)
    return seen


def test_a_quote_offers_shared_rides_first_and_a_dearer_private_ride(service: DispatchService) -> None:
    svc = service
    q = svc.quote(OPERATOR, trip(YUDA[0], "red-cross-hospital"))
    kinds = [o.fare_type for o in q.options]
    assert kinds[0] == "shared" and "private" in kinds
    assert kinds == sorted(kinds, key=lambda k: k != "shared")  # shared first, then private
    by_vehicle = {(o.vehicle_id, o.fare_type): o for o in q.options}
    for (vid, kind), o in by_vehicle.items():
        if kind == "private":
            shared = by_vehicle[(vid, "shared")]
            assert shared.fare_yen < o.fare_yen
            assert "sharing" in [x.code for x in shared.fare.lines]
            assert not o.shared  # offered private only where nobody else is aboard


def test_a_private_ride_keeps_the_car_and_a_shared_fare_holds_when_others_join(
    service: DispatchService,
) -> None:
    svc = service
    q = svc.quote(OPERATOR, trip(YUDA[0], "red-cross-hospital"))
    private_i = next(i for i, o in enumerate(q.options) if o.fare_type == "private")
    private = svc.confirm(OPERATOR, q.booking_id, private_i)
    assert private.fare_yen == q.options[private_i].fare_yen
    vehicle = svc.ctx.vehicles[private.vehicle_id or ""]
    assert private.seats == vehicle.seats  # the rider holds the car for the ride
    assert private.party == (1, 0) and private.party_seats == 1  # ... and the party is still one person
    stats = DataRights(svc.repo, svc.now).day_statistics(DAY)
    assert (stats["seats"], stats["wheelchairs"]) == (1, 0)  # the city's figures count people, not seats held
    assert "貸切" in svc.read_back(private)["ja"] and "Private ride" in svc.read_back(private)["en"]
    shared_first = svc.quote(OPERATOR, trip(YUDA[1], "red-cross-hospital"))
    assert shared_first.options[0].fare_type == "shared"
    shared = svc.confirm(OPERATOR, shared_first.booking_id, 0)
    assert (
        "相乗り運賃" in svc.read_back(shared)["ja"]
        and f"{shared.fare_yen:,}円" in svc.read_back(shared)["ja"]
    )
    for rid in YUDA[2:5]:  # neighbours to the same hospital at the same time
        nq = svc.quote(OPERATOR, trip(rid, "red-cross-hospital"))
        svc.confirm(OPERATOR, nq.booking_id, 0)
    svc.reoptimise_day(DAY, time_limit_s=0.5)
    for before in (private, shared):
        after = svc.booking(OPERATOR, before.booking_id)
        assert (after.fare_yen, after.fare) == (before.fare_yen, before.fare)
        assert after.party == before.party  # read back from the database unchanged
    assert _aboard_with(svc, svc.booking(OPERATOR, private.booking_id)) == set()
    # the company's run names the fare type of each pickup
    runs = svc.runs(OPERATOR, DAY)
    types = {s["booking_id"]: s["fare_type"] for r in runs for s in r["stops"] if s["kind"] == "pickup"}
    assert types[private.booking_id] == "private" and types[shared.booking_id] == "shared"
    assert CHUO.role == "company"


_plans = st.lists(
    st.tuples(
        st.integers(0, len(YUDA) - 1),
        st.sampled_from(["red-cross-hospital", "yamaguchi-sta"]),
        st.sampled_from(["09:30", "10:00", "10:30"]),
        st.booleans(),
    ),
    min_size=2,
    max_size=5,
)
_services: dict[str, DispatchService] = {}
_days = itertools.count(1)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=_plans)
def test_no_confirmed_fare_changes_whoever_joins_and_however_the_day_is_reoptimised(
    tmp_path_factory: pytest.TempPathFactory, plan: list[tuple[int, str, str, bool]]
) -> None:
    if "svc" not in _services:
        _services["svc"], _ = make_service(f"sqlite:///{tmp_path_factory.mktemp('fares') / 'f.db'}")
    svc = _services["svc"]
    day = DAY + timedelta(days=next(_days))  # each example on a day of its own
    booked: dict[str, Booking] = {}
    for i, (r, place, at, private) in enumerate(plan):
        q = svc.quote(OPERATOR, trip(YUDA[r], place, "arrive_by", at, day=day))
        if q.state is not BookingStatus.QUOTED:
            continue
        want = "private" if private else "shared"
        pick = next((k for k, o in enumerate(q.options) if o.fare_type == want), 0)
        try:
            b = svc.confirm(OPERATOR, q.booking_id, pick, intended=True)
        except Exception as exc:  # the same rider twice for an overlapping trip, or the room was taken
            assert getattr(exc, "code", "") in ("option_gone",), exc
            continue
        assert b.fare_yen == q.options[pick].fare_yen
        booked[b.booking_id] = b
        for bid, was in booked.items():  # nobody's fare moved when this rider joined
            assert svc.booking(OPERATOR, bid).fare == was.fare, i
    svc.reoptimise_day(day, time_limit_s=0.3)
    for bid, was in booked.items():
        now = svc.booking(OPERATOR, bid)
        assert (now.fare_yen, now.fare) == (was.fare_yen, was.fare)
