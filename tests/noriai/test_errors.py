"""Every 4xx of the API carries a machine code and a Japanese and an English sentence; validation
errors name the field, so pages can show the sentence next to it (never pydantic's raw list)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app

OP = {"X-API-Key": "demo-operator"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    db = tmp_path_factory.mktemp("errors") / "n.db"
    return TestClient(create_app(Settings(database_url=f"sqlite:///{db}"), reference_data()))


def quote(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "rider_id": "R0001",
        "destination": {"kind": "place", "place_id": "red-cross-hospital"},
        "service_date": "2026-11-24",
        "mode": "arrive_by",
        "time": "10:00",
        "companions": 0,
    }
    body.update(over)
    return body


@pytest.mark.parametrize(
    ("over", "field", "code", "ja"),
    [
        ({"companions": 30}, "companions", "too_large", "同乗者の人数は8以下"),
        ({"companions": -1}, "companions", "too_small", "同乗者の人数は0以上"),
        ({"time": ""}, "time", "bad_time", "時刻は「時:分」"),
        ({"service_date": ""}, "service_date", "bad_date", "日付を正しい日付"),
        ({"companions": "two"}, "companions", "not_a_number", "数字で"),
    ],
)
def test_a_bad_field_is_named_with_a_code_and_two_sentences(
    client: TestClient, over: dict[str, object], field: str, code: str, ja: str
) -> None:
    r = client.post("/api/v1/quotes", json=quote(**over), headers=OP)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid" and body["message_ja"]
    (f,) = body["fields"]
    assert (f["field"], f["code"]) == (field, code)
    assert ja in f["message_ja"] and f["message"][:1].isupper() and f["message"].endswith(".")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/stops/NOPE/timetable", 404, "unknown_stop"),
        ("GET", "/api/v1/no-such-thing", 404, "not_found"),
        ("DELETE", "/api/v1/plan", 405, "method_not_allowed"),
        ("GET", "/api/v1/whoami", 401, "unauthorized"),
    ],
)
def test_every_4xx_has_a_code_and_both_languages(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == code and body["message"] and body["message_ja"]
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in body["message_ja"])
