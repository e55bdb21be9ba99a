"""Export of a demand-responsive service as a GTFS-Flex v2 feed, so other planners can show it.

Zones go to ``locations.geojson``; one trip per calendar carries two windowed ``stop_times`` rows on
the same location (travel anywhere within it), with the booking rule (phone, notice) and the
April 2026 ``safe_duration_factor``/``safe_duration_offset`` taken from the promised maximum ride time.
The input is our own plain data (no database, no dispatch types), so this module stays in ``gtfs``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gtfs.loader import REQUIRED_COLUMNS


class FlexExportError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FlexZone:
    location_id: str
    name: str
    geometry: Mapping[str, Any]  # GeoJSON Polygon or MultiPolygon, lon/lat order
    description: str = ""


@dataclass(frozen=True)
class FlexService:
    agency_id: str
    agency_name: str
    agency_url: str
    agency_phone: str
    timezone: str
    lang: str
    route_id: str
    route_name: str
    zones: Sequence[FlexZone]
    window_start_s: int  # pickups and drop-offs from ...
    window_end_s: int  # ... until (seconds of the service day)
    start_date: date
    end_date: date
    booking_phone: str
    booking_message: str
    prior_notice_min: int  # minutes before the pickup the booking must be made
    prior_notice_max_days: int
    info_url: str = ""
    booking_url: str = ""
    ride_factor: float = 1.5  # safe ride duration = factor x driving duration + offset
    ride_offset_min: float = 10.0
    translations: Mapping[tuple[str, str, str], str] = field(default_factory=dict)  # (table, field, lang)


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def flex_files(s: FlexService) -> dict[str, str]:
    """The feed's files as text, by file name."""
    if not s.zones:
        raise FlexExportError("a GTFS-Flex export needs at least one zone")
    if not 0 <= s.window_start_s < s.window_end_s <= 2 * 86_400:
        raise FlexExportError("the pickup/drop-off window must be within the service day and not empty")
    ids = [z.location_id for z in s.zones]
    if len(set(ids)) != len(ids):
        raise FlexExportError("zone ids must be unique")
    rule = f"{s.route_id}-booking"
    calendar = "daily"
    files: dict[str, str] = {}
    files["agency.txt"] = _csv(
        ("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang", "agency_phone"),
        [(s.agency_id, s.agency_name, s.agency_url, s.timezone, s.lang, s.agency_phone)],
    )
    files["routes.txt"] = _csv(
        (
            "route_id",
            "agency_id",
            "route_short_name",
            "route_long_name",
            "route_type",
            "continuous_pickup",
            "continuous_drop_off",
        ),
        [(s.route_id, s.agency_id, "", s.route_name, 3, 1, 1)],
    )
    files["calendar.txt"] = _csv(
        REQUIRED_COLUMNS["calendar.txt"],
        [(calendar, 1, 1, 1, 1, 1, 1, 1, s.start_date.strftime("%Y%m%d"), s.end_date.strftime("%Y%m%d"))],
    )
    trips = []
    stop_times = []
    for z in s.zones:
        trip_id = f"{s.route_id}-{z.location_id}"
        trips.append((s.route_id, calendar, trip_id))
        # travel within one zone: two rows on the same location (GTFS-Flex), pickup first
        for seq in (1, 2):
            stop_times.append(
                (
                    trip_id,
                    z.location_id,
                    seq,
                    2,  # pickup_type 2: must phone (or book) the agency
                    2,
                    _hms(s.window_start_s),
                    _hms(s.window_end_s),
                    rule,
                    rule,
                    f"{s.ride_factor:.2f}",
                    f"{s.ride_offset_min:.2f}",
                    f"{s.ride_factor:.2f}",
                    f"{s.ride_offset_min:.2f}",
                )
            )
    files["trips.txt"] = _csv(REQUIRED_COLUMNS["trips.txt"], trips)
    files["stop_times.txt"] = _csv(
        (
            "trip_id",
            "location_id",
            "stop_sequence",
            "pickup_type",
            "drop_off_type",
            "start_pickup_drop_off_window",
            "end_pickup_drop_off_window",
            "pickup_booking_rule_id",
            "drop_off_booking_rule_id",
            "mean_duration_factor",
            "mean_duration_offset",
            "safe_duration_factor",
            "safe_duration_offset",
        ),
        stop_times,
    )
    files["booking_rules.txt"] = _csv(
        (
            "booking_rule_id",
            "booking_type",
            "prior_notice_duration_min",
            "prior_notice_duration_max",
            "message",
            "phone_number",
            "info_url",
            "booking_url",
        ),
        [
            (
                rule,
                1,  # same day with notice (and up to prior_notice_duration_max ahead)
                s.prior_notice_min,
                s.prior_notice_max_days * 1440,
                s.booking_message,
                s.booking_phone,
                s.info_url,
                s.booking_url,
            )
        ],
    )
    files["feed_info.txt"] = _csv(
        (
            "feed_publisher_name",
            "feed_publisher_url",
            "feed_lang",
            "feed_start_date",
            "feed_end_date",
            "feed_version",
        ),
        [
            (
                s.agency_name,
                s.agency_url,
                s.lang,
                s.start_date.strftime("%Y%m%d"),
                s.end_date.strftime("%Y%m%d"),
                s.start_date.isoformat(),
            )
        ],
    )
    if s.translations:
        keys = {"agency": s.agency_id, "routes": s.route_id}
        files["translations.txt"] = _csv(
            ("table_name", "field_name", "language", "translation", "record_id"),
            [(t, f, lang, text, keys.get(t, "")) for (t, f, lang), text in sorted(s.translations.items())],
        )
    files["locations.geojson"] = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "id": z.location_id,
                    "type": "Feature",
                    "properties": {"stop_name": z.name, "stop_desc": z.description},
                    "geometry": dict(z.geometry),
                }
                for z in s.zones
            ],
        },
        ensure_ascii=False,
        indent=1,
    )
    return files


def flex_zip(s: FlexService) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in flex_files(s).items():
            z.writestr(name, text)
    return buf.getvalue()
