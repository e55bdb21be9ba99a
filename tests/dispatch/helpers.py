"""Building a real dispatch service (real database, demo reference data) for tests."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Engine

from dispatch.booking import TimeMode, TimeRequest, parse_hhmm
from dispatch.domain import Principal
from dispatch.live import InMemoryLiveStore
from dispatch.notify import InMemoryNotifier
from dispatch.persistence import create_db_engine, migrate, store_reference_data
from dispatch.persistence.reference import load_reference_data
from dispatch.persistence.repository import Repository
from dispatch.service import TOKYO, DispatchService, Endpoint, EndpointKind, QuoteRequest
from fares import load_tariff
from geo import StraightLineModel
from noriai.demo import TARIFF_PATH, reference_data

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TOKYO)  # a Monday (勤労感謝の日, a public holiday)
DAY = date(2026, 11, 24)  # Tuesday
OPERATOR = Principal("operator", "test")
CHUO = Principal("company", "chuo-taxi", "chuo-taxi")


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_service(url: str, clock: Clock | None = None) -> tuple[DispatchService, InMemoryNotifier]:
    engine = create_db_engine(url)
    migrate(engine)
    store_reference_data(engine, reference_data())
    notifier = InMemoryNotifier()
    return open_service(url, engine, notifier, clock), notifier


def open_service(
    url: str,
    engine: Engine | None = None,
    notifier: InMemoryNotifier | None = None,
    clock: Clock | None = None,
) -> DispatchService:
    """A service on a database that ``make_service`` prepared: with its own engines, it stands for
    another server process."""
    engine = engine or create_db_engine(url)
    return DispatchService(
        Repository(engine, create_db_engine(url, read_only=True)),
        load_reference_data(engine),
        load_tariff(TARIFF_PATH),
        StraightLineModel(),
        live=InMemoryLiveStore(),
        notifier=notifier or InMemoryNotifier(),
        clock=clock or Clock(),
    )


def trip(
    rider_id: str,
    place_id: str,
    mode: str = "arrive_by",
    at: str = "10:00",
    day: date = DAY,
    companions: int = 0,
) -> QuoteRequest:
    return QuoteRequest(
        rider_id,
        Endpoint(EndpointKind.HOME),
        Endpoint(EndpointKind.PLACE, place_id),
        day,
        TimeRequest(TimeMode(mode), parse_hhmm(at)),
        companions,
    )
