"""A second, small city written by the tests: Hagi (萩市, fictional data), its own tiny bus feed, places,
one company with a community taxi for the rural Kawakami district (川上地区) and its hubs."""

from __future__ import annotations

import json
from pathlib import Path

from geo import LatLon
from noriai.demo import TARIFF_PATH

# Points a test can use
KAWAKAMI_HOME = LatLon(34.3620, 131.4460)  # inside the community zone
KAWAKAMI_SHOP = LatLon(34.3650, 131.4420)
HAGI_CASTLE = LatLon(34.4190, 131.3900)  # town, outside the community zone
HOSPITAL = LatLon(34.4100, 131.3980)  # a hub of the community zone
OUTSIDE = LatLon(34.1726, 131.4805)  # Yamaguchi Station: another city, outside Hagi's service area
SHIMONOSEKI = LatLon(33.9500, 130.9400)


def _ring(lat: float, lon: float, dlat: float, dlon: float) -> list[list[float]]:
    pts = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
    ]
    return [*pts, pts[0]]


def write_city(root: Path, *, second_feed: bool = False) -> Path:
    """The Hagi bundle; ``second_feed`` adds a rural bus feed (Hagi Station - Kawakami) to the town bus."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "city.toml").write_text(
        """name = "萩市（テスト）"
name_en = "Hagi City (test)"
timezone = "Asia/Tokyo"
booking_phone = "0838-00-1000"
max_walk_m = 900

[[gtfs]]
feed_id = "hagibus"
path = "gtfs"
""",
        encoding="utf-8",
    )
    area = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "萩市"},
                "geometry": {"type": "Polygon", "coordinates": [_ring(34.395, 131.415, 0.06, 0.08)]},
            }
        ],
    }
    (root / "service_area.geojson").write_text(json.dumps(area), encoding="utf-8")
    zones = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "zone_id": "hagi-town",
                    "name": "萩市街地",
                    "name_en": "Hagi town",
                    "kind": "district",
                },
                "geometry": {"type": "Polygon", "coordinates": [_ring(34.412, 131.400, 0.015, 0.02)]},
            },
            {
                "type": "Feature",
                "properties": {
                    "zone_id": "kawakami",
                    "name": "川上地区",
                    "name_en": "Kawakami",
                    "kind": "community",
                    "hubs": ["hagi-hospital", "higashi-hagi-sta"],
                },
                "geometry": {"type": "Polygon", "coordinates": [_ring(34.362, 131.446, 0.012, 0.016)]},
            },
        ],
    }
    (root / "zones.geojson").write_text(json.dumps(zones, ensure_ascii=False), encoding="utf-8")
    (root / "places.csv").write_text(
        "place_id,name,name_en,kana,kind,lat,lon,note\n"
        "higashi-hagi-sta,東萩駅,Higashi-Hagi Station,ひがしはぎえき,station,34.4143,131.4132,\n"
        "hagi-sta,萩駅,Hagi Station,はぎえき,station,34.3985,131.3950,\n"
        "hagi-hospital,萩市民病院,Hagi Civic Hospital,はぎしみんびょういん,hospital,34.4100,131.3980,\n"
        "hagi-castle,萩城跡,Hagi Castle ruins,はぎじょうあと,other,34.4190,131.3900,\n"
        "kawakami-shop,川上ストア,Kawakami Store,かわかみすとあ,shop,34.3650,131.4420,\n"
        "kawakami-clinic,川上診療所,Kawakami Clinic,かわかみしんりょうじょ,clinic,34.3600,131.4500,\n",
        encoding="utf-8",
    )
    (root / "companies.toml").write_text(
        """[[company]]
company_id = "hagi-kotsu"
name = "萩交通（テスト）"
name_en = "Hagi Kotsu (test)"
phone = "0838-00-2000"
depot = { name = "本社", lat = 34.4120, lon = 131.4050 }

[[vehicle]]
company_id = "hagi-kotsu"
vehicle_id = "hagi-01"
kind = "sedan"
plate = "山口500は0001"
seats = 4
shift = { start = "06:00", end = "22:00" }

