"""The shared-taxi leg of the trip planner, quoted by the dispatch service (same insertion, same fixed
fare as an operator's quote; nothing is stored until the rider books)."""

from __future__ import annotations

from datetime import date

from dispatch.booking import TimeMode, TimeRequest
from dispatch.service import DispatchService
from geo.points import LatLon
from planner.trip import TaxiOffer


class DispatchTaxiQuoter:
    def __init__(self, service: DispatchService) -> None:
        self.service = service

    def offers(
        self,
        origin: LatLon,
        destination: LatLon,
        service_date: date,
        time_s: int,
        *,
        arrive_by: bool,
        seats: int,
    ) -> tuple[list[TaxiOffer], str | None]:
        mode = TimeMode.ARRIVE_BY if arrive_by else TimeMode.PICKUP_AFTER
        if not 0 <= time_s < 2 * 86_400:
            return [], "that time is outside the service day / 運行日の範囲外の時刻です"
        options, reason = self.service.preview(
            origin, destination, service_date, TimeRequest(mode, time_s), seats=seats
        )
        offers = [
            TaxiOffer(
                pickup_s=o.pickup_s,
                dropoff_s=o.dropoff_s,
                pickup_from_s=o.pickup_from_s,
                pickup_to_s=o.pickup_to_s,
                fare_yen=o.fare_yen,
                fare_lines=o.fare.lines,
                company_name=o.company_name,
                vehicle_id=o.vehicle_id,
                shared=o.shared,
            )
            for o in options
        ]
        return offers, reason
