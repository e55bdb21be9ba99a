"""The day's report: one self-contained HTML file (plots embedded as PNG) and the plots as files.

Plots (matplotlib, Agg backend, no display): people aboard over the day, the wait distribution,
each vehicle's timeline (driving empty, driving with riders, at a stop) and a map of demand by H3
cell (origins of the day's requests, resolution 8).
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h3
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from geo import cell_of
from sim.engine import DayRun

PLOTS = ("occupancy", "waits", "timelines", "demand_map")


def _hours(ax: Any, lo_s: int, hi_s: int) -> None:
    ticks = list(range(lo_s // 3600, hi_s // 3600 + 2))
    ax.set_xticks([h * 3600 for h in ticks])
    ax.set_xticklabels([f"{h}:00" for h in ticks], fontsize=7)
    ax.set_xlim(lo_s, hi_s)


def occupancy_plot(run: DayRun) -> Figure:
    """People aboard and vehicles driving, minute by minute, across the fleet."""
    day_legs = [lg for lg in run.legs if lg.end_s > 0]
    lo = min((lg.start_s for lg in day_legs), default=6 * 3600) // 3600 * 3600
    hi = max((lg.end_s for lg in day_legs), default=22 * 3600)
    minutes = list(range(lo, hi + 60, 60))
    aboard = [0] * len(minutes)
    driving = [0] * len(minutes)
    for lg in day_legs:
        a = max(0, (lg.start_s - lo) // 60)
        b = min(len(minutes), (lg.end_s - lo) // 60 + 1)
        for i in range(a, b):
            aboard[i] += lg.seats_aboard
            driving[i] += 1
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.fill_between(minutes, aboard, step="post", alpha=0.5, label="people aboard")
    ax.step(minutes, driving, where="post", color="black", lw=0.8, label="vehicles driving")
    _hours(ax, lo, hi)
    ax.set_ylabel("count")
    ax.set_title("Occupancy over the day")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def wait_plot(rows: Sequence[dict[str, Any]]) -> Figure:
    """Minutes from the opening of the promised window to the pickup, served riders."""
    waits = [r["wait_s"] / 60 for r in rows if r["outcome"] == "served"]
    late = [r["late_s"] / 60 for r in rows if r["outcome"] == "served" and r["late_s"]]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = list(range(0, max(30, int(max(waits, default=0)) + 2), 1))
    ax.hist(waits, bins=bins, color="#4878a8", label=f"wait (n={len(waits)})")
    if late:
        ax.hist(late, bins=bins, color="#c0392b", alpha=0.7, label=f"late (n={len(late)})")
    ax.set_xlabel("minutes after the window opens")
    ax.set_ylabel("riders")
    ax.set_title("Wait distribution")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def timeline_plot(run: DayRun) -> Figure:
    """Each vehicle's day: grey = driving empty, blue = driving with riders, orange = at a stop."""
    vids = [v.vehicle_id for v in run.vehicles]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(vids) + 1.2))
    lo, hi = 24 * 3600, 0
    for i, vid in enumerate(vids):
        empty = [
            (lg.start_s, lg.end_s - lg.start_s)
            for lg in run.legs
            if lg.vehicle_id == vid and not lg.seats_aboard
        ]
        full = [
            (lg.start_s, lg.end_s - lg.start_s) for lg in run.legs if lg.vehicle_id == vid and lg.seats_aboard
        ]
        stops = [(s.arrival_s, max(1, s.end_s - s.arrival_s)) for s in run.stops if s.vehicle_id == vid]
        for spans, colour in ((empty, "#b0b0b0"), (full, "#2e6da4"), (stops, "#e69f00")):
            if spans:
                ax.broken_barh(spans, (i - 0.35, 0.7), facecolors=colour)
                lo = min(lo, min(a for a, _ in spans))
                hi = max(hi, max(a + d for a, d in spans))
    ax.set_yticks(range(len(vids)))
    ax.set_yticklabels(vids, fontsize=7)
    if hi > lo:
        _hours(ax, lo // 3600 * 3600, hi)
    ax.set_title("Vehicle timelines (grey empty, blue with riders, orange at a stop)")
    fig.tight_layout()
    return fig


def demand_map(run: DayRun) -> Figure:
    """Origins of the day's requests per H3 cell (resolution 8), depots as black squares."""
    counts = Counter(cell_of(r.origin, 8) for r in run.demand.requests)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    top = max(counts.values(), default=1)
    cmap = plt.get_cmap("viridis")
    for cell, n in sorted(counts.items()):
        ring = [(lon, lat) for lat, lon in h3.cell_to_boundary(cell)]
        ax.add_patch(Polygon(ring, closed=True, facecolor=cmap(n / top), edgecolor="white", lw=0.3))
    for c in run.companies:
        ax.plot(c.depot.lon, c.depot.lat, "ks", ms=5)
    dests = {(r.destination.lon, r.destination.lat) for r in run.demand.requests if r.destination_place_id}
    if dests:
        xs, ys = zip(*sorted(dests), strict=True)
        ax.plot(xs, ys, "r^", ms=4, label="places")
    ax.autoscale_view()
    ax.set_aspect(1.2)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"Demand by H3 cell (max {top} requests per cell)")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=Normalize(0, top))
    fig.colorbar(sm, ax=ax, shrink=0.7, label="requests starting in the cell")
    fig.tight_layout()
    return fig


