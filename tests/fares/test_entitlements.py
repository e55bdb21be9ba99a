"""A rider's entitlements on a fixed fare (fares.quote_for_rider): concession and vouchers as lines of
the breakdown, never more vouchers than held, allowed or useful; pure and recomputable."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from fares import (
    Concession,
    Entitlements,
    FareInputs,
    Tariff,
    concession_for,
    concession_yen,
    fare_type,
    fiscal_year,
    load_tariff,
    quote,
    quote_for_rider,
    recompute,
    shared_offer_for_rider,
    voucher_yen,
)
from noriai.demo import TARIFF_PATH

TARIFF = load_tariff(TARIFF_PATH)
GENEROUS = TARIFF.model_copy(
    update={
        "concessions": TARIFF.concessions.model_copy(
            update={"elderly_percent": 20, "max_vouchers_per_rider": 3}
        )
    }
)


def _inputs(distance_m: int, hour: int = 10) -> FareInputs:
    return FareInputs(
        TARIFF.tariff_id, TARIFF.version, distance_m, distance_m // 6, datetime(2026, 11, 24, hour, 0)
    )


def test_disability_discount_and_a_voucher_are_lines_of_the_breakdown() -> None:
    q = quote_for_rider(_inputs(6000), TARIFF, Entitlements(disability=True, vouchers_held=3))
    codes = [x.code for x in q.lines]
    assert "concession" in codes and "voucher" in codes
    assert q.inputs.concession is Concession.DISABILITY and q.inputs.vouchers == 1  # demo: 1 a ride
    plain = quote(_inputs(6000), TARIFF)
    assert 0 < concession_yen(q) <= plain.total_yen * TARIFF.concessions.disability_percent // 100 + 10
    assert voucher_yen(q) == TARIFF.concessions.voucher_value_yen
    assert q.total_yen == plain.total_yen - concession_yen(q) - voucher_yen(q)
    assert sum(x.amount_yen for x in q.lines) == q.total_yen


def test_the_elderly_pass_gives_nothing_where_the_tariff_gives_nothing() -> None:
    q = quote_for_rider(_inputs(6000), TARIFF, Entitlements(elderly=True))
    assert q.inputs.concession is None and "concession" not in [x.code for x in q.lines]
    assert concession_for(Entitlements(elderly=True, disability=True), GENEROUS) is Concession.ELDERLY


def test_the_fiscal_year_starts_in_april() -> None:
    assert fiscal_year(datetime(2027, 3, 31)) == 2026
    assert fiscal_year(datetime(2027, 4, 1)) == 2027


@given(
    st.integers(0, 60_000),
    st.booleans(),
    st.booleans(),
    st.integers(0, 10),
    st.sampled_from([TARIFF, GENEROUS]),
)
def test_entitlements_never_make_a_fare_dearer_or_negative(
    distance_m: int, disability: bool, elderly: bool, held: int, tariff: Tariff
) -> None:
    inputs = _inputs(distance_m)
    ent = Entitlements(disability=disability, elderly=elderly, vouchers_held=held)
    q = quote_for_rider(inputs, tariff, ent)
    plain = quote(inputs, tariff)
    assert 0 <= q.total_yen <= plain.total_yen
    assert sum(x.amount_yen for x in q.lines) == q.total_yen
    c = tariff.concessions
    n = q.inputs.vouchers
    assert 0 <= n <= min(held, c.max_vouchers_per_rider)
    if n:  # every voucher spent reduces what is paid: none only to produce change
        assert q.total_yen + voucher_yen(q) > (n - 1) * c.voucher_value_yen
        assert voucher_yen(q) <= n * c.voucher_value_yen
    assert recompute(q.inputs.to_dict(), tariff).total_yen == q.total_yen
    # the same trip without entitlements is the plain fare
    assert quote_for_rider(replace(inputs, vouchers=5), tariff, Entitlements()).total_yen == plain.total_yen


@given(
    st.integers(0, 60_000),
    st.integers(0, 23),
    st.booleans(),
    st.integers(0, 10),
    st.sampled_from([TARIFF, GENEROUS]),
)
def test_the_shared_offer_is_never_dearer_than_the_private_fare(
    distance_m: int, hour: int, disability: bool, held: int, tariff: Tariff
) -> None:
    inputs = _inputs(distance_m, hour)
    ent = Entitlements(disability=disability, vouchers_held=held)
    private = quote_for_rider(inputs, tariff, ent)
    shared = shared_offer_for_rider(inputs, tariff, ent)
    assert 0 <= shared.total_yen <= private.total_yen
    assert shared.fare_before_discounts_yen <= private.fare_before_discounts_yen
    assert sum(x.amount_yen for x in shared.lines) == shared.total_yen
    assert (fare_type(private), fare_type(shared)) == ("private", "shared")
    assert shared.inputs.vouchers <= min(held, tariff.concessions.max_vouchers_per_rider)
    # the offer is a pure function of the trip: asking again gives the same yen
    assert shared_offer_for_rider(inputs, tariff, ent) == shared
