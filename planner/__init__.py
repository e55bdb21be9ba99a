"""Trip planner: RAPTOR over the timetable index, plus walking, bike share and the shared taxi.

``build_timetable`` -> ``Raptor`` (the core) -> ``Planner`` (journeys with walking and names) ->
``TripPlanner`` (the multimodal search answering a ``TripRequest``). The shared-taxi leg comes from
``planner.taxi``, the one module that imports dispatch.
"""

from planner.journey import Planner
from planner.raptor import Raptor
from planner.timetable import build_timetable
from planner.trip import TripPlanner, TripRequest

__all__ = ["Planner", "Raptor", "TripPlanner", "TripRequest", "build_timetable"]
