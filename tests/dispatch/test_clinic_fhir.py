"""Hospital appointments (HL7 FHIR R4) -> arrive-by rides, over HTTP with a clinic key on real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatch.booking import parse_hhmm as s_of
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import Clock

CLINIC = {"X-API-Key": "demo-clinic", "Content-Type": "application/fhir+json"}
OP = {"X-API-Key": "demo-operator"}
PLACE = {"system": "urn:noriai:place", "value": "red-cross-hospital"}


def appointment(
    ident: str,
    start: str = "2026-11-24T10:00:00+09:00",
    *,
    patient: dict[str, Any] | None = None,
    status: str = "booked",
    minutes: int = 40,
) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": "https://hospital.example/appointments", "value": ident}],
        "status": status,
        "start": start,
        "minutesDuration": minutes,
        "contained": [
            patient
            or {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{"system": "https://hospital.example/patients", "value": "RC-100001"}],
                "name": [{"text": "山本 茂"}],
            }
        ],
        "participant": [
            {"actor": {"reference": "#p"}, "status": "accepted"},
            {"actor": {"type": "Location", "identifier": PLACE}, "status": "accepted"},
        ],
    }


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fhir.db'}", reoptimise_interval_s=0)
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def _bookings(client: TestClient, rider_id: str) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/bookings", params={"rider_id": rider_id}, headers=OP).json())


def _booking_ids(resource: dict[str, Any]) -> dict[str, str]:
    out = {}
    for ext in resource.get("extension", []):
        parts = {e["url"]: e for e in ext["extension"]}
        out[parts["role"]["valueCode"]] = parts["booking"]["valueIdentifier"]["value"]
    return out


def test_a_bundle_books_arrive_by_rides_that_arrive_before_start(client: TestClient) -> None:
    """Batch Bundle: two consenting patients (by clinic id, by phone) get rides arriving 15 min before
    start; the one whose consent asks for it also gets the ride home after the end."""
    by_phone = {
        "resourceType": "Patient",
        "telecom": [{"system": "phone", "value": "083-000-3002"}],
        "name": [{"text": "someone"}],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "fullUrl": "urn:uuid:a1",
                "resource": appointment("A1"),
                "request": {"method": "POST", "url": "Appointment"},
            },
            {"fullUrl": "urn:uuid:p2", "resource": by_phone, "request": {"method": "POST", "url": "Patient"}},
            {
                "fullUrl": "urn:uuid:a2",
                "resource": {
                    **appointment("A2", "2026-11-24T11:30:00+09:00"),
                    "contained": [],
                    "participant": [
                        {"actor": {"reference": "urn:uuid:p2"}, "status": "accepted"},
                        {"actor": {"type": "Location", "identifier": PLACE}, "status": "accepted"},
                    ],
                },
                "request": {"method": "POST", "url": "Appointment"},
            },
        ],
    }
    r = client.post("/api/v1/fhir", json=bundle, headers=CLINIC)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    out = r.json()
    assert out["type"] == "batch-response" and [e["response"]["status"] for e in out["entry"]] == [
        "201",
        "201",
    ]
    first, second = (_booking_ids(e["resource"]) for e in out["entry"])
    assert set(first) == {"outbound", "return"} and set(second) == {"outbound"}
    b1 = client.get(f"/api/v1/bookings/{first['outbound']}", headers=OP).json()
    assert b1["status"] == "scheduled" and b1["rider_id"] == "R0001"
    assert b1["destination"]["place_id"] == "red-cross-hospital"
    assert s_of(b1["arrive_by"]) == s_of("9:45") >= s_of(b1["planned_dropoff"])
    back = client.get(f"/api/v1/bookings/{first['return']}", headers=OP).json()
    assert back["status"] == "scheduled" and s_of(back["planned_pickup"]) >= s_of(
        "10:50"
    )  # 10:00 + 40 min + 10 min
    b2 = client.get(f"/api/v1/bookings/{second['outbound']}", headers=OP).json()
    assert b2["rider_id"] == "R0002" and s_of(b2["arrive_by"]) == s_of("11:15") >= s_of(b2["planned_dropoff"])
    assert "山本" in out["entry"][0]["resource"]["text"]["div"]  # the read-back, for the clinic to pass on


def test_the_same_appointment_twice_books_once_and_a_moved_start_requotes(client: TestClient) -> None:
    """Idempotent by the Appointment's identifier; a new start books new rides and cancels the old."""
    r1 = client.post("/api/v1/fhir/Appointment", json=appointment("A7"), headers=CLINIC)
    assert r1.status_code == 201, r1.text
    again = client.post("/api/v1/fhir/Appointment", json=appointment("A7"), headers=CLINIC)
    assert again.status_code == 200 and _booking_ids(again.json()) == _booking_ids(r1.json())
    moved = client.put(
        "/api/v1/fhir/Appointment/A7", json=appointment("A7", "2026-11-24T14:00:00+09:00"), headers=CLINIC
    )
    assert moved.status_code == 200, moved.text
    new, old = _booking_ids(moved.json()), _booking_ids(r1.json())
    assert new["outbound"] != old["outbound"]
    assert client.get(f"/api/v1/bookings/{old['outbound']}", headers=OP).json()["status"] == "cancelled"
    assert client.get(f"/api/v1/bookings/{old['return']}", headers=OP).json()["status"] == "cancelled"
    now = client.get(f"/api/v1/bookings/{new['outbound']}", headers=OP).json()
    assert now["status"] == "scheduled" and now["arrive_by"] == "13:45"


