"""The isolated executor: results stream from a child process; its crash or hang is
contained, named, and the completed samples survive."""

from __future__ import annotations

import signal
import sys
import time

import numpy as np
import psutil

import workbench
from tests import models

FAST = {"time_budget": 0.3, "warmup": 2, "progress": False, "executor": "worker"}
QUIET_WORKER = {"progress": False, "executor": "worker"}


def _worker_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:  # gone, or a zombie not yet reaped
            continue
        if "workbench.bench.executors.worker" in command:
            found.append(child)
    return found


def test_worker_measures_like_the_in_process_executor() -> None:
    model = workbench.load(workbench.demo_model())
    result = workbench.benchmark(model, ["cpu"], [1, 2], **FAST)
    for r in result.results:
        assert r.status == "ok" and r.stats and r.stats.n > 10
        assert r.applied_providers == ["CPUExecutionProvider"]
        assert r.items_per_run == r.config.batch
        assert r.peak_rss_mb and r.peak_rss_mb > 10
    assert result.settings["executor"] == "worker"
    assert _worker_processes() == []


def test_samples_stream_in_while_the_worker_runs() -> None:
    counts = []
    workbench.benchmark(
        workbench.demo_model(),
        ["cpu"],
        time_budget=1.0,
        target_ci=None,
        warmup=1,
        progress=False,
        executor="worker",
        on_update=lambda live, current: counts.append(len(current.samples_ns)),
    )
    growing = sorted(set(counts))
    assert len(growing) >= 5 and growing[0] < growing[-1]


def test_a_killed_worker_is_named_and_its_samples_kept() -> None:
    killed = []

    def kill_after_some_runs(live, current) -> None:
        if len(current.samples_ns) > 30 and not killed:
            for process in _worker_processes():
                process.send_signal(signal.SIGKILL)
                killed.append(process.pid)

    result = workbench.benchmark(
        workbench.demo_model(),
        ["cpu"],
        [1, 2],
        time_budget=20,
        target_ci=None,
        warmup=1,
        progress=False,
        executor="worker",
        on_update=kill_after_some_runs,
    )
    first, second = result.results
    assert killed
    assert first.status == "partial"
    assert "was killed by SIGKILL" in first.reason and "completed runs are kept" in first.reason
    assert first.stop_reason == "worker died"
    assert first.stats is not None and first.stats.n > 30
    assert second.status == "ok"  # the sweep went on with a fresh worker


def test_a_hung_worker_is_killed_after_the_run_timeout() -> None:
    model = workbench.load(models.build("square_matmul"))
    size = 64
    while True:  # find a size whose runs take ~0.6 s on this machine
        start = time.perf_counter()
        model.run({"x": np.ones((size, size), np.float32)})
        if time.perf_counter() - start > 0.3 or size > 8000:
            break
        size = int(size * 1.5)
    start = time.perf_counter()
    result = workbench.benchmark(
        model,
        ["cpu"],
        feeds={"x": np.ones((size, size), np.float32)},
        warmup=0,
        time_budget=60,
        target_ci=None,
        run_timeout=0.1,
        progress=False,
        executor="worker",
    )
    elapsed = time.perf_counter() - start
    row = result.results[0]
    assert row.status in ("failed", "partial")
    assert "hung" in row.reason and "was killed" in row.reason
    assert row.stop_reason == "worker hung"
    assert elapsed < 30
    assert _worker_processes() == []


def test_worker_errors_come_back_as_clear_rows() -> None:
    model = workbench.load(models.build("reshape_baked"))
    result = workbench.benchmark(model, ["cpu"], dims={"seq": 64}, batch_sizes=[1, 2], **FAST)
    first, second = result.results
    assert first.status == "failed" and "encoder/Reshape" in first.reason
    assert second.status == "ok"


def test_in_memory_models_reach_the_worker() -> None:
    result = workbench.benchmark(models.build("small_cnn"), ["cpu"], **FAST)
    assert result.results[0].status == "ok"


def test_a_worker_that_writes_a_lot_to_stderr_is_not_mistaken_for_a_hung_one(monkeypatch) -> None:
    # onnxruntime can log megabytes; a pipe nobody reads fills up and blocks the worker.
    from workbench.bench.executors import worker

    chatty = (
        "import runpy, sys; sys.stderr.write('onnxruntime says ' * 100_000 + '\\n'); "
        "runpy.run_module('workbench.bench.executors.worker', run_name='__main__')"
    )
    monkeypatch.setattr(worker, "WORKER_COMMAND", [sys.executable, "-c", chatty])
    result = workbench.benchmark(
        workbench.demo_model(), ["cpu"], runs=20, warmup=1, run_timeout=2, **QUIET_WORKER
    )
    (row,) = result.results
    assert row.status == "ok" and row.stats is not None and row.stats.n == 20


# --- the pool: one long-lived worker for the sweep -------------------------------------------


def test_the_pool_measures_a_sweep_in_one_worker_and_leaves_none() -> None:
    pids = set()

    def note(live, current) -> None:
        pids.update(p.pid for p in _worker_processes())

    result = workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2, 4], time_budget=0.3,
                                 warmup=2, progress=False, executor="pool",
                                 on_update=note)  # fmt: skip
    assert [r.status for r in result.results] == ["ok"] * 3
    assert all(r.items_per_run == r.config.batch and r.peak_rss_mb for r in result.results)
    assert len(pids) == 1  # the same process for every configuration
    assert result.settings["executor"] == "pool" and _worker_processes() == []


def test_a_killed_pool_worker_fails_its_configuration_and_is_replaced() -> None:
    killed, pids = [], []

    def kill_once(live, current) -> None:
        pids.extend(p.pid for p in _worker_processes())
        if current.config.batch == 1 and len(current.samples_ns) > 30 and not killed:
            for process in _worker_processes():
                process.send_signal(signal.SIGKILL)
                killed.append(process.pid)

    result = workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2], time_budget=20,
                                 target_ci=None, warmup=1, progress=False, executor="pool",
                                 on_update=kill_once)  # fmt: skip
    first, second = result.results
    assert killed and first.status == "partial" and "was killed by SIGKILL" in first.reason
    assert second.status == "ok" and second.stats.n > 10
    assert len(set(pids) - set(killed)) >= 1  # a new worker measured the second
    assert _worker_processes() == []


def test_an_error_in_the_pool_fails_one_row_and_the_worker_goes_on() -> None:
    model = workbench.load(models.build("reshape_baked"))
    result = workbench.benchmark(model, ["cpu"], dims={"seq": 64}, batch_sizes=[1, 2, 1],
                                 time_budget=0.3, warmup=2, progress=False,
                                 executor="pool")  # fmt: skip
    assert [r.status for r in result.results] == ["failed", "ok", "failed"]
    assert "encoder/Reshape" in result.results[2].reason
