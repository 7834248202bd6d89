"""Sustained steps in a series of run medians, told apart from between-run noise.

One configuration's p50 varies from one process to the next on a shared machine, often by
10-40%, sometimes bimodally, and a run slowed by another tenant is common; a run's own
confidence interval says little about the next run. The rule therefore looks only at the
series of run medians, on a log scale (a step is a ratio):

- at each run `c` with at least `MIN_BEFORE` runs before it (since the last step), the
  level is the median of up to `WINDOW` runs before `c`, and the noise the spread of those
  runs: the larger of 1.4826 x their median absolute deviation and their 15-85% range
  / 2.073 (both a standard deviation for normal noise; the second also sees a second mode
  or frequent slow runs), never below `NOISE_FLOOR`;
- a step starts at `c` when each of the `CONFIRM` runs from `c` lies beyond the level on
  the same side, and the least changed of them by more than `Z` noises and `MIN_STEP`:
  one slow run, or two, is not a step;
- the search goes on after it, against the new level.

Z, WINDOW and MIN_BEFORE were calibrated (tests/perf/bench_history.py) on 50-run series
resampled from run medians recorded on this machine (tests/tracking/data/run_medians.json):
at most 2-3% of series without a step raise an alarm (the goal: 5%; most alarms came from
judging on fewer than 12 runs), and at a quiet moment a 10% step is flagged by its third
run in over 90% of series. What is detectable at each noise is printed there and stated
in the README ("Benchmark history").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WINDOW = 30  # runs before a candidate step that set the level and the noise
MIN_BEFORE = 12  # no step is judged on fewer runs before it (fewer: most false alarms)
CONFIRM = 3  # runs from a step that must all agree: flagged at its third run
Z = 3.5  # the least changed of the CONFIRM runs must pass this many noises
MIN_STEP = 0.03  # smaller steps are not reported, however sure (3%)
NOISE_FLOOR = 0.005  # the noise is never taken as below 0.5%


@dataclass(frozen=True)
class Step:
    """A sustained change in a series: where it starts and how big it is."""

    index: int  # the first run of the new level (its position in the series)
    ratio: float  # new level / old level (1.25: 25% slower for a latency)
    before: float  # the level before (median of the runs before)
    after: float  # the level after (median of the CONFIRM runs from `index`)
    z: float  # the least changed of the CONFIRM runs, in noises

    @property
    def change(self) -> float:
        """Relative change: ratio - 1."""
        return self.ratio - 1


def steps(values: Sequence[float], *, z: float = Z, min_step: float = MIN_STEP) -> list[Step]:
    """Every sustained step in `values` (positive, in time order), oldest first."""
    logs = np.log(np.asarray(values, dtype=np.float64))
    found: list[Step] = []
    start = 0
    index = start + MIN_BEFORE
    while index + CONFIRM <= len(logs):
        before = logs[max(start, index - WINDOW) : index]
        after = logs[index : index + CONFIRM] - float(np.median(before))
        low, high = np.quantile(before, [0.15, 0.85])
        noise = max(
            1.4826 * float(np.median(np.abs(before - np.median(before)))),
            float(high - low) / 2.073,
            math.log1p(NOISE_FLOOR),
        )
        least = float(after.min()) if np.all(after > 0) else float(after.max())
        same_side = bool(np.all(after > 0) or np.all(after < 0))
        if same_side and abs(least) > z * noise and abs(least) > math.log1p(min_step):
            level = float(np.median(before))
            moved = level + float(np.median(after))
            found.append(Step(index, math.exp(moved - level), math.exp(level),
                              math.exp(moved), least / noise))  # fmt: skip
            start = index
            index = start + MIN_BEFORE
            continue
        index += 1
    return found
