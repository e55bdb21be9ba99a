"""Text the API accepts: no lone surrogates anywhere, and names and labels without control or
bidirectional-override characters (which garble the operator's screen and the read-back, or hide what
a label really says).

``Text`` is for free text (a cancel reason: line breaks allowed); ``Label`` for names and labels.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

# Embedding, override and isolate controls (U+202A-202E, U+2066-2069) and the invisible marks that
# reorder text (U+200E, U+200F, U+061C).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def check_text(value: str, *, single_line: bool) -> str:
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise ValueError("text contains a lone surrogate (not valid Unicode)")
        if ch in BIDI_CONTROLS:
            raise ValueError("text contains a bidirectional control character")
        if cat == "Cc" and (single_line or ch not in "\n\t"):
            raise ValueError("text contains a control character")
    return value


def _label(value: str) -> str:
    return check_text(value, single_line=True)


def _text(value: str) -> str:
    return check_text(value, single_line=False)


# The same rules as patterns in the OpenAPI document, so that clients (and Schemathesis) know them.
_BIDI = r"\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
LABEL_PATTERN = rf"^[^\u0000-\u001f\u007f{_BIDI}]*$"
TEXT_PATTERN = rf"^[^\u0000-\u0008\u000b-\u001f\u007f{_BIDI}]*$"  # tab and line feed allowed
Label = Annotated[str, AfterValidator(_label), Field(json_schema_extra={"pattern": LABEL_PATTERN})]
Text = Annotated[str, AfterValidator(_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]


# Days and times the service can mean: ISO dates (never a number read as a Unix time, as "0" would
# be), years 2000-2099 (year 1 or 9999 overflow date arithmetic). The booking horizon itself (today ..
# 60 days ahead) is a business rule checked where it applies, with its own 422 code.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DAY_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
WHEN_PATTERN = (
    r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not _DAY.fullmatch(value):
        raise ValueError("a date is YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("a date is YYYY-MM-DD, not a number")
    return value


def _in_range(value: date) -> date:
    if not 2000 <= value.year <= 2099:
        raise ValueError("the date must be within the years 2000-2099")
    return value


def _iso_when(value: object) -> object:
    if isinstance(value, int | float) or (isinstance(value, str) and not re.fullmatch(WHEN_PATTERN, value)):
        raise ValueError("a time is YYYY-MM-DDTHH:MM[:SS][+09:00]")
    return value


def _when_in_range(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2099:
        raise ValueError("the time must be within the years 2000-2099")
    return value


Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    AfterValidator(_in_range),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN}),
]
When = Annotated[
    datetime,
    BeforeValidator(_iso_when),
    AfterValidator(_when_in_range),
    # local ISO time; seconds and the offset are optional (so not RFC 3339's "date-time")
    WithJsonSchema({"type": "string", "pattern": WHEN_PATTERN}),
]

# GTFS-style clock times: 0:00 .. 47:59 (25:10 is 1:10 the next morning).
TIME_PATTERN = r"^([0-9]|[0-3][0-9]|4[0-7]):[0-5][0-9]$"

# A point typed as "lat,lon" (finite decimals; NaN, Infinity and 1e309 do not match), or a place id.
LATLON_PATTERN = r"-?[0-9]{1,2}(\.[0-9]{1,12})?,-?[0-9]{1,3}(\.[0-9]{1,12})?"
POINT_PATTERN = f"^{LATLON_PATTERN}$"
PLACE_OR_POINT_PATTERN = f"^([A-Za-z0-9][A-Za-z0-9_.:-]{{0,63}}|{LATLON_PATTERN})$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$"  # ASCII digits only: "０９０" or "٠٩٠" are refused
