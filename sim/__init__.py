"""The simulator: replay a day's demand through the real dispatch code on a simulated clock.

``load_scenario`` / ``demo_scenario`` (TOML) -> ``simulate(scenario, city, seed=...)`` -> ``DayRun``
-> ``summary(run)`` (the KPIs, the ``noriai sim run --json`` contract) and ``write_report``; sweeps
over a grid of scenarios run as Dask tasks (``sim.sweep``). See ARCHITECTURE.md ("The simulator").
"""

from sim.demand import DayDemand, TripRequest, replayed_demand, synthetic_demand
from sim.engine import City, DayRun, SimError, simulate
from sim.kpis import KPI_KEYS, day_kpis, kpis_csv, request_rows, rows_csv, summary
from sim.scenario import DEMO_SCENARIO, Scenario, ScenarioError, demo_scenario, load_scenario

__all__ = [
    "DEMO_SCENARIO",
    "KPI_KEYS",
    "City",
    "DayDemand",
    "DayRun",
    "Scenario",
    "ScenarioError",
    "SimError",
    "TripRequest",
    "day_kpis",
    "demo_scenario",
    "kpis_csv",
    "load_scenario",
    "replayed_demand",
    "request_rows",
    "rows_csv",
    "simulate",
    "summary",
    "synthetic_demand",
]
