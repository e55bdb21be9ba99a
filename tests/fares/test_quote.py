"""Pre-determined fares: worked examples checked by hand against the demo tariff, and properties."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fares import (
    Concession,
    FareError,
    FareInputs,
    RoundingMode,
    Tariff,
    VehicleClass,
    destination_change,
    load_tariff,
    quote,
    recompute,
)
from noriai.demo import TARIFF_PATH

TARIFF = load_tariff(TARIFF_PATH)
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0)  # not a holiday, outside peak and night


def inputs(
    distance_m: int,
    *,
    at: datetime = TUESDAY_NOON,
    tariff: Tariff = TARIFF,
    duration_s: int | None = None,
    **kw: Any,
) -> FareInputs:
    duration = max(60, distance_m // 5) if duration_s is None else duration_s
    return FareInputs(tariff.tariff_id, tariff.version, distance_m, duration, at, **kw)


@pytest.mark.parametrize(
    ("distance_m", "expected_yen"),
    [
        (0, 680),  # the initial fare is due even for zero metres
        (1255, 680),  # exactly the initial distance: no step yet
        (1256, 760),  # one metre past it: the first step
        (1500, 760),  # 1,255 + 245: still the first step
        (1501, 840),  # into the second step
        (1255 + 10 * 245, 680 + 10 * 80),
        (1255 + 10 * 245 + 1, 680 + 11 * 80),
    ],
)
def test_distance_steps_follow_the_meter(distance_m: int, expected_yen: int) -> None:
    """¥680 for the first 1,255 m, +¥80 per started 245 m."""
    assert quote(inputs(distance_m), TARIFF).total_yen == expected_yen


def test_slow_time_adds_a_step_per_completed_ninety_seconds() -> None:
    base = quote(inputs(1000, duration_s=600, slow_time_s=89), TARIFF).total_yen
    one = quote(inputs(1000, duration_s=600, slow_time_s=90), TARIFF).total_yen
    two = quote(inputs(1000, duration_s=600, slow_time_s=180), TARIFF).total_yen
    assert (base, one, two) == (680, 760, 840)


def test_night_surcharge_starts_at_2200_not_2159() -> None:
    """5,000 m: 680 + ceil(3745/245)=16 steps x 80 = 1,960; +20 % = 2,352 -> ¥2,350 (half up to ¥10)."""
    before = quote(inputs(5000, at=datetime(2026, 11, 24, 21, 59)), TARIFF)
    after = quote(inputs(5000, at=datetime(2026, 11, 24, 22, 0)), TARIFF)
    assert before.total_yen == 1960
    assert after.total_yen == 2350
    assert [x.code for x in after.lines] == ["meter_distance", "night", "rounding"]
    assert quote(inputs(5000, at=datetime(2026, 11, 25, 4, 59)), TARIFF).total_yen == 2350
    assert quote(inputs(5000, at=datetime(2026, 11, 25, 5, 0)), TARIFF).total_yen == 1960


def test_peak_coefficient_applies_on_weekday_mornings_but_not_holidays() -> None:
    """1.10 on weekdays 07:00-09:00; 2026-11-23 is Labour Thanksgiving Day (a Monday holiday)."""
    peak = quote(inputs(5000, at=datetime(2026, 11, 24, 8, 30)), TARIFF)
    assert peak.total_yen == 2160  # 1,960 x 1.10 = 2,156 -> 2,160
    assert str(peak.coefficient) == "1.10"
    holiday = quote(inputs(5000, at=datetime(2026, 11, 23, 8, 30)), TARIFF)
    assert holiday.total_yen == 1960


def test_rural_area_coefficient() -> None:
    q = quote(inputs(5000, area_id="nio"), TARIFF)
    assert q.total_yen == 1860  # 1,960 x 0.95 = 1,862 -> 1,860


def test_jumbo_with_pickup_fee_and_disability_discount_worked_example() -> None:
    """12,583 m -> 4,440; jumbo 125 % = 5,550; peak 1.10 = 6,105 -> 6,110; +200 pickup = 6,310;
    disability 10 % off = 5,679 -> 5,680."""
    q = quote(
        inputs(
            12583,
            at=datetime(2026, 11, 24, 8, 0),
            vehicle_class=VehicleClass.JUMBO,
            concession=Concession.DISABILITY,
        ),
        TARIFF,
    )
    assert q.total_yen == 5680
    assert q.fare_before_discounts_yen == 6310
    assert [(x.code, x.amount_yen) for x in q.lines] == [
        ("meter_distance", 4440),
        ("vehicle_class", 1110),
        ("coefficient", 555),
        ("rounding", 5),
        ("pickup_fee", 200),
        ("concession", -630),
    ]


def test_vouchers_reduce_the_payable_but_never_below_zero() -> None:
    q = quote(inputs(1000, vouchers=1), TARIFF)
    assert q.total_yen == 180  # 680 - 500
    q = quote(
        inputs(0, vouchers=1, duration_s=60),
        TARIFF.model_copy(
            update={"concessions": TARIFF.concessions.model_copy(update={"voucher_value_yen": 1000})}
        ),
    )
    assert q.total_yen == 0


def test_destination_change_adds_a_meter_fare_from_the_change_point() -> None:
    original = quote(inputs(5000), TARIFF)
    changed = destination_change(
        original,
        distance_from_change_m=2000,
        slow_time_from_change_s=0,
        changed_at=datetime(2026, 11, 24, 12, 10),
        tariff=TARIFF,
    )
    # 2,000 m from the change point: 680 + ceil((2,000 - 1,255) / 245) = 4 steps x 80 = 1,000.
    assert changed.total_yen == 1960 + 1000
    assert [x.code for x in changed.lines] == ["original_fixed_fare", "meter_from_change"]


def test_a_stored_quote_recomputes_to_the_same_yen_after_a_json_round_trip() -> None:
    q = quote(
        inputs(
            8765,
            at=datetime(2026, 11, 24, 22, 30),
            vehicle_class=VehicleClass.WELFARE,
            concession=Concession.DISABILITY,
            area_id="central",
        ),
        TARIFF,
    )
    stored = json.loads(json.dumps(q.to_dict()))
    again = recompute(stored["inputs"], TARIFF)
    assert again.total_yen == q.total_yen
    assert again.lines == q.lines


def test_quote_carries_its_validity_period() -> None:
    at = datetime(2026, 11, 24, 9, 0)
    q = quote(inputs(3000), TARIFF, quoted_at=at)
    assert q.valid_from == at
    assert q.valid_until is not None and (q.valid_until - at).total_seconds() == 1800


def test_a_pickup_outside_the_tariff_validity_is_refused() -> None:
    with pytest.raises(FareError, match="not on 2027-04-01"):
        quote(inputs(3000, at=datetime(2027, 4, 1, 12, 0)), TARIFF)


def test_inputs_for_another_tariff_version_are_refused() -> None:
    other = FareInputs(TARIFF.tariff_id, "old", 3000, 600, TUESDAY_NOON)
    with pytest.raises(FareError, match="inputs were made for tariff"):
        quote(other, TARIFF)


# --- properties ------------------------------------------------------------------------------------

times = st.datetimes(min_value=datetime(2026, 4, 1), max_value=datetime(2027, 3, 31, 23, 59))
classes = st.sampled_from(list(VehicleClass))
concessions = st.one_of(st.none(), st.sampled_from(list(Concession)))
areas = st.sampled_from([None, "central", "nio", "ato", "yuda"])


@given(
    st.integers(0, 80_000),
    st.integers(0, 5_000),
    st.integers(0, 3_000),
    st.integers(0, 3_000),
    times,
    classes,
    concessions,
    areas,
)
def test_fare_never_decreases_as_distance_or_slow_time_grows(
    d: int,
    dd: int,
    slow: int,
    dslow: int,
    at: datetime,
    vc: VehicleClass,
    c: Concession | None,
    area: str | None,
) -> None:
    def fare(dist: int, slow_s: int) -> int:
        return quote(
            inputs(
                dist,
                at=at,
                duration_s=10_000,
                slow_time_s=slow_s,
                vehicle_class=vc,
                concession=c,
                area_id=area,
            ),
            TARIFF,
        ).total_yen

    base = fare(d, slow)
    assert fare(d + dd, slow) >= base
    assert fare(d, slow + dslow) >= base


@given(st.integers(0, 80_000), times, classes, concessions, areas, st.integers(0, 3))
def test_totals_are_non_negative_rounded_by_policy_and_lines_sum_up(
    d: int, at: datetime, vc: VehicleClass, c: Concession | None, area: str | None, vouchers: int
) -> None:
    q = quote(inputs(d, at=at, vehicle_class=vc, concession=c, area_id=area, vouchers=vouchers), TARIFF)
    assert q.total_yen >= 0
    assert sum(x.amount_yen for x in q.lines) == q.total_yen
    assert q.fare_before_discounts_yen % TARIFF.rounding.unit_yen == 0
    assert recompute(q.to_dict()["inputs"], TARIFF).total_yen == q.total_yen


@given(st.integers(0, 30_000), st.sampled_from(list(RoundingMode)), st.sampled_from([1, 10, 50, 100]))
def test_rounding_follows_the_configured_policy(d: int, mode: RoundingMode, unit: int) -> None:
    t = TARIFF.model_copy(
        update={
            "rounding": TARIFF.rounding.model_copy(update={"mode": mode, "unit_yen": unit}),
            "vehicle_class": {
                **TARIFF.vehicle_class,
                VehicleClass.MEDIUM: TARIFF.vehicle_class[VehicleClass.MEDIUM],
            },
        }
    )
    q = quote(inputs(d, tariff=t, vehicle_class=VehicleClass.MEDIUM, at=datetime(2026, 11, 24, 23, 0)), t)
    exact = sum(x.amount_yen for x in q.lines if x.code != "rounding")  # whole-yen before rounding
    assert q.total_yen % unit == 0
    if mode is RoundingMode.UP:
        assert exact <= q.total_yen < exact + unit + 1
    elif mode is RoundingMode.DOWN:
        assert exact - unit - 1 < q.total_yen <= exact + 1
    else:
        assert abs(q.total_yen - exact) <= unit / 2 + 1


def test_demo_tariff_file_is_the_one_documented() -> None:
    assert Path(TARIFF_PATH).name == "tariff.toml"
    assert TARIFF.meter.initial_fare_yen == 680 and TARIFF.meter.initial_distance_m == 1255
