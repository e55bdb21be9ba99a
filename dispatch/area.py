"""Where the service runs: the city's service area and its community-taxi zones.

- A trip with either end outside the service area is refused (``outside_service_area``).
- A vehicle with a ``zone_id`` (a community taxi, 中山間地域) serves only trips inside its zone, or
  between the zone and one of the zone's hubs (a clinic, a station, a shop). This is expressed with
  the solver's own feature matching, so every solve, insertion and check respects it unchanged: a
  zone-Z vehicle carries the feature ``zone:Z``; every unrestricted vehicle carries ``zone:*`` and
  every ``zone:Z``; a trip a Z vehicle may serve requires ``zone:Z``, any other trip ``zone:*``.
- A trip inside a community zone (or to its hubs) is priced with that zone's fare rules.
"""

from __future__ import annotations

from dispatch.domain import ReferenceData, Vehicle, Zone, ZoneKind
from geo import LatLon, haversine_m

HUB_RADIUS_M = 150.0  # a pickup or drop-off this close to a hub place counts as at the hub
ANYWHERE = "zone:*"


def zone_feature(zone_id: str) -> str:
    return f"zone:{zone_id}"


class ServiceRules:
    def __init__(self, reference: ReferenceData) -> None:
        city = reference.city
        self.area = city.service_area if city else None
        places = {p.place_id: p.point for p in reference.places}
        self.community: list[Zone] = [z for z in reference.zones if z.kind is ZoneKind.COMMUNITY]
        self.hubs: dict[str, list[LatLon]] = {
            z.zone.zone_id: [places[h] for h in z.hubs if h in places] for z in self.community
        }
        self.restricted = any(v.zone_id for c in reference.companies for v in c.vehicles)
        self._everywhere = frozenset([ANYWHERE, *(zone_feature(z.zone.zone_id) for z in self.community)])

    def outside(self, origin: LatLon, destination: LatLon) -> tuple[str, str, str] | None:
        """(code, English, Japanese) when an end lies outside the service area, else None."""
        if self.area is None:
            return None
        bad = [n for n, p in (("pickup", origin), ("drop-off", destination)) if not self.area.contains(p)]
        if not bad:
            return None
        ja = {"pickup": "乗車地", "drop-off": "降車地"}
        return (
            "outside_service_area",
            f"the {' and '.join(bad)} point is outside the service area: we cannot take this trip",
            f"{'と'.join(ja[b] for b in bad)}が運行区域の外のため、この移動はお受けできません",
        )

    def _at_hub(self, zone_id: str, p: LatLon) -> bool:
        return any(haversine_m(p, h) <= HUB_RADIUS_M for h in self.hubs.get(zone_id, ()))

    def _eligible(self, z: Zone, origin: LatLon, destination: LatLon) -> bool:
        zid = z.zone.zone_id
        o_in, d_in = z.zone.contains(origin), z.zone.contains(destination)
        return (
            (o_in or d_in)
            and (o_in or self._at_hub(zid, origin))
            and (d_in or self._at_hub(zid, destination))
        )

    def community_zone(self, origin: LatLon, destination: LatLon) -> Zone | None:
        """The first community zone whose vehicles may take this trip: both ends in the zone, or one
        in it and the other at one of its hubs."""
        return next((z for z in self.community if self._eligible(z, origin, destination)), None)

    def vehicle_features(self, v: Vehicle) -> frozenset[str]:
        if not self.restricted:
            return v.features
        if v.zone_id:
            return v.features | {zone_feature(v.zone_id)}
        return v.features | self._everywhere

    def required_features(self, origin: LatLon, destination: LatLon) -> frozenset[str]:
        if not self.restricted:
            return frozenset()
        z = self.community_zone(origin, destination)
        return frozenset([zone_feature(z.zone.zone_id) if z else ANYWHERE])

    def serves(self, v: Vehicle, origin: LatLon, destination: LatLon) -> bool:
        """Whether ``v`` may carry this trip by the rule (tests hold every plan to it)."""
        if not v.zone_id:
            return True
        zone = next((z for z in self.community if z.zone.zone_id == v.zone_id), None)
        return zone is not None and self._eligible(zone, origin, destination)
