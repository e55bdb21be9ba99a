"""HL7 FHIR R4 resources <-> hospital-linked booking types. The only module that imports ``fhir.resources``.

Resources are validated by ``fhir.resources`` (pydantic 2 models; its R4B package, whose Appointment,
Patient, Location, Bundle and OperationOutcome are the same as R4's). A validation error becomes an
OperationOutcome listing where and why, never the submitted values (they may be personal data).

An Appointment names its patient and place through ``participant.actor``: a reference to a contained
resource (``#p1``), to another entry of the same Bundle (its ``fullUrl`` or ``Patient/<id>``), or a
logical reference (``{"type": "Patient", "identifier": {...}}``). Only identifiers and phone numbers of
a Patient are read; its name is ignored on purpose (matching by name alone is never allowed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from pydantic import ValidationError

from dispatch.clinic.model import (
    BOOKABLE,
    CANCELLING,
    AppointmentIn,
    ClinicProblem,
    ClinicResult,
    Issue,
    LocationRef,
    PatientRef,
)

BOOKING_SYSTEM = "urn:noriai:booking"
BOOKING_EXTENSION = "https://noriai.example/fhir/StructureDefinition/ride-booking"


def _invalid(e: ValidationError, prefix: str) -> ClinicProblem:
    issues = [
        Issue(
            "invalid" if err["type"] != "missing" else "required",
            f"{prefix}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}",
            f"{prefix} の {'.'.join(str(p) for p in err['loc'])} が正しくありません",
            expression=(f"{prefix}.{'.'.join(str(p) for p in err['loc'])}",),
        )
        for err in e.errors(include_input=False)[:20]
    ]
    return ClinicProblem(400, *issues)


def _need_object(body: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping) or body.get("resourceType") != kind:
        raise ClinicProblem(
            400,
            Issue(
                "structure",
                f"expected a FHIR {kind} resource (resourceType {kind})",
                f"FHIRの{kind}リソースを送ってください",
            ),
        )
    return body


def _identifiers(ids: Sequence[Any] | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(i.system or ""), str(i.value)) for i in ids or () if i.value)


def _patient_ref(res: Patient) -> PatientRef:
    phones = tuple(str(t.value) for t in res.telecom or () if t.system == "phone" and t.value)
    return PatientRef(_identifiers(res.identifier), phones)


def _location_ref(res: Location) -> LocationRef:
    names = tuple(n for n in [res.name, *(res.alias or [])] if n)
    return LocationRef(_identifiers(res.identifier), tuple(str(n) for n in names))


def parse_appointment(body: Any, others: Mapping[str, Any] | None = None) -> AppointmentIn:
    """Validate one Appointment; ``others`` are the Bundle's other resources by fullUrl and Type/id."""
    _need_object(body, "Appointment")
    try:
        appt = Appointment.model_validate(body)
    except ValidationError as e:
        raise _invalid(e, "Appointment") from None
    key = next((f"{i.system or ''}|{i.value}" for i in appt.identifier or () if i.value), None) or (
        f"id|{appt.id}" if appt.id else None
    )
    if key is None:
        raise ClinicProblem(
            400,
            Issue(
                "required",
                "the Appointment needs an identifier (or an id) so that later changes find it",
                "予約の識別子（identifier または id）が必要です",
                expression=("Appointment.identifier",),
            ),
        )
    contained = {f"#{r.id}": r for r in appt.contained or () if getattr(r, "id", None)}
    patient: PatientRef | None = None
    location: LocationRef | None = None
    for i, part in enumerate(appt.participant or ()):
        ref: Reference | None = part.actor
        if ref is None:
            continue
        kind, res = _resolve(ref, contained, others or {})
        where = f"Appointment.participant[{i}].actor"
        if kind == "Patient":
            if isinstance(res, Patient):
                patient = _patient_ref(res)
            elif ref.identifier is not None:
                patient = PatientRef(_identifiers([ref.identifier]))
            else:
                raise _unresolved(where)
        elif kind == "Location":
            if isinstance(res, Location):
                location = _location_ref(res)
            elif ref.identifier is not None:
                location = LocationRef(_identifiers([ref.identifier]))
            else:
                raise _unresolved(where)
    missing = [
        Issue("required", f"the Appointment needs a {k} participant", f"{ja}の参加者が必要です",
              expression=("Appointment.participant",))
        for k, ja, v in (("Patient", "患者", patient), ("Location", "場所", location))
        if v is None
    ]  # fmt: skip
    if missing:
        raise ClinicProblem(400, *missing)
    assert patient is not None and location is not None
    end = appt.end
    if end is None and appt.start is not None and appt.minutesDuration:
        end = appt.start + timedelta(minutes=int(appt.minutesDuration))
    if appt.status in BOOKABLE and appt.start is None:
        raise ClinicProblem(
            400, Issue("required", "a booked Appointment needs start", "予約の開始時刻（start）が必要です",
                       expression=("Appointment.start",))
        )  # fmt: skip
    if appt.start is not None and appt.start.tzinfo is None:
        raise ClinicProblem(
            400, Issue("invalid", "start needs a time zone", "開始時刻にタイムゾーンが必要です")
        )
    if appt.status not in BOOKABLE | CANCELLING:
        raise ClinicProblem(
            422,
            Issue(
                "not-supported",
                f"Appointment.status {appt.status!r} is not handled (booked, pending, cancelled, noshow)",
                f"予約の状態 {appt.status} には対応していません",
                expression=("Appointment.status",),
            ),
        )
    return AppointmentIn(key, str(appt.status), appt.start, end, patient, location)


