"""The planner's page (/planning): a city officer runs the simulator with the values they would change
(fleet size, pickup window, maximum ride time, sharing, demand, road noise), watches its progress and
reads the report. Operator key only.

One simulation at a time runs on a background thread (a day of a few hundred requests takes about a
minute); the page polls ``GET /api/v1/planning/runs/{id}``. The simulator has its own temporary
database: nothing a simulation does touches the live service's bookings.

(No ``from __future__ import annotations``: FastAPI must see the ``Op`` dependency alias defined
inside ``planning_router``.)
"""

import logging
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from dispatch.domain import Principal
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.service import DispatchService
from sim import City, demo_scenario, request_rows, simulate, summary
from sim.report import write_report

log = logging.getLogger("noriai.planning")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
MAX_RUNS_KEPT = 20


class PlanningRunIn(BaseModel):
    """What the sliders set; the rest comes from the demo scenario."""

    model_config = ConfigDict(extra="forbid")
    vehicles: int = Field(default=8, ge=1, le=40)
    requests: int = Field(default=150, ge=10, le=600)
    pickup_window_s: int = Field(default=900, ge=300, le=3600)
    max_ride_factor: float = Field(default=1.5, ge=1.0, le=3.0)
    shared: bool = True
    speed_noise: float = Field(default=0.15, ge=0.0, le=1.0)
    seed: int = Field(default=1, ge=0, le=1_000_000)


class _Run:
    def __init__(self, run_id: str, params: PlanningRunIn) -> None:
        self.run_id, self.params = run_id, params
        self.status = "running"
        self.done, self.total = 0, 0
        self.result: dict[str, Any] | None = None
        self.report_html: str | None = None
        self.error: str | None = None

    def view(self, with_report: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "status": self.status,
            "progress": {"done": self.done, "total": self.total},
            "parameters": self.params.model_dump(),
        }
        if self.result is not None:
            out["kpis"] = self.result["kpis"]
            out["audit_clean"] = self.result["audit"]["clean"]
            out["by_district"] = self.result["by"]["district"]
        if self.error:
            out["error"] = self.error
        if with_report and self.report_html is not None:
            out["report_html"] = self.report_html
        return out


def planning_router(svc: DispatchService, any_key: Callable[..., Principal]) -> APIRouter:
    """``any_key``: the app's key dependency (noriai.web.auth.Auth.any_key: header, cache, roles)."""
    router = APIRouter()
    runs: dict[str, _Run] = {}
    lock = threading.Lock()

    def operator(p: Annotated[Principal, Depends(any_key)]) -> Principal:
        if p.role != "operator":
            raise Forbidden(
                "planning needs an operator key", "運行計画の検討にはオペレーターのキーが必要です"
            )
        return p

    Op = Annotated[Principal, Depends(operator)]

    def work(run: _Run) -> None:
        sc = demo_scenario().with_overrides(
            requests=run.params.requests,
            vehicles=run.params.vehicles,
            pickup_window_s=run.params.pickup_window_s,
            max_ride_factor=run.params.max_ride_factor,
            shared=run.params.shared,
            speed_noise=run.params.speed_noise,
        )

        def progress(_what: str, done: int, total: int) -> None:
            run.done, run.total = done, total

        try:
            day = simulate(sc, City(svc.reference, svc.tariff), seed=run.params.seed, progress=progress)
            result = summary(day)
            with tempfile.TemporaryDirectory(prefix="noriai-planning-") as folder:
                page = write_report(day, result, request_rows(day), Path(folder))
                run.report_html = page.read_text(encoding="utf-8")
            run.result = result
            run.status = "done"
        except Exception as exc:  # a failed run is reported on the page, never a 500 elsewhere
            log.exception("planning run %s failed", run.run_id)
            run.error, run.status = f"{type(exc).__name__}: {exc}"[:300], "failed"

    @router.get("/planning", response_class=HTMLResponse, include_in_schema=False)
    def planning_page(request: Request) -> HTMLResponse:
        d = PlanningRunIn()
        return TEMPLATES.TemplateResponse(request, "planning.html", {"role": "operator", "defaults": d})

    @router.post("/api/v1/planning/runs", tags=["planning"], status_code=202)
    def start_run(p: Op, body: PlanningRunIn) -> dict[str, Any]:
        """Start a simulated day with these values (one at a time; 409 while one is running)."""
        with lock:
            if any(r.status == "running" for r in runs.values()):
                raise Conflict(
                    "a simulation is already running; wait for it to finish",
                    "シミュレーションを実行中です。終わるまでお待ちください",
                    code="busy",
                )
            run = _Run(uuid.uuid4().hex[:12], body)
            runs[run.run_id] = run
            for old in list(runs)[:-MAX_RUNS_KEPT]:
                runs.pop(old, None)
        threading.Thread(target=work, args=(run,), name=f"planning-{run.run_id}", daemon=True).start()
        log.info("planning run %s started by %s", run.run_id, p.actor)
        return run.view(with_report=False)

    @router.get("/api/v1/planning/runs/{run_id}", tags=["planning"])
    def get_run(p: Op, run_id: str, report: bool = False) -> dict[str, Any]:
        """Progress, then the KPIs; ``report=true`` adds the HTML report once done."""
        run = runs.get(run_id)
        if run is None:
            raise NotFound(f"no planning run {run_id}", f"実行 {run_id} が見つかりません")
        return run.view(with_report=report)

    return router
