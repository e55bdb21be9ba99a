"""Application factory: wires settings, database, live store and demo data into FastAPI routes.

Routes stay thin; the work is done in the packages below (dispatch, fares, gtfs, ...).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bikeshare import BikeShareSystem
from bus_location import RealtimeWriter
from dispatch.airport import flights_from_csv
from dispatch.airport_booking import AirportBookings, AirportPolicy
from dispatch.clinic.model import ClinicConsent
from dispatch.clinic.service import ClinicBookings
from dispatch.domain import City, Principal, ReferenceData
from dispatch.live import LiveStore, make_live_store
from dispatch.notify import make_notifier
from dispatch.persistence import (
    count_reference_rows,
    create_db_engine,
    database_backend,
    import_city,
    migrate,
)
from dispatch.persistence.airport import AirportStore
from dispatch.persistence.clinic import ClinicStore
from dispatch.persistence.reference import load_reference_data
from dispatch.persistence.repository import Repository
from dispatch.persistence.webhooks import WebhookStore
from dispatch.rights import DataRights
from dispatch.service import DispatchService
from dispatch.webhooks.delivery import WebhookDeliverer, WebhookOutbox
from dispatch.webhooks.registry import Webhooks
from fares import load_tariff
from fares.tariff import parse_tariff
from geo import RoadNetworkModel, StraightLineModel, TravelTimeModel
from gtfs.loader import Feed
from noriai.demo import DATA_DIR, TARIFF_PATH
from noriai.jobs import BackgroundJobs, PeriodicJob, flight_status_job, materialiser_job, reoptimiser_job
from noriai.lease import Job, Lease, LeasedRunner, LocalLease, RedisLease
from noriai.settings import Settings
from noriai.sms import LogSmsSender, SmsSender
from noriai.web.airport_api import airport_router
from noriai.web.api import dispatch_routers
from noriai.web.auth import Auth
from noriai.web.city import city_bike_folder, city_router, load_city_feeds
from noriai.web.docs import install_static_and_docs
from noriai.web.entitlements_api import entitlements_router
from noriai.web.fhir_api import fhir_router
from noriai.web.guard import RateLimiter, install_guards
from noriai.web.guest_guard import GuestGuard
from noriai.web.keys import api_key_principal
from noriai.web.metrics import install_metrics
from noriai.web.pages import pages_router
from noriai.web.phone_codes import PhoneCodes
from noriai.web.plan import DemoBikeShare, PolledBikeShare, RealtimeDelays, plan_router
from noriai.web.planning import planning_router
from noriai.web.riders_api import riders_router
from noriai.web.rights_api import rights_router
from noriai.web.webhooks_api import webhooks_router
from planner.taxi import DispatchTaxiQuoter
from planner.trip import TripPlanner, feed_fare_table
from solver import warm_up as warm_up_solver

log = logging.getLogger("noriai.web")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# The parts of the app and whether they are built yet; the home page links to each.
SECTIONS: list[dict[str, Any]] = [
    {
        "href": "/operator",
        "ja": "オペレーター画面（電話予約）",
        "en": "Operator console (phone bookings)",
        "ready": True,
    },
    {
        "href": "/company",
        "ja": "タクシー事業者画面（運行表・地図）",
        "en": "Taxi company view (runs and map)",
        "ready": True,
    },
    {
        "href": "/plan",
        "ja": "乗換案内（バス・シェアサイクル・乗合タクシー）",
        "en": "Trip planner (bus, bike share, shared taxi)",
        "ready": True,
    },
    {
        "href": "/bus",
        "ja": "バス接近情報・総合時刻表",
        "en": "Bus arrivals and combined timetables",
        "ready": True,
    },
    {
        "href": "/planning",
        "ja": "運行計画の検討（市の担当者向け・シミュレーション）",
        "en": "Service planning (simulation, for city officers)",
        "ready": True,
    },
    {
        "href": "/api/v1/places",
        "ja": "主な行き先一覧（API）",
        "en": "Common destinations (API)",
        "ready": True,
    },
    {"href": "/api/v1/zones", "ja": "運行区域（GeoJSON）", "en": "Service zones (GeoJSON)", "ready": True},
    {"href": "/docs", "ja": "API仕様（OpenAPI）", "en": "API reference (OpenAPI)", "ready": True},
    {"href": "/health", "ja": "稼働状況", "en": "Health", "ready": True},
]


DEMO_OPERATOR_KEY = "demo-operator"


def demo_company_key(company_id: str) -> str:
    return f"demo-{company_id}"


def create_app(
    settings: Settings | None = None,
    demo: ReferenceData | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    sms: SmsSender | None = None,
    prepare: bool = True,
) -> FastAPI:
    """The web app over the city in the database. ``prepare`` runs the migrations, loads the reference
    data and seeds the keys first; ``noriai serve --workers N`` does that once in the parent and
    starts its workers with ``prepare=False``, so N processes never migrate at the same time."""
    settings = settings or Settings()
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
    live: LiveStore = make_live_store(settings.redis_url, settings.redis_timeout_s)
    notifier = make_notifier(settings.redis_url, settings.redis_timeout_s)
    repo = Repository(engine, read_engine)
    reference = load_reference_data(engine)
    city = reference.city
    if city is None:
        log.warning("no city imported: run `noriai city import DIR` (or serve --demo)")
    if prepare:
        _seed_keys(repo, reference, settings, demo is not None)
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

    app = FastAPI(
        title="Noriai",
        summary="Demand-responsive shared taxi and MaaS dispatch (乗合)",
        version="0.1.0",
        docs_url=None,  # served from vendored files by install_static_and_docs (works offline)
        redoc_url=None,
    )
    install_static_and_docs(app)
    app.state.engine = engine
    app.state.live = live
    app.state.reference = reference
    app.state.service = service
    app.state.notifier = notifier
    install_guards(app, max_body_bytes=settings.max_body_bytes)
    guest_guard = _guest_guard(settings, service, sms or LogSmsSender())
    app.state.guest_guard = guest_guard
    if demo is None and not settings.guest_phone_check:  # a real city: say what is left open
        log.warning("GUEST_PHONE_CHECK is off: guests book with any phone number, unconfirmed")
    elif settings.guest_phone_check and sms is None:
        log.warning("GUEST_PHONE_CHECK is on with the log SMS sender: codes reach the log, not phones")

    auth = Auth(repo)

    def role_of(key: str) -> str | None:
        p = auth.keys.lookup(key)
        return p.role if p else None

    metrics = install_metrics(app, role_of)
    for router in dispatch_routers(service, notifier, metrics, auth):
        app.include_router(router)
    rights = DataRights(repo, service.now)
    app.include_router(rights_router(rights, auth.operator))
    app.include_router(entitlements_router(service, auth.operator, auth.any_key))
    background: list[Job] = []
    if settings.retention_days > 0:  # anonymise finished trips older than the retention (SECURITY.md)
        days = settings.retention_days
        background.append(PeriodicJob("retention", 3600.0, lambda: rights.apply_retention(days)))
    app.include_router(
        pages_router(
            service,
            days_ahead=settings.materialise_days_ahead,
            tile_url=settings.map_tile_url,
            tile_attribution=settings.map_tile_attribution,
        )
    )
    deliverer = _add_webhooks(app, settings, service, webhook_store)
    _add_clinics(app, settings, service, engine, demo is not None and prepare)
    airport = city.airport if city else None
    air: AirportBookings | None = None
    if airport is not None and service.tariff.airport is not None and airport.place_id in service.places:
        air = AirportBookings(
            service,
            AirportStore(engine),
            flights_from_csv(airport.flights_csv, "city flights"),
            AirportPolicy(
                airport.place_id,
                service.tariff.airport.fare_per_person_yen,
                checkin_margin_s=airport.checkin_margin_s,
                baggage_margin_s=airport.baggage_margin_s,
            ),
        )
        app.state.airport = air
        app.include_router(airport_router(air, api_key_principal(service.repo)))
        if airport.status_url and settings.flight_status_interval_s > 0:
            background.append(flight_status_job(air, airport.status_url, settings.flight_status_interval_s))
    app.include_router(
        planning_router(service, auth.any_key)
    )  # /planning: the simulator for city officers (#15)
    app.include_router(riders_router(service, auth.operator))
    _compose_background(app, settings, service, [deliverer, *background])

    @app.get("/health", tags=["ops"], responses={503: {"description": "the database does not answer"}})
    def health() -> JSONResponse:
        db_ok = True
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
        except Exception:
            db_ok = False
        body: dict[str, Any] = {
            "status": "ok" if db_ok else "degraded",
            "database": {"backend": database_backend(settings.database_url), "ok": db_ok},
            "live_store": {"backend": live.backend, "ok": live.healthy()},
            "reference_rows": count_reference_rows(engine) if db_ok else None,
            "notifications": {"backend": notifier.backend},
            "process": process_health(app),
        }
        feeds = feed_health(app)
        if feeds:  # a failing feed degrades its mode only: still 200, but said here
            body["feeds"] = feeds
            if db_ok and any(f["state"] in ("failing", "stale") for f in feeds.values()):
                body["status"] = "degraded"
        return JSONResponse(body, status_code=200 if db_ok else 503)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "home.html", {"sections": SECTIONS})

    app.include_router(city_router(service))

    feeds = load_city_feeds(city)
    if feeds:
        from noriai.web.transit import transit_router

        writer = RealtimeWriter({f.feed_id: f for f in feeds})
        app.state.realtime = writer
        app.include_router(transit_router(feeds[0], writer))
        booking_phone = _setting(settings, "booking_phone", city.booking_phone if city else None)
        app.include_router(
            plan_router(
                service,
                _trip_planner(settings, service, feeds, writer, app),
                booking_phone,
                guest_guard,
                settings.guest_link_secret.encode() if settings.guest_link_secret else None,
                airport=air,
            )
        )
        targets = _realtime_targets(settings, city, feeds)
        if targets:
            from bus_location import Fetcher
            from bus_location.poller import PollTarget, RealtimePoller

            publish = None
            if settings.redis_url:
                from bus_location.live_redis import RedisRealtimeMirror

                mirror = RedisRealtimeMirror(settings.redis_url, settings.redis_timeout_s)
                by_id = {f.feed_id: f for f in feeds}

                def publish(feed_id: str) -> None:
                    mirror.publish(by_id[feed_id], writer.snapshot)

            poller = RealtimePoller(
                writer, [PollTarget(fid, Fetcher(u, ttl_s=15)) for fid, u in targets], publish
            )
            app.state.realtime_poller = poller
            app.router.add_event_handler("startup", lambda: poller.start(interval_s=15))
            app.router.add_event_handler("shutdown", poller.stop)
    else:
        for href in ("/plan", "/bus"):
            _add_coming_page(app, next(s for s in SECTIONS if s["href"] == href))
    for section in SECTIONS:
        if not section["ready"]:
            _add_coming_page(app, section)
    return app


def _setting(settings: Settings, name: str, from_city: Any) -> Any:
    """An environment variable set explicitly wins; else the city's value; else the default."""
    if name in settings.model_fields_set or from_city is None:
        return getattr(settings, name)
    return from_city


