"""Statuses and kinds are enums in the domain and the same strings in the database and the JSON."""

from __future__ import annotations

from typing import get_args

from dispatch.booking import BookingStatus
from dispatch.inputs import Endpoint, EndpointKind
from dispatch.recurring import endpoint_from_json, endpoint_json
from geo import LatLon
from noriai.web.api.bodies import EndpointIn
from noriai.web.schemas import BookingOut


def test_endpoint_kinds_are_the_api_strings_and_read_back_from_a_stored_rule_as_the_enum() -> None:
    assert {k.value for k in EndpointKind} == set(get_args(EndpointIn.model_fields["kind"].annotation))
    for e in (Endpoint(EndpointKind.HOME), Endpoint(EndpointKind.PLACE, "red-cross-hospital")):
        assert endpoint_from_json(endpoint_json(e)) == e
    point = Endpoint(EndpointKind.POINT, point=LatLon(34.17, 131.47), label="x")
    back = endpoint_from_json(endpoint_json(point))
    assert type(back.kind) is EndpointKind and back.kind is EndpointKind.POINT
    assert '"kind": "point"' in endpoint_json(point)  # the stored JSON keeps the plain string


def test_booking_statuses_are_documented_as_their_strings() -> None:
    schema = BookingOut.model_json_schema()
    assert set(schema["$defs"]["BookingStatus"]["enum"]) == {s.value for s in BookingStatus}
