"""The city's shared-taxi service as a GTFS-Flex feed: the service area from the zones, the hours from
the vehicles' shifts, the booking rule from the promise policy and the booking centre's phone."""

from __future__ import annotations

from datetime import date, timedelta

import h3

from dispatch.booking import PromisePolicy
from dispatch.domain import ReferenceData
from gtfs.flex import FlexService, FlexZone


def shared_taxi_flex(
    ref: ReferenceData,
    *,
    booking_phone: str,
    base_url: str,
    today: date,
    policy: PromisePolicy | None = None,
) -> FlexService:
    p = policy or PromisePolicy()
    cells = sorted({c for z in ref.zones for c in z.zone.cells})
    vehicles = [v for c in ref.companies for v in c.vehicles]
    if not cells or not vehicles:
        raise ValueError("the GTFS-Flex export needs service zones and vehicles")
    area = h3.cells_to_h3shape(cells).__geo_interface__
    names = "・".join(z.zone.name for z in ref.zones)
    return FlexService(
        agency_id="noriai-yamaguchi",
        agency_name="山口市 乗合タクシー",
        agency_url=base_url,
        agency_phone=booking_phone,
        timezone="Asia/Tokyo",
        lang="ja",
        route_id="noriai-shared-taxi",
        route_name="乗合タクシー（予約制・ドアツードア）",
        zones=[
            FlexZone(
                "noriai-service-area",
                "乗合タクシー運行区域",
                area,
                f"{names}（区域内のどこからどこへでも / door to door anywhere in the area）",
            )
        ],
        window_start_s=min(v.shift.start_s for v in vehicles),
        window_end_s=max(v.shift.end_s for v in vehicles),
        start_date=today,
        end_date=today + timedelta(days=365),
        booking_phone=booking_phone,
        booking_message=(
            "電話またはウェブで予約してください。乗車の10分前まで、60日先まで予約できます。運賃は予約時に確定します。"
        ),
        prior_notice_min=10,
        prior_notice_max_days=60,
        info_url=f"{base_url}/plan",
        booking_url=f"{base_url}/plan",
        ride_factor=p.ride_factor,
        ride_offset_min=p.ride_extra_s / 60,
        translations={
            ("agency", "agency_name", "en"): "Yamaguchi City shared taxi",
            ("routes", "route_long_name", "en"): "Shared taxi (booked, door to door)",
        },
    )
