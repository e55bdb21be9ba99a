"""The city's feeds in the app: the GTFS timetables (``/bus`` pages, the trip planner), the GTFS-RT
pollers feeding one ``RealtimeWriter`` (mirrored to Redis when configured), bike share (a polled
GBFS feed, or a city folder republished as live) and the trip planner over all of them with the
dispatch service's taxi. The pollers are ``PeriodicJob``s (``noriai.jobs``) that the caller starts in
every process serving the planner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from bikeshare import BikeShareSystem, GbfsPoller
from bus_location import Fetcher, RealtimeWriter
from bus_location.poller import PollTarget, RealtimePoller
from dispatch.airport_booking import AirportBookings
from dispatch.domain import City
from dispatch.service import DispatchService
from gtfs.loader import Feed
from noriai.jobs import PeriodicJob, gbfs_poller_job, realtime_poller_job
from noriai.settings import Settings
from noriai.web.city import city_bike_folder
from noriai.web.guest_guard import GuestGuard
from noriai.web.plan import DemoBikeShare, RealtimeDelays, plan_router
from noriai.web.transit import transit_router
from planner.taxi import DispatchTaxiQuoter
from planner.trip import TripPlanner, feed_fare_table

__all__ = ["add_city_feeds", "setting"]


def setting(settings: Settings, name: str, from_city: Any) -> Any:
    """An environment variable set explicitly wins; else the city's value; else the default."""
    if name in settings.model_fields_set or from_city is None:
        return getattr(settings, name)
    return from_city


def add_city_feeds(
    app: FastAPI,
    settings: Settings,
    service: DispatchService,
    feeds: list[Feed],
    guest_guard: GuestGuard,
    airport: AirportBookings | None = None,
) -> list[PeriodicJob]:
    """The ``/bus`` pages and the trip planner over ``feeds`` (the city's, loaded; with ``airport``,
    the planner's flight picker); the pollers to run in this process."""
    city = service.reference.city
    writer = RealtimeWriter({f.feed_id: f for f in feeds})
    app.state.realtime = writer
    app.include_router(transit_router(feeds[0], writer))
    pollers: list[PeriodicJob] = []
    planner = _trip_planner(app, settings, service, feeds, writer, pollers)
    booking_phone = setting(settings, "booking_phone", city.booking_phone if city else None)
    app.include_router(
        plan_router(
            service,
            planner,
            booking_phone,
            guest_guard,
            settings.guest_link_secret.encode() if settings.guest_link_secret else None,
            airport=airport,
        )
    )
    targets = _realtime_targets(settings, city, feeds)
    if targets:
        realtime = _realtime_poller(settings, feeds, writer, targets)
        app.state.realtime_poller = realtime
        pollers.append(realtime_poller_job(realtime))
    return pollers


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


def _realtime_poller(
    settings: Settings, feeds: list[Feed], writer: RealtimeWriter, targets: list[tuple[str, str]]
) -> RealtimePoller:
    publish = None
    if settings.redis_url:
        from bus_location.live_redis import RedisRealtimeMirror

        mirror = RedisRealtimeMirror(settings.redis_url, settings.redis_timeout_s)
        by_id = {f.feed_id: f for f in feeds}

        def publish(feed_id: str) -> None:
            mirror.publish(by_id[feed_id], writer.snapshot)

    return RealtimePoller(writer, [PollTarget(fid, Fetcher(u, ttl_s=15)) for fid, u in targets], publish)


def _trip_planner(
    app: FastAPI,
    settings: Settings,
    service: DispatchService,
    feeds: list[Feed],
    writer: RealtimeWriter,
    pollers: list[PeriodicJob],
) -> TripPlanner:
    """The trip planner over the city's timetables, realtime, bike share and the dispatch service."""
    city = service.reference.city
    bikes: Callable[[], BikeShareSystem | None]
    source = setting(settings, "gbfs_url", city.gbfs_url if city else None)
    # GBFS_URL (a URL or a folder) and a city's gbfs.json URL are polled; a city's folder is a snapshot
    polled_source = settings.gbfs_url if "gbfs_url" in settings.model_fields_set else None
    if polled_source or (source and str(source).startswith(("http://", "https://"))):
        gbfs = GbfsPoller(str(source))
        app.state.gbfs_poller = gbfs
        pollers.append(gbfs_poller_job(gbfs))

        def last_good() -> BikeShareSystem | None:  # requests never wait on the feed
            return gbfs.system

        bikes = last_good
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
        max_walk_m=setting(settings, "max_walk_m", city.max_walk_m if city else None),
        clock=service.now,
    )