[[vehicle]]
company_id = "hagi-kotsu"
vehicle_id = "hagi-02"
kind = "sedan"
plate = "山口500は0002"
seats = 4
shift = { start = "06:00", end = "22:00" }

[[vehicle]]
company_id = "hagi-kotsu"
vehicle_id = "kawakami-01"
kind = "jumbo"
plate = "山口300は0003"
seats = 8
zone_id = "kawakami"
shift = { start = "06:00", end = "22:00" }
shifts = { holiday = "off" }
""",
        encoding="utf-8",
    )
    (root / "tariff.toml").write_text(
        TARIFF_PATH.read_text(encoding="utf-8")
        .replace('tariff_id = "yamaguchi-demo"', 'tariff_id = "hagi-test"')
        .replace('areas = ["nio", "ato"]', 'areas = ["kawakami"]'),
        encoding="utf-8",
    )
    (root / "riders.csv").write_text(
        "rider_id,name,kana,phone,sex,birth_year,district,home_lat,home_lon,wheelchair,walker,companion,"
        "disability_certificate,welfare_bus_pass,consent_data_reuse\n"
        f"H0001,川上 花子,かわかみ はなこ,0838-00-3001,F,1944,川上,{KAWAKAMI_HOME.lat},{KAWAKAMI_HOME.lon},"
        "false,false,false,false,true,false\n"
        f"H0002,城下 一郎,じょうか いちろう,0838-00-3002,M,1950,堀内,{HAGI_CASTLE.lat},{HAGI_CASTLE.lon},"
        "false,false,false,false,false,true\n",
        encoding="utf-8",
    )
    _write_gtfs(root / "gtfs")
    if second_feed:
        with (root / "city.toml").open("a", encoding="utf-8") as f:
            f.write('\n[[gtfs]]\nfeed_id = "kawabus"\npath = "gtfs-kawakami"\n')
        _write_gtfs(root / "gtfs-kawakami", stops=KAWAKAMI_STOPS, agency="kawabus", every_min=60, step_min=12)
    return root


STOPS = [
    ("HS01", "東萩駅", "Higashi-Hagi Station", 34.4140, 131.4128),
    ("HS02", "萩市役所", "Hagi City Hall", 34.4080, 131.4000),
    ("HS03", "萩市民病院", "Hagi Civic Hospital", 34.4098, 131.3975),
    ("HS04", "萩駅", "Hagi Station", 34.3988, 131.3953),
]


KAWAKAMI_STOPS = [
    ("K01", "萩駅前", "Hagi Station", 34.3990, 131.3957),
    ("K02", "川上口", "Kawakami-guchi", 34.3800, 131.4200),
    ("K03", "川上ストア前", "Kawakami Store", 34.3652, 131.4418),
]


def _write_gtfs(
    folder: Path,
    stops: list[tuple[str, str, str, float, float]] = STOPS,
    agency: str = "hagibus",
    every_min: int = 30,
    step_min: int = 5,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone,agency_lang\n"
        f"{agency},{agency}（テスト）,https://example.invalid/{agency},Asia/Tokyo,ja\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
        + "".join(f"{sid},{name},{lat},{lon}\n" for sid, name, _en, lat, lon in stops),
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        f"R1,{agency},{agency[:3]},{stops[0][1]}〜{stops[-1][1]},3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\n"
        "ALL,1,1,1,1,1,1,1,20260101,20281231\n",
    }
    trips = ["route_id,service_id,trip_id,direction_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for k, minute in enumerate(range(6 * 60, 22 * 60, every_min)):
        for direction in (0, 1):
            tid = f"T{k:02d}{direction}"
            trips.append(f"R1,ALL,{tid},{direction}")
            order = stops if direction == 0 else list(reversed(stops))
            for seq, (sid, *_rest) in enumerate(order):
                t = minute + step_min * seq
                hhmm = f"{t // 60:02d}:{t % 60:02d}:00"
                times.append(f"{tid},{hhmm},{hhmm},{sid},{seq + 1}")
    files["trips.txt"] = "\n".join(trips) + "\n"
    files["stop_times.txt"] = "\n".join(times) + "\n"
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