def test_a_cancelled_appointment_cancels_its_rides(client: TestClient) -> None:
    r = client.post("/api/v1/fhir/Appointment", json=appointment("A9"), headers=CLINIC)
    ids = _booking_ids(r.json())
    c = client.post("/api/v1/fhir/Appointment", json=appointment("A9", status="cancelled"), headers=CLINIC)
    assert c.status_code == 200, c.text
    for bid in ids.values():
        assert client.get(f"/api/v1/bookings/{bid}", headers=OP).json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "patient",
    [
        {"resourceType": "Patient", "id": "p", "identifier": [{"value": "RC-999999"}]},  # unknown id
        {
            "resourceType": "Patient",
            "id": "p",
            "telecom": [{"system": "phone", "value": "083-000-3003"}],
        },  # no consent
        {"resourceType": "Patient", "id": "p", "name": [{"text": "山本 茂"}]},  # a name alone never matches
    ],
    ids=["unknown", "unconsented", "name-only"],
)
def test_an_unknown_or_unconsented_patient_gets_an_operation_outcome_and_nothing_is_booked(
    client: TestClient, patient: dict[str, Any]
) -> None:
    before = {r: len(_bookings(client, r)) for r in ("R0001", "R0003")}
    r = client.post("/api/v1/fhir/Appointment", json=appointment("X1", patient=patient), headers=CLINIC)
    assert r.status_code == 422
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "not-found"
    assert body["issue"][0]["details"]["text"] and body["issue"][0]["diagnostics"]
    assert {rid: len(_bookings(client, rid)) for rid in before} == before


def test_withdrawn_consent_stops_hospital_booking(client: TestClient) -> None:
    assert (
        client.delete("/api/v1/riders/R0001/clinic-consents/red-cross-hospital", headers=OP).status_code
        == 200
    )
    r = client.post("/api/v1/fhir/Appointment", json=appointment("W1"), headers=CLINIC)
    assert r.status_code == 422 and r.json()["resourceType"] == "OperationOutcome"
    given = client.put(
        "/api/v1/riders/R0003/clinic-consents/red-cross-hospital", json={"patient_id": "RC-3"}, headers=OP
    )
    assert given.status_code == 200 and given.json()["active"]


def test_invalid_fhir_is_an_operation_outcome_naming_the_field_not_its_value(client: TestClient) -> None:
    bad = appointment("B1", start="tomorrow 10 o'clock")
    r = client.post("/api/v1/fhir/Appointment", json=bad, headers=CLINIC)
    assert r.status_code == 400
    out = r.json()
    assert out["resourceType"] == "OperationOutcome" and out["issue"][0]["expression"] == [
        "Appointment.start"
    ]
    assert "tomorrow" not in r.text
    assert (
        client.post("/api/v1/fhir/Appointment", content=b"{", headers=CLINIC).json()["issue"][0]["code"]
        == "structure"
    )
    tx = client.post("/api/v1/fhir", json={"resourceType": "Bundle", "type": "transaction"}, headers=CLINIC)
    assert tx.status_code == 422 and tx.json()["issue"][0]["code"] == "not-supported"


def test_a_clinic_key_cannot_read_anything_else(client: TestClient) -> None:
    """Riders, bookings, runs, events, webhooks, consents: all refused to a clinic key."""
    made = client.post("/api/v1/fhir/Appointment", json=appointment("S1"), headers=CLINIC).json()
    bid = _booking_ids(made)["outbound"]
    key = {"X-API-Key": "demo-clinic"}
    for path in (
        "/api/v1/riders/R0001",
        f"/api/v1/bookings/{bid}",
        "/api/v1/bookings?rider_id=R0001",
        "/api/v1/riders?q=083",
        "/api/v1/runs?date=2026-11-24",
        "/api/v1/webhooks",
        "/api/v1/riders/R0001/clinic-consents",
        "/api/v1/whoami",
    ):
        r = client.get(path, headers=key)
        assert r.status_code in (403, 404), (path, r.status_code)
        assert "山本" not in r.text and "083-000" not in r.text
    assert client.get("/api/v1/events", headers=key).status_code == 403
    assert client.post("/api/v1/fhir/Appointment", json=appointment("S2"), headers=OP).status_code == 403
