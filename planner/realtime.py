"""Realtime predictions from a ``bus_location`` snapshot as the per-trip delays the timetable applies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

from bus_location.snapshot import RealtimeSnapshot
from gtfs.loader import Feed


def delays_for(
    feeds: Sequence[Feed], snapshot: RealtimeSnapshot, day: date
) -> dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] | None]:
    """trip_id -> (arrival delays, departure delays) per stop for trips of ``day``; None = canceled."""
    out: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] | None] = {}
    for f in feeds:
        for (t, d), pred in snapshot.predictions.get(f.feed_id, {}).items():
            if d == day:
                out[f.trip_ids[t]] = None if pred.canceled else (pred.arrival_delay_s, pred.departure_delay_s)
    return out
