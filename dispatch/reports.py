"""The monthly report per taxi company: every ride made in the month with its fixed fare, the
concession and the group-taxi vouchers on it, and what the city reimburses the company (the
concession discounts plus the vouchers' face value). Rides that were cancelled or where nobody came
are not billed (their vouchers went back to the rider)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from dispatch.booking import BookingStatus
from dispatch.domain import Principal
from dispatch.errors import Forbidden, Invalid
from dispatch.persistence.entitlements import bookings_between
from dispatch.persistence.repository import Repository
from fares import concession_yen, voucher_yen


@dataclass(frozen=True, slots=True)
class ReportRide:
    service_date: date
    booking_id: str
    rider_id: str
    fare_yen: int  # the fixed fare before concessions and vouchers
    concession: str  # disability | elderly | child | "" (none)
    concession_yen: int
    vouchers: int
    voucher_yen: int
    paid_yen: int  # what the rider paid in the car

    @property
    def reimbursed_yen(self) -> int:
        return self.concession_yen + self.voucher_yen


@dataclass(frozen=True, slots=True)
class CompanyMonth:
    company_id: str
    company_name: str
    month: str  # YYYY-MM
    rides: tuple[ReportRide, ...]

    def totals(self) -> dict[str, int]:
        r = self.rides
        return {
            "rides": len(r),
            "fare_yen": sum(x.fare_yen for x in r),
            "concession_yen": sum(x.concession_yen for x in r),
            "vouchers": sum(x.vouchers for x in r),
            "voucher_yen": sum(x.voucher_yen for x in r),
            "paid_yen": sum(x.paid_yen for x in r),
            "reimbursed_yen": sum(x.reimbursed_yen for x in r),
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "month": self.month,
            "totals": self.totals(),
            "rides": [
                {**asdict(x), "service_date": x.service_date.isoformat(), "reimbursed_yen": x.reimbursed_yen}
                for x in self.rides
            ],
        }


CSV_COLUMNS = (
    "company_id",
    "service_date",
    "booking_id",
    "rider_id",
    "fare_yen",
    "concession",
    "concession_yen",
    "vouchers",
    "voucher_yen",
    "paid_yen",
    "reimbursed_yen",
)


def parse_month(text: str) -> tuple[date, date]:
    """'2026-11' -> (2026-11-01, 2026-11-30)."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise Invalid(
            f"month must be YYYY-MM, got {text[:20]!r}", "月は YYYY-MM の形で指定してください"
        ) from None
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


def monthly_report(
    repo: Repository,
    principal: Principal,
    month: str,
    companies: Mapping[str, str],
    company_id: str | None = None,
) -> list[CompanyMonth]:
    """One ``CompanyMonth`` per company (``companies``: id -> name) or only ``company_id``'s. A company
    key sees only its own company; asking for another is refused."""
    if principal.role == "company":
        if company_id not in (None, principal.company_id):
            raise Forbidden("a company key sees only its own report", "自社の報告のみ表示できます")
        company_id = principal.company_id
    elif principal.role != "operator":
        raise Forbidden("operators and companies only", "このキーでは利用できません")
    if company_id is not None and company_id not in companies:
        raise Invalid(f"no company {company_id[:40]}", f"事業者 {company_id[:40]} は登録されていません")
    first, last = parse_month(month)
    with repo.read() as tx:
        billed = bookings_between(tx, first, last, company_id)
    rides: dict[str, list[ReportRide]] = {c: [] for c in companies if company_id in (None, c)}
    for b in billed:
        q = b.fare
        if b.status != BookingStatus.DROPPED_OFF.value or q is None:
            continue
        rides.setdefault(b.company_id, []).append(
            ReportRide(
                service_date=b.service_date,
                booking_id=b.booking_id,
                rider_id=b.rider_id,
                fare_yen=q.fare_before_discounts_yen,
                concession=q.inputs.concession.value if q.inputs.concession and concession_yen(q) else "",
                concession_yen=concession_yen(q),
                vouchers=q.inputs.vouchers if voucher_yen(q) else 0,
                voucher_yen=voucher_yen(q),
                paid_yen=q.total_yen,
            )
        )
    return [
        CompanyMonth(
            c, companies.get(c, c), month, tuple(sorted(r, key=lambda x: (x.service_date, x.booking_id)))
        )
        for c, r in sorted(rides.items())
    ]


def _order(x: ReportRide) -> tuple[date, str]:
    return x.service_date, x.booking_id


def report_csv(reports: list[CompanyMonth]) -> str:
    """One line per ride, companies one after the other (UTF-8; yen as integers)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for rep in reports:
        for x in rep.rides:
            row = {**asdict(x), "company_id": rep.company_id, "reimbursed_yen": x.reimbursed_yen}
            w.writerow([row[c] for c in CSV_COLUMNS])
    return out.getvalue()
