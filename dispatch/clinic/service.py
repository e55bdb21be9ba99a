"""Hospital appointments -> rides, through the dispatch service's public methods.

An appointment that is booked gets an arrive-by ride from the rider's home to the place, arriving
``arrival_margin_s`` before ``start``, and, when the rider asked for it in their consent, the ride home
picked up from ``return_after_s`` after the end. The same appointment again changes nothing; a moved
``start`` books the new rides first and only then cancels the old ones (so a failure leaves the old
rides standing); ``cancelled``/``noshow`` cancels them.

The patient is matched to a rider by the clinic's own patient id (recorded with the rider's consent)
or by phone number, never by name, and only riders with an active consent for that clinic are booked.
An unknown patient and a rider without consent get the same answer, so a clinic cannot learn who is
registered.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dispatch.booking import ACTIVE_STATES, Booking, BookingStatus, TimeMode, TimeRequest
from dispatch.clinic.model import (
    CANCELLING,
    PLACE_SYSTEM,
    AppointmentIn,
    ClinicAppointment,
    ClinicConsent,
    ClinicProblem,
    ClinicResult,
    Issue,
)
from dispatch.domain import Place, Principal
from dispatch.errors import DispatchError, Forbidden, NotFound
from dispatch.persistence.clinic import ClinicStore
from dispatch.service import DispatchService, Endpoint, EndpointKind, QuoteRequest

log = logging.getLogger("noriai.clinic")
TOKYO = ZoneInfo("Asia/Tokyo")

NO_RIDER = Issue(
    "not-found",
    "no rider who consented to hospital-linked booking matches this patient (clinic patient id or phone)",
    "病院連携予約に同意した利用者が見つかりません（病院の患者IDまたは電話番号で照合します）",
    expression=("Appointment.participant",),
)


class ClinicBookings:
    def __init__(
        self,
        dispatch: DispatchService,
        store: ClinicStore,
        *,
        arrival_margin_s: int = 900,
        return_after_s: int = 600,
    ) -> None:
        self.dispatch, self.store = dispatch, store
        self.arrival_margin_s, self.return_after_s = arrival_margin_s, return_after_s

    # --- consents (operators) -----------------------------------------------------------------------
    def set_consent(
        self, p: Principal, rider_id: str, clinic_id: str, patient_id: str | None, return_ride: bool
    ) -> ClinicConsent:
        if p.role != "operator":
            raise Forbidden("operators only", "オペレーター専用の機能です")
        self.dispatch.rider(rider_id)  # 404 for an unknown rider
        c = ClinicConsent(
            clinic_id, rider_id, patient_id or None, return_ride, self.dispatch.now().astimezone(UTC)
        )
        self.store.set_consent(c)
        return c

    def withdraw_consent(self, p: Principal, rider_id: str, clinic_id: str) -> ClinicConsent:
        if p.role != "operator":
            raise Forbidden("operators only", "オペレーター専用の機能です")
        c = self.store.consent(clinic_id, rider_id)
        if c is None:
            raise NotFound("no such consent", "同意の記録がありません")
        c = replace(c, withdrawn_at=self.dispatch.now().astimezone(UTC))
        self.store.set_consent(c)
        return c

    def consents(self, p: Principal, rider_id: str) -> list[ClinicConsent]:
        if p.role != "operator":
            raise Forbidden("operators only", "オペレーター専用の機能です")
        return self.store.consents_of_rider(rider_id)

    # --- matching ----------------------------------------------------------------------------------
    def match_rider(self, clinic_id: str, appt: AppointmentIn) -> ClinicConsent:
        found = self.store.consents_by_patient_id(clinic_id, [v for _s, v in appt.patient.identifiers])
        for phone in appt.patient.phones:
            digits = "".join(ch for ch in phone if ch in "0123456789")
            if len(digits) < 10:
                continue
            with self.dispatch.repo.read() as tx:
                riders = tx.riders_by_phone(digits)
            for r in riders:
                c = self.store.consent(clinic_id, r.rider_id)
                if c is not None:
                    found.append(c)
        active = {c.rider_id: c for c in found if c.active}
        if len(active) != 1:  # nobody, or an ambiguous phone shared by two consenting riders
            raise ClinicProblem(422, NO_RIDER)
        return next(iter(active.values()))

    def match_place(self, appt: AppointmentIn) -> Place:
        places = self.dispatch.places
        for system, value in appt.location.identifiers:
            if system in (PLACE_SYSTEM, "") and value in places:
                return places[value]
        for name in appt.location.names:
            for p in places.values():
                if name in (p.name, p.name_en):
                    return p
        raise ClinicProblem(
            422,
            Issue(
                "not-found",
                f"the Location matches no place of the service (use identifier system {PLACE_SYSTEM})",
                "場所が登録された行き先と一致しません",
                expression=("Appointment.participant",),
            ),
        )

    # --- the use case ------------------------------------------------------------------------------
    def apply(self, clinic: Principal, appt: AppointmentIn) -> ClinicResult:
        if clinic.role != "clinic":
            raise ClinicProblem(403, Issue("forbidden", "clinic keys only", "病院用のキーで送信してください"))
        clinic_id = clinic.label
        consent = self.match_rider(clinic_id, appt)
        place = self.match_place(appt)
        old = self.store.appointment(clinic_id, appt.key)
        if old is not None and old.rider_id != consent.rider_id:
            raise ClinicProblem(
                409,
                Issue(
                    "conflict",
                    "this Appointment was booked for another patient",
                    "別の患者の予約と識別子が重なっています",
                ),
            )
        now = self.dispatch.now().astimezone(UTC)
        if appt.status in CANCELLING:
            if old is None:
                raise ClinicProblem(404, Issue("not-found", "no rides were booked for this Appointment",
                                               "この予約に対応する配車はありません"))  # fmt: skip
            self._cancel(clinic, old, f"appointment {appt.status}")
            new = replace(old, status=appt.status, updated_at=now)
            self.store.save_appointment(new)
            return ClinicResult("cancelled", new)
        assert appt.start is not None
        if (
            old is not None
            and old.status not in CANCELLING
            and _same(old.start_at, appt.start)
            and old.place_id == place.place_id
        ):
            return ClinicResult("unchanged", old, self._read_back(old.booking_id))
        booked = self._book(clinic, consent, place, appt)
        if old is not None:
            self._cancel(clinic, old, "appointment moved")
        self.store.save_appointment(booked.appointment)
        log.info("clinic %s appointment -> bookings %s %s", clinic_id, booked.appointment.booking_id,
                 booked.appointment.return_booking_id or "")  # fmt: skip
        return replace(booked, outcome="created" if old is None else "updated")

    def _book(
        self, clinic: Principal, consent: ClinicConsent, place: Place, appt: AppointmentIn
    ) -> ClinicResult:
        assert appt.start is not None
        local = appt.start.astimezone(TOKYO)
        day = local.date()
        at_s = local.hour * 3600 + local.minute * 60 + local.second - self.arrival_margin_s
        key = f"fhir:{clinic.label}:{appt.key}:{appt.start.astimezone(UTC).isoformat()}"
        out = self._quote_confirm(
            clinic,
            QuoteRequest(consent.rider_id, Endpoint(EndpointKind.HOME),
                         Endpoint(EndpointKind.PLACE, place.place_id), day,
                         TimeRequest(TimeMode.ARRIVE_BY, at_s)),
            key,
        )  # fmt: skip
        warnings: list[Issue] = []
        back: Booking | None = None
        if consent.return_ride and appt.end is not None:
            end = appt.end.astimezone(TOKYO)
            back_s = (end.date() - day).days * 86400 + end.hour * 3600 + end.minute * 60 + self.return_after_s
            try:
                q = self.dispatch.add_return(clinic, out.booking_id, "at", back_s)
                back = self._confirm(clinic, q, key + ":return")
            except (DispatchError, ClinicProblem) as e:
                warnings.append(Issue("incomplete", f"the ride home could not be booked: {e}",
                                      "帰りの配車は予約できませんでした", severity="warning"))  # fmt: skip
        now = self.dispatch.now().astimezone(UTC)
        a = ClinicAppointment(
            clinic.label, appt.key, consent.rider_id, place.place_id, appt.start.astimezone(UTC),
            appt.end.astimezone(UTC) if appt.end else None, appt.status, out.booking_id,
            back.booking_id if back else None, now,
        )  # fmt: skip
        return ClinicResult("created", a, self.dispatch.read_back(out), tuple(warnings))

    def _quote_confirm(self, clinic: Principal, req: QuoteRequest, key: str) -> Booking:
        try:
            q = self.dispatch.quote(clinic, req)
        except DispatchError as e:
            raise ClinicProblem(422, Issue("business-rule", e.message_en, e.message_ja)) from None
        return self._confirm(clinic, q, key)

    def _confirm(self, clinic: Principal, q: Booking, key: str) -> Booking:
        if q.state is not BookingStatus.QUOTED:
            raise ClinicProblem(
                422,
                Issue("business-rule", f"no vehicle can make it: {q.reason}", f"配車できません: {q.reason}"),
            )
        try:
            return self.dispatch.confirm(clinic, q.booking_id, 0, key)
        except DispatchError as e:
            raise ClinicProblem(409 if e.status_code == 409 else 422,
                                Issue("conflict", e.message_en, e.message_ja)) from None  # fmt: skip

    def _cancel(self, clinic: Principal, a: ClinicAppointment, reason: str) -> None:
        for bid in (a.return_booking_id, a.booking_id):
            if bid is None:
                continue
            b = self.dispatch.booking(clinic, bid)
            if not b.state.final:
                self.dispatch.cancel(clinic, bid, reason)

    def _read_back(self, booking_id: str | None) -> dict[str, str]:
        if booking_id is None:
            return {}
        b = self.dispatch.booking(Principal("system", "clinic"), booking_id)
        return self.dispatch.read_back(b) if b.state in ACTIVE_STATES else {}


def _same(a: datetime, b: datetime) -> bool:
    return abs((a - b).total_seconds()) < 1
