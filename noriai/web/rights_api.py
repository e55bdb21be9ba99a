"""Riders' data rights over HTTP (operators only, each action recorded): thin routes over
``dispatch.rights.DataRights``. SECURITY.md says what erasure keeps and what it removes.

(No ``from __future__ import annotations``: FastAPI reads the body model's annotations at runtime.)
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict

from dispatch.domain import Principal
from dispatch.rights import ConsentChange, DataRights
from noriai.web.guard import error_responses
from noriai.web.inputs import Day

RiderId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Literal["data_reuse"]
    granted: bool
    given_on: Day


def rights_router(rights: DataRights, operator: Callable[..., Principal]) -> APIRouter:
    r = APIRouter(prefix="/api/v1/riders", tags=["data rights"])
    Op = Annotated[Principal, Depends(operator)]

    @r.get("/{rider_id}/export", responses=error_responses(401, 403, 404, 422))
    def export(p: Op, rider_id: RiderId) -> dict[str, Any]:
        """Everything stored about the rider, as JSON: profile, bookings, audit entries, standing
        rules, consents and data-rights events."""
        return rights.export(p, rider_id)

    @r.post("/{rider_id}/erase", responses=error_responses(401, 403, 404, 409, 422))
    def erase(p: Op, rider_id: RiderId) -> dict[str, Any]:
        """Remove the rider's personal data everywhere, keeping anonymous trip facts. Refused (409)
        while a booking from today on is still live: cancel it first."""
        return rights.erase(p, rider_id)

    @r.post("/{rider_id}/consents", responses=error_responses(401, 403, 404, 409, 422))
    def consent(p: Op, rider_id: RiderId, body: ConsentIn) -> dict[str, Any]:
        """Record consent given or withdrawn, with the day the rider gave it."""
        return rights.set_consent(p, rider_id, ConsentChange(body.purpose, body.granted, body.given_on))

    return r
