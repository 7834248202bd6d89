"""Latency statistics: an immutable value object computed from raw per-run samples.

Rendering lives elsewhere (tables, plots, reports); this module only computes numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

_Z95 = 1.959963984540054
# Below this many samples no pair of order statistics covers the median 95% of the time.
MIN_CI_RUNS = 6


@dataclass(frozen=True)
class LatencyStats:
    """Summary of per-run latencies, in milliseconds unless named otherwise."""

    n: int
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    iqr_outliers: int  # runs beyond 1.5 IQR from the quartiles
    ci95_ms: tuple[float, float]  # 95% confidence interval of the median (order statistics)
    throughput_per_s: float  # items per second at the median latency

    @property
    def has_ci(self) -> bool:
        """False below MIN_CI_RUNS samples: ci95_ms is then just [min, max], not a 95% CI."""
        return self.n >= MIN_CI_RUNS

    @property
    def ci_halfwidth(self) -> float:
        """Half the CI's width relative to the median (0.01 means +-1%)."""
        low, high = self.ci95_ms
        return (high - low) / 2 / self.p50_ms if self.p50_ms > 0 else math.inf

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CI as a [low, high] list)."""
        data = asdict(self)
        data["ci95_ms"] = list(self.ci95_ms)
        return data

    @classmethod
    def empty_dict(cls) -> dict[str, Any]:
        """`as_dict()`'s keys for a configuration with no samples: counts 0, the rest null."""
        data: dict[str, Any] = dict.fromkeys(cls.__dataclass_fields__)
        data.update(n=0, iqr_outliers=0, ci95_ms=[None, None])
        return data


def median_ci(sorted_ms: np.ndarray) -> tuple[float, float]:
    """Distribution-free 95% CI of the median from order statistics (see `quantile_ci`)."""
    return quantile_ci(sorted_ms, 0.5)


def quantile_ci(sorted_ms: np.ndarray, q: float) -> tuple[float, float]:
    """Distribution-free 95% CI of the q-quantile from order statistics (binomial, normal approx.).

    With n sorted samples the interval is [x(j), x(k)], j = nq - 1.96 sqrt(nq(1-q)) and
    k = nq + 1.96 sqrt(nq(1-q)) (1-based, rounded outward). Below 6 samples it is [min,
    max]; the median's is clipped to the samples. A tail quantile (q > 0.5) with too few
    samples beyond it to place k gets an upper bound of infinity: p99 needs about 900.
    """
    n = len(sorted_ms)
    if n == 0:
        return (math.nan, math.nan)
    if n < MIN_CI_RUNS:
        return (float(sorted_ms[0]), float(sorted_ms[-1]))
    spread = _Z95 * math.sqrt(n * q * (1 - q))
    low = max(math.floor(n * q - spread), 1)
    high = math.ceil(n * q + spread) + 1
    if high > n and q > 0.5:  # too few samples beyond a tail quantile to bound it from above
        return (float(sorted_ms[low - 1]), math.inf)
    return (float(sorted_ms[low - 1]), float(sorted_ms[min(high, n) - 1]))


def compute(samples_ns: np.ndarray | list[int], items_per_run: int = 1) -> LatencyStats:
    """Statistics of raw per-run latencies given in nanoseconds."""
    ms = np.sort(np.asarray(samples_ns, dtype=np.float64)) / 1e6
    n = len(ms)
    if n == 0:
        nan = math.nan
        return LatencyStats(0, nan, nan, nan, nan, nan, nan, nan, nan, 0, (nan, nan), nan)
    p25, p50, p75, p90, p95, p99 = np.percentile(ms, [25, 50, 75, 90, 95, 99])
    iqr = p75 - p25
    outliers = int(np.count_nonzero((ms < p25 - 1.5 * iqr) | (ms > p75 + 1.5 * iqr)))
    return LatencyStats(
        n=n,
        mean_ms=float(ms.mean()),
        std_ms=float(ms.std(ddof=1)) if n > 1 else 0.0,
        min_ms=float(ms[0]),
        max_ms=float(ms[-1]),
        p50_ms=float(p50),
        p90_ms=float(p90),
        p95_ms=float(p95),
        p99_ms=float(p99),
        iqr_outliers=outliers,
        ci95_ms=median_ci(ms),
        throughput_per_s=items_per_run * 1000.0 / float(p50) if p50 > 0 else math.inf,
    )


def from_dict(data: dict[str, Any]) -> LatencyStats:
    """Inverse of `LatencyStats.as_dict()` (for reports read back from JSON)."""
    values = dict(data)
    values["ci95_ms"] = tuple(values["ci95_ms"])
    return LatencyStats(**values)
