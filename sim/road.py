"""The simulated road: how long a leg really takes, against the travel-time model the plans use.

A leg's real duration is the model's duration times a lognormal factor (median 1, ``speed_sigma``)
times the congestion factor of the hour it starts in. With ``speed_sigma = 0`` the road is exactly the
model (congestion off too): every plan then runs as planned, which the tests rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import Road, hhmm_to_s


@dataclass(frozen=True, slots=True)
class RoadNoise:
    sigma: float
    peaks: tuple[tuple[int, int, float], ...]  # (start_s, end_s, factor), service-day seconds

    @classmethod
    def from_scenario(cls, road: Road) -> RoadNoise:
        peaks = tuple((hhmm_to_s(c.start), hhmm_to_s(c.end), c.factor) for c in road.congestion)
        return cls(road.speed_sigma, peaks)

    @property
    def exact(self) -> bool:
        return self.sigma <= 0.0

    def congestion(self, at_s: int) -> float:
        if self.exact:
            return 1.0
        t = at_s % 86_400
        return next((f for a, b, f in self.peaks if a <= t < b), 1.0)

    def factor(self, at_s: int, rng: np.random.Generator) -> float:
        """Real / modelled duration for a leg starting at ``at_s``."""
        if self.exact:
            return 1.0
        return float(np.exp(self.sigma * rng.standard_normal())) * self.congestion(at_s)