def figures(run: DayRun, rows: Sequence[dict[str, Any]]) -> dict[str, Figure]:
    return {
        "occupancy": occupancy_plot(run),
        "waits": wait_plot(rows),
        "timelines": timeline_plot(run),
        "demand_map": demand_map(run),
    }


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _table(title: str, groups: dict[str, dict[str, Any]], keys: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join(
        f"<tr><th>{html.escape(g)}</th>"
        + "".join(f"<td>{html.escape(str(v.get(k, '')))}</td>" for k in keys)
        + "</tr>"
        for g, v in groups.items()
    )
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th>{head}</tr>{body}</table>"


def write_report(run: DayRun, result: dict[str, Any], rows: Sequence[dict[str, Any]], out: Path) -> Path:
    """Write ``report.html`` and one PNG per plot into ``out``; returns the HTML path."""
    out.mkdir(parents=True, exist_ok=True)
    images = {}
    for name, fig in figures(run, rows).items():
        data = _png(fig)
        (out / f"{name}.png").write_bytes(data)
        images[name] = base64.b64encode(data).decode("ascii")
    k = result["kpis"]
    kpi_rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(str(v))}</td></tr>"
        for key, v in k.items()
        if not isinstance(v, dict)
    )
    refused = "".join(f"<li>{html.escape(reason)}: {n}</li>" for reason, n in k["refused_by_reason"].items())
    rider_keys = (
        "requests",
        "served",
        "served_pct",
        "on_time_pct",
        "mean_wait_s",
        "mean_ride_s",
        "pooled_pct",
    )
    params = result["parameters"]
    audit = "clean / 異常なし" if result["audit"]["clean"] else "; ".join(result["audit"]["violations"])
    doc = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Noriai simulation: {html.escape(result["scenario"])} {html.escape(result["service_date"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem; max-width: 1000px; }}
table {{ border-collapse: collapse; font-size: 0.85rem; margin-bottom: 1rem;
        display: block; overflow-x: auto; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
img {{ max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }}
</style></head><body>
<h1>シミュレーション結果 / Simulation report</h1>
<p>{html.escape(result["scenario"])}, {html.escape(result["service_date"])}, seed {result["seed"]};
vehicles {params["vehicles"]}, requests {params["requests"]}, speed noise {params["speed_noise"]},
window {params["pickup_window_s"]} s, max ride x{params["max_ride_factor"]}, shared {params["shared"]}.
Day audit: {html.escape(audit)}. Simulated in {result["timing"]["wall_s"]} s.</p>
<h2>KPIs</h2><table>{kpi_rows}</table>
<p>Not served, by reason:</p><ul>{refused}</ul>
<p>CO2: {html.escape(result["emission_source"])}</p>
<h2>Occupancy</h2><img alt="occupancy over the day" src="data:image/png;base64,{images["occupancy"]}">
<h2>Waits</h2><img alt="wait distribution" src="data:image/png;base64,{images["waits"]}">
<h2>Vehicles</h2><img alt="vehicle timelines" src="data:image/png;base64,{images["timelines"]}">
<h2>Demand</h2><img alt="demand by H3 cell" src="data:image/png;base64,{images["demand_map"]}">
{_table("By district / 地区別", result["by"]["district"], rider_keys)}
{_table("By hour / 時間帯別", result["by"]["hour"], rider_keys)}
{_table("By company / 事業者別", result["by"]["company"], (*rider_keys, "vehicle_km", "co2_kg", "cost_yen"))}
</body></html>
"""
    path = out / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path
