"""HL7 FHIR R4 endpoints for clinics (``clinic`` API keys) and the operator's consent records.

(No ``from __future__ import annotations``: FastAPI must see the dependency aliases as objects.)

``POST /api/v1/fhir/Appointment`` (or ``PUT .../Appointment/{id}``) books, moves or cancels the rides
for one Appointment; ``POST /api/v1/fhir`` takes a ``batch`` Bundle and answers a ``batch-response``.
Errors are FHIR OperationOutcomes (``application/fhir+json``), never a traceback. A clinic key can do
nothing else: every other route answers it 403 or 404.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dispatch.clinic.fhir import appointment_response, bundle_entries, operation_outcome, parse_appointment
from dispatch.clinic.model import ClinicConsent, ClinicProblem, ClinicResult, Issue
from dispatch.clinic.service import ClinicBookings
from dispatch.domain import Principal
from dispatch.persistence.repository import Repository
from noriai.web.auth import KeyCache
from noriai.web.keys import key_from_headers

FHIR_JSON = "application/fhir+json"
MAX_BODY_BYTES = 1_000_000


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def _outcome(status: int, *issues: Issue) -> JSONResponse:
    return FhirResponse(operation_outcome(issues), status_code=status)


# The contract of the FHIR routes (OpenAPI): a FHIR resource in, a FHIR resource or an OperationOutcome
# out, both as application/fhir+json. A body over the server-wide limit is refused before the route by
# the body limit, in the API's own error schema.
_RESOURCE = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
}
_OUTCOME = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "details": {"type": "object", "properties": {"text": {"type": "string"}}},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_FHIR_ERRORS = {
    400: "the body is not JSON, not a valid FHIR resource, or lacks what a booking needs",
    401: "no API key, or an unknown, revoked or expired one",
    403: "not a clinic key",
    404: "no rides were booked for this Appointment",
    409: "the Appointment conflicts with rides already booked",
    413: "body over 1 MB",
    422: "no consented rider, or no vehicle can make it (a business rule)",
}


def _fhir_contract(success: dict[int, str]) -> dict[str, Any]:
    """``responses`` and ``openapi_extra`` of a FHIR route."""
    responses: dict[int | str, dict[str, Any]] = {
        s: {"description": d, "content": {FHIR_JSON: {"schema": _RESOURCE}}} for s, d in success.items()
    }
    for status, description in _FHIR_ERRORS.items():
        content: dict[str, Any] = {FHIR_JSON: {"schema": _OUTCOME}}
        if status == 413:
            content["application/json"] = {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
        responses[status] = {"description": description, "content": content}
    body = {
        "required": True,
        "content": {FHIR_JSON: {"schema": _RESOURCE}, "application/json": {"schema": _RESOURCE}},
    }
    return {"responses": responses, "openapi_extra": {"requestBody": body}}


_APPOINTMENT = _fhir_contract({200: "the rides were moved or cancelled", 201: "the rides were booked"})
_BATCH = _fhir_contract({200: "a batch-response Bundle: one entry per Appointment, each with its status"})


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: str | None = Field(default=None, max_length=64, description="the clinic's own patient id")
    return_ride: bool = False


def consent_view(c: ClinicConsent) -> dict[str, Any]:
    return {
        "clinic_id": c.clinic_id,
        "rider_id": c.rider_id,
        "patient_id": c.patient_id,
        "return_ride": c.return_ride,
        "consented_at": c.consented_at.isoformat(),
        "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
        "active": c.active,
    }


def fhir_router(clinic: ClinicBookings, repo: Repository, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["fhir"])
    keys = KeyCache(repo)
    Caller = Annotated[Principal, Depends(principal)]

    async def _clinic_body(request: Request, x_api_key: str | None, authorization: str | None) -> Any:
        key = key_from_headers(x_api_key, authorization)
        p = await asyncio.to_thread(keys.lookup, key) if key else None
        if p is None:
            raise ClinicProblem(
                401, Issue("login", "missing or unknown API key", "APIキーがないか正しくありません")
            )
        if p.role != "clinic":
            raise ClinicProblem(403, Issue("forbidden", "clinic keys only", "病院用のキーで送信してください"))
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ClinicProblem(413, Issue("too-long", "body over 1 MB", "送信データが大きすぎます"))
        try:
            return p, json.loads(raw)
        except ValueError:
            raise ClinicProblem(
                400, Issue("structure", "the body is not JSON", "JSONではありません")
            ) from None

    def _one(p: Principal, raw: Any, others: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        try:
            appt = parse_appointment(raw, others)
            result: ClinicResult = clinic.apply(p, appt)
        except ClinicProblem as e:
            return e.status, operation_outcome(e.issues)
        status = 201 if result.outcome == "created" else 200
        body = appointment_response(raw, result)
        if result.warnings:
            body.setdefault("contained", []).append(
                {"resourceType": "OperationOutcome", "id": "warnings", **operation_outcome(result.warnings)}
            )
        return status, body

    async def _appointment(
        request: Request, x_api_key: str | None, authorization: str | None, appointment_id: str | None
    ) -> JSONResponse:
        try:
            p, raw = await _clinic_body(request, x_api_key, authorization)
        except ClinicProblem as e:
            return _outcome(e.status, *e.issues)
        if (
            appointment_id is not None
            and isinstance(raw, dict)
            and raw.get("id") not in (None, appointment_id)
        ):
            return _outcome(
                400,
                Issue(
                    "invalid",
                    "the Appointment's id differs from the id in the URL",
                    "URLのIDとAppointmentのIDが一致しません",
                    expression=("Appointment.id",),
                ),
            )
        status, body = await asyncio.to_thread(_one, p, raw)
        return FhirResponse(body, status_code=status)

    @router.post("/fhir/Appointment", response_class=FhirResponse, **_APPOINTMENT)
    async def appointment(
        request: Request,
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """Book (arrive-by, and the ride home where the rider wants it), move or cancel the rides."""
        return await _appointment(request, x_api_key, authorization, None)

    @router.put("/fhir/Appointment/{appointment_id}", response_class=FhirResponse, **_APPOINTMENT)
    async def appointment_put(
        request: Request,
        appointment_id: str,
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """The same as POST, for the Appointment with this id (the body's ``id``, when given, must match)."""
        return await _appointment(request, x_api_key, authorization, appointment_id)

    @router.post("/fhir", response_class=FhirResponse, **_BATCH)
    @router.post("/fhir/Bundle", response_class=FhirResponse, **_BATCH)
    async def batch(
        request: Request,
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """A ``batch`` Bundle of Appointments (with their Patients and Locations as entries or contained)."""
        try:
            p, raw = await _clinic_body(request, x_api_key, authorization)
            _type, appointments, others = bundle_entries(raw)
        except ClinicProblem as e:
            return _outcome(e.status, *e.issues)

        def run() -> list[dict[str, Any]]:
            out = []
            for full_url, res, _method in appointments:
                status, body = _one(p, res, others)
                entry: dict[str, Any] = {"response": {"status": str(status)}}
                if full_url:
                    entry["fullUrl"] = full_url
                if body.get("resourceType") == "OperationOutcome":
                    entry["response"]["outcome"] = body
                else:
                    entry["resource"] = body
                out.append(entry)
            return out

        entries = await asyncio.to_thread(run)
        return FhirResponse({"resourceType": "Bundle", "type": "batch-response", "entry": entries})

    # --- operators: riders' consents ---------------------------------------------------------------
    @router.get("/riders/{rider_id}/clinic-consents", tags=["riders"])
    def consents(p: Caller, rider_id: str) -> list[dict[str, Any]]:
        return [consent_view(c) for c in clinic.consents(p, rider_id)]

    @router.put("/riders/{rider_id}/clinic-consents/{clinic_id}", tags=["riders"])
    def give_consent(p: Caller, rider_id: str, clinic_id: str, body: ConsentIn) -> dict[str, Any]:
        """The rider agreed that this clinic's appointments book their rides (recorded by an operator)."""
        return consent_view(clinic.set_consent(p, rider_id, clinic_id, body.patient_id, body.return_ride))

    @router.delete("/riders/{rider_id}/clinic-consents/{clinic_id}", tags=["riders"])
    def withdraw_consent(p: Caller, rider_id: str, clinic_id: str) -> dict[str, Any]:
        return consent_view(clinic.withdraw_consent(p, rider_id, clinic_id))

    return router
