"""Scenario sweeps as tasks on Dask distributed: a grid of fleet size x pickup window x max ride
time x sharing x speed noise x seeds, one simulated day per task.

A ``LocalCluster`` (one single-threaded worker process per core asked for) is started by default;
``address`` joins an existing scheduler instead (``dask scheduler`` / ``dask worker`` on other
machines, each with this package installed). The city is scattered to the workers once. Results
come back as the same summaries ``noriai sim run --json`` prints, with their grid parameters,
in grid order whatever order the tasks finish in.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.engine import City, simulate
from sim.kpis import summary
from sim.scenario import Scenario

AXES = ("vehicles", "pickup_window_s", "max_ride_factor", "shared", "speed_noise")


@dataclass(frozen=True, slots=True)
class GridPoint:
    index: int
    params: dict[str, Any]
    seed: int


def grid(axes: dict[str, Sequence[Any]], seeds: Sequence[int]) -> list[GridPoint]:
    """Every combination of the axes' values (only ``AXES``; an absent axis keeps the scenario's
    value), for every seed."""
    unknown = set(axes) - set(AXES)
    if unknown:
        raise ValueError(f"unknown sweep axes {sorted(unknown)}; use {', '.join(AXES)}")
    names = [a for a in AXES if axes.get(a)]
    points: list[GridPoint] = []
    for combo in itertools.product(*(axes[a] for a in names)):
        for seed in seeds:
            points.append(GridPoint(len(points), dict(zip(names, combo, strict=True)), seed))
    return points


def run_point(scenario_json: str, city: City, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One task: simulate the day and return its summary without the breakdowns (kept small)."""
    base = Scenario.model_validate_json(scenario_json)
    sc = base.with_overrides(
        vehicles=params.get("vehicles"),
        pickup_window_s=params.get("pickup_window_s"),
        max_ride_factor=params.get("max_ride_factor"),
        shared=params.get("shared"),
        speed_noise=params.get("speed_noise"),
    )
    out = summary(simulate(sc, city, seed=seed))
    out.pop("by", None)
    out["grid"] = dict(params)
    return out


def sweep(
    base: Scenario,
    city: City,
    points: Sequence[GridPoint],
    *,
    address: str | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run every grid point as a Dask task; returns (results in grid order, run facts)."""
    from dask.distributed import Client, LocalCluster, as_completed

    started = time.perf_counter()
    cluster = None
    if address:
        client = Client(address, timeout="20s")
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,
            silence_logs=40,
        )
        client = Client(cluster)
    try:
        n_workers = len(client.scheduler_info()["workers"])
        city_f = client.scatter(city, broadcast=True)
        text = base.model_dump_json()
        futures = {
            client.submit(
                run_point, text, city_f, p.params, p.seed, pure=False, key=f"sim-point-{p.index}"
            ): p
            for p in points
        }
        results: dict[int, dict[str, Any]] = {}
        for fut in as_completed(list(futures)):
            results[futures[fut].index] = fut.result()
            if progress is not None:
                progress(len(results), len(points))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    facts = {
        "engine": "dask.distributed",
        "scheduler": address or "LocalCluster",
        "workers": n_workers,
        "tasks": len(points),
        "wall_s": round(time.perf_counter() - started, 3),
    }
    return [results[p.index] for p in points], facts


def pareto(results: Sequence[dict[str, Any]]) -> list[bool]:
    """Which results no other result beats on all three: cost per rider (lower), on-time share
    (higher), CO2 saved (higher). Results that served nobody are never on the front."""

    def key(r: dict[str, Any]) -> tuple[float, float, float] | None:
        k = r["kpis"]
        if not k["served"] or k["cost_per_rider_yen"] is None:
            return None
        return (-float(k["cost_per_rider_yen"]), float(k["on_time_pct"]), float(k["co2_saved_kg"]))

    keys = [key(r) for r in results]
    out = []
    for i, a in enumerate(keys):
        if a is None:
            out.append(False)
            continue
        dominated = any(
            b is not None and j != i and all(x >= y for x, y in zip(b, a, strict=True)) and b != a
            for j, b in enumerate(keys)
        )
        out.append(not dominated)
    return out


def table_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per result: grid parameters, seed, the contract's KPIs, cost, Pareto flag."""
    front = pareto(results)
    rows = []
    for r, on_front in zip(results, front, strict=True):
        k = r["kpis"]
        row: dict[str, Any] = {**r["grid"], "seed": r["seed"], "vehicles_total": r["parameters"]["vehicles"]}
        for key in (
            "requests",
            "served",
            "served_pct",
            "on_time_pct",
            "mean_wait_s",
            "pooled_pct",
            "vehicle_km",
            "co2_kg",
            "co2_saved_kg",
            "revenue_yen",
            "cost_per_rider_yen",
        ):
            row[key] = k[key]
        row["pareto"] = on_front
        rows.append(row)
    return rows


def pareto_plot(results: Sequence[dict[str, Any]]) -> Any:
    """Cost per rider vs on-time share, coloured by CO2 saved; the Pareto front circled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    front = pareto(results)
    pts = [
        (r["kpis"]["cost_per_rider_yen"], r["kpis"]["on_time_pct"], r["kpis"]["co2_saved_kg"], f)
        for r, f in zip(results, front, strict=True)
        if r["kpis"]["cost_per_rider_yen"] is not None
    ]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if pts:
        xs, ys, cs, fs = zip(*pts, strict=True)
        sc = ax.scatter(xs, ys, c=cs, cmap="RdYlGn", s=40, edgecolors="none")
        fig.colorbar(sc, ax=ax, label="CO2 saved vs solo taxis (kg/day)")
        fx = [x for x, f in zip(xs, fs, strict=True) if f]
        fy = [y for y, f in zip(ys, fs, strict=True) if f]
        ax.scatter(fx, fy, s=140, facecolors="none", edgecolors="black", label="Pareto front")
        ax.legend(fontsize=8)
    ax.set_xlabel("cost per served rider (yen)")
    ax.set_ylabel("on time (%)")
    ax.set_title("Sweep: cost per rider vs on-time share vs CO2 saved")
    fig.tight_layout()
    return fig


def fleet_plot(results: Sequence[dict[str, Any]]) -> Any:
    """On-time share and CO2 saved against fleet size, one line per speed noise (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[float, dict[int, list[dict[str, Any]]]] = {}
    for r in results:
        noise = float(r["parameters"]["speed_noise"])
        groups.setdefault(noise, {}).setdefault(int(r["parameters"]["vehicles"]), []).append(r["kpis"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for noise in sorted(groups):
        fleet = sorted(groups[noise])
        on_time = [statistics.fmean(k["on_time_pct"] for k in groups[noise][v]) for v in fleet]
        served = [statistics.fmean(k["served_pct"] for k in groups[noise][v]) for v in fleet]
        co2 = [statistics.fmean(k["co2_saved_kg"] for k in groups[noise][v]) for v in fleet]
        a1.plot(fleet, on_time, "o-", label=f"on time, noise {noise:g}")
        a1.plot(fleet, served, "s--", alpha=0.6, label=f"served, noise {noise:g}")
        a2.plot(fleet, co2, "o-", label=f"noise {noise:g}")
    a1.set_xlabel("vehicles")
    a1.set_ylabel("%")
    a1.set_title("On-time and served share")
    a1.legend(fontsize=7)
    a2.axhline(0, color="black", lw=0.6)
    a2.set_xlabel("vehicles")
    a2.set_ylabel("kg CO2 / day")
    a2.set_title("CO2 saved vs every rider alone in a taxi")
    a2.legend(fontsize=7)
    fig.tight_layout()
    return fig
