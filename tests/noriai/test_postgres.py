"""The app on a real PostgreSQL (DATABASE_URL), started by the test harness."""

from __future__ import annotations

from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import PostgresServer, RedisServer


def test_app_runs_on_postgresql_and_redis(postgres_server: PostgresServer, redis_server: RedisServer) -> None:
    settings = Settings(database_url=postgres_server.url, redis_url=redis_server.url)
    client = TestClient(create_app(settings, reference_data()))
    body = client.get("/health").json()
    assert body["database"] == {"backend": "postgresql", "ok": True}
    assert body["live_store"] == {"backend": "redis", "ok": True}
    assert body["reference_rows"]["riders"] == 50
    # a second start finds the data and loads nothing twice
    again = TestClient(create_app(settings, reference_data()))
    assert again.get("/health").json()["reference_rows"]["riders"] == 50
