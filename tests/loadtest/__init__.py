"""A service of known capacity: a fixed service time, optionally one stall."""

from __future__ import annotations

import itertools
import threading
import time


class SleepService:
    """Each call sleeps `seconds` (plus `per_item` per extra batched request).

    With k workers its capacity is k / seconds requests per second. `stall_at` makes that
    call (0-based, across all workers) block for `stall_s` once: a garbage collection, a
    page fault storm, a noisy neighbour.
    """

    def __init__(
        self, seconds: float, *, per_item: float = 0.0, stall_at: int | None = None,
        stall_s: float = 0.0,
    ) -> None:  # fmt: skip
        self.seconds, self.per_item = seconds, per_item
        self.stall_at, self.stall_s = stall_at, stall_s
        self._calls = itertools.count()
        self._lock = threading.Lock()
        self.batches: list[int] = []

    def __call__(self, count: int) -> None:
        with self._lock:
            call = next(self._calls)
            self.batches.append(count)
        if call == self.stall_at:
            time.sleep(self.stall_s)
        time.sleep(self.seconds + self.per_item * (count - 1))
