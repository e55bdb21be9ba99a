"""Small OSM extracts written by the tests themselves (no downloaded data)."""

from __future__ import annotations

from pathlib import Path

# A 0.001 degree grid step is ~111 m north-south and ~92 m east-west at 34 N.
NODES: dict[int, tuple[float, float]] = {
    1: (34.1700, 131.4700),
    2: (34.1700, 131.4710),
    3: (34.1700, 131.4720),
    4: (34.1710, 131.4700),
    5: (34.1710, 131.4720),
    6: (34.1720, 131.4710),  # reachable only by a one-way street leading out of it
    7: (34.1800, 131.4800),  # an island: a road not connected to the rest
    8: (34.1805, 131.4800),
}

WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (100, [1, 2, 3], {"highway": "living_street"}),  # slow direct street, 10 km/h
    (101, [1, 4, 5, 3], {"highway": "primary"}),  # longer but faster detour, 40 km/h
    (102, [6, 5], {"highway": "service", "oneway": "yes"}),  # one-way out of 6
    (103, [7, 8], {"highway": "residential"}),  # island
    (104, [2, 4], {"highway": "footway"}),  # not drivable: must be ignored
]


def write_osm(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="noriai-tests">']
    for nid, (lat, lon) in NODES.items():
        lines.append(f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in WAYS:
        lines.append(f'  <way id="{wid}" version="1">')
        lines.extend(f'    <nd ref="{r}"/>' for r in refs)
        lines.extend(f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
