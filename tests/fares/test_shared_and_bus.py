"""Shared-ride fares, group vouchers and bus fares (including the JR Bus Chugoku feed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fares import (
    BusFareTable,
    Concession,
    FareError,
    FareInputs,
    SharedRider,
    bus_leg_fare,
    load_tariff,
    quote,
    shared_fares,
    split_group_fare,
)
from gtfs.tables import read_table
from noriai.demo import GTFS_DIR, TARIFF_PATH

TARIFF = load_tariff(TARIFF_PATH)
AT = datetime(2026, 11, 24, 10, 0)


def trip(distance_m: int, concession: Concession | None = None) -> FareInputs:
    return FareInputs(
        TARIFF.tariff_id, TARIFF.version, distance_m, max(60, distance_m // 5), AT, concession=concession
    )


def test_three_rider_pooled_trip_worked_example() -> None:
    """Solo fares: 3,000 m -> 680+8x80=1,320; 5,000 m -> 1,960; 7,000 m -> 680+24x80=2,600.
    Pooled route 9,000 m -> 680+32x80=3,240, split by direct distance 3:5:7 of 15,000 m:
    648, 1,080, 1,512; caps at 80 % of solo: 1,056, 1,568, 2,080; so the shares apply, rounded half up
    to ¥10: 650, 1,080, 1,510. The rider with a disability pays 10 % less: 1,080 -> 972 -> 970."""
    riders = [
        SharedRider("a", trip(3000)),
        SharedRider("b", trip(5000, Concession.DISABILITY)),
        SharedRider("c", trip(7000)),
    ]
    fares = shared_fares(riders, TARIFF, pooled=trip(9000))
    assert [f.solo.fare_before_discounts_yen for f in fares] == [1320, 1960, 2600]
    assert [f.shared.total_yen for f in fares] == [650, 970, 1510]
    for f in fares:
        assert sum(x.amount_yen for x in f.shared.lines) == f.shared.total_yen


def test_long_detour_is_capped_by_the_sharing_discount() -> None:
    riders = [SharedRider("a", trip(3000)), SharedRider("b", trip(3000))]
    fares = shared_fares(riders, TARIFF, pooled=trip(40_000))
    assert [f.shared.total_yen for f in fares] == [1060, 1060]  # 1,320 x 0.8 = 1,056 -> 1,060


def test_zone_flat_rule_uses_the_most_specific_pair() -> None:
    flat = TARIFF.model_copy(update={"shared": TARIFF.shared.model_copy(update={"rule": "zone_flat"})})
    riders = [
        SharedRider("a", trip(3000), "central", "central"),
        SharedRider("b", trip(9000), "nio", "central"),
    ]
    fares = shared_fares(riders, flat)
    assert [f.shared.total_yen for f in fares] == [300, 500]


positive_trips = st.lists(
    st.tuples(st.integers(0, 30_000), st.sampled_from([None, *Concession]), st.integers(0, 2)),
    min_size=1,
    max_size=5,
)


@given(positive_trips, st.one_of(st.none(), st.integers(0, 80_000)))
def test_each_riders_shared_fare_is_at_most_their_solo_fare(
    trips: list[tuple[int, Concession | None, int]], pooled_m: int | None
) -> None:
    riders = [
        SharedRider(
            str(i),
            FareInputs(TARIFF.tariff_id, TARIFF.version, d, max(60, d // 5), AT, concession=c, vouchers=v),
        )
        for i, (d, c, v) in enumerate(trips)
    ]
    pooled = trip(pooled_m) if pooled_m is not None else None
    for f in shared_fares(riders, TARIFF, pooled=pooled):
        assert 0 <= f.shared.total_yen <= f.solo.total_yen
        assert f.solo.total_yen == quote(f.solo.inputs, TARIFF).total_yen
        assert f.shared.fare_before_discounts_yen % TARIFF.rounding.unit_yen == 0


def test_group_vouchers_reduce_the_fare_and_the_rest_is_split() -> None:
    split = split_group_fare(2350, [1, 1, 0], TARIFF)
    assert split.vouchers_used == (1, 1, 0)
    assert split.payable_yen == 1350
    assert split.per_member_yen == (450, 450, 450)
    small = split_group_fare(700, [1, 1, 1], TARIFF)
    assert small.vouchers_used == (1, 1, 0)  # the third voucher would only make change
    assert small.payable_yen == 0


@given(st.integers(0, 20_000), st.lists(st.integers(0, 3), min_size=1, max_size=6))
def test_group_split_sums_to_the_payable_and_never_goes_negative(fare: int, held: list[int]) -> None:
    s = split_group_fare(fare, held, TARIFF)
    assert sum(s.per_member_yen) == s.payable_yen >= 0
    assert s.payable_yen + s.voucher_total_yen == fare
    assert max(s.per_member_yen) - min(s.per_member_yen) <= 1


def test_bus_concessions() -> None:
    assert bus_leg_fare(520, TARIFF)[0] == 520
    assert bus_leg_fare(520, TARIFF, welfare_pass=True)[0] == 100
    assert bus_leg_fare(80, TARIFF, welfare_pass=True)[0] == 80  # never more than the fare itself
    assert bus_leg_fare(520, TARIFF, Concession.DISABILITY, welfare_pass=True)[0] == 0
    assert bus_leg_fare(230, TARIFF, Concession.CHILD)[0] == 120  # 115 rounded up to ¥10
    pay, lines = bus_leg_fare(520, TARIFF, welfare_pass=True)
    assert sum(x.amount_yen for x in lines) == pay


def test_demo_feed_bus_fares() -> None:
    table = BusFareTable.from_rows(
        (r for _, r in read_table(GTFS_DIR, "fare_attributes.txt")),
        (r for _, r in read_table(GTFS_DIR, "fare_rules.txt")),
    )
    assert table.fare_yen("L1", "CITY", "CITY") == 200
    assert table.fare_yen("L1", "OGORI", "CITY") == 520
    assert table.fare_yen("L1", "MOON", "CITY") is None


def test_jr_bus_chugoku_fares_load_and_match_by_route_and_zone(shared_dir: Path) -> None:
    feed = shared_dir / "feeds/gtfs/yamaguchi_jrbus_chugoku_gtfs_20260813.zip"
    rules = [r for _, r in read_table(feed, "fare_rules.txt")]
    table = BusFareTable.from_rows((r for _, r in read_table(feed, "fare_attributes.txt")), rules)
    assert len(table.prices_yen) >= 150
    first = rules[0]  # 5240001006620_160_00,2229846746,60039 2,60040 2
    assert table.fare_yen(first["route_id"], first["origin_id"], first["destination_id"]) == 160
    # Every rule resolves to a fare no higher than its own price.
    for r in rules[:2000]:
        got = table.fare_yen(r["route_id"], r["origin_id"], r["destination_id"])
        assert got is not None and got <= table.prices_yen[r["fare_id"]]


def test_bad_fare_rows_are_reported_with_their_line() -> None:
    with pytest.raises(FareError, match=r"fare_attributes\.txt line 3: price 'free'"):
        BusFareTable.from_rows(
            [
                {"fare_id": "a", "price": "100", "currency_type": "JPY"},
                {"fare_id": "b", "price": "free", "currency_type": "JPY"},
            ],
            [],
        )
    with pytest.raises(FareError, match=r"fare_rules\.txt line 2: fare_id 'zz'"):
        BusFareTable.from_rows(
            [{"fare_id": "a", "price": "100", "currency_type": "JPY"}], [{"fare_id": "zz", "route_id": "r"}]
        )
