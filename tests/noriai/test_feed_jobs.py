"""The feed pollers are background jobs like the others (``noriai.jobs``): one timer mechanism. They
run in every process that serves the planner, whatever its role, start and stop with the app, and a
round that fails leaves the thread polling."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from bus_location import Fetcher, RealtimeWriter
from bus_location.poller import PollTarget, RealtimePoller
from gtfs.loader import load_feed
from noriai.demo import GBFS_DIR, GTFS_DIR, reference_data
from noriai.jobs import realtime_poller_job
from noriai.settings import Settings
from noriai.web import create_app


def test_the_realtime_job_polls_on_its_thread_and_survives_a_broken_feed() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, content=b"\x00 not a feed message")

    writer = RealtimeWriter({"demo": load_feed(GTFS_DIR, "demo")})
    fetcher = Fetcher("http://rt.test/tu", ttl_s=0, transport=httpx.MockTransport(answer))
    poller = RealtimePoller(writer, [PollTarget("demo", fetcher)], clock=lambda: 0.0)
    job = realtime_poller_job(poller, interval_s=0.01)
    job.start()
    try:
        deadline = time.monotonic() + 10
        while job.stats.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert job.running and job.stats.runs >= 3 and job.stats.failures == 0  # run_once never raised
        assert len(calls) == 1  # the failing target backs off: no second request within 15 s
        (h,) = poller.health()
        assert h["state"] == "failing" and h["last_status"] == "bad_message"
    finally:
        job.stop()


def test_an_api_process_runs_its_feed_pollers_but_no_leased_jobs(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        role="api",
        reoptimise_interval_s=0,
        gbfs_url=str(GBFS_DIR),
        gtfs_rt_urls="http://127.0.0.1:9/trip-updates.pb",  # nothing listens on port 9
    )
    app = create_app(settings, reference_data())
    feeds = app.state.feed_jobs
    assert [j.name for j in feeds.jobs] == ["gbfs-poller", "realtime-poller"]
    with TestClient(app) as c:
        deadline = time.monotonic() + 30
        while app.state.gbfs_poller.polls == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(j.running for j in feeds.jobs)
        process = c.get("/health").json()["process"]
        assert process["role"] == "api" and process["runner"] == {"role": "none"} and process["jobs"] == {}
        assert app.state.gbfs_poller.system is not None  # the demo folder, polled at start
    assert not any(j.running for j in feeds.jobs)  # stopped with the app
