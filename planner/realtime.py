"""Realtime predictions from a ``bus_location`` snapshot as the per-trip delays the timetable applies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

from bus_location.snapshot import RealtimeSnapshot
from gtfs.loader import Feed

STALE_AFTER_S = 30 * 60  # predictions from a feed silent for longer are not applied


def fresh_feeds(
    snapshot: RealtimeSnapshot, now_unix: float, max_age_s: float = STALE_AFTER_S
) -> frozenset[str]:
    """The feeds whose last message is at most ``max_age_s`` old: a feed that stopped (or failed) is
    stale, and the timetable stands for its trips rather than delays that may no longer be true."""
    return frozenset(fid for fid, t in snapshot.message_unix.items() if now_unix - t <= max_age_s)


def delays_for(
    feeds: Sequence[Feed], snapshot: RealtimeSnapshot, day: date, only: frozenset[str] | None = None
) -> dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] | None]:
    """trip_id -> (arrival delays, departure delays) per stop for trips of ``day``; None = canceled.
    With ``only``, feeds outside it (e.g. stale ones, see ``fresh_feeds``) are left out."""
    out: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] | None] = {}
    for f in feeds:
        if only is not None and f.feed_id not in only:
            continue
        for (t, d), pred in snapshot.predictions.get(f.feed_id, {}).items():
            if d == day:
                out[f.trip_ids[t]] = None if pred.canceled else (pred.arrival_delay_s, pred.departure_delay_s)
    return out
