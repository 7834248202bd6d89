"""The change rule (workbench/tracking/changes.py) on exact series and on real noise.

Real noise: run medians of the demo model recorded in 60 processes on this machine
(data/run_medians.json, `tests/perf/bench_history.py --record`), resampled into 50-run
series (seeded). The figures these tests hold the rule to are printed by that script.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.tracking import changes

RECORDED = json.loads((Path(__file__).parent / "data" / "run_medians.json").read_text())
SERIES, RUNS, AFTER = 200, 50, 30


def _resampled(rng: np.random.Generator, values: list[float], step: float = 0.0) -> np.ndarray:
    series = rng.choice(np.asarray(values), RUNS, replace=True)
    series[AFTER:] *= 1 + step
    return series


QUIET = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0]  # 12 runs


def test_a_clean_step_is_found_at_its_first_run() -> None:
    found = changes.steps([*QUIET, 1.2, 1.21, 1.19, 1.2])
    assert [(s.index, round(s.ratio, 2)) for s in found] == [(12, 1.2)]
    assert found[0].change == pytest.approx(0.2, abs=0.01)


def test_one_slow_run_or_two_is_not_a_step() -> None:
    assert changes.steps([*QUIET, 1.5, 1.0, 0.99, 1.01, 1.0]) == []
    assert changes.steps([*QUIET, 1.5, 1.4, 1.0, 1.01, 1.0]) == []
    assert len(changes.steps([*QUIET, 1.5, 1.4, 1.45, 1.5])) == 1


def test_a_step_and_the_step_back_are_both_found() -> None:
    series = [1.0, 1.01, 0.99] * 4 + [0.7, 0.71, 0.69] * 4 + [1.0, 1.01, 0.99] * 2
    found = changes.steps(series)
    assert [(s.index, s.ratio < 1) for s in found] == [(12, True), (24, False)]


def test_too_few_runs_before_a_step_say_nothing() -> None:
    # Most false alarms came from judging on a handful of runs: 12 at least.
    assert changes.steps([*QUIET[:11], 2.0, 2.0, 2.0]) == []
    assert changes.steps([1.0, 2.0, 2.0, 2.0]) == []
    assert changes.steps([]) == []


NOISY = [("series", k) for k in sorted(RECORDED["series"])]
QUIET_SERIES = [("quiet", k) for k in sorted(RECORDED["quiet"])]


@pytest.mark.parametrize(("group", "label"), NOISY + QUIET_SERIES)
def test_on_real_noise_false_alarms_stay_under_five_percent(group, label) -> None:
    rng = np.random.default_rng(1)
    values = RECORDED[group][label]
    alarms = sum(bool(changes.steps(_resampled(rng, values))) for _ in range(SERIES))
    assert alarms / SERIES <= 0.05


def _flagged(group: str, label: str, step: float, seed: int) -> float:
    """The share of series with `step` at run 30 flagged by run 32."""
    rng = np.random.default_rng(seed)
    values = RECORDED[group][label]
    flagged = 0
    for _ in range(SERIES):
        series = _resampled(rng, values, step)[: AFTER + changes.CONFIRM]
        flagged += any(AFTER <= s.index <= AFTER + 2 for s in changes.steps(series))
    return flagged / SERIES


@pytest.mark.parametrize(("group", "label"), QUIET_SERIES)
def test_at_quiet_noise_a_ten_percent_step_is_flagged_within_three_runs(group, label) -> None:
    # This machine at a quiet moment (one thread, +-1-2% between processes, and one run in
    # 16 37% slow): a 10% step is flagged by its third run in over nine series of ten
    # (tests/perf/bench_history.py prints the table; the misses: windows that drew the
    # slow run again and again, or a slow run just before the step, flagged one run early).
    assert _flagged(group, label, 0.10, seed=3) >= 0.88


@pytest.mark.parametrize(("group", "label"), NOISY)
def test_at_contended_noise_only_a_doubling_is_flagged_reliably(group, label) -> None:
    # The 60-process recording (two to three modes, +-15-25%): steps up to +50% hide in
    # it; the rule's price for staying under 5% false alarms. The gate shows that noise.
    assert _flagged(group, label, 0.10, seed=4) <= 0.05
