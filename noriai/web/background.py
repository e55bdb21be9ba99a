"""The app's timed work and its lifecycle: what runs under the runner lease (re-optimiser, recurring
materialiser, and the jobs the features bring: webhook deliverer, flight status, retention), what runs
in every process (the feed pollers), the solver warm-up, and the state of both for ``/health``."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from dispatch.service import DispatchService
from noriai.jobs import BackgroundJobs, PeriodicJob, materialiser_job, reoptimiser_job
from noriai.lease import Job, Lease, LeasedRunner, LocalLease, RedisLease
from noriai.settings import Settings
from solver import warm_up as warm_up_solver

log = logging.getLogger("noriai.web")

__all__ = ["process_health", "start_background", "start_feed_pollers"]


def start_background(
    app: FastAPI, settings: Settings, service: DispatchService, others: Sequence[Job]
) -> None:
    """The timed work (re-optimiser, recurring materialiser, and ``others`` such as the webhook
    deliverer) runs in the process that holds the runner lease: Redis when configured (several
    processes, one runner), else this process alone. An ``api`` process never runs it."""
    jobs = BackgroundJobs()
    if settings.reoptimise_interval_s > 0:
        jobs.add(
            reoptimiser_job(service, settings.reoptimise_interval_s, settings.reoptimise_time_limit_s, None)
        )
    if settings.materialise_interval_s > 0:
        jobs.add(materialiser_job(service, settings.materialise_interval_s, settings.materialise_days_ahead))
    app.state.jobs = jobs
    app.state.process_role = settings.role
    if settings.role == "api":
        return
    lease: Lease = (
        RedisLease(
            settings.redis_url,
            # one lease per deployment, and a deployment is its database: two cities (or test apps)
            # sharing one Redis never wait on each other's runner
            "runner:" + hashlib.sha256(settings.database_url.encode()).hexdigest()[:16],
            ttl_s=settings.runner_lease_ttl_s,
            timeout_s=settings.redis_timeout_s,
        )
        if settings.redis_url
        else LocalLease()
    )
    rest = []
    for job in others:  # timed jobs show in /health with the others; the webhook deliverer is its own
        if isinstance(job, PeriodicJob):
            jobs.add(job)
        else:
            rest.append(job)
    runner = LeasedRunner(lease, [jobs, *rest], ttl_s=settings.runner_lease_ttl_s)
    app.state.runner = runner
    if settings.reoptimise_interval_s > 0:
        # every candidate loads the compiled search at start (~10 s the first time on a machine, then
        # under 1 s), so a standby that takes over re-optimises at once instead of compiling first
        app.router.add_event_handler(
            "startup", lambda: threading.Thread(target=_warm_up, name="solver-warm-up", daemon=True).start()
        )
    app.router.add_event_handler("startup", runner.start)
    app.router.add_event_handler("shutdown", runner.stop)


def start_feed_pollers(app: FastAPI, pollers: Sequence[PeriodicJob]) -> None:
    """The feed pollers run in every process that serves the planner (each plans on its own realtime
    snapshot and bike-share system), whatever its role: started with the app, stopped with it."""
    if not pollers:
        return
    feeds = BackgroundJobs(pollers)
    app.state.feed_jobs = feeds
    app.router.add_event_handler("startup", feeds.start)
    app.router.add_event_handler("shutdown", feeds.stop)


def _warm_up() -> None:
    try:
        warm_up_solver()
    except Exception:
        log.exception("solver warm-up failed; the first re-optimisation will load it")


def process_health(app: FastAPI) -> dict[str, Any]:
    """Which role this process plays (api | runner | all), whether it holds the runner lease now, and
    its background jobs, for /health."""
    runner: LeasedRunner | None = getattr(app.state, "runner", None)
    jobs: BackgroundJobs | None = getattr(app.state, "jobs", None)
    state = runner.state() if runner is not None else None
    return {
        "role": getattr(app.state, "process_role", "all"),
        "pid": os.getpid(),
        "runner": (
            {"role": state.role, "holder": state.holder, "token": state.token, "leader": state.leader}
            if state is not None
            else {"role": "none"}
        ),
        "jobs": jobs.state() if jobs is not None and state is not None and state.role == "runner" else {},
    }
