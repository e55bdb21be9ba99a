"""Real servers for tests: `noriai serve --demo` as a process (concurrency, outages, what `make run`
starts) and an app on uvicorn in a thread (browser tests that set the app's clock)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port


def tomorrow() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)


@contextmanager
def serve(
    tmp: Path, *args: str, log_name: str = "serve.log", start_timeout_s: float = 180, **env: str
) -> Iterator[tuple[str, Path]]:
    """Yields (base URL, log file). The log is the server's whole stderr (JSON lines). ``args`` are
    ``noriai serve``'s options (default ``--demo``)."""
    port = free_port()
    full = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'serve.db'}",
        "REOPTIMISE_INTERVAL_S": "0",
        **env,
    }
    if "REDIS_URL" not in env:
        full.pop("REDIS_URL", None)
    log = tmp / log_name
    exe = Path(sys.executable).with_name("noriai")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", *(args or ("--demo",)), "--port", str(port)],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, start_timeout_s, lambda: proc.poll() is None, lambda: log.read_text()[-3000:])
            yield url, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_healthy(
    url: str, timeout_s: float, alive: Callable[[], bool] = lambda: True, why: Callable[[], str] = str
) -> None:
    """Until ``url``/health answers 200; RuntimeError (with ``why()``) on timeout or when not ``alive()``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not alive():
            raise RuntimeError(f"server at {url} did not start:\n{why()}")
        time.sleep(0.1)


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """The app on uvicorn in a daemon thread; yields its base URL once /health answers."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, 20, thread.is_alive)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_demo(
    folder: Path, clock: Callable[[], datetime], sms: Any = None, **settings: Any
) -> Iterator[str]:
    """The demo app on a fresh SQLite file in ``folder``, its clock set, on uvicorn in a thread;
    ``settings`` override the defaults (e.g. the rate limits); ``sms`` replaces the log SMS sender
    (``noriai.sms.MemorySmsSender``: the test reads the codes as the rider's phone would)."""
    from noriai.demo import reference_data
    from noriai.settings import Settings
    from noriai.web import create_app

    db = folder / "n.db"
    app = create_app(
        Settings(database_url=f"sqlite:///{db}", reoptimise_interval_s=0, **settings),
        reference_data(),
        clock=clock,
        sms=sms,
    )
    with serve_in_thread(app) as url:
        yield url
