"""The peak search on a service of known capacity, and its confidence rule."""

from __future__ import annotations

import numpy as np

from tests.loadtest import SleepService
from workbench.loadtest import schedule
from workbench.loadtest.engine import search
from workbench.loadtest.generator import open_loop
from workbench.loadtest.result import LoadRow, judge, summarize
from workbench.loadtest.spec import make_spec


def test_the_peak_search_finds_a_known_capacity_within_ten_percent() -> None:
    workers, seconds, duration = 2, 0.002, 0.5  # capacity: 2 / 2 ms = 1,000 requests/s
    spec = make_spec("peak", bound="50ms", duration=duration, queue_limit=2000)
    runs = []

    def run(rate: float, seed: int) -> LoadRow:
        service = SleepService(seconds)
        table = open_loop([service] * workers, schedule.poisson(rate, duration, seed),
                          queue_limit=2000).table  # fmt: skip
        row = summarize(LoadRow("cpu", "server", target_qps=rate, bound_ms=50.0), table,
                        window_s=duration)  # fmt: skip
        judge(row)
        runs.append(rate)
        return row

    found, probes, best, stopped = search(run, spec, ceiling=1.2 * workers / seconds)
    assert not stopped and best is not None and found is not None
    assert abs(found - 1000) <= 100, [(round(p.target_qps), p.passed) for p in probes]
    assert len(runs) <= 10  # re-runs of inconclusive probes included
    assert best.percentile_ms is not None and best.percentile_ms <= 50
    assert all(p.passed == (p.target_qps <= found) for p in probes)


def test_an_inconclusive_probe_runs_again_and_pools() -> None:
    spec = make_spec("peak", bound="10ms", duration=1, max_probes=3)
    calls = []

    def run(rate: float, seed: int) -> LoadRow:
        calls.append(seed)
        row = LoadRow("cpu", "server", target_qps=rate, bound_ms=10.0)
        latency = np.full(200, 9.0) if seed % 2 == 0 else np.full(200, 9.5)
        latency[-3:] = 30.0  # a tail that puts the p99's CI across the bound
        table = np.zeros((200, 6), np.int64)
        table[:, 0] = np.arange(200) * 5_000_000
        table[:, 1] = table[:, 2] = table[:, 0]
        table[:, 3] = table[:, 0] + (latency * 1e6).astype(np.int64)
        table[:, 4] = 1
        summarize(row, table, window_s=1.0)
        judge(row)
        return row

    _, probes, _, _ = search(run, spec, ceiling=400.0)
    assert probes[0].runs == 2 and len(calls) == 3  # the first rate twice, then one more