def _resolve(ref: Reference, contained: Mapping[str, Any], others: Mapping[str, Any]) -> tuple[str, Any]:
    target = ref.reference or ""
    res = contained.get(target) if target.startswith("#") else others.get(target) if target else None
    if res is not None:
        return str(res.get_resource_type()), res
    if ref.type:
        return str(ref.type), None
    kind = target.split("/", 1)[0] if "/" in target and not target.startswith("urn:") else ""
    return kind, None


def _unresolved(where: str) -> ClinicProblem:
    return ClinicProblem(
        400,
        Issue(
            "not-found",
            f"{where}: the reference must be to a contained resource, another entry of the Bundle, "
            "or carry an identifier",
            "参照先が見つかりません（contained・同じBundle内・identifierのいずれかで指定してください）",
            expression=(where,),
        ),
    )


def bundle_entries(body: Any) -> tuple[str, list[tuple[str, Any, str]], dict[str, Any]]:
    """A batch Bundle: (type, [(fullUrl, raw Appointment, method)], other resources by fullUrl/Type/id)."""
    _need_object(body, "Bundle")
    try:
        bundle = Bundle.model_validate(body)
    except ValidationError as e:
        raise _invalid(e, "Bundle") from None
    if bundle.type != "batch":
        raise ClinicProblem(
            422,
            Issue(
                "not-supported",
                f"Bundle.type {bundle.type!r}: only batch is supported (each Appointment stands alone)",
                "Bundle の type は batch にしてください",
                expression=("Bundle.type",),
            ),
        )
    raw_entries = body.get("entry") or []
    appointments: list[tuple[str, Any, str]] = []
    others: dict[str, Any] = {}
    for raw, entry in zip(raw_entries, bundle.entry or (), strict=True):
        res = entry.resource
        if res is None:
            continue
        kind = str(res.get_resource_type())
        if kind == "Appointment":
            method = str(entry.request.method) if entry.request is not None else "POST"
            appointments.append((str(entry.fullUrl or ""), raw.get("resource"), method))
        else:
            if entry.fullUrl:
                others[str(entry.fullUrl)] = res
            if getattr(res, "id", None):
                others[f"{kind}/{res.id}"] = res
    return str(bundle.type), appointments, others


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": i.severity,
                "code": i.code,
                "details": {"text": i.ja},
                "diagnostics": i.en,
                **({"expression": list(i.expression)} if i.expression else {}),
            }
            for i in issues
        ],
    }


def appointment_response(raw: Mapping[str, Any], result: ClinicResult) -> dict[str, Any]:
    """The Appointment as received, with the rides booked for it as extensions and the rider's read-back
    sentence as narrative (for the clinic to pass on)."""
    out = dict(raw)
    ext = [e for e in out.get("extension") or [] if e.get("url") != BOOKING_EXTENSION]
    a = result.appointment
    for role, bid in (("outbound", a.booking_id), ("return", a.return_booking_id)):
        if bid:
            ext.append(
                {
                    "url": BOOKING_EXTENSION,
                    "extension": [
                        {"url": "role", "valueCode": role},
                        {"url": "booking", "valueIdentifier": {"system": BOOKING_SYSTEM, "value": bid}},
                    ],
                }
            )
    if ext:
        out["extension"] = ext
    if result.read_back:
        text = result.read_back.get("ja", "")
        out["text"] = {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{_esc(text)}</div>',
        }
    Appointment.model_validate(out)  # what we answer is valid FHIR too
    return out


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
