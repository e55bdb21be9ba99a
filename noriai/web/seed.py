"""What a prepared database is given besides the city: the configured operator key and, for the
demo, the demo keys (operator, one per company, a clinic) and the demo clinic's consenting riders."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.clinic.model import ClinicConsent
from dispatch.domain import Principal, ReferenceData
from dispatch.persistence.clinic import ClinicStore
from dispatch.persistence.repository import Repository
from noriai.settings import Settings

__all__ = [
    "DEMO_CLINIC_CONSENTS",
    "DEMO_CLINIC_ID",
    "DEMO_CLINIC_KEY",
    "DEMO_OPERATOR_KEY",
    "demo_company_key",
    "seed_demo_clinic",
    "seed_keys",
]

DEMO_OPERATOR_KEY = "demo-operator"
DEMO_CLINIC_KEY = "demo-clinic"
DEMO_CLINIC_ID = "red-cross-hospital"
# Fictional riders who agreed that the demo clinic books their rides (clinic patient id, ride home).
DEMO_CLINIC_CONSENTS = (("R0001", "RC-100001", True), ("R0002", "RC-100002", False))


def demo_company_key(company_id: str) -> str:
    return f"demo-{company_id}"


def seed_keys(repo: Repository, ref: ReferenceData, settings: Settings, demo: bool) -> None:
    now = datetime.now(UTC)
    with repo.write() as tx:
        if settings.operator_api_key:
            tx.add_key(settings.operator_api_key, Principal("operator", "configured"), now)
        if demo:
            tx.add_key(DEMO_OPERATOR_KEY, Principal("operator", "demo"), now)
            for c in ref.companies:
                tx.add_key(
                    demo_company_key(c.company_id), Principal("company", c.company_id, c.company_id), now
                )


def seed_demo_clinic(repo: Repository, store: ClinicStore) -> None:
    """The demo clinic's key and the consents of its fictional patients (kept if already given)."""
    now = datetime.now(UTC)
    with repo.write() as tx:
        tx.add_key(DEMO_CLINIC_KEY, Principal("clinic", DEMO_CLINIC_ID), now)
    for rider_id, patient_id, back in DEMO_CLINIC_CONSENTS:
        if store.consent(DEMO_CLINIC_ID, rider_id) is None:
            store.set_consent(ClinicConsent(DEMO_CLINIC_ID, rider_id, patient_id, back, now))
