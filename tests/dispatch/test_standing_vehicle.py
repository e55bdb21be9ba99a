"""A vehicle standing where it last reported is planned from there *now*, not from the time of its
last report (found by the simulator: a rider moved at 8:30 to a vehicle idle since 8:00 was promised
a pickup it could only reach 20 min after the window)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dispatch.booking import BookingStatus, TimeMode, TimeRequest
from dispatch.service import TOKYO, Endpoint, EndpointKind, QuoteRequest
from geo import LatLon
from tests.dispatch.helpers import DAY, OPERATOR, Clock, make_service

ATO = LatLon(34.3550, 131.6000)  # a community-taxi district ~25 km from both depots


def test_an_idle_vehicle_is_not_planned_to_have_left_its_depot_before_now(tmp_path: Path) -> None:
    """At 10:00 nothing has left a depot: a pickup-after-10:15 in Ato cannot be promised before every
    vehicle could drive there from its depot, leaving now."""
    clock = Clock(datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=TOKYO))
    svc, _ = make_service(f"sqlite:///{tmp_path / 'd.db'}", clock)
    now_s = 10 * 3600
    q = svc.quote(
        OPERATOR,
        QuoteRequest(
            "R0001",
            Endpoint(EndpointKind.POINT, point=ATO, label="阿東"),
            Endpoint(EndpointKind.PLACE, "red-cross-hospital"),
            DAY,
            TimeRequest(TimeMode.PICKUP_AFTER, now_s + 15 * 60),
        ),
    )
    assert q.state is BookingStatus.QUOTED
    options = q.options
    assert options
    for o in options:
        depot = svc.companies[o.company_id].depot
        reach = svc.travel.leg(depot, ATO).duration_s
        assert reach > 15 * 60  # the case that used to go wrong: farther than the notice given
        assert o.pickup_s >= now_s + reach, o
        assert o.pickup_to_s >= now_s + reach
    # later in the day the same holds for the quote's clock, whatever time it is
    clock.now += timedelta(hours=3)
    later = svc.preview(
        ATO, svc.places["red-cross-hospital"].point, DAY, TimeRequest(TimeMode.PICKUP_AFTER, 13 * 3600 + 900)
    )
    assert later[0] and all(
        o.pickup_s >= 13 * 3600 + svc.travel.leg(svc.companies[o.company_id].depot, ATO).duration_s
        for o in later[0]
    )
