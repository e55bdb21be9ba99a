"""Types of hospital-linked booking, free of FHIR, database and web code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PLACE_SYSTEM = "urn:noriai:place"  # Location.identifier system whose value is one of our place ids
BOOKABLE = frozenset({"booked", "pending", "arrived", "checked-in"})  # Appointment.status that books rides
CANCELLING = frozenset({"cancelled", "noshow", "entered-in-error"})  # ... that cancels them


@dataclass(frozen=True, slots=True)
class ClinicConsent:
    clinic_id: str
    rider_id: str
    patient_id: str | None
    return_ride: bool
    consented_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True, slots=True)
class ClinicAppointment:
    clinic_id: str
    appointment_key: str
    rider_id: str
    place_id: str
    start_at: datetime
    end_at: datetime | None
    status: str
    booking_id: str | None
    return_booking_id: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PatientRef:
    """How the clinic names its patient: identifiers and phone numbers. Names are never used."""

    identifiers: tuple[tuple[str, str], ...] = ()  # (system, value)
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LocationRef:
    identifiers: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppointmentIn:
    """One FHIR Appointment as the booking side needs it."""

    key: str
    status: str
    start: datetime | None
    end: datetime | None
    patient: PatientRef
    location: LocationRef


@dataclass(frozen=True, slots=True)
class Issue:
    """One FHIR OperationOutcome issue: ``code`` is from the FHIR IssueType value set."""

    code: str
    en: str
    ja: str
    severity: str = "error"
    expression: tuple[str, ...] = ()


class ClinicProblem(Exception):
    """The request cannot be done: answered as an OperationOutcome with ``status`` (nothing changed)."""

    def __init__(self, status: int, *issues: Issue) -> None:
        super().__init__("; ".join(i.en for i in issues))
        self.status = status
        self.issues = issues


@dataclass(frozen=True, slots=True)
class ClinicResult:
    """What an appointment did: ``created`` / ``updated`` / ``cancelled`` / ``unchanged``."""

    outcome: str
    appointment: ClinicAppointment
    read_back: dict[str, str] = field(default_factory=dict)
    warnings: tuple[Issue, ...] = ()
