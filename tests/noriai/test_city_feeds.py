"""Several GTFS feeds of one city are merged in one trip planner: a journey may ride the town bus of
one feed and change to the rural bus of another."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from noriai.cli import app as cli
from noriai.settings import Settings
from noriai.web import create_app
from tests.city_bundle import write_city
from tests.dispatch.helpers import Clock


def test_two_feeds_are_merged_in_one_planner(tmp_path: Path) -> None:
    root = write_city(tmp_path / "hagi", second_feed=True)
    url = f"sqlite:///{tmp_path / 'two.db'}"
    done = CliRunner().invoke(cli, ["city", "import", str(root)], env={"DATABASE_URL": url})
    assert done.exit_code == 0, done.output
    settings = Settings(database_url=url, reoptimise_interval_s=0)
    with TestClient(create_app(settings, clock=Clock())) as c:
        r = c.get(
            "/api/v1/plan",
            params={
                "from": "higashi-hagi-sta",
                "to": "kawakami-shop",
                "date": "2026-11-24",
                "time": "09:00",
                "modes": "transit",
            },
        )
        assert r.status_code == 200, r.text
        rides = [{leg["route"] for leg in o["legs"] if leg["mode"] == "bus"} for o in r.json()["options"]]
        assert {"hag", "kaw"} in rides, rides
