"""`noriai serve --demo` as a real process: what `make run` starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def test_serve_demo_answers_health_and_home_page(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'noriai.db'}"}
    env.pop("REDIS_URL", None)
    exe = Path(sys.executable).with_name("noriai")
    proc = subprocess.Popen(
        [str(exe), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status == 200
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert "Noriai" in home.text and 'href="/plan"' in home.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
