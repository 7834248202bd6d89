"""LatencyStats: percentiles, the median's confidence interval, outliers, throughput."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.bench.stats import compute, from_dict, median_ci


def test_percentiles_and_moments_of_known_samples() -> None:
    samples_ns = [i * 1_000_000 for i in range(1, 101)]  # 1..100 ms
    s = compute(samples_ns, items_per_run=4)
    assert s.n == 100
    assert s.min_ms == 1 and s.max_ms == 100
    assert s.p50_ms == pytest.approx(50.5)
    assert s.p90_ms == pytest.approx(90.1)
    assert s.p99_ms == pytest.approx(99.01)
    assert s.mean_ms == pytest.approx(50.5)
    assert s.std_ms == pytest.approx(np.std(np.arange(1, 101), ddof=1))
    assert s.throughput_per_s == pytest.approx(4 * 1000 / 50.5)
    assert s.iqr_outliers == 0


def test_median_ci_brackets_the_median_and_narrows_with_more_runs() -> None:
    rng = np.random.default_rng(0)
    small = np.sort(rng.normal(10, 1, 30))
    large = np.sort(rng.normal(10, 1, 3000))
    for data in (small, large):
        low, high = median_ci(data)
        assert low <= np.median(data) <= high
    assert (median_ci(large)[1] - median_ci(large)[0]) < (median_ci(small)[1] - median_ci(small)[0])


def test_median_ci_has_95_percent_coverage() -> None:
    rng = np.random.default_rng(1)
    true_median = np.log(2)  # exponential(1)
    hits = sum(
        low <= true_median <= high
        for low, high in (median_ci(np.sort(rng.exponential(1, 50))) for _ in range(2000))
    )
    assert 0.93 <= hits / 2000 <= 0.985


def test_tiny_and_empty_samples() -> None:
    assert median_ci(np.array([1.0, 2.0])) == (1.0, 2.0)
    empty = compute([])
    assert empty.n == 0 and math.isnan(empty.p50_ms)


def test_outliers_are_counted() -> None:
    samples = [10_000_000] * 50 + [100_000_000, 200_000_000]
    assert compute(samples).iqr_outliers == 2


def test_round_trip_through_dict() -> None:
    s = compute([1_000, 2_000, 3_000, 5_000, 8_000, 13_000, 21_000])
    assert from_dict(s.as_dict()) == s