def _realtime_targets(settings: Settings, city: City | None, feeds: list[Feed]) -> list[tuple[str, str]]:
    """(feed_id, GTFS-RT URL) pairs: each feed's ``realtime`` URLs from city.toml, plus
    ``GTFS_RT_URLS`` for the first feed (the city bus)."""
    loaded = {f.feed_id for f in feeds}
    out = [
        (src.feed_id, u)
        for src in (city.feeds if city else ())
        if src.feed_id in loaded
        for u in src.realtime
    ]
    out += [(feeds[0].feed_id, u.strip()) for u in settings.gtfs_rt_urls.split(",") if u.strip()]
    return out


def _trip_planner(
    settings: Settings,
    service: DispatchService,
    feeds: list[Feed],
    writer: RealtimeWriter,
    app: FastAPI,
) -> TripPlanner:
    """The trip planner over the city's timetables, realtime, bike share and the dispatch service."""
    city = service.reference.city
    bikes: Callable[[], BikeShareSystem | None]
    source = _setting(settings, "gbfs_url", city.gbfs_url if city else None)
    # GBFS_URL (a URL or a folder) and a city's gbfs.json URL are polled; a city's folder is a snapshot
    polled_source = settings.gbfs_url if "gbfs_url" in settings.model_fields_set else None
    if polled_source or (source and str(source).startswith(("http://", "https://"))):
        polled = PolledBikeShare(str(source))
        app.state.gbfs_poller = polled.poller
        app.router.add_event_handler("startup", polled.start)
        app.router.add_event_handler("shutdown", polled.stop)
        bikes = polled
    else:
        system = city_bike_folder(source)
        bikes = DemoBikeShare(system, service.now) if system is not None else (lambda: None)
    tables = {f.feed_id: t for f in feeds if (t := feed_fare_table(f)) is not None}
    return TripPlanner(
        feeds,
        fare_tables=tables,
        tariff=service.tariff,
        bikes=bikes,
        taxi=DispatchTaxiQuoter(service),
        realtime=RealtimeDelays(feeds, writer, service.now),
        max_walk_m=_setting(settings, "max_walk_m", city.max_walk_m if city else None),
        clock=service.now,
    )


