"""Request bodies of the dispatch API: pydantic models that refuse unknown fields (422, nothing
changes) and turn into the dispatch service's own input types."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.booking import TimeMode
from dispatch.booking import parse_hhmm as _parse_hhmm
from dispatch.errors import Invalid
from dispatch.inputs import Endpoint, EndpointKind
from geo import LatLon
from noriai.web.inputs import TIME_PATTERN, Day, Label, Text

__all__ = [
    "CancelIn",
    "ConfirmIn",
    "EndpointIn",
    "PositionIn",
    "QuoteIn",
    "ReturnIn",
    "RuleIn",
    "StopEventIn",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(v: str) -> str:
    _parse_hhmm(v)
    return v


class EndpointIn(_Body):
    kind: Literal["home", "place", "point"]
    place_id: Label | None = Field(default=None, max_length=80)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    label: Label | None = Field(default=None, max_length=100)

    def to_domain(self) -> Endpoint:
        point = LatLon(self.lat, self.lon) if self.lat is not None and self.lon is not None else None
        if self.kind == "point" and point is None:
            raise Invalid("a point needs lat and lon", "地点には緯度・経度が必要です")
        if self.kind == "place" and not self.place_id:
            raise Invalid("a place needs place_id", "行き先を選んでください")
        return Endpoint(EndpointKind(self.kind), self.place_id, point, self.label or "")


class QuoteIn(_Body):
    rider_id: Label = Field(min_length=1, max_length=40)
    origin: EndpointIn = EndpointIn(kind="home")
    destination: EndpointIn
    service_date: Day
    mode: TimeMode
    time: Annotated[
        str, Field(description="HH:MM, GTFS style (25:10 = 1:10 next morning)", pattern=TIME_PATTERN)
    ]
    companions: int = Field(default=0, ge=0, le=8)

    _t = field_validator("time")(_hhmm)


class ConfirmIn(_Body):
    option: int = Field(ge=0, le=9)
    intended: bool = Field(
        default=False, description="the operator confirms a second booking for the same trip on purpose"
    )


class CancelIn(_Body):
    reason: Text = Field(default="", max_length=200)


class StopEventIn(_Body):
    event: Literal["arrive", "pick_up", "no_show", "drop_off"]


class PositionIn(_Body):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ReturnIn(_Body):
    mode: Literal["at", "call"]
    time: str | None = Field(default=None, pattern=TIME_PATTERN)

    @field_validator("time")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        return _hhmm(v) if v is not None else None


class RuleIn(_Body):
    rider_id: Label = Field(min_length=1, max_length=40)
    origin: EndpointIn = EndpointIn(kind="home")
    destination: EndpointIn
    mode: TimeMode
    time: str = Field(pattern=TIME_PATTERN)
    weekdays: list[int] = Field(min_length=1, max_length=7, description="0 = Monday")
    start_date: Day
    end_date: Day | None = None
    skip_holidays: bool = True
    exceptions: list[Day] = Field(default_factory=list, max_length=366)
    return_mode: Literal["none", "at", "call"] = "none"
    return_time: str | None = Field(default=None, pattern=TIME_PATTERN)

    _t = field_validator("time")(_hhmm)
