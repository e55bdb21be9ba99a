"""City bundles: the documented folder a city deploys Noriai from (docs/city-bundle.md), its check
and its import into the database."""

from noriai.city.bundle import CityBundle, load_bundle
from noriai.city.issues import Issue, Issues

__all__ = ["CityBundle", "Issue", "Issues", "load_bundle"]
