"""When requests arrive: Poisson arrivals at a rate (MLPerf's Server scenario), or all at once.

Schedules are seeded, so a run can be repeated and a test cannot flake: the same seed gives
the same arrival times.
"""

from __future__ import annotations

import numpy as np

NS = 1_000_000_000


def poisson(qps: float, duration_s: float, seed: int = 0) -> np.ndarray:
    """Arrival offsets in ns from the start: a Poisson process at `qps` over `duration_s`.

    Exactly round(qps * duration) arrivals, placed as a Poisson process places them given
    their count (uniformly, sorted: the gaps are then exponential with mean 1/qps), so a run
    offers the rate asked for rather than a random count around it.
    """
    rng = np.random.default_rng(seed)
    count = max(round(qps * duration_s), 1)
    offsets = np.sort(rng.uniform(0.0, duration_s, size=count))
    return (offsets * NS).astype(np.int64)


def all_at_once(count: int) -> np.ndarray:
    """`count` requests all due at the start (the Offline scenario)."""
    return np.zeros(count, dtype=np.int64)
