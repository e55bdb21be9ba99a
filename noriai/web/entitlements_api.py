"""Riders' entitlements and the companies' monthly report over HTTP: thin routes over
``dispatch.entitlements`` and ``dispatch.reports``.

- ``GET/PUT /api/v1/riders/{id}/entitlements`` (operators): disability discount and elderly pass (from
  the rider), group-taxi vouchers per fiscal year, used and left, and the ledger of the year.
- ``GET /api/v1/reports/monthly`` (JSON) and ``/api/v1/reports/monthly.csv``: fares, concessions and
  vouchers of the rides made in a month, per company (an operator: all or one; a company key: its own).

(No ``from __future__ import annotations``: FastAPI reads the body model's annotations at runtime.)
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from dispatch.domain import Principal
from dispatch.entitlements import MAX_VOUCHERS_PER_YEAR, RiderEntitlements
from dispatch.reports import monthly_report, report_csv
from dispatch.service import DispatchService
from noriai.web.guard import error_responses

RiderId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
CompanyId = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


class EntitlementsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vouchers_per_year: int = Field(ge=0, le=MAX_VOUCHERS_PER_YEAR, description="group-taxi vouchers a year")


def entitlements_router(
    service: DispatchService, operator: Callable[..., Principal], any_key: Callable[..., Principal]
) -> APIRouter:
    r = APIRouter(tags=["entitlements and reports"])
    Op = Annotated[Principal, Depends(operator)]
    Caller = Annotated[Principal, Depends(any_key)]
    ent = RiderEntitlements(service.ctx)

    def names() -> dict[str, str]:
        return {c.company_id: c.name for c in service.reference.companies}

    @r.get("/api/v1/riders/{rider_id}/entitlements", responses=error_responses(401, 403, 404, 422))
    def get_entitlements(
        p: Op,
        rider_id: RiderId,
        fiscal_year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 (April-March)")] = None,
    ) -> dict[str, Any]:
        """The rider's discount, pass and vouchers (per year, used, left) for a fiscal year (default:
        the current one), with the year's voucher ledger."""
        return ent.get(rider_id, fiscal_year)

    @r.put("/api/v1/riders/{rider_id}/entitlements", responses=error_responses(401, 403, 404, 422))
    def put_entitlements(p: Op, rider_id: RiderId, body: EntitlementsIn) -> dict[str, Any]:
        """Set the group-taxi vouchers the rider receives each fiscal year."""
        return ent.set_vouchers_per_year(p, rider_id, body.vouchers_per_year)

    @r.get("/api/v1/reports/monthly", responses=error_responses(401, 403, 422))
    def report(p: Caller, month: Month, company_id: CompanyId = None) -> list[dict[str, Any]]:
        """Per company: rides made in the month, fares, concession discounts and vouchers, and what the
        city reimburses (discounts + vouchers' face value)."""
        return [x.to_dict() for x in monthly_report(service.repo, p, month, names(), company_id)]

    @r.get(
        "/api/v1/reports/monthly.csv",
        responses={200: {"content": {"text/csv": {}}}, **error_responses(401, 403, 422)},
        response_class=Response,
    )
    def report_as_csv(p: Caller, month: Month, company_id: CompanyId = None) -> Response:
        """The same report as CSV, one line per ride."""
        text = report_csv(monthly_report(service.repo, p, month, names(), company_id))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="noriai-{month}.csv"'},
        )

    return r
