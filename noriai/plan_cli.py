"""The work behind ``noriai plan``: load feeds, apply realtime files, run the planner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bikeshare import GbfsError, load_system
from bus_location import RealtimeWriter
from bus_location.matcher import feed_timezone
from geo import LatLon
from gtfs.loader import default_feed_id, load_feed
from gtfs.tables import FeedError
from planner.bike import bike_journey
from planner.journey import Journey, Place, PlanError, Planner, resolve_stop
from planner.realtime import delays_for


class PlanCliError(ValueError):
    pass


def run_plan(
    gtfs: Sequence[str],
    depart: str,
    *,
    from_stop: str | None,
    from_point: str | None,
    to_stop: str | None,
    to_point: str | None,
    gtfs_rt: Sequence[str],
    gbfs: str | None,
    max_walk_m: float,
    min_transfer_s: int,
    warn: Callable[[str], None],
) -> dict[str, Any]:
    feeds = []
    used: set[str] = set()
    for path in gtfs:
        fid = default_feed_id(Path(path))
        while fid in used:
            fid += "_"
        used.add(fid)
        try:
            feeds.append(load_feed(path, fid))
        except FeedError as exc:
            raise PlanCliError(str(exc)) from None
    tz: ZoneInfo = feed_timezone(feeds[0])
    try:
        when = datetime.fromisoformat(depart)
    except ValueError:
        raise PlanCliError(f"--depart must be YYYY-MM-DDTHH:MM, got {depart!r}") from None
    when = when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
    try:
        origin = Place(stop_id=from_stop) if from_stop else Place(point=LatLon.parse(from_point or ""))
        dest = Place(stop_id=to_stop) if to_stop else Place(point=LatLon.parse(to_point or ""))
    except ValueError as exc:
        raise PlanCliError(str(exc)) from None
    delays: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    if gtfs_rt:
        writer = RealtimeWriter({f.feed_id: f for f in feeds})
        for rt in gtfs_rt:
            try:
                data = Path(rt).read_bytes()
            except OSError as exc:
                raise PlanCliError(f"{rt}: cannot read: {exc}") from None
            for f in feeds:
                report = writer.apply_bytes(f.feed_id, data)
                if not report.ok:
                    raise PlanCliError(f"{rt}: {report.error}")
        delays = delays_for(feeds, writer.snapshot, when.date())
    try:
        planner = Planner(feeds, when, max_walk_m=max_walk_m, delays=delays or None, tz=str(tz))
        journeys = planner.plan(origin, dest, when, min_transfer_s=min_transfer_s)
    except PlanError as exc:
        raise PlanCliError(str(exc)) from None
    if gbfs:
        journeys += _bike(gbfs, planner, origin, dest, when, max_walk_m, warn)
        journeys.sort(key=lambda j: (j.arrival, j.transfers))
    return {"journeys": [j.to_dict() for j in journeys]}


def _point(planner: Planner, place: Place) -> LatLon:
    if place.point is not None:
        return place.point
    i = resolve_stop(planner.tt, planner.feeds, place.stop_id or "")
    return LatLon(float(planner.tt.stop_lat[i]), float(planner.tt.stop_lon[i]))


def _bike(
    gbfs: str,
    planner: Planner,
    origin: Place,
    dest: Place,
    when: datetime,
    max_walk_m: float,
    warn: Callable[[str], None],
) -> list[Journey]:
    try:
        system = load_system(gbfs)
    except GbfsError as exc:
        raise PlanCliError(str(exc)) from None
    # a saved snapshot is judged as of its own time: the CLI has no live clock to compare it with
    stamp = system.last_updated_unix
    now = datetime.fromtimestamp(stamp, when.tzinfo) if stamp else when
    warn(f"bike availability as of {now.isoformat()} ({system.name})")
    r = bike_journey(
        system, _point(planner, origin), _point(planner, dest), when, max_walk_m=max(max_walk_m, 400), now=now
    )
    if r.journey is None:
        warn(f"no bike-share journey: {r.reason}")
        return []
    return [r.journey]
