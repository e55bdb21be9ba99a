"""Clinic consents and appointments (tables ``clinic_consent``, ``clinic_appointment``)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.clinic.model import ClinicAppointment, ClinicConsent
from dispatch.persistence.tables import ClinicAppointmentRow, ClinicConsentRow


def _consent(row: ClinicConsentRow) -> ClinicConsent:
    return ClinicConsent(
        row.clinic_id, row.rider_id, row.patient_id, row.return_ride, row.consented_at, row.withdrawn_at
    )


def _appointment(row: ClinicAppointmentRow) -> ClinicAppointment:
    names = {f.name for f in dataclasses.fields(ClinicAppointment)}
    return ClinicAppointment(**{k: v for k, v in row.model_dump().items() if k in names})


class ClinicStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def set_consent(self, c: ClinicConsent) -> None:
        with self._session() as s:
            row = s.get(ClinicConsentRow, (c.clinic_id, c.rider_id))
            if row is None:
                row = ClinicConsentRow(
                    clinic_id=c.clinic_id, rider_id=c.rider_id, consented_at=c.consented_at
                )
            row.patient_id = c.patient_id
            row.return_ride = c.return_ride
            row.consented_at = c.consented_at
            row.withdrawn_at = c.withdrawn_at
            s.add(row)
            s.commit()

    def consent(self, clinic_id: str, rider_id: str) -> ClinicConsent | None:
        with self._session() as s:
            row = s.get(ClinicConsentRow, (clinic_id, rider_id))
            return _consent(row) if row else None

    def consents_by_patient_id(self, clinic_id: str, patient_ids: list[str]) -> list[ClinicConsent]:
        if not patient_ids:
            return []
        with self._session() as s:
            rows = s.exec(
                select(ClinicConsentRow).where(
                    ClinicConsentRow.clinic_id == clinic_id, col(ClinicConsentRow.patient_id).in_(patient_ids)
                )
            ).all()
            return [_consent(r) for r in rows]

    def consents_of_rider(self, rider_id: str) -> list[ClinicConsent]:
        with self._session() as s:
            rows = s.exec(select(ClinicConsentRow).where(ClinicConsentRow.rider_id == rider_id)).all()
            return [_consent(r) for r in rows]

    def appointment(self, clinic_id: str, key: str) -> ClinicAppointment | None:
        with self._session() as s:
            row = s.get(ClinicAppointmentRow, (clinic_id, key))
            return _appointment(row) if row else None

    def save_appointment(self, a: ClinicAppointment) -> None:
        with self._session() as s:
            row = s.get(ClinicAppointmentRow, (a.clinic_id, a.appointment_key))
            if row is None:
                s.add(ClinicAppointmentRow(**dataclasses.asdict(a)))
            else:
                for k, v in dataclasses.asdict(a).items():
                    setattr(row, k, v)
                s.add(row)
            s.commit()
