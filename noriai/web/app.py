"""Application factory: the composition root. ``create_app`` lists what the app is made of; each
part is built where it belongs: the shared core (``core``: databases, stores, the dispatch service),
the routers (``api`` and the ``*_api`` modules), the city's feeds and trip planner (``feeds``), the
background jobs (``background``), the demo's keys (``seed``) and ``/health`` (``health``).

Routes stay thin; the work is done in the packages below (dispatch, fares, gtfs, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dispatch.airport import flights_from_csv
from dispatch.airport_booking import AirportBookings, AirportPolicy
from dispatch.clinic.service import ClinicBookings
from dispatch.domain import ReferenceData
from dispatch.persistence.airport import AirportStore
from dispatch.persistence.clinic import ClinicStore
from dispatch.rights import DataRights
from dispatch.service import DispatchService
from dispatch.webhooks.delivery import WebhookDeliverer
from dispatch.webhooks.registry import Webhooks
from noriai.jobs import PeriodicJob, flight_status_job
from noriai.lease import Job
from noriai.settings import Settings
from noriai.sms import LogSmsSender, SmsSender
from noriai.web.airport_api import airport_router
from noriai.web.api import dispatch_routers
from noriai.web.auth import Auth
from noriai.web.background import start_background, start_feed_pollers
from noriai.web.city import city_router, load_city_feeds
from noriai.web.core import Core, open_core
from noriai.web.docs import install_static_and_docs
from noriai.web.entitlements_api import entitlements_router
from noriai.web.feeds import add_city_feeds
from noriai.web.fhir_api import fhir_router
from noriai.web.guard import RateLimiter, install_guards
from noriai.web.guest_guard import GuestGuard
from noriai.web.health import health_router
from noriai.web.keys import api_key_principal
from noriai.web.metrics import install_metrics
from noriai.web.pages import pages_router
from noriai.web.phone_codes import PhoneCodes
from noriai.web.planning import planning_router
from noriai.web.riders_api import riders_router
from noriai.web.rights_api import rights_router
from noriai.web.seed import seed_demo_clinic
from noriai.web.webhooks_api import webhooks_router

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
    core = open_core(settings, demo, clock=clock, prepare=prepare)
    service = core.service
    app = _new_app(core)
    guest_guard = _guest_guard(settings, service, sms, demo=demo is not None)
    app.state.guest_guard = guest_guard
    auth = Auth(core.repo)
    metrics = install_metrics(app, lambda key: p.role if (p := auth.keys.lookup(key)) else None)
    jobs: list[Job] = []  # run by the process holding the runner lease

    for router in dispatch_routers(service, core.notifier, metrics, auth):
        app.include_router(router)
    jobs += _add_rights(app, settings, service, auth)
    app.include_router(entitlements_router(service, auth.operator, auth.any_key))
    app.include_router(
        pages_router(
            service,
            days_ahead=settings.materialise_days_ahead,
            tile_url=settings.map_tile_url,
            tile_attribution=settings.map_tile_attribution,
        )
    )
    jobs.append(_add_webhooks(app, settings, core))
    _add_clinics(app, settings, core, seed_demo=demo is not None and prepare)
    air = _add_airport(app, settings, core, jobs)
    app.include_router(planning_router(service, auth.any_key))  # /planning: the simulator (#15)
    app.include_router(riders_router(service, auth.operator))
    start_background(app, settings, service, jobs)
    app.include_router(health_router(core))
    _add_home(app)
    app.include_router(city_router(service))
    feeds = load_city_feeds(service.reference.city)
    if feeds:  # the /bus pages and the trip planner, with their feed pollers in every process
        start_feed_pollers(app, add_city_feeds(app, settings, service, feeds, guest_guard, air))
    else:
        for href in ("/plan", "/bus"):
            _add_coming_page(app, next(s for s in SECTIONS if s["href"] == href))
    for section in SECTIONS:
        if not section["ready"]:
            _add_coming_page(app, section)
    return app


def _new_app(core: Core) -> FastAPI:
    app = FastAPI(
        title="Noriai",
        summary="Demand-responsive shared taxi and MaaS dispatch (乗合)",
        version="0.1.0",
        docs_url=None,  # served from vendored files by install_static_and_docs (works offline)
        redoc_url=None,
    )
    install_static_and_docs(app)
    app.state.engine = core.engine
    app.state.live = core.live
    app.state.reference = core.reference
    app.state.service = core.service
    app.state.notifier = core.notifier
    install_guards(app, max_body_bytes=core.settings.max_body_bytes)
    return app


def _add_rights(app: FastAPI, settings: Settings, service: DispatchService, auth: Auth) -> list[Job]:
    """Riders' data rights (export, erasure, consent) and, with a retention period, the job that
    anonymises finished trips older than it (SECURITY.md)."""
    rights = DataRights(service.repo, service.now)
    app.include_router(rights_router(rights, auth.operator))
    if settings.retention_days <= 0:
        return []
    days = settings.retention_days
    return [PeriodicJob("retention", 3600.0, lambda: rights.apply_retention(days))]


def _add_webhooks(app: FastAPI, settings: Settings, core: Core) -> WebhookDeliverer:
    """Company webhook routes, and the deliverer: a background job that runs in the runner process
    only (deliveries stay ordered per vehicle and are sent once)."""
    service = core.service
    webhooks = Webhooks(
        core.webhook_store,
        lambda: [c.company_id for c in service.reference.companies],
        allow_http_loopback=settings.webhook_allow_http_loopback,
    )
    deliverer = WebhookDeliverer(
        core.webhook_store,
        backoff_s=settings.webhook_backoff_s,
        timeout_s=settings.webhook_timeout_s,
        poll_s=settings.webhook_poll_s,
    )
    app.state.webhooks, app.state.webhook_deliverer = webhooks, deliverer
    app.include_router(webhooks_router(webhooks, api_key_principal(service.repo)))
    return deliverer


def _add_clinics(app: FastAPI, settings: Settings, core: Core, *, seed_demo: bool) -> None:
    """HL7 FHIR appointment routes for clinics, and the operator's consent records."""
    service = core.service
    store = ClinicStore(core.engine)
    clinic = ClinicBookings(
        service,
        store,
        arrival_margin_s=settings.clinic_arrival_margin_s,
        return_after_s=settings.clinic_return_after_s,
    )
    app.state.clinic = clinic
    app.include_router(fhir_router(clinic, service.repo, api_key_principal(service.repo)))
    if seed_demo:
        seed_demo_clinic(service.repo, store)


