"""Planning KPIs from a simulated day: per day, district, hour and company; JSON and CSV.

Definitions (all from what the simulated vehicles did, not from the plans):

- ``served``: dropped off; every other request is ``refused`` with one reason (the service's
  rejection reason, ``rider_cancelled``, ``no_show``, ...), so ``served + refused = requests``.
- on time: picked up inside the promised window and, for arrive-by trips, dropped off by the
  promised time; ``on_time_pct`` is over served riders.
- ``wait``: pickup time minus the opening of the promised window (the rider is ready by then).
- ``ride``: drop-off minus pickup (boarding included); ``detour``: ride / direct model time.
- ``pooled``: someone else was aboard during part of the ride.
- ``vehicle_km``: every driven leg, partial legs and the drive back to the depot included;
  ``empty_km``: legs with nobody aboard; ``occupancy``: person-km / vehicle-km.
- ``solo_vehicle_km``: every served rider alone in a taxi, direct (no empty km: a generous baseline);
  CO2 from the scenario's g-CO2/km per vehicle kind; ``co2_saved_kg`` = solo - actual.
- ``cost_yen``: the scenario's price per vehicle-hour of shift; ``subsidy_yen`` = cost - fares.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from dispatch.booking import Booking, BookingStatus, TimeMode
from sim.engine import DayRun, StopRecord

KPI_KEYS = (
    "requests",
    "served",
    "served_pct",
    "on_time_pct",
    "mean_wait_s",
    "mean_ride_s",
    "mean_detour",
    "pooled_pct",
    "vehicle_km",
    "solo_vehicle_km",
    "co2_kg",
    "co2_saved_kg",
    "revenue_yen",
)
ROW_FIELDS = (
    "request_id",
    "district",
    "purpose",
    "hour",
    "lead",
    "mode",
    "outcome",
    "reason",
    "vehicle_id",
    "company_id",
    "promised_from_s",
    "promised_to_s",
    "arrive_by_s",
    "pickup_s",
    "dropoff_s",
    "wait_s",
    "late_s",
    "ride_s",
    "direct_s",
    "direct_m",
    "detour",
    "on_time",
    "pooled",
    "fare_yen",
    "discount_yen",
)


def _reason(b: Booking | None, refusal: str | None) -> str:
    if b is None:
        return refusal or "no_booking"
    st = b.state
    if st is BookingStatus.REJECTED:
        return (b.reason or "rejected").split(":")[0].strip() or "rejected"
    if st is BookingStatus.CANCELLED:
        return b.reason or "cancelled"
    if st is BookingStatus.NO_SHOW:
        return "no_show"
    if st is BookingStatus.CONFIRMED:
        return "unassigned"
    if st is BookingStatus.QUOTED:
        return "not_confirmed"
    return f"unfinished_{st.value}"


def request_rows(run: DayRun) -> list[dict[str, Any]]:
    """One row per request: what was asked, promised and done."""
    pick: dict[str, StopRecord] = {}
    drop: dict[str, StopRecord] = {}
    for s in run.stops:
        if s.kind == "pickup":
            pick[s.booking_id] = s
        elif s.kind == "dropoff":
            drop[s.booking_id] = s
    intervals: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for bid, p in pick.items():
        d = drop.get(bid)
        if d is not None:
            intervals[p.vehicle_id].append((p.start_s, d.start_s, bid))
    pooled: set[str] = set()
    for ivs in intervals.values():
        ivs.sort()
        for i, (a0, a1, ab) in enumerate(ivs):
            for b0, b1, bb in ivs[i + 1 :]:
                if b0 >= a1:
                    break
                if min(a1, b1) > max(a0, b0):
                    pooled.update((ab, bb))
    rows = []
    for r in run.demand.requests:
        b = run.bookings.get(r.request_id)
        direct_s, direct_m = run.direct[r.request_id]
        served = b is not None and b.state is BookingStatus.DROPPED_OFF
        row: dict[str, Any] = dict.fromkeys(ROW_FIELDS)
        row.update(
            request_id=r.request_id,
            district=r.district,
            purpose=r.purpose,
            hour=r.time_s // 3600,
            lead=r.lead,
            mode=r.mode.value,
            outcome="served" if served else "refused",
            reason=None if served else _reason(b, run.refusals.get(r.request_id)),
            direct_s=direct_s,
            direct_m=direct_m,
        )
        if b is not None:
            row.update(
                vehicle_id=b.vehicle_id,
                company_id=b.company_id,
                promised_from_s=b.promised_pickup_from_s,
                promised_to_s=b.promised_pickup_to_s,
                arrive_by_s=b.promised_arrival_by_s,
            )
        if served and b is not None:
            if b.booking_id not in pick or b.booking_id not in drop:
                raise AssertionError(f"{b.booking_id} was dropped off but the simulation saw no stop")
            p, d = pick[b.booking_id], drop[b.booking_id]
            opens = b.promised_pickup_from_s or p.start_s
            closes = b.promised_pickup_to_s or p.start_s
            on_time = opens <= p.start_s <= closes and (
                b.time_mode != TimeMode.ARRIVE_BY.value
                or b.promised_arrival_by_s is None
                or d.start_s <= b.promised_arrival_by_s
            )
            ride = d.start_s - p.start_s
            before_discounts = b.fare.fare_before_discounts_yen if b.fare else (b.fare_yen or 0)
            row.update(
                pickup_s=p.start_s,
                dropoff_s=d.start_s,
                wait_s=p.start_s - opens,
                late_s=max(0, p.start_s - closes)
                + (max(0, d.start_s - b.promised_arrival_by_s) if b.promised_arrival_by_s else 0),
                ride_s=ride,
                detour=round(ride / direct_s, 4) if direct_s else None,
                on_time=on_time,
                pooled=b.booking_id in pooled,
                fare_yen=b.fare_yen or 0,
                discount_yen=before_discounts - (b.fare_yen or 0),
            )
        rows.append(row)
    return rows


def _mean(xs: Sequence[float]) -> float:
    return round(sum(xs) / len(xs), 3) if xs else 0.0


def _pct(n: int, d: int) -> float:
    return round(100.0 * n / d, 2) if d else 0.0


def rider_kpis(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    served = [r for r in rows if r["outcome"] == "served"]
    refused: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["outcome"] != "served":
            refused[r["reason"]] += 1
    waits = sorted(r["wait_s"] for r in served)
    return {
        "requests": len(rows),
        "quoted": sum(1 for r in rows if r["promised_from_s"] is not None or r["outcome"] == "served"),
        "served": len(served),
        "refused": sum(refused.values()),
        "refused_by_reason": dict(sorted(refused.items())),
        "served_pct": _pct(len(served), len(rows)),
        "on_time_pct": _pct(sum(1 for r in served if r["on_time"]), len(served)),
        "mean_wait_s": _mean(waits),
        "p90_wait_s": waits[int(0.9 * (len(waits) - 1))] if waits else 0,
        "mean_late_s": _mean([r["late_s"] for r in served]),
        "mean_ride_s": _mean([r["ride_s"] for r in served]),
        "mean_detour": _mean([r["detour"] for r in served if r["detour"] is not None]),
        "pooled_pct": _pct(sum(1 for r in served if r["pooled"]), len(served)),
        "revenue_yen": sum(int(r["fare_yen"]) for r in served),
        "discount_yen": sum(int(r["discount_yen"]) for r in served),
        "solo_vehicle_km": round(sum(r["direct_m"] for r in served) / 1000.0, 3),
    }


def fleet_kpis(run: DayRun, vehicle_ids: Iterable[str] | None = None) -> dict[str, Any]:
    ids = set(vehicle_ids) if vehicle_ids is not None else {v.vehicle_id for v in run.vehicles}
    kind = {v.vehicle_id: v.kind.value for v in run.vehicles}
    legs = [lg for lg in run.legs if lg.vehicle_id in ids]
    factors = run.scenario.emissions.g_co2_per_km
    metres = sum(lg.distance_m for lg in legs)
    hours = sum((v.shift.end_s - v.shift.start_s) / 3600.0 for v in run.vehicles if v.vehicle_id in ids)
    price = run.scenario.costs.vehicle_hour_yen
    cost = sum(
        round((v.shift.end_s - v.shift.start_s) / 3600.0 * price.get(v.kind.value, 0))
        for v in run.vehicles
        if v.vehicle_id in ids
    )
    return {
        "vehicles": len(ids),
        "vehicle_km": round(metres / 1000.0, 3),
        "empty_km": round(sum(lg.distance_m for lg in legs if lg.seats_aboard == 0) / 1000.0, 3),
        "mean_occupancy": round(sum(lg.distance_m * lg.seats_aboard for lg in legs) / metres, 3)
        if metres
        else 0.0,
        "vehicle_hours": round(hours, 2),
        "driving_hours": round(sum(lg.end_s - lg.start_s for lg in legs) / 3600.0, 2),
        "co2_kg": round(sum(lg.distance_m * factors[kind[lg.vehicle_id]] for lg in legs) / 1e6, 3),
        "cost_yen": int(cost),
    }


def day_kpis(run: DayRun, rows: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    rows = request_rows(run) if rows is None else rows
    out = rider_kpis(rows)
    fleet = fleet_kpis(run)
    out.update(fleet)
    solo_factor = run.scenario.emissions.g_co2_per_km[run.scenario.emissions.solo_taxi_kind]
    co2_solo = out["solo_vehicle_km"] * solo_factor / 1000.0
    out["co2_solo_kg"] = round(co2_solo, 3)
    out["co2_saved_kg"] = round(co2_solo - out["co2_kg"], 3)
    out["riders_per_vehicle_hour"] = (
        round(out["served"] / out["vehicle_hours"], 3) if out["vehicle_hours"] else 0.0
    )
    out["subsidy_yen"] = out["cost_yen"] - out["revenue_yen"]
    out["cost_per_rider_yen"] = round(out["cost_yen"] / out["served"]) if out["served"] else None
    out["subsidy_per_rider_yen"] = round(out["subsidy_yen"] / out["served"]) if out["served"] else None
    return out


def breakdowns(run: DayRun, rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Rider KPIs per district and per requested hour; rider and fleet KPIs per company."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for key in ("district", "hour"):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[str(r[key])].append(r)
        out[key] = {k: rider_kpis(v) for k, v in sorted(groups.items(), key=lambda kv: (len(kv[0]), kv[0]))}
    companies: dict[str, dict[str, Any]] = {}
    for c in run.companies:
        served = [r for r in rows if r["company_id"] == c.company_id]
        k = rider_kpis(served)
        k.update(fleet_kpis(run, [v.vehicle_id for v in c.vehicles]))
        companies[c.company_id] = k
    out["company"] = companies
    return out


def summary(run: DayRun) -> dict[str, Any]:
    """The contract's JSON object: ``kpis`` (day), breakdowns, the run's parameters and health."""
    rows = request_rows(run)
    t = run.timings
    sc = run.scenario
    return {
        "scenario": sc.scenario.name,
        "service_date": run.service_date.isoformat(),
        "seed": run.seed,
        "parameters": {
            "requests": sc.demand.requests if sc.demand.kind == "synthetic" else len(run.demand.requests),
            "demand": sc.demand.kind,
            "vehicles": len(run.vehicles),
            "speed_noise": sc.road.speed_sigma,
            "pickup_window_s": sc.policy.pickup_window_s,
            "max_ride_factor": sc.policy.max_ride_factor,
            "shared": sc.policy.shared,
            "reoptimise_interval_s": sc.policy.reoptimise_interval_s,
            "reoptimise_iterations": sc.policy.reoptimise_iterations,
        },
        "kpis": day_kpis(run, rows),
        "by": breakdowns(run, rows),
        "audit": {"clean": not run.audit, "violations": run.audit[:20]},
        "incidents": run.incidents[:20],
        "reoptimisations": {
            "runs": t.reoptimisations,
            "by_status": _count(r["status"] for r in run.reoptimisations),
            "moved": sum(int(r["moved"]) for r in run.reoptimisations),
        },
        "timing": {
            "wall_s": round(run.wall_s, 3),
            "quote_s": round(t.quote_s, 3),
            "confirm_s": round(t.confirm_s, 3),
            "reoptimise_s": round(t.reoptimise_s, 3),
            "driver_events_s": round(t.driver_events_s, 3),
            "cancel_s": round(t.cancel_s, 3),
            "quotes": t.quotes,
            "driver_events": t.driver_events,
        },
        "emission_source": sc.emissions.source,
    }


def _count(xs: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for x in xs:
        out[x] += 1
    return dict(sorted(out.items()))


def rows_csv(rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(ROW_FIELDS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def kpis_csv(result: dict[str, Any]) -> str:
    """The day's KPIs and each breakdown as one long table: level, key, kpi, value."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["level", "key", "kpi", "value"])
    for k, v in result["kpis"].items():
        if not isinstance(v, dict):
            w.writerow(["day", "", k, v])
    for level, groups in result["by"].items():
        for key, kp in groups.items():
            for k, v in kp.items():
                if not isinstance(v, dict):
                    w.writerow([level, key, k, v])
    return buf.getvalue()
