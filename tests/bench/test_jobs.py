"""Jobs and events: what every executor is given and streams back, and how a result is
filled from them, whichever executor ran the job."""

from __future__ import annotations

import json

import numpy as np
import pytest

import workbench
from workbench.bench import executors
from workbench.bench.config import EXECUTORS, BenchConfig, StopPolicy
from workbench.bench.jobs import (
    Failed,
    Finished,
    Job,
    Payload,
    Progress,
    Samples,
    Started,
    decode,
    encode,
    record,
)
from workbench.bench.results import ConfigResult
from workbench.errors import ProviderFallbackError, RunError, SessionError, WorkerCrashed
from workbench.feeds.synthetic import FeedRequest

CONFIG = BenchConfig("CPUExecutionProvider", batch=8, dims=(("seq", 16),), mode="host")


def test_a_job_travels_as_json_and_comes_back_equal() -> None:
    job = Job(CONFIG, StopPolicy(warmup=3, runs=50, time_budget=None), seed=7)
    assert Job.from_dict(job.as_dict()) == job


@pytest.mark.parametrize(
    "event",
    [
        Started(["CPUExecutionProvider"], 0.25, 8),
        Progress(12, 0.004),
        Finished("ci", 12, 0.004, 81.5, None),
        Failed.of(RunError("onnxruntime failed in node 'x' (Add)", "pass real feeds")),
    ],
)
def test_events_round_trip_as_one_json_line(event) -> None:
    line = encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == event


def test_samples_travel_as_exact_int64_arrays() -> None:
    ns = np.array([1, 2**40, 987_654_321_012], dtype=np.int64)
    again = decode(encode(Samples(ns)))
    assert isinstance(again, Samples)
    assert again.values.dtype == np.int64 and again.values.tolist() == ns.tolist()
    assert again.columns == ("latency_ns",)


def test_samples_carry_several_named_columns() -> None:
    # What a load test will send: per request, when it was due, started and ended.
    columns = ("scheduled_ns", "start_ns", "end_ns")
    rows = np.arange(3000, dtype=np.int64).reshape(1000, 3)
    again = decode(encode(Samples(rows, columns)))
    assert isinstance(again, Samples) and again.columns == columns
    assert again.column("end_ns").tolist() == rows[:, 2].tolist()
    assert len(encode(Samples(rows, columns))) < 40_000  # binary, not one JSON number each


def test_a_payload_ships_an_in_memory_model_and_what_the_user_said(tmp_path) -> None:
    model = workbench.load(workbench.demo_model().read_bytes())
    feeds = {"image": np.full((2, 3, 32, 32), 0.5, np.float32)}
    request = FeedRequest(feeds, values={"sr": np.int64(16000)}, ranges={"image": (0.0, 1.0)})
    payload = Payload.from_dict(
        json.loads(json.dumps(Payload.write(model, request, tmp_path).as_dict()))
    )
    again, wanted = payload.open()
    assert again.sha256 == model.sha256 and payload.model.startswith(str(tmp_path))
    assert wanted.feeds is not None and np.array_equal(wanted.feeds["image"], feeds["image"])
    assert wanted.values == {"sr": 16000} and wanted.ranges == {"image": (0.0, 1.0)}
    nothing = Payload.write(again, FeedRequest(), tmp_path)
    assert nothing.feeds is None and nothing.open()[1] == FeedRequest()  # from a file


def test_a_failure_comes_back_as_the_same_error() -> None:
    original = ProviderFallbackError(
        "cuda would not run", "install CUDA", requested=["cuda"], applied=["cpu"], reason="no GPU"
    )
    event = decode(encode(Failed.of(original)))
    assert isinstance(event, Failed)
    error = event.error()
    assert type(error) is ProviderFallbackError
    assert (error.message, error.hint, error.reason) == (
        "cuda would not run",
        "install CUDA",
        "no GPU",
    )
    for original in (
        SessionError("refused", "h", runtime_message="Type Error: x"),
        WorkerCrashed("gone", "h", how="worker hung"),
    ):
        again = decode(encode(Failed.of(original)))
        assert isinstance(again, Failed)
        assert vars(again.error()) == vars(original) and type(again.error()) is type(original)


def test_record_fills_a_result_and_marks_stopped_jobs_partial() -> None:
    result = ConfigResult(CONFIG, "ok")
    assert not record(Started(["CPUExecutionProvider"], 0.5, 8), result)
    assert not record(Samples(np.array([10, 20], dtype=np.int64)), result)
    assert not record(Samples(np.array([30], dtype=np.int64)), result)
    assert record(Finished("cancelled", 4, 0.01, 100.0, None), result)
    assert result.samples_ns == [10, 20, 30] and result.items_per_run == 8
    assert result.status == "partial" and result.reason == "cancelled after 3 runs"
    with pytest.raises(RunError, match="boom"):
        record(Failed.of(RunError("boom", "")), result)
    with pytest.raises(TypeError, match="not a job event"):
        record("started", result)  # type: ignore[arg-type]


def test_every_executor_name_has_an_executor() -> None:
    assert set(executors.CLASSES) == set(EXECUTORS)
    for name, executor in executors.CLASSES.items():
        assert executor.name == name  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", EXECUTORS)
def test_executors_report_through_the_same_events(name) -> None:
    model = workbench.load(workbench.demo_model())
    events = []
    job = Job(BenchConfig("CPUExecutionProvider", batch=2), StopPolicy(warmup=1, runs=20))
    with executors.open_executor(name, model, FeedRequest()) as executor:
        executor.run(job, events.append, lambda: False)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Finished"
    assert set(kinds) == {"Started", "Samples", "Progress", "Finished"}
    assert sum(len(e.values) for e in events if isinstance(e, Samples)) == 20
    assert events[0].items_per_run == 2 and events[-1].stop_reason == "runs"
