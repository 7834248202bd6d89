"""The generator: Poisson schedules, open and closed loops, coordinated omission, batching."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.loadtest import SleepService
from workbench.loadtest import schedule
from workbench.loadtest.generator import (
    CANCELLED,
    DROPPED,
    FAILED,
    Batching,
    closed_loop,
    open_loop,
)
from workbench.loadtest.result import LoadRow, judge, summarize

stats = pytest.importorskip("scipy.stats", reason="the KS test is scipy's (examples extra)")


@pytest.mark.parametrize("qps", [20.0, 500.0, 5000.0])
def test_poisson_arrivals_pass_a_ks_test_for_exponential_gaps(qps) -> None:
    offsets = schedule.poisson(qps, 2000 / qps, seed=7) / 1e9
    assert len(offsets) == 2000 and np.all(np.diff(offsets) >= 0)
    gaps = np.diff(offsets)
    assert stats.kstest(gaps, "expon", args=(0, 1 / qps)).pvalue > 0.05
    assert np.array_equal(offsets, schedule.poisson(qps, 2000 / qps, seed=7) / 1e9)  # seeded
    assert not np.array_equal(offsets, schedule.poisson(qps, 2000 / qps, seed=8) / 1e9)


def _server(service, qps, duration, *, workers=1, queue_limit=10_000, batching=None, seed=0):
    table = open_loop([service] * workers, schedule.poisson(qps, duration, seed),
                      queue_limit=queue_limit, batching=batching).table  # fmt: skip
    row = summarize(LoadRow("cpu", "server", target_qps=qps), table, window_s=duration)
    judge(row)
    return row


@pytest.mark.parametrize("qps", [50.0, 200.0, 400.0])
def test_the_achieved_rate_meets_the_target_below_capacity(qps) -> None:
    row = _server(SleepService(0.001), qps, 2.0, workers=2)  # capacity about 2,000/s
    assert row.verdict == "ok", row.reason
    assert abs(row.achieved_qps - qps) <= 0.05 * qps
    assert row.requests == row.completed == round(qps * 2.0)


def test_dispatch_is_on_time_at_low_rates() -> None:
    row = _server(SleepService(0.0005), 50.0, 2.0)
    assert row.lateness_p99_ms < 2.0  # the generator's own delay, apart from queueing
    late = row.table[:, 1] - row.table[:, 0]
    assert np.all(late >= 0)


def test_a_stall_shows_in_the_open_loop_and_a_closed_loop_hides_it() -> None:
    """Coordinated omission: a 300 ms stall once, in a 2 ms service at 100 requests/s."""
    opened = _server(SleepService(0.002, stall_at=50, stall_s=0.3), 100.0, 3.0)
    assert opened.p99_ms > 150  # every request that arrived during the stall waited
    closed = closed_loop([SleepService(0.002, stall_at=50, stall_s=0.3)], duration_s=3.0)
    row = summarize(LoadRow("cpu", "single-stream"), closed.table, window_s=None)
    assert row.p99_ms < 10 < row.table[:, 3].max() / 1e6  # the stall is there, p99 hides it
    assert opened.p99_ms > 15 * row.p99_ms


def test_overload_drops_from_a_bounded_queue_and_says_so() -> None:
    row = _server(SleepService(0.005), 1000.0, 1.0, queue_limit=32)  # capacity 200/s
    assert row.verdict == "overloaded" and row.dropped > 0
    assert row.reason.startswith("overloaded at 1000 QPS") and "dropped" in row.reason
    assert np.count_nonzero(row.table[:, 5] == DROPPED) == row.dropped


def test_dynamic_batching_batches_queued_requests_up_to_its_limit() -> None:
    service = SleepService(0.004, per_item=0.0002)
    row = _server(service, 600.0, 1.0, batching=Batching(8, 2.0))  # unbatched: 250/s at most
    assert row.verdict == "ok", row.reason
    assert max(service.batches) <= 8 and row.mean_batch > 1.5
    plain = _server(SleepService(0.004, per_item=0.0002), 600.0, 1.0, queue_limit=64)
    assert plain.verdict == "overloaded"


def test_cancel_keeps_completed_requests_and_marks_the_rest() -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    records = open_loop([SleepService(0.001)], schedule.poisson(100, 5.0), queue_limit=100,
                        cancel=stop.is_set)  # fmt: skip
    assert records.stopped == "cancelled"
    status = records.table[:, 5]
    assert 20 < np.count_nonzero(status == 0) < 100 and np.count_nonzero(status == CANCELLED)


def test_a_failing_request_is_a_row_not_a_crash() -> None:
    def flaky(count: int) -> None:
        if flaky.calls == 3:
            flaky.calls += 1
            raise RuntimeError("bad input")
        flaky.calls += 1

    flaky.calls = 0
    records = open_loop([flaky], schedule.poisson(200, 0.5), queue_limit=100)
    assert np.count_nonzero(records.table[:, 5] == FAILED) == 1
    assert records.first_error == "RuntimeError: bad input"
