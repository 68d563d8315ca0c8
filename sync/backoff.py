"""Exponential back-off with jitter for the sync loop.

"Full jitter" (a uniform delay between 0 and the exponential ceiling) spreads a city's desks
out after the platform comes back instead of letting them all retry in the same second; a floor
keeps one desk from hammering a server that answers errors instantly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float = 1.0
    max_s: float = 120.0
    floor_s: float = 0.5
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before the next try."""
        self.failures += 1
        ceiling = min(self.max_s, self.base_s * (2 ** min(self.failures - 1, 30)))
        return max(min(self.floor_s, ceiling), self.rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.failures = 0
