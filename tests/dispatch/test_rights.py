"""Riders' data rights on a real SQLite file and a real PostgreSQL: export holds every booking, erasure
leaves no trace of the canary in a full dump of the database and keeps the day's statistics, and it
waits until no live booking is left; retention anonymises old finished trips."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.booking import BookingEvent, BookingStatus
from dispatch.clinic.model import ClinicAppointment, ClinicConsent
from dispatch.domain import Consent, MobilityNeeds, Rider
from dispatch.errors import Conflict, Forbidden
from dispatch.persistence.clinic import ClinicStore
from dispatch.rights import ConsentChange, DataRights
from dispatch.service import TOKYO, DispatchService, Endpoint, EndpointKind
from geo import LatLon
from tests.conftest import PostgresServer
from tests.dispatch.helpers import CHUO, DAY, OPERATOR, Clock, make_service, trip

CANARY_NAME = "鳥籠カナリア"
CANARY_KANA = "とりかごかなりあ"
CANARY_PHONE = "083-987-6543"
CANARY_ADDRESS = "湯田温泉カナリア荘"
CANARY_HOME = LatLon(34.163211, 131.458877)
CANARY_PATIENT = "PT-CANARY-4417"  # the clinic's patient id
CANARY_APPOINTMENT = "urn:canary-clinic:appt|CANARY-APPT-0912"
CANARIES = [
    CANARY_NAME,
    CANARY_KANA,
    CANARY_PHONE,
    "0839876543",
    CANARY_ADDRESS,
    "34.163211",
    "131.458877",
    CANARY_PATIENT,
    CANARY_APPOINTMENT,
]
_db = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(backend, url)"""
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path / 'rights.db'}"
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        yield "postgresql", pg.new_database(f"rights_{next(_db)}")


def _dump(backend: str, url: str) -> str:
    if backend == "sqlite":
        sqlite3 = shutil.which("sqlite3")
        path = url.removeprefix("sqlite:///")
        if sqlite3 is not None:
            return subprocess.run([sqlite3, path, ".dump"], capture_output=True, text=True, check=True).stdout
        import sqlite3 as lib

        return "\n".join(lib.connect(path).iterdump())
    pg_dump = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run([str(pg_dump), plain], capture_output=True, text=True, check=True).stdout


def _canary(svc: DispatchService) -> str:
    rider = Rider(
        rider_id="R9001",
        name=CANARY_NAME,
        kana=CANARY_KANA,
        phone=CANARY_PHONE,
        home=CANARY_HOME,
        district="湯田",
        birth_year=1947,
        needs=MobilityNeeds(),
        disability_certificate=False,
        welfare_bus_pass=True,
        consent=Consent(data_reuse=True),
    )
    with svc.repo.write() as tx:
        tx.add_rider(rider)
    return rider.rider_id


def _history(svc: DispatchService, rid: str) -> list[str]:
    """A finished trip, a cancelled one with personal data in the reason, and one to a private point."""
    done = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(rid, "yamaguchi-sta")).booking_id, 0)
    cancelled = svc.confirm(
        OPERATOR, svc.quote(OPERATOR, trip(rid, "red-cross-hospital", at="14:00")).booking_id, 0
    )
    svc.cancel(OPERATOR, cancelled.booking_id, f"{CANARY_NAME}さん本人から {CANARY_PHONE} で連絡")
    to_point = replace(
        trip(rid, "yamaguchi-sta", mode="pickup_after", at="15:00"),
        destination=Endpoint(EndpointKind.POINT, point=LatLon(34.170001, 131.470001), label=CANARY_ADDRESS),
    )
    private = svc.confirm(OPERATOR, svc.quote(OPERATOR, to_point).booking_id, 0)
    assert done.company_id is not None and done.planned_pickup_s is not None
    owner = replace(CHUO, label=done.company_id, company_id=done.company_id)
    svc.clock = Clock(svc.wall_clock(DAY, done.planned_pickup_s))
    for ev in (BookingEvent.ARRIVE, BookingEvent.PICK_UP, BookingEvent.DROP_OFF):
        svc.stop_event(owner, done.booking_id, ev)
    return [done.booking_id, cancelled.booking_id, private.booking_id]


def _clinic(svc: DispatchService, rid: str, booking_id: str) -> None:
    """The rider consented to a clinic's appointments, and one appointment booked the 14:00 ride."""
    store = ClinicStore(svc.repo.engine)
    at = svc.wall_clock(DAY, 8 * 3600)
    store.set_consent(ClinicConsent("canary-clinic", rid, CANARY_PATIENT, True, at))
    start = svc.wall_clock(DAY, 14 * 3600 + 1800)
    appt = ClinicAppointment(
        "canary-clinic",
        CANARY_APPOINTMENT,
        rid,
        "red-cross-hospital",
        start,
        None,
        "booked",
        booking_id,
        None,
        at,
    )
    store.save_appointment(appt)


