"""Every dispatch route documents its answer (a real schema in the OpenAPI document, not ``{}``), and the
answers keep the JSON they always had: optional keys are left out, never sent as null."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import DAY, Clock

OP = {"X-API-Key": "demo-operator"}
QUOTE = {
    "rider_id": "R0001",
    "destination": {"kind": "place", "place_id": "red-cross-hospital"},
    "service_date": DAY.isoformat(),
    "mode": "arrive_by",
    "time": "10:00",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = Path(tmp_path_factory.mktemp("schemas")) / "s.db"
    # no background jobs: the test materialises by hand (the scheduled run would race it)
    settings = Settings(database_url=f"sqlite:///{db}", reoptimise_interval_s=0, materialise_interval_s=0)
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def _schema(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return out


def test_every_dispatch_route_documents_its_answer(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    documented = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if "dispatch" not in op.get("tags", []) or path == "/api/v1/events":
                continue
            ok = next(code for code in op["responses"] if code.startswith("2"))
            if ok == "204":
                continue
            schema = op["responses"][ok]["content"]["application/json"]["schema"]
            schema = schema.get("items", schema)
            assert "$ref" in schema, (method, path, schema)
            documented += 1
    assert documented >= 21
    booking = doc["components"]["schemas"]["BookingOut"]
    assert set(booking["properties"]["status"]["$ref"].rsplit("/", 1)[1:]) == {"BookingStatus"}
    assert "read_back" not in booking["required"] and "options" in booking["required"]


def test_answers_keep_their_keys_and_validate(client: TestClient) -> None:
    q = client.post("/api/v1/quotes", json=QUOTE, headers=OP)
    assert q.status_code == 201, q.text
    quoted = q.json()
    assert "read_back" not in quoted  # left out before confirmation, not null
    assert quoted["options"]
    assert set(quoted["options"][0]) >= {"pickup_window", "fare_breakdown", "plan_version"}
    b = client.post(f"/api/v1/bookings/{quoted['booking_id']}/confirm", json={"option": 0}, headers=OP)
    assert b.status_code == 200, b.text
    booked = b.json()
    assert booked["read_back"]["ja"] and booked["fare"]["breakdown"]
    assert set(booked) == set(quoted) | {"read_back"}
    company = {"X-API-Key": "demo-chuo-taxi" if booked["company_id"] == "chuo-taxi" else "demo-ogori-kotsu"}
    rider = client.get("/api/v1/riders/R0001", headers=company).json()
    assert "home" not in rider and "phone" in rider  # a company sees the rider on its run, not the rest
    assert "home" in client.get("/api/v1/riders/R0001", headers=OP).json()
    audit = client.get(f"/api/v1/bookings/{booked['booking_id']}/audit", headers=OP).json()
    assert [e["event"] for e in audit][:2] == ["quote", "confirm"] and "from" in audit[1]
    runs = client.get("/api/v1/runs", params={"date": DAY.isoformat()}, headers=OP).json()
    stops = [s for r in runs for s in r["stops"]]
    assert {s["booking_id"] for s in stops} == {booked["booking_id"]}
    assert all("eta" not in s for s in stops)  # no position reported: no ETAs, not null ones
    check = client.get(f"/api/v1/days/{DAY.isoformat()}/check", headers=OP).json()
    assert check == {"ok": True, "problems": []}


def test_a_call_when_ready_return_trip_is_listed_and_read(client: TestClient) -> None:
    """A recurring ride with a 'call when ready' return makes an on_call booking (time_mode on_call);
    listing and reading it answer 200 (the response model once allowed only the two quote modes)."""
    rule = {
        "rider_id": "R0003",
        "destination": {"kind": "place", "place_id": "red-cross-hospital"},
        "mode": "arrive_by",
        "time": "09:30",
        "weekdays": [DAY.weekday()],
        "start_date": DAY.isoformat(),
        "return_mode": "call",
    }
    r = client.post("/api/v1/recurring", json=rule, headers=OP)
    assert r.status_code == 201, r.text
    made = client.post(f"/api/v1/days/{DAY.isoformat()}/materialise", headers=OP)
    assert made.status_code == 200, made.text
    listed = client.get("/api/v1/bookings", params={"rider_id": "R0003"}, headers=OP)
    assert listed.status_code == 200, listed.text
    on_call = [b for b in listed.json() if b["time_mode"] == "on_call"]
    assert on_call and on_call[0]["status"] == "on_call", listed.json()
    one = client.get(f"/api/v1/bookings/{on_call[0]['booking_id']}", headers=OP)
    assert one.status_code == 200 and one.json()["time_mode"] == "on_call"
