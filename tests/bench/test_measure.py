"""The timing loop's rules, driven by a fake clock so every stop is deterministic."""

from __future__ import annotations

import pytest

from workbench.bench.config import StopPolicy, Timing
from workbench.bench.measure import measure


class FakeModel:
    """A `run` that advances a fake clock by a scripted latency per call."""

    def __init__(self, latencies_ns) -> None:
        self.now = 0
        self.calls = 0
        self.latencies = latencies_ns

    def clock(self) -> int:
        return self.now

    def run(self) -> None:
        self.now += self.latencies(self.calls)
        self.calls += 1


def steady(ns: int = 1_000_000):
    return lambda call: ns


def test_stops_after_the_run_count() -> None:
    fake = FakeModel(steady())
    timing = measure(
        fake.run,
        StopPolicy(warmup=3, runs=25, time_budget=None, target_ci=None),
        Timing(),
        clock=fake.clock,
    )
    assert len(timing.samples_ns) == 25 and timing.stop_reason == "runs"
    assert timing.warmup_runs == 3 and fake.calls == 1 + 3 + 25
    assert timing.first_run_s == pytest.approx(0.001)


def test_stops_at_the_time_budget() -> None:
    fake = FakeModel(steady(10_000_000))  # 10 ms per run, 1 s budget
    timing = measure(
        fake.run, StopPolicy(warmup=0, time_budget=1.0, target_ci=None), Timing(), clock=fake.clock
    )
    assert timing.stop_reason == "time"
    assert 100 <= len(timing.samples_ns) <= 106  # checks come every ~50 ms of runs


def test_slow_runs_respect_the_budget_before_min_runs() -> None:
    # 50 ms runs, a 0.2 s budget and the default CI target: stop after ~4 runs, not min_runs
    # (the isolated worker also reports only at checks, so late checks looked like a hang).
    fake = FakeModel(steady(50_000_000))
    timing = measure(
        fake.run,
        StopPolicy(warmup=0, time_budget=0.2, target_ci=0.01, min_runs=10),
        Timing(),
        clock=fake.clock,
    )
    assert timing.stop_reason == "time"
    assert len(timing.samples_ns) == 4


def test_stops_when_the_ci_is_tight() -> None:
    fake = FakeModel(lambda call: 1_000_000 + (call % 7) * 1_000)  # within 0.6%
    timing = measure(
        fake.run,
        StopPolicy(warmup=0, time_budget=60, target_ci=0.01, min_runs=10),
        Timing(),
        clock=fake.clock,
    )
    assert timing.stop_reason == "ci"
    assert len(timing.samples_ns) < 200


def test_noisy_runs_keep_going_until_the_budget() -> None:
    fake = FakeModel(lambda call: 1_000_000 * (1 + (call * 7919) % 10))  # 1-10 ms, wide
    timing = measure(
        fake.run, StopPolicy(warmup=0, time_budget=2.0, target_ci=0.001), Timing(), clock=fake.clock
    )
    assert timing.stop_reason == "time"


def test_auto_warmup_waits_for_the_median_to_settle() -> None:
    # Caches warming: 10 ms falling to 1 ms over the first 60 runs, then steady.
    fake = FakeModel(lambda call: max(1_000_000, 10_000_000 - call * 150_000))
    timing = measure(
        fake.run, StopPolicy(warmup="auto", runs=10, time_budget=100), Timing(), clock=fake.clock
    )
    assert 60 <= timing.warmup_runs <= 80
    assert max(timing.samples_ns) == 1_000_000


def test_cancel_keeps_completed_samples() -> None:
    fake = FakeModel(steady())
    timing = measure(
        fake.run,
        StopPolicy(warmup=0, time_budget=None, target_ci=None),
        Timing(),
        cancel=lambda: fake.calls > 40,
        clock=fake.clock,
    )
    assert timing.stop_reason == "cancelled" and len(timing.samples_ns) == 40


def test_ctrl_c_keeps_completed_samples() -> None:
    fake = FakeModel(steady())

    def run() -> None:
        if fake.calls == 30:
            raise KeyboardInterrupt
        fake.run()

    timing = measure(
        run, StopPolicy(warmup=2, time_budget=None, target_ci=None), Timing(), clock=fake.clock
    )
    assert timing.stop_reason == "interrupted"
    assert len(timing.samples_ns) == 30 - 3  # the cold run and two warmups are not samples