def test_erasure_leaves_no_trace_of_the_canary_and_keeps_the_statistics(db: tuple[str, str]) -> None:
    backend, url = db
    svc, _ = make_service(url)
    rights = DataRights(svc.repo, lambda: svc.clock())
    rid = _canary(svc)
    ids = _history(svc, rid)
    _clinic(svc, rid, ids[1])
    cancel_audit = str(svc.audit_trail(ids[1]))
    assert CANARY_NAME not in cancel_audit and CANARY_PHONE not in cancel_audit  # only a code is audited
    assert '"reason_given": true' in cancel_audit
    with pytest.raises(Conflict):  # the 15:00 trip is still live
        rights.erase(OPERATOR, rid)
    svc.cancel(OPERATOR, ids[2], "")
    svc.clock = Clock(datetime(DAY.year, DAY.month, DAY.day, 20, tzinfo=TOKYO) + timedelta(days=1))
    rights.set_consent(OPERATOR, rid, ConsentChange("data_reuse", False, date(2026, 11, 20)))

    exported = rights.export(OPERATOR, rid)
    assert sorted(b["booking_id"] for b in exported["bookings"]) == sorted(ids)
    assert exported["rider"]["name"] == CANARY_NAME
    assert {a["booking_id"] for a in exported["audit"]} == set(ids)
    assert exported["consents"][0]["detail"].count("2026-11-20") == 1
    assert [c["patient_id"] for c in exported["clinic_consents"]] == [CANARY_PATIENT]
    assert exported["entitlements"] == [] and exported["voucher_ledger"] == []  # none given to this rider
    assert [(a["appointment_key"], a["booking_id"]) for a in exported["clinic_appointments"]] == [
        (CANARY_APPOINTMENT, ids[1])
    ]
    before_dump = _dump(backend, url)
    assert all(c in before_dump for c in (CANARY_NAME, CANARY_PHONE, CANARY_ADDRESS, *CANARIES[-2:]))

    stats = rights.day_statistics(DAY)
    out = rights.erase(OPERATOR, rid)
    assert out["bookings_anonymised"] == 3
    assert rights.day_statistics(DAY) == stats
    dump = _dump(backend, url)
    leaks = [c for c in CANARIES if c in dump]
    assert leaks == []
    states = sorted(b.status for b in svc.bookings(rider_id=rid))
    assert states == ["cancelled", "cancelled", "dropped_off"]  # the trip facts stay
    after = rights.export(OPERATOR, rid)
    assert after["clinic_consents"] == [] and after["clinic_appointments"] == []
    assert [e["event"] for e in rights.export(OPERATOR, rid)["rider_events"]] == [
        "consent",
        "export",
        "erase",
        "export",
        "export",
    ]
    svc.repo.engine.dispose()


def test_only_operators_export_or_erase(tmp_path: Path) -> None:
    svc, _ = make_service(f"sqlite:///{tmp_path / 'r.db'}")
    rights = DataRights(svc.repo, svc.now)
    with pytest.raises(Forbidden):
        rights.export(CHUO, "R0001")
    with pytest.raises(Forbidden):
        rights.erase(CHUO, "R0001")
    assert svc.rider("R0001").name  # nothing changed


def test_retention_anonymises_old_finished_trips_only(tmp_path: Path) -> None:
    svc, _ = make_service(f"sqlite:///{tmp_path / 'r.db'}")
    rid = _canary(svc)
    ids = _history(svc, rid)
    rights = DataRights(svc.repo, lambda: svc.clock())
    assert rights.apply_retention(30) == 0  # nothing is 30 days old yet
    svc.clock = Clock(datetime(2027, 1, 10, 3, tzinfo=TOKYO))
    stats = rights.day_statistics(DAY)
    assert rights.apply_retention(30) == 2  # the finished and the cancelled trip; the 15:00 one is live
    assert rights.day_statistics(DAY) == stats
    kept = {b.booking_id: b for b in svc.bookings(rider_id=rid)}
    assert kept[ids[1]].reason is None  # the cancel reason was free text
    assert kept[ids[2]].dest_label == CANARY_ADDRESS  # still scheduled: untouched
    assert kept[ids[0]].state is BookingStatus.DROPPED_OFF
    assert CANARY_NAME not in str(svc.audit_trail(ids[1]))
    assert svc.rider(rid).name == CANARY_NAME  # the rider is still registered


def test_a_company_takes_a_vehicle_off_on_the_day_only_and_it_can_be_restored(tmp_path: Path) -> None:
    svc, _ = make_service(f"sqlite:///{tmp_path / 'r.db'}")
    vid = next(v for v in svc.vehicles.values() if v.company_id == "chuo-taxi").vehicle_id
    with pytest.raises(Forbidden):
        svc.vehicle_breakdown(CHUO, vid, DAY)  # tomorrow: the operator's call
    svc.clock = Clock(datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=TOKYO))
    svc.vehicle_breakdown(CHUO, vid, DAY)
    assert svc.runs(CHUO, DAY, vid)[0]["out_of_service"] is True
    with pytest.raises(Forbidden):
        svc.restore_vehicle(CHUO, vid, DAY + timedelta(days=1))
    svc.restore_vehicle(CHUO, vid, DAY)
    assert svc.runs(CHUO, DAY, vid)[0]["out_of_service"] is False
    svc.vehicle_breakdown(OPERATOR, vid, DAY + timedelta(days=3))  # an operator may plan ahead
    svc.restore_vehicle(OPERATOR, vid, DAY + timedelta(days=3))
    assert svc.runs(OPERATOR, DAY + timedelta(days=3), vid)[0]["out_of_service"] is False
