"""The work behind ``noriai sim run`` and ``noriai sim sweep``: the demo city wired into ``sim``.

The simulator package cannot import the demo data (it sits below ``noriai``), so the composition
root builds the ``City`` (reference data and tariff) and hands it over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fares import load_tariff
from noriai.demo import TARIFF_PATH, reference_data
from sim import City, Scenario, ScenarioError, demo_scenario, load_scenario, request_rows, simulate, summary
from sim.kpis import kpis_csv, rows_csv

ProgressFn = Callable[[str, int, int], None]


class SimCliError(ValueError):
    pass


def demo_city() -> City:
    return City(reference_data(), load_tariff(TARIFF_PATH))


def scenario_from(path: str | None, demo: bool) -> Scenario:
    if (path is None) == (not demo):
        raise SimCliError("give exactly one of --scenario FILE and --demo")
    try:
        return demo_scenario() if path is None else load_scenario(path)
    except ScenarioError as exc:
        raise SimCliError(str(exc)) from None


def run_day(
    scenario: Scenario,
    *,
    seed: int | None,
    out: Path | None = None,
    report: bool = False,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Simulate one day; with ``out``, also write kpis.json, kpis.csv, requests.csv (and the HTML
    report with its plots when ``report``)."""
    try:
        run = simulate(scenario, demo_city(), seed=seed, progress=progress)
    except ScenarioError as exc:
        raise SimCliError(str(exc)) from None
    result = summary(run)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        rows = request_rows(run)
        (out / "kpis.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        (out / "kpis.csv").write_text(kpis_csv(result), encoding="utf-8")
        (out / "requests.csv").write_text(rows_csv(rows), encoding="utf-8")
        if report:
            from sim.report import write_report

            result["report"] = str(write_report(run, result, rows, out))
    return result


def parse_list(text: str | None, kind: Callable[[str], Any], name: str) -> list[Any]:
    if text is None or not text.strip():
        return []
    try:
        return [kind(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise SimCliError(f"{name}: expected a comma-separated list, {exc}") from None


def parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "yes", "on", "1"):
        return True
    if t in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def run_sweep(
    scenario: Scenario,
    axes: dict[str, Sequence[Any]],
    seeds: Sequence[int],
    *,
    address: str | None,
    workers: int,
    out: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from sim.sweep import fleet_plot, grid, pareto_plot, sweep, table_rows

    try:
        points = grid(axes, seeds)
    except ValueError as exc:
        raise SimCliError(str(exc)) from None
    results, facts = sweep(scenario, demo_city(), points, address=address, workers=workers, progress=progress)
    if out is not None:
        import csv

        out.mkdir(parents=True, exist_ok=True)
        rows = table_rows(results)
        with (out / "sweep.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["empty"])
            w.writeheader()
            w.writerows(rows)
        (out / "sweep.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        pareto_plot(results).savefig(out / "pareto.png", dpi=110)
        names = ["sweep.csv", "sweep.json", "pareto.png"]
        if len({r["parameters"]["vehicles"] for r in results}) > 1:
            fleet_plot(results).savefig(out / "fleet.png", dpi=110)
            names.append("fleet.png")
        facts["outputs"] = [str(out / n) for n in names]
    return results, facts
