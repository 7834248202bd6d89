"""The timing loop: a cold first run, warmup, then measured runs until a stop rule fires.

The loop does nothing between the two clock reads but call `run`; stop rules and progress
are looked at between runs (after 10% more runs, or every ~50 ms), so timing matches a
hand-written `perf_counter_ns` loop.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import psutil

from workbench.bench.config import StopPolicy, Timing
from workbench.bench.stats import MIN_CI_RUNS, median_ci
from workbench.ort import system

CHECK_SECONDS = 0.05  # how often stop rules, progress and cancellation are looked at
_SETTLED = 0.02  # auto warmup ends when the window median moves less than this
_WARMUP_WINDOW = 5

Clock = Callable[[], int]


def measure(
    run: Callable[[], object],
    policy: StopPolicy,
    timing: Timing,
    *,
    cancel: Callable[[], bool] | None = None,
    on_progress: Callable[[Timing], None] | None = None,
    clock: Clock = time.perf_counter_ns,
) -> Timing:
    """Fill `timing` (cold run, warmup count, samples, stop reason) by running `run`.

    Ctrl-C stops the loop cleanly: completed samples are kept and the stop reason says
    "interrupted". `timing` is filled in place, so a caller keeps whatever was measured
    even if `run` raises.
    """
    try:
        start = clock()
        run()
        timing.first_run_s = (clock() - start) / 1e9
        _warm_up(run, policy, timing, clock, cancel)
        if not timing.stop_reason:
            _measure(
                run,
                policy,
                timing,
                clock=clock,
                cancel=cancel,
                on_progress=on_progress,
            )
    except KeyboardInterrupt:
        timing.stop_reason = "interrupted"
    return timing


def _warm_up(
    run: Callable[[], object],
    policy: StopPolicy,
    timing: Timing,
    clock: Clock,
    cancel: Callable[[], bool] | None,
) -> None:
    if policy.warmup != "auto":
        for _ in range(int(policy.warmup)):
            if cancel is not None and cancel():
                timing.stop_reason = "cancelled"
                return
            run()
            timing.warmup_runs += 1
        return
    limit_ns = int(0.1 * (policy.time_budget or 10.0) * 1e9)
    started = clock()
    previous = None
    settled = 0
    while timing.warmup_runs < policy.max_warmup and clock() - started < limit_ns:
        window = []
        for _ in range(_WARMUP_WINDOW):
            t0 = clock()
            run()
            window.append(clock() - t0)
        timing.warmup_runs += _WARMUP_WINDOW
        median = statistics.median(window)
        if previous is not None and abs(median - previous) <= _SETTLED * previous:
            settled += 1
            if settled >= 2:
                return
        else:
            settled = 0
        previous = median
        if cancel is not None and cancel():
            timing.stop_reason = "cancelled"
            return


def _measure(
    run: Callable[[], object],
    policy: StopPolicy,
    timing: Timing,
    *,
    clock: Clock,
    cancel: Callable[[], bool] | None,
    on_progress: Callable[[Timing], None] | None,
) -> None:
    samples = timing.samples_ns
    append = samples.append
    most = min(policy.runs or policy.max_runs, policy.max_runs)
    budget_ns = int(policy.time_budget * 1e9) if policy.time_budget else None
    started = clock()
    next_check = 1
    while True:
        t0 = clock()
        run()
        t1 = clock()
        append(t1 - t0)
        count = len(samples)
        if cancel is not None and cancel():
            timing.stop_reason = "cancelled"
            return
        if count < next_check and count < most:
            continue
        reason = _stop_reason(samples, policy, most, budget_ns, t1 - started)
        if on_progress is not None:
            on_progress(timing)
        if reason:
            timing.stop_reason = reason
            return
        # Check again after 10% more runs or CHECK_SECONDS of them, whichever comes first:
        # early checks let a stable model stop soon; later ones keep sorting cheap.
        per_run = max((t1 - started) / count, 1)
        step = min(max(1, count // 10), max(1, int(CHECK_SECONDS * 1e9 / per_run)))
        next_check = count + step  # _stop_reason holds the CI rule back until min_runs


def _stop_reason(
    samples: list[int], policy: StopPolicy, most: int, budget_ns: int | None, elapsed_ns: int
) -> str:
    if len(samples) >= most:
        return "runs"
    if budget_ns is not None and elapsed_ns >= budget_ns and len(samples) >= 1:
        return "time"
    if policy.target_ci and len(samples) >= max(policy.min_runs, MIN_CI_RUNS):
        ordered = np.sort(np.asarray(samples, dtype=np.float64))
        low, high = median_ci(ordered)
        median = float(np.median(ordered))
        if median > 0 and (high - low) / 2 <= policy.target_ci * median:
            return "ci"
    return ""


MiB = 1024 * 1024


class MemoryWatch:
    """Peak host memory, and GPU memory held, while one job runs: every executor's bookkeeping."""

    def __init__(self, *, gpu: bool) -> None:
        self._process = psutil.Process()
        self._peak = int(self._process.memory_info().rss)
        self._gpu_before = system.gpu_memory_used(0) if gpu else None

    def sample(self) -> None:
        """Note the current RSS (called at every progress check)."""
        self._peak = max(self._peak, int(self._process.memory_info().rss))

    def peak_rss_mb(self, *, lifetime: bool = False) -> float:
        """The highest RSS seen, or the process's lifetime peak when it ran this job alone."""
        self.sample()
        if lifetime:
            return _lifetime_peak_rss() / MiB
        return self._peak / MiB

    def gpu_mb(self) -> float | None:
        """GPU memory the job left in use (its session's weights and buffers), or None."""
        if self._gpu_before is None:
            return None
        after = system.gpu_memory_used(0)
        return (after - self._gpu_before) / MiB if after is not None else None


def _lifetime_peak_rss() -> float:
    """The process's peak RSS in bytes since it started."""
    if sys.platform == "win32":  # no getrusage: the working set's peak
        info = psutil.Process().memory_info()
        return float(getattr(info, "peak_wset", info.rss))
    import resource  # noqa: PLC0415  (Unix only: an import here keeps Windows importing us)

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale)
