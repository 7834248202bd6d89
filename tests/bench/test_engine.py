"""benchmark(): sweeps, skipped rows, failures that do not stop the sweep, interruption."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import workbench
from tests import models
from workbench.bench.config import BenchConfig
from workbench.bench.engine import _explain
from workbench.bench.results import BenchmarkResult
from workbench.ort import providers

FAST = {"time_budget": 0.2, "warmup": 2, "progress": False}
JSON_FIELDS = {
    "provider",
    "applied_providers",
    "status",
    "reason",
    "batch",
    "dims",
    "mode",
    "intra_op_threads",
    "opt_level",
    "n",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "std_ms",
    "ci95_ms",
    "throughput_per_s",
    "session_create_s",
    "first_run_s",
    "peak_rss_mb",
    "peak_gpu_mb",
    "partial",
}


def demo() -> workbench.Model:
    return workbench.load(workbench.demo_model())


def test_a_sweep_measures_every_combination() -> None:
    result = workbench.benchmark(
        demo(), ["cpu"], [1, 4], intra_op_threads=[1, None], opt_levels=["all", "disabled"], **FAST
    )
    assert len(result.results) == 2 * 2 * 2
    assert all(r.status == "ok" and r.stats and r.stats.n > 0 for r in result.results)
    for r in result.results:
        assert r.applied_providers == ["CPUExecutionProvider"]
        assert r.items_per_run == r.config.batch
        assert r.session_create_s is not None and r.first_run_s is not None
        assert r.peak_rss_mb and r.peak_rss_mb > 10
        assert len(r.samples_ns) == r.stats.n
    frame = result.to_frame()
    assert len(frame) == 8 and {"p50_ms", "ci95_ms", "throughput_per_s"} <= set(frame.columns)
    samples = result.samples_frame()
    assert len(samples) == sum(r.stats.n for r in result.results)
    assert set(samples.columns) == {"label", "provider", "batch", "mode", "run", "latency_ms"}


def test_json_entries_carry_every_documented_field() -> None:
    result = workbench.benchmark(demo(), ["cpu"], [2], **FAST)
    entry = result.as_dict()["results"][0]
    assert set(entry) >= JSON_FIELDS
    assert entry["batch"] == 2 and entry["status"] == "ok" and len(entry["ci95_ms"]) == 2
    assert entry["samples_ns"] and result.as_dict()["schema_version"] == 1


def test_unusable_provider_is_skipped_with_the_doctors_reason_and_the_rest_runs() -> None:
    if providers.probe("cuda").usable:
        pytest.skip("CUDA works here")
    result = workbench.benchmark(demo(), ["cuda", "cpu"], [1, 2], **FAST)
    statuses = {(r.config.provider, r.config.batch): r for r in result.results}
    for batch in (1, 2):
        assert statuses[("CUDAExecutionProvider", batch)].status == "skipped"
        assert statuses[("CUDAExecutionProvider", batch)].reason == providers.probe("cuda").reason
        assert statuses[("CPUExecutionProvider", batch)].status == "ok"
    assert any("skipped" in w and "cuda b1 host, cuda b2 host" in w for w in result.warnings)


def test_modes_that_make_no_sense_here_are_skipped_with_reasons() -> None:
    result = workbench.benchmark(demo(), ["cpu"], modes=["host", "device", "cuda-graph"], **FAST)
    by_mode = {r.config.mode: r for r in result.results}
    assert by_mode["host"].status == "ok"
    assert by_mode["device"].status == "skipped" and "host memory" in by_mode["device"].reason
    assert (
        by_mode["cuda-graph"].status == "skipped"
        and "CUDA provider" in by_mode["cuda-graph"].reason
    )


def test_opt_level_sweep_uses_every_level_onnxruntime_offers() -> None:
    from workbench.ort.options import opt_levels

    result = workbench.benchmark(demo(), ["cpu"], opt_levels="sweep", **FAST)
    assert [r.config.opt_level for r in result.results] == opt_levels()


def test_a_failing_configuration_does_not_stop_the_sweep() -> None:
    model = workbench.load(models.build("reshape_baked"))
    result = workbench.benchmark(model, ["cpu"], dims={"seq": 64}, batch_sizes=[1, 2], **FAST)
    first, second = result.results
    assert first.status == "failed" and "encoder/Reshape" in first.reason
    assert second.status == "ok"  # 2 x 64 = 128 values reshape fine


def test_user_feeds_are_used() -> None:
    feeds = {"image": np.zeros((3, 3, 32, 32), np.float32)}
    result = workbench.benchmark(demo(), ["cpu"], feeds=feeds, **FAST)
    assert result.results[0].items_per_run == 3 and result.settings["user_feeds"]


@pytest.mark.parametrize("executor", ["inprocess", "worker"])
def test_partial_feeds_and_values_reach_every_executor(executor) -> None:
    # The audio is given, the sample rate set by value; a rate other than 16000 takes the
    # If's other branch, so a wrong value would still run: the profile shows which ran.
    audio = np.ones((3, 100), np.float32)
    result = workbench.benchmark(
        models.build("vad_like"),
        ["cpu"],
        feeds={"audio": audio},
        values={"sr": 16000},
        executor=executor,
        **FAST,
    )
    (row,) = result.results
    assert row.status == "ok", row.reason
    assert row.items_per_run == 3 and result.settings["user_feeds"]
    assert result.settings["given_inputs"] == ["audio", "sr"]
    assert row.config.label == "cpu b3 samples=100 host"  # the given feed decided both


def test_a_bad_value_is_refused_before_any_configuration_runs() -> None:
    with pytest.raises(workbench.errors.FeedError, match=r"(?s)'sr'.*int64.*--value sr="):
        workbench.benchmark(models.build("vad_like"), ["cpu"], values={"sr": 1.5}, **FAST)
    with pytest.raises(workbench.errors.FeedError, match="not an input"):
        workbench.benchmark(demo(), ["cpu"], values={"imgae": 1.0}, **FAST)


def test_labels_name_the_free_dims_the_sweep_chose() -> None:
    # Nobody said how long the sequence is: the label says 64 was measured, and the batch.
    result = workbench.benchmark(models.build("two_inputs_shared_dims"), ["cpu"], **FAST)
    assert result.results[0].config.label == "cpu b1 seq=64 host"
    entry = result.as_dict()["results"][0]
    assert entry["dims"] == {} and entry["batch"] is None  # what the user asked for
    assert entry["measured_dims"] == {"seq": 64} and entry["measured_batch"] == 1
    # The key is what the user asked for: a report written before still matches it.
    assert result.results[0].config.key == BenchConfig(providers.CPU).key
    again = BenchmarkResult.from_dict(json.loads(json.dumps(result.as_dict())))
    assert again.results[0].config == result.results[0].config
    swept = workbench.benchmark(
        models.build("two_inputs_shared_dims"), ["cpu"], [2], dims={"seq": 16}, **FAST
    )
    assert swept.results[0].config.label == "cpu b2 seq=16 host"
    fixed = workbench.benchmark(models.build("fixed_batch"), ["cpu"], **FAST)
    assert fixed.results[0].config.label == "cpu host"  # every dim is the model's own
    # Unnamed free dims are named by input and index; a batch a given feed sets is named too.
    unnamed = workbench.benchmark(
        models.build("symbolic_dims"), ["cpu"], feeds={"tokens": np.ones((3, 5, 8), np.float32)},
        **FAST,
    )  # fmt: skip
    assert unnamed.results[0].config.label == "cpu b3 mask[1]=64 seq-len=5 host"


def test_cancel_from_on_update_keeps_completed_samples() -> None:
    stop = threading.Event()

    def on_update(live, current) -> None:
        if len(current.samples_ns) > 50:
            stop.set()

    result = workbench.benchmark(
        demo(),
        ["cpu"],
        [1, 2],
        time_budget=30,
        target_ci=None,
        cancel=stop,
        on_update=on_update,
        progress=False,
    )
    first, second = result.results
    assert first.status == "partial" and first.stop_reason == "cancelled"
    assert first.stats is not None and first.stats.n > 50
    assert second.status == "skipped" and "before it ran" in second.reason
    assert result.partial
    assert any("completed runs kept" in w for w in result.warnings)


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Python's own SIGINT handler, as in a terminal. A shell starts background jobs with
    SIGINT ignored, and Python keeps that: `make test &` would never see the signal."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_stops_cleanly_and_keeps_samples() -> None:
    # A real SIGINT through Python's handler, raised once 20 runs are measured.
    def ctrl_c_after_some_runs(result, current) -> None:
        if len(current.samples_ns) >= 20 and not result.results[0].partial:
            signal.raise_signal(signal.SIGINT)

    result = workbench.benchmark(
        models.build("square_matmul"),
        ["cpu"],
        dims={"n": 192},
        intra_op_threads=[1, 2],
        time_budget=30,
        target_ci=None,
        progress=False,
        on_update=ctrl_c_after_some_runs,
    )
    first, second = result.results
    assert first.status == "partial" and first.stop_reason == "interrupted"
    assert first.stats is not None and first.stats.n >= 20
    assert second.status == "skipped" and "interrupted before it ran" in second.reason
    assert result.partial


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_between_configurations_keeps_the_finished_ones() -> None:
    # Ctrl-C landing in the sweep's own bookkeeping (here: the update after a configuration).
    def ctrl_c_once_the_first_is_done(result, current) -> None:
        if current.stats is not None and len(result.results) == 1:
            signal.raise_signal(signal.SIGINT)

    result = workbench.benchmark(
        demo(),
        ["cpu"],
        [1, 2],
        runs=30,
        warmup=1,
        progress=False,
        on_update=ctrl_c_once_the_first_is_done,
    )
    first, second = result.results
    assert first.status == "ok" and first.stats is not None and first.stats.n == 30
    assert second.status == "skipped" and "interrupted before it ran" in second.reason
    assert result.settings["interrupted"]


def test_progress_bar_in_a_terminal(capsys) -> None:
    workbench.benchmark(demo(), ["cpu"], [1, 2], time_budget=0.1, warmup=1, progress=True)
    assert "benchmark: 100%" in capsys.readouterr().err


def test_out_of_memory_is_explained() -> None:
    config = BenchConfig("CUDAExecutionProvider", batch=512)
    message = _explain("CUDA failure 2: out of memory ; GPU=0", config)
    assert "out of memory on CUDAExecutionProvider at batch 512" in message
    assert "sweep went on" in message


def _overcommits_everything() -> bool:
    path = Path("/proc/sys/vm/overcommit_memory")
    return path.exists() and path.read_text().strip() == "1"


@pytest.mark.skipif(
    _overcommits_everything(),
    reason="vm.overcommit_memory=1 grants any allocation: a 1 TiB buffer would be handed out "
    "and the OOM killer would end the test run instead of onnxruntime refusing it",
)
def test_a_real_out_of_memory_batch_fails_and_the_sweep_goes_on() -> None:
    # 1 TiB of output at batch 2^19: the kernel refuses that allocation, and onnxruntime says so.
    model = models.build("outer_product")
    result = workbench.benchmark(model, ["cpu"], [2**19, 64], time_budget=0.2, progress=False)
    huge, small = result.results
    assert huge.status == "failed"
    assert "out of memory on CPUExecutionProvider at batch 524288" in huge.reason
    assert small.status == "ok" and small.stats is not None and small.stats.n > 0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"modes": ["gpu"]}, "Unknown mode"),
        ({"opt_levels": ["max"]}, "optimization level"),
        ({"batch_sizes": [0]}, "positive integers"),
        ({"executor": "thread"}, "Unknown executor"),
        ({"providers": []}, "at least one provider"),
        ({"warmup": "abc"}, "warmup must be whole numbers"),
        ({"warmup": -3}, "cannot use warmup=-3"),
        ({"runs": 0}, "cannot use runs=0"),
        ({"time_budget": -1}, "cannot use time_budget=-1"),
        ({"target_ci": -0.1}, "cannot use target_ci=-0.1"),
        ({"run_timeout": 0}, "cannot use run_timeout=0"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs, fragment) -> None:
    arguments = {**FAST, "providers": ["cpu"], **kwargs}
    with pytest.raises(workbench.WorkbenchError, match=fragment):
        workbench.benchmark(demo(), **arguments)


def test_a_failure_in_an_unnamed_node_says_so() -> None:
    # Node names are optional in ONNX; exporters often leave them empty.
    result = workbench.benchmark(
        models.build("outer_product"), ["cpu"], [2**19], time_budget=0.2, progress=False
    )
    assert "in an unnamed MatMul node of" in result.results[0].reason


def test_the_attached_profile_is_of_the_measured_configuration() -> None:
    # With optimizations disabled, BatchNormalization stays a node of its own (at the default
    # level it is fused into the Conv): the profile must show the session that was measured.
    result = workbench.benchmark(
        demo(), ["cpu"], opt_levels=["disabled"], runs=3, warmup=1, progress=False, profile=True
    )
    assert result.profile is not None
    assert "BatchNormalization" in {row["op_type"] for row in result.profile.rows}


def test_the_profile_runs_on_the_values_given() -> None:
    # sr=16000 takes the If's then-branch; another rate would run the else-branch's MatMul.
    result = workbench.benchmark(
        models.build("vad_like"), ["cpu"], values={"sr": 16000}, profile=True, **FAST
    )
    assert result.profile is not None
    names = {row["node"] for row in result.profile.rows}
    assert "at16k" in names and "other" not in names, names


@pytest.mark.parametrize("executor", ["inprocess", "worker"])
def test_numpy_integers_in_shapes_and_batches_work_everywhere(executor, tmp_path) -> None:
    # Sizes often come from arrays (x.shape, np.arange); reports and the worker need ints.
    result = workbench.benchmark(
        models.build("two_inputs_shared_dims"),
        ["cpu"],
        np.array([1, 2]),
        shapes={"input_ids": np.array([1, 4])},
        dims={"seq": np.int64(4)},
        runs=2,
        warmup=0,
        executor=executor,
        progress=False,
    )
    assert [r.status for r in result.results] == ["ok", "ok"], result.warnings
    (path,) = result.report(str(tmp_path / "r.json"))
    assert workbench.load_report(path).results[0].config == result.results[0].config


def test_an_error_in_on_update_is_the_callers_not_onnxruntimes() -> None:
    def broken(live, current) -> None:
        raise ValueError("a bug in my callback")

    with pytest.raises(ValueError, match="a bug in my callback"):
        workbench.benchmark(
            workbench.demo_model(), runs=50, warmup=0, progress=False, on_update=broken
        )
