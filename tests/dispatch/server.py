"""`noriai serve --demo` as a real process, for tests that need a real server (concurrency, outages)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.conftest import free_port


def tomorrow() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)


@contextmanager
def serve(tmp: Path, **env: str) -> Iterator[tuple[str, Path]]:
    """Yields (base URL, log file). The log is the server's whole stderr (JSON lines)."""
    port = free_port()
    full = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'serve.db'}",
        "REOPTIMISE_INTERVAL_S": "0",
        **env,
    }
    if "REDIS_URL" not in env:
        full.pop("REDIS_URL", None)
    log = tmp / "serve.log"
    exe = Path(sys.executable).with_name("noriai")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", "--demo", "--port", str(port)],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield url, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
