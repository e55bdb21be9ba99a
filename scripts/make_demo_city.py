"""Write the demo city bundle's geometry: ``service_area.geojson`` and ``zones.geojson``.

The district outlines are drawn by hand-tuned rules, not surveyed: each zone is a 12-sided outline
around the district centre whose radius wobbles (so cells follow a drawn border, not a disk). The
service area is the convex hull of every demo place, depot, rider home, bus stop and zone, widened
by 2.5 km: the part of Yamaguchi City (and the road to Yamaguchi Ube Airport) the demo serves.
Deterministic; run ``python scripts/make_demo_city.py`` from the project root.
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "noriai" / "demo" / "data"
M_PER_DEG_LAT = 111_320.0

# zone_id, name, name_en, kind, centre (lat, lon), radius m, hubs
ZONES = [
    ("central", "中心市街地", "City centre", "district", (34.1780, 131.4760), 2500, []),
    ("yuda", "湯田地区", "Yuda", "district", (34.1615, 131.4585), 1800, []),
    ("ogori", "小郡地区", "Ogori", "district", (34.0990, 131.3990), 2500, []),
    ("ouchi", "大内地区", "Ouchi", "district", (34.1600, 131.5080), 2200, []),
    ("miyano", "宮野地区", "Miyano", "district", (34.1960, 131.5030), 1800, []),
    ("nio", "仁保地区", "Nio", "community", (34.2150, 131.5650), 3000, ["miyano-sta", "red-cross-hospital"]),
    (
        "ato",
        "阿東地区",
        "Ato",
        "community",
        (34.3550, 131.6000),
        5000,
        ["michinoeki-asahi", "red-cross-hospital"],
    ),
    (
        "airport-corridor",
        "湯田温泉・空港連絡エリア",
        "Yuda Onsen - airport corridor",
        "corridor",
        (33.9300, 131.2790),
        1500,
        [],
    ),
]


def offset(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    dlat = metres * math.cos(bearing) / M_PER_DEG_LAT
    dlon = metres * math.sin(bearing) / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def outline(lat: float, lon: float, radius: float, seed: int) -> list[list[float]]:
    ring = []
    for k in range(12):
        a = 2 * math.pi * k / 12
        wobble = 1 + 0.12 * math.sin(3 * a + seed) + 0.06 * math.cos(5 * a + 2 * seed)
        la, lo = offset(lat, lon, a, radius * wobble)
        ring.append([round(lo, 6), round(la, 6)])
    return [*ring, ring[0]]


def hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def main() -> None:
    features = []
    points: list[tuple[float, float]] = []  # (lon, lat)
    for i, (zid, name, name_en, kind, (lat, lon), radius, hubs) in enumerate(ZONES):
        ring = outline(lat, lon, radius, i)
        points += [(p[0], p[1]) for p in ring]
        props: dict[str, object] = {"zone_id": zid, "name": name, "name_en": name_en, "kind": kind}
        if hubs:
            props["hubs"] = hubs
        features.append(
            {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        )
    (DATA / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    with (DATA / "places.csv").open(encoding="utf-8") as f:
        points += [(float(r["lon"]), float(r["lat"])) for r in csv.DictReader(f)]
    with (DATA / "riders.csv").open(encoding="utf-8") as f:
        points += [(float(r["home_lon"]), float(r["home_lat"])) for r in csv.DictReader(f)]
    with (DATA / "gtfs" / "stops.txt").open(encoding="utf-8") as f:
        points += [(float(r["stop_lon"]), float(r["stop_lat"])) for r in csv.DictReader(f)]
    for c in tomllib.loads((DATA / "companies.toml").read_text(encoding="utf-8"))["company"]:
        points.append((c["depot"]["lon"], c["depot"]["lat"]))
    widened = []
    for lon, lat in points:
        for k in range(16):
            la, lo = offset(lat, lon, 2 * math.pi * k / 16, 2500)
            widened.append((round(lo, 5), round(la, 5)))
    ring = [[lo, la] for lo, la in hull(widened)]
    area = {
        "type": "Feature",
        "properties": {"name": "山口市 デモ運行区域", "name_en": "Yamaguchi demo service area"},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }
    (DATA / "service_area.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [area]}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