def _add_airport(app: FastAPI, settings: Settings, core: Core, jobs: list[Job]) -> AirportBookings | None:
    """The airport shared taxi, when the city has an airport place, a flight timetable and an airport
    fare; with a flight-status feed, the job that moves the pickups of late arrivals."""
    service = core.service
    city = service.reference.city
    airport = city.airport if city else None
    if airport is None or service.tariff.airport is None or airport.place_id not in service.places:
        return None
    air = AirportBookings(
        service,
        AirportStore(core.engine),
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
        jobs.append(flight_status_job(air, airport.status_url, settings.flight_status_interval_s))
    return air


def _guest_guard(
    settings: Settings, service: DispatchService, sms: SmsSender | None, *, demo: bool
) -> GuestGuard:
    if not demo and not settings.guest_phone_check:  # a real city: say what is left open
        log.warning("GUEST_PHONE_CHECK is off: guests book with any phone number, unconfirmed")
    elif settings.guest_phone_check and sms is None:
        log.warning("GUEST_PHONE_CHECK is on with the log SMS sender: codes reach the log, not phones")
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
    sender = sms or LogSmsSender()
    codes = PhoneCodes(sender, settings.pii_hash_secret, settings.redis_url, settings.redis_timeout_s)
    return GuestGuard(
        service,
        limiter,
        codes,
        secret=settings.pii_hash_secret,
        open_bookings_max=settings.guest_open_bookings_max,
        phone_check=settings.guest_phone_check,
    )


def _add_home(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "home.html", {"sections": SECTIONS})


def _add_coming_page(app: FastAPI, section: dict[str, Any]) -> None:
    def page(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "coming.html", {"section": section}, status_code=200)

    app.add_api_route(
        section["href"], page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )
