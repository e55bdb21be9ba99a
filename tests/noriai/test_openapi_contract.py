"""What Schemathesis found the API doing against its own OpenAPI document, pinned one by one (the whole
run is tests/noriai/test_contract.py): a 405 lists every method of the path, a malformed body is a 400
in the error schema, ``date=0`` is not 1970-01-01, the FHIR routes document what they answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import Clock

OP = {"X-API-Key": "demo-operator"}
FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = Path(tmp_path_factory.mktemp("contract")) / "contract.db"
    settings = Settings(database_url=f"sqlite:///{db}", reoptimise_interval_s=0)
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    out: dict[str, Any] = client.get("/openapi.json").json()
    return out


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/webhooks", "GET, POST"),
        ("/api/v1/webhooks/W1", "DELETE, GET"),
        ("/api/v1/riders/R1/clinic-consents/C1", "DELETE, PUT"),
    ],
)
def test_a_405_allows_every_method_of_the_path(
    client: TestClient, doc: dict[str, Any], path: str, methods: str
) -> None:
    r = client.request("PATCH", path, headers=OP)
    assert r.status_code == 405
    assert r.headers["allow"] == methods
    template = path.replace("W1", "{endpoint_id}").replace("R1", "{rider_id}").replace("C1", "{clinic_id}")
    assert ", ".join(sorted(m.upper() for m in doc["paths"][template])) == methods
    body = r.json()
    assert body["error"] == "method_not_allowed" and body["message_ja"] != body["message"]


def test_a_body_that_is_not_json_is_a_400_in_the_error_schema(
    client: TestClient, doc: dict[str, Any]
) -> None:
    r = client.post(
        "/api/v1/bookings/B1/return",
        content=b"5z<\xff\xfe",
        headers={**OP, "content-type": "application/json"},
    )
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_json"
    assert "JSON" in body["message_ja"] and body["message_ja"] != body["message"]
    assert "400" in doc["paths"]["/api/v1/bookings/{booking_id}/return"]["post"]["responses"]


@pytest.mark.parametrize("day", ["0", "20261124", "0001-01-01"])
def test_airport_flights_refuse_a_day_that_is_not_an_iso_date(client: TestClient, day: str) -> None:
    assert client.get("/api/v1/airport/flights", params={"date": day}).status_code == 422
    assert client.get("/api/v1/airport/flights", params={"date": "2026-11-24"}).status_code == 200


def test_listing_webhooks_of_an_unknown_company_is_a_documented_404(
    client: TestClient, doc: dict[str, Any]
) -> None:
    r = client.get("/api/v1/webhooks", params={"company_id": "no-such-company"}, headers=OP)
    assert r.status_code == 404
    assert "404" in doc["paths"]["/api/v1/webhooks"]["get"]["responses"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/fhir/Appointment"), ("put", "/api/v1/fhir/Appointment/{appointment_id}"),
     ("post", "/api/v1/fhir"), ("post", "/api/v1/fhir/Bundle")],
)  # fmt: skip
def test_fhir_routes_document_fhir_json_and_answer_it(
    client: TestClient, doc: dict[str, Any], method: str, path: str
) -> None:
    op = doc["paths"][path][method]
    for status in ("400", "401", "403", "422"):
        assert FHIR_JSON in op["responses"][status]["content"], status
    assert FHIR_JSON in op["requestBody"]["content"]
    assert [p["name"] for p in op.get("parameters", []) if p["in"] == "path"] == (
        ["appointment_id"] if "{" in path else []
    )
    url = path.replace("{appointment_id}", "A1")
    for headers, code in ((OP, 403), ({}, 401)):
        r = client.request(method.upper(), url, json={"resourceType": "Appointment"}, headers=headers)
        assert r.status_code == code
        assert r.headers["content-type"].startswith(FHIR_JSON)
        assert r.json()["resourceType"] == "OperationOutcome"
