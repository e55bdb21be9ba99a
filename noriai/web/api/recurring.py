"""Recurring rides: a rule (weekdays, first and last day, holidays skipped, days off, the ride home)
that the materialiser turns into bookings day by day. Listing rules is ``noriai.web.riders_api``."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.booking import RecurrenceRule, TimeRequest
from dispatch.booking import parse_hhmm as _parse_hhmm
from dispatch.domain import Principal
from dispatch.errors import Invalid
from dispatch.inputs import RuleRequest
from dispatch.service import DispatchService
from noriai.web.api.bodies import RuleIn
from noriai.web.auth import Auth
from noriai.web.schemas import RuleOut

__all__ = ["recurring_router"]


def recurring_router(svc: DispatchService, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Op = Annotated[Principal, Depends(auth.operator)]

    @router.post("/recurring", status_code=201, response_model=RuleOut, response_model_exclude_unset=True)
    def add_rule(p: Op, body: RuleIn) -> dict[str, Any]:
        try:
            rule = RecurrenceRule(
                frozenset(body.weekdays),
                body.start_date,
                body.end_date,
                body.skip_holidays,
                frozenset(body.exceptions),
            )
        except ValueError as exc:
            raise Invalid(str(exc), "繰り返し予約の指定が不正です") from None
        rr = RuleRequest(
            body.rider_id,
            body.origin.to_domain(),
            body.destination.to_domain(),
            TimeRequest(body.mode, _parse_hhmm(body.time)),
            rule,
            body.return_mode,
            _parse_hhmm(body.return_time) if body.return_time else None,
        )
        r = svc.add_rule(p, rr)
        return {"rule_id": r.rule_id, "rider_id": r.rider_id, "weekdays": body.weekdays}

    return router
