"""Quote options and fares are typed everywhere; only persistence writes them as JSON, and reads back
exactly what it wrote (and what the first release wrote)."""

from __future__ import annotations

import json
from pathlib import Path

from dispatch.booking import BookingStatus, QuoteOption, TimeMode, TimeRequest
from dispatch.persistence.codec import booking_from_row, booking_row_values, option_from_dict, option_to_dict
from dispatch.persistence.tables import BookingRow
from tests.dispatch.helpers import DAY, OPERATOR, make_service, trip


def test_a_quoted_booking_reads_back_equal_with_typed_options_and_fares(tmp_path: Path) -> None:
    """Save, read in a new transaction: the same frozen options, fare lines and exact coefficient."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'c.db'}")
    q = svc.quote(OPERATOR, trip("R0001", "red-cross-hospital"))
    assert q.state is BookingStatus.QUOTED and q.options
    assert all(isinstance(o, QuoteOption) for o in q.options)
    again = svc.booking(OPERATOR, q.booking_id)
    assert again == q
    assert again.options[0].fare.lines == q.options[0].fare.lines
    booked = svc.confirm(OPERATOR, q.booking_id, 0)
    assert booked.fare == q.options[0].fare
    assert svc.booking(OPERATOR, q.booking_id).fare == q.options[0].fare


def test_the_stored_option_json_keeps_the_first_release_shape(tmp_path: Path) -> None:
    """Rows written before typed options (fare_yen beside fare, fare as FareQuote.to_dict) still read."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'c.db'}")
    q = svc.quote(OPERATOR, trip("R0001", "red-cross-hospital", day=DAY))
    values = booking_row_values(q)
    stored = json.loads(values["options_json"])
    assert stored[0]["fare_yen"] == q.options[0].fare_yen
    assert stored[0]["fare"]["breakdown"][0].keys() == {"code", "label_ja", "label_en", "amount_yen"}
    assert option_from_dict(option_to_dict(q.options[0])) == q.options[0]
    assert booking_from_row(BookingRow(**values)) == q
    assert values["status"] == "quoted"  # the column keeps the plain string
    assert type(booking_from_row(BookingRow(**values)).status) is BookingStatus  # the domain, the enum


def test_preview_answers_typed_options_and_stores_nothing(tmp_path: Path) -> None:
    """The trip planner's taxi leg: options with fares, and no booking row appears."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'c.db'}")
    origin = svc.places["shin-yamaguchi-sta"].point
    destination = svc.places["red-cross-hospital"].point
    options, reason = svc.preview(origin, destination, DAY, TimeRequest(TimeMode.PICKUP_AFTER, 9 * 3600))
    assert reason is None and options
    assert all(sum(x.amount_yen for x in o.fare.lines) == o.fare_yen for o in options)
    assert svc.bookings(service_date=DAY) == []
