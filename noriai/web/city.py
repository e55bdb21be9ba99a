"""The imported city, as the web app serves it: its places, zones and service area (GeoJSON), its GTFS
feeds (loaded once at start, URLs fetched), and its bike share.

Everything here reads the city from the database (``dispatch.persistence.load_reference_data``), so
``noriai serve`` without ``--demo`` serves whatever city ``noriai city import`` loaded.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query

from bikeshare import BikeShareSystem, load_system
from dispatch.domain import City, PlaceKind
from dispatch.service import DispatchService
from gtfs.loader import Feed, load_feed
from gtfs.tables import FeedError

log = logging.getLogger("noriai.web.city")


def city_router(service: DispatchService) -> APIRouter:
    r = APIRouter()

    @r.get("/api/v1/places", tags=["reference"])
    def places(
        kind: Annotated[PlaceKind | None, Query(description="filter by kind")] = None,
    ) -> list[dict[str, Any]]:
        """The city's common destinations (retired places are left out)."""
        return [
            {
                "place_id": p.place_id,
                "name": p.name,
                "name_en": p.name_en,
                "kana": p.kana,
                "kind": p.kind.value,
                "lat": p.point.lat,
                "lon": p.point.lon,
            }
            for p in service.reference.places
            if p.active and (kind is None or p.kind == kind)
        ]

    @r.get("/api/v1/zones", tags=["reference"])
    def zones() -> dict[str, Any]:
        """Service zones as GeoJSON: the outline as drawn in the city bundle (else the H3 cells'),
        with kind, hubs (community zones) and the number of H3 cells the zone compiles to."""
        feats = []
        for z in service.reference.zones:
            f = z.zone.to_geojson_feature()
            if z.geometry_json:
                f["geometry"] = json.loads(z.geometry_json)
            f["properties"].update(
                {
                    "zone_id": z.zone.zone_id,
                    "kind": z.kind.value,
                    "name_en": z.name_en,
                    "hubs": list(z.hubs),
                    "h3_cells": len(z.zone.cells),
                }
            )
            feats.append(f)
        return {"type": "FeatureCollection", "features": feats}

    @r.get("/api/v1/service-area", tags=["reference"])
    def service_area() -> dict[str, Any]:
        """Where rides may start and end (a GeoJSON Feature; no geometry before a city is imported)."""
        city = service.reference.city
        area = city.service_area if city else None
        return {
            "type": "Feature",
            "properties": {"name": city.name if city else "", "name_en": city.name_en if city else ""},
            "geometry": area.to_geojson() if area else None,
        }

    return r


def load_city_feeds(city: City | None, cache_dir: Path | None = None) -> list[Feed]:
    """The city's GTFS feeds, in city.toml order. A feed at an https URL is downloaded first; a feed
    that cannot be fetched or loaded is logged and left out, so the rest of the city still serves."""
    feeds: list[Feed] = []
    for src in city.feeds if city else ():
        path = src.path
        try:
            if path.startswith(("http://", "https://")):
                folder = cache_dir or Path(tempfile.mkdtemp(prefix="noriai-feeds-"))
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"{src.feed_id}.zip"
                with httpx.Client(timeout=30, follow_redirects=True) as client:
                    resp = client.get(path)
                    resp.raise_for_status()
                target.write_bytes(resp.content)
                path = str(target)
            feeds.append(load_feed(path, src.feed_id))
        except (FeedError, httpx.HTTPError, OSError) as exc:
            log.error("GTFS feed %s not loaded: %s", src.feed_id, exc)
    return feeds


def city_bike_folder(source: str | None) -> BikeShareSystem | None:
    """The bike share in a local GBFS folder, or None (no bike share, or unreadable: logged)."""
    if not source:
        return None
    try:
        return load_system(source)
    except Exception as exc:  # a broken snapshot must not stop the server
        log.error("GBFS folder %s not loaded: %s", source, exc)
        return None
