"""`noriai serve --demo` as a real process: what `make run` starts."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.servers import serve


def test_serve_demo_answers_health_and_home_page(tmp_path: Path) -> None:
    # the scheduled re-optimisation on, as `make run` has it
    with serve(tmp_path, REOPTIMISE_INTERVAL_S="900") as (url, _log):
        assert httpx.get(url + "/health", timeout=5).status_code == 200
        home = httpx.get(url + "/", timeout=5)
        assert "Noriai" in home.text and 'href="/plan"' in home.text
