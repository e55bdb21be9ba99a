"""The parts every route and job share, opened once per process from the settings: the two database
engines (writer and reader), the repository, the city as imported, the live store and the company
notifications (Redis or in process), the webhook outbox and the dispatch service over all of them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from dispatch.domain import ReferenceData
from dispatch.live import LiveStore, make_live_store
from dispatch.notify import NotificationStream, make_notifier
from dispatch.persistence import create_db_engine, database_backend, import_city, migrate
from dispatch.persistence.reference import load_reference_data
from dispatch.persistence.repository import Repository
from dispatch.persistence.webhooks import WebhookStore
from dispatch.service import DispatchService
from dispatch.webhooks.delivery import WebhookOutbox
from fares import load_tariff
from fares.tariff import parse_tariff
from geo import RoadNetworkModel, StraightLineModel, TravelTimeModel
from noriai.demo import DATA_DIR, TARIFF_PATH
from noriai.settings import Settings
from noriai.web.seed import seed_keys

log = logging.getLogger("noriai.web")

__all__ = ["Core", "open_core"]


@dataclass(frozen=True)
class Core:
    settings: Settings
    engine: Engine
    read_engine: Engine
    repo: Repository
    reference: ReferenceData
    live: LiveStore
    notifier: NotificationStream  # server-sent events; the service publishes via the webhook outbox
    webhook_store: WebhookStore
    service: DispatchService


def open_core(
    settings: Settings,
    demo: ReferenceData | None,
    *,
    clock: Callable[[], datetime] | None,
    prepare: bool,
) -> Core:
    """``prepare`` migrates the database, (re-)imports the demo city when given and seeds the keys;
    ``noriai serve --workers N`` does that once in the parent and opens workers with ``prepare=False``."""
    size, overflow = settings.db_pool_size, settings.db_max_overflow
    engine = create_db_engine(settings.database_url, pool_size=size, max_overflow=overflow)
    read_engine = create_db_engine(
        settings.database_url, read_only=True, pool_size=size, max_overflow=overflow
    )
    if prepare:
        migrate(engine)
    if prepare and demo is not None:  # the built-in city: (re-)imported on every start, bookings kept
        import_city(engine, demo, bundle_path=str(DATA_DIR), now=datetime.now(UTC))
        log.info("demo city imported into %s", database_backend(settings.database_url))
    live = make_live_store(settings.redis_url, settings.redis_timeout_s)
    notifier = make_notifier(settings.redis_url, settings.redis_timeout_s)
    repo = Repository(engine, read_engine)
    reference = load_reference_data(engine)
    city = reference.city
    if city is None:
        log.warning("no city imported: run `noriai city import DIR` (or serve --demo)")
    if prepare:
        seed_keys(repo, reference, settings, demo is not None)
    travel: TravelTimeModel = (
        RoadNetworkModel(Path(settings.osm_file)) if settings.osm_file else StraightLineModel()
    )
    webhook_store = WebhookStore(engine, read_engine)
    # no city yet: the demo tariff stands in (nothing can be quoted without vehicles anyway)
    tariff = parse_tariff(city.tariff_toml, "city tariff") if city else load_tariff(TARIFF_PATH)
    service = DispatchService(
        repo,
        reference,
        tariff,
        travel,
        live=live,
        notifier=WebhookOutbox(notifier, webhook_store),  # SSE stream + the webhook outbox
        clock=clock,
    )
    return Core(settings, engine, read_engine, repo, reference, live, notifier, webhook_store, service)
