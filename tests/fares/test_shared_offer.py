"""The shared-ride option offered at booking: never dearer than the private one, the same whoever
joins, breakdown lines that sum to the total, concessions and vouchers applied alike."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from fares import Concession, FareInputs, SharedRider, Tariff, load_tariff, quote, shared_offer
from noriai.demo import TARIFF_PATH

TARIFF = load_tariff(TARIFF_PATH)
ZONE_TARIFF = TARIFF.model_copy(update={"shared": TARIFF.shared.model_copy(update={"rule": "zone_flat"})})


@given(
    st.integers(0, 80_000),
    st.integers(0, 23),
    st.sampled_from([None, *Concession]),
    st.integers(0, 3),
    st.sampled_from([TARIFF, ZONE_TARIFF]),
    st.sampled_from([None, "central", "north"]),
)
def test_shared_option_is_never_dearer_than_private(
    distance_m: int, hour: int, concession: Concession | None, vouchers: int, t: Tariff, zone: str | None
) -> None:
    inputs = FareInputs(
        t.tariff_id,
        t.version,
        distance_m,
        max(60, distance_m // 6),
        datetime(2026, 11, 24, hour, 15),
        concession=concession,
        vouchers=vouchers,
    )
    offer = shared_offer(SharedRider("r", inputs, zone, zone), t)
    private = quote(inputs, t)
    assert offer.solo.total_yen == private.total_yen
    assert offer.shared.total_yen <= private.total_yen
    assert offer.shared.fare_before_discounts_yen <= private.fare_before_discounts_yen
    assert sum(line.amount_yen for line in offer.shared.lines) == offer.shared.total_yen
    assert offer.shared.total_yen >= 0
    # the offer depends on this rider's own trip only: nobody joining can change it
    assert shared_offer(SharedRider("r", inputs, zone, zone), t) == offer


def test_demo_tariff_gives_twenty_percent_off_with_the_reason() -> None:
    inputs = FareInputs(TARIFF.tariff_id, TARIFF.version, 7_000, 1_200, datetime(2026, 11, 24, 10, 0))
    offer = shared_offer(SharedRider("r", inputs), TARIFF)
    assert offer.solo.fare_before_discounts_yen == 2_600
    assert offer.shared.total_yen == 2_080
    sharing = next(line for line in offer.shared.lines if line.code == "sharing")
    assert "相乗り" in sharing.label_ja and "nobody joins" in sharing.label_en
