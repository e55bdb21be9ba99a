"""Background jobs: work that runs on a timer, as ``PeriodicJob``s (a daemon thread calling one
function every ``interval_s``; a failing round is logged and the next one runs as planned), composed
in ``BackgroundJobs``. Jobs can be started again after a stop (a new lease).

Two kinds, composed by ``noriai.web.background``:

- In exactly one process of a deployment: the re-optimiser, the recurring-booking materialiser, the
  flight-status poll and the retention job. The ``LeasedRunner`` (noriai/lease.py) starts them while
  its process holds the runner lease and stops them when the lease is lost, so with several API
  workers and runner candidates they never run twice at once.
- In every process that serves the trip planner: the feed pollers (GTFS-RT ``realtime_poller_job``,
  GBFS ``gbfs_poller_job``), read-only and bounded by each feed's own TTL and backoff; each process
  plans on its own realtime snapshot and bike-share system.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bikeshare import GbfsPoller
from bus_location.poller import RealtimePoller
from dispatch.airport import parse_flight_status
from dispatch.airport_booking import AirportBookings
from dispatch.service import DispatchService

log = logging.getLogger("noriai.jobs")


@dataclass
class JobStats:
    runs: int = 0
    failures: int = 0
    last_run_at: str | None = None
    last_duration_s: float | None = None
    last_result: Any = None


@dataclass
class PeriodicJob:
    """Calls ``work`` every ``interval_s`` on its own daemon thread, after an optional ``warm_up``."""

    name: str
    interval_s: float
    work: Callable[[], Any]
    warm_up: Callable[[], None] | None = None
    first_delay_s: float | None = None  # default: one interval
    stats: JobStats = field(default_factory=JobStats)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()  # a fresh event: a job stopped on a lost lease can start again
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def run_once(self) -> Any:
        t = time.monotonic()
        try:
            result = self.work()
        except Exception:
            self.stats.failures += 1
            log.exception("background job %s failed", self.name)
            result = None
        self.stats.runs += 1
        self.stats.last_run_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.stats.last_duration_s = round(time.monotonic() - t, 3)
        self.stats.last_result = result
        return result

    def _run(self, stop: threading.Event) -> None:
        if self.warm_up is not None:
            try:
                self.warm_up()
            except Exception:
                log.exception("warm-up of %s failed; its first round will pay for it", self.name)
        delay = self.interval_s if self.first_delay_s is None else self.first_delay_s
        while not stop.wait(delay):
            self.run_once()
            delay = self.interval_s


class BackgroundJobs:
    """The deployment's timed work, started and stopped together."""

    def __init__(self, jobs: Sequence[PeriodicJob] = ()) -> None:
        self.jobs = list(jobs)

    def add(self, job: PeriodicJob) -> None:
        self.jobs.append(job)

    def start(self) -> None:
        for job in self.jobs:
            job.start()

    def stop(self) -> None:
        for job in self.jobs:
            job.stop()

    def state(self) -> dict[str, Any]:
        return {
            j.name: {
                "running": j.running,
                "interval_s": j.interval_s,
                "runs": j.stats.runs,
                "failures": j.stats.failures,
                "last_run_at": j.stats.last_run_at,
                "last_duration_s": j.stats.last_duration_s,
            }
            for j in self.jobs
        }


def reoptimiser_job(
    service: DispatchService, interval_s: float, time_limit_s: float, warm_up: Callable[[], None] | None
) -> PeriodicJob:
    """Re-optimise today's and tomorrow's plans (advance bookings are planned the day before).
    Bookings never wait on it: the solve runs outside any transaction and commits only if no plan
    changed meanwhile."""

    def work() -> dict[str, Any]:
        today = service.now().date()
        return {
            d.isoformat(): service.reoptimise_day(d, time_limit_s=time_limit_s).get("status")
            for d in (today, today + timedelta(days=1))
        }

    # after a start or a takeover the plans may have waited a whole interval already: begin soon
    return PeriodicJob("reoptimiser", interval_s, work, warm_up=warm_up, first_delay_s=min(interval_s, 5.0))


def materialiser_job(service: DispatchService, interval_s: float, days_ahead: int) -> PeriodicJob:
    """Book the recurring rides of the coming days (idempotent: a rule makes one booking a day), so
    next Tuesday's dialysis ride is on the plan without anyone asking for it."""

    def work() -> int:
        today = service.now().date()
        made = 0
        for k in range(days_ahead + 1):
            made += len(service.materialise(today + timedelta(days=k)))
        return made

    return PeriodicJob("recurring-materialiser", interval_s, work, first_delay_s=5.0)


def flight_status_job(air: AirportBookings, source: str, interval_s: float) -> PeriodicJob:
    """Poll the city's flight-status feed (a URL or a file) and move the pickups of late arrivals.
    A feed that cannot be fetched or read fails this round only (counted in /health); the delays
    already applied stay as they are."""

    def work() -> int:
        if source.startswith(("http://", "https://")):
            r = httpx.get(source, timeout=10.0, follow_redirects=False)
            r.raise_for_status()
            data = r.content
        else:
            data = Path(source).read_bytes()
        return len(air.apply_status(parse_flight_status(data, "flight status")))

    return PeriodicJob("flight-status", interval_s, work, first_delay_s=5.0)


REALTIME_POLL_S = 15.0  # GTFS-RT: each target is fetched no more often than its Fetcher's ttl
GBFS_TICK_S = 1.0  # GBFS: the poller itself waits for the feed's ttl (or its backoff)


def realtime_poller_job(poller: RealtimePoller, interval_s: float = REALTIME_POLL_S) -> PeriodicJob:
    """Fetch each GTFS-RT target and feed the single writer (``RealtimePoller.run_once`` records its
    failures and never raises; a failing target backs off on its own)."""
    return PeriodicJob("realtime-poller", interval_s, poller.run_once)


def gbfs_poller_job(poller: GbfsPoller, tick_s: float = GBFS_TICK_S) -> PeriodicJob:
    """Poll a GBFS system at once and then no more often than its ``ttl`` (``GbfsPoller.poll`` is a
    no-op until then, keeps the last good system and never raises)."""
    return PeriodicJob("gbfs-poller", tick_s, poller.poll, first_delay_s=0.0)
