"""Bookings to and from their table row: the only place where quote options and fares become JSON.

The stored shape is the one the first release wrote (a list of option objects with ``fare_yen`` and
``fare`` as ``FareQuote.to_dict``), so databases made before typed options read back unchanged."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from dispatch.booking import Booking, BookingStatus, QuoteOption
from fares import FareQuote

_BOOKING_FIELDS = tuple(f.name for f in dataclasses.fields(Booking))
_OPTION_FIELDS = tuple(f.name for f in dataclasses.fields(QuoteOption) if f.name != "fare")


def option_to_dict(o: QuoteOption) -> dict[str, Any]:
    d: dict[str, Any] = {name: getattr(o, name) for name in _OPTION_FIELDS}
    d["fare_yen"] = o.fare_yen
    d["fare"] = o.fare.to_dict()
    return d


def option_from_dict(d: dict[str, Any]) -> QuoteOption:
    return QuoteOption(
        **{name: d[name] for name in _OPTION_FIELDS if name not in ("plan_version", "fare_type")},
        plan_version=int(d.get("plan_version", 0)),
        fare_type=str(d.get("fare_type", "shared")),
        fare=FareQuote.from_dict(d["fare"]),
    )


# Bookings are read and written on every dispatch event, their options and fare each time: the same
# JSON text always gives the same (immutable) objects and back, so both ways are remembered.
@lru_cache(maxsize=4096)
def _options_json(options: tuple[QuoteOption, ...]) -> str:
    return json.dumps([option_to_dict(o) for o in options])


@lru_cache(maxsize=4096)
def _fare_json(fare: FareQuote) -> str:
    return json.dumps(fare.to_dict())


@lru_cache(maxsize=4096)
def _options_of(text: str) -> tuple[QuoteOption, ...]:
    return tuple(option_from_dict(x) for x in json.loads(text or "[]"))


@lru_cache(maxsize=4096)
def _fare_of(text: str) -> FareQuote:
    return FareQuote.from_dict(json.loads(text))


def booking_row_values(b: Booking) -> dict[str, Any]:
    """The booking's columns: every field by name, options and fare as JSON text."""
    values = {name: getattr(b, name) for name in _BOOKING_FIELDS}
    values["options_json"] = _options_json(values.pop("options"))
    fare: FareQuote | None = values.pop("fare")
    values["fare_json"] = _fare_json(fare) if fare is not None else None
    return values


def booking_from_row(row: Any) -> Booking:
    return booking_from_values(row.model_dump())


def booking_from_values(data: Mapping[str, Any]) -> Booking:
    """A booking from its columns by name (a table model's dump or a Core row's mapping)."""
    values = {name: data[name] for name in _BOOKING_FIELDS if name in data}
    values["status"] = BookingStatus(values["status"])
    values["options"] = _options_of(data.get("options_json") or "[]")
    fare_json = data.get("fare_json")
    values["fare"] = _fare_of(fare_json) if fare_json else None
    return Booking(**values)