def feed_health(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The state of each polled feed (GBFS ``bikeshare``, GTFS-RT ``realtime:<feed>``) for /health."""
    out: dict[str, dict[str, Any]] = {}
    gbfs = getattr(app.state, "gbfs_poller", None)
    if gbfs is not None:
        out["bikeshare"] = gbfs.health()
    realtime = getattr(app.state, "realtime_poller", None)
    if realtime is not None:
        for i, h in enumerate(realtime.health(), start=1):
            out[f"realtime:{i}"] = h
    return out


def _add_webhooks(
    app: FastAPI, settings: Settings, service: DispatchService, store: WebhookStore
) -> WebhookDeliverer:
    """Company webhook routes, and the deliverer: a background job that runs in the runner process
    only (deliveries stay ordered per vehicle and are sent once)."""
    webhooks = Webhooks(
        store,
        lambda: [c.company_id for c in service.reference.companies],
        allow_http_loopback=settings.webhook_allow_http_loopback,
    )
    deliverer = WebhookDeliverer(
        store,
        backoff_s=settings.webhook_backoff_s,
        timeout_s=settings.webhook_timeout_s,
        poll_s=settings.webhook_poll_s,
    )
    app.state.webhooks, app.state.webhook_deliverer = webhooks, deliverer
    app.include_router(webhooks_router(webhooks, api_key_principal(service.repo)))
    return deliverer


DEMO_CLINIC_KEY = "demo-clinic"
DEMO_CLINIC_ID = "red-cross-hospital"
# Fictional riders who agreed that the demo clinic books their rides (clinic patient id, ride home).
DEMO_CLINIC_CONSENTS = (("R0001", "RC-100001", True), ("R0002", "RC-100002", False))


def _add_clinics(
    app: FastAPI, settings: Settings, service: DispatchService, engine: Engine, demo: bool
) -> None:
    """HL7 FHIR appointment routes for clinics, and the operator's consent records."""
    store = ClinicStore(engine)
    clinic = ClinicBookings(
        service,
        store,
        arrival_margin_s=settings.clinic_arrival_margin_s,
        return_after_s=settings.clinic_return_after_s,
    )
    app.state.clinic = clinic
    app.include_router(fhir_router(clinic, service.repo, api_key_principal(service.repo)))
    if demo:
        now = datetime.now(UTC)
        with service.repo.write() as tx:
            tx.add_key(DEMO_CLINIC_KEY, Principal("clinic", DEMO_CLINIC_ID), now)
        for rider_id, patient_id, back in DEMO_CLINIC_CONSENTS:
            if store.consent(DEMO_CLINIC_ID, rider_id) is None:
                store.set_consent(ClinicConsent(DEMO_CLINIC_ID, rider_id, patient_id, back, now))


def _guest_guard(settings: Settings, service: DispatchService, sms: SmsSender) -> GuestGuard:
    # the cap holds across processes: counted again in the booking's transaction (dispatch.duplicates)
    service.ctx.guest_open_bookings_max = settings.guest_open_bookings_max
    limiter = RateLimiter(
        {
            "guest_booking": settings.rate_guest_booking,
            "guest_phone": settings.rate_guest_phone,
            "planner": settings.rate_planner,
            "phone_code": settings.rate_phone_code,
        },
        settings.redis_url,
        settings.redis_timeout_s,
    )
    codes = PhoneCodes(sms, settings.pii_hash_secret, settings.redis_url, settings.redis_timeout_s)
    return GuestGuard(
        service,
        limiter,
        codes,
        secret=settings.pii_hash_secret,
        open_bookings_max=settings.guest_open_bookings_max,
        phone_check=settings.guest_phone_check,
    )


def _compose_background(
    app: FastAPI, settings: Settings, service: DispatchService, others: Sequence[Job]
) -> None:
    """The timed work (re-optimiser, recurring materialiser, and ``others`` such as the webhook
    deliverer) runs in the process that holds the runner lease: Redis when configured (several
    processes, one runner), else this process alone. An ``api`` process never runs it."""
    jobs = BackgroundJobs()
    if settings.reoptimise_interval_s > 0:
        jobs.add(
            reoptimiser_job(service, settings.reoptimise_interval_s, settings.reoptimise_time_limit_s, None)
        )
    if settings.materialise_interval_s > 0:
        jobs.add(materialiser_job(service, settings.materialise_interval_s, settings.materialise_days_ahead))
    app.state.jobs = jobs
    app.state.process_role = settings.role
    if settings.role == "api":
        return
    lease: Lease = (
        RedisLease(
            settings.redis_url,
            # one lease per deployment, and a deployment is its database: two cities (or test apps)
            # sharing one Redis never wait on each other's runner
            "runner:" + hashlib.sha256(settings.database_url.encode()).hexdigest()[:16],
            ttl_s=settings.runner_lease_ttl_s,
            timeout_s=settings.redis_timeout_s,
        )
        if settings.redis_url
        else LocalLease()
    )
    rest = []
    for job in others:  # timed jobs show in /health with the others; the webhook deliverer is its own
        if isinstance(job, PeriodicJob):
            jobs.add(job)
        else:
            rest.append(job)
    runner = LeasedRunner(lease, [jobs, *rest], ttl_s=settings.runner_lease_ttl_s)
    app.state.runner = runner
    if settings.reoptimise_interval_s > 0:
        # every candidate loads the compiled search at start (~10 s the first time on a machine, then
        # under 1 s), so a standby that takes over re-optimises at once instead of compiling first
        app.router.add_event_handler(
            "startup", lambda: threading.Thread(target=_warm_up, name="solver-warm-up", daemon=True).start()
        )
    app.router.add_event_handler("startup", runner.start)
    app.router.add_event_handler("shutdown", runner.stop)


def _warm_up() -> None:
    try:
        warm_up_solver()
    except Exception:
        log.exception("solver warm-up failed; the first re-optimisation will load it")


def process_health(app: FastAPI) -> dict[str, Any]:
    """Which role this process plays (api | runner | all), whether it holds the runner lease now, and
    its background jobs, for /health."""
    runner: LeasedRunner | None = getattr(app.state, "runner", None)
    jobs: BackgroundJobs | None = getattr(app.state, "jobs", None)
    state = runner.state() if runner is not None else None
    return {
        "role": getattr(app.state, "process_role", "all"),
        "pid": os.getpid(),
        "runner": (
            {"role": state.role, "holder": state.holder, "token": state.token, "leader": state.leader}
            if state is not None
            else {"role": "none"}
        ),
        "jobs": jobs.state() if jobs is not None and state is not None and state.role == "runner" else {},
    }


def _seed_keys(repo: Repository, ref: ReferenceData, settings: Settings, demo: bool) -> None:
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


def _add_coming_page(app: FastAPI, section: dict[str, Any]) -> None:
    def page(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "coming.html", {"section": section}, status_code=200)

    app.add_api_route(
        section["href"], page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )
